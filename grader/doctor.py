"""`gcgrade doctor`: which sandbox protections hold on this machine, and which do not.

It asks a real sandbox what it applied, then runs a few attacks from inside one (the
same way learner code runs) to confirm them. Anything missing is said loudly, first.
"""
from __future__ import annotations

import os
import platform
import sys

from grader import grader_version
from grader.provided import PROJECT_DIR
from grader.sandbox import CALL_TIMEOUT, ForkServer
from grader.seeding import course_secret

#: runs inside a sandbox like a learner's function; each entry is True when the attack failed
PROBE = '''
def probe(project):
    import errno, os, socket
    held = {}
    held["the project folder (solutions, hidden checks) is not visible"] = not os.path.exists(project)
    held["no file can be written outside the private /tmp"] = not _writes("/etc/gcgrade-doctor-probe")
    try:
        socket.create_connection(("127.0.0.1", 9), timeout=1).close()
        held["no network, not even 127.0.0.1"] = False
    except OSError as exc:
        held["no network, not even 127.0.0.1"] = exc.errno == errno.ENETUNREACH
    held["no process of the machine is visible"] = not os.path.isdir("/proc") or sorted(
        p for p in os.listdir("/proc") if p.isdigit()) == ["1"]
    held["the grader's environment (GCGRADE_SECRET) is not visible"] = "GCGRADE_SECRET" not in os.environ
    held["not root, and no capabilities"] = os.geteuid() != 0 and _no_capabilities()
    held["no namespace of its own (so no private tmpfs to fill memory with)"] = _no_user_namespace()
    return held

def _no_user_namespace():
    import ctypes
    return ctypes.CDLL(None).unshare(0x10000000) != 0

def _writes(path):
    try:
        with open(path, "w") as handle:
            handle.write("x")
        return True
    except OSError:
        return False

def _no_capabilities():
    try:
        with open("/proc/self/status") as handle:
            return all(int(line.split()[1], 16) == 0 for line in handle if line.startswith(("CapEff", "CapPrm")))
    except OSError:
        return False
'''


def report(forkserver: ForkServer | None = None) -> str:
    """The doctor's report; `forkserver` lets a test examine a server that runs as another user."""
    user = "root" if os.geteuid() == 0 else f"uid {os.geteuid()}"
    if forkserver is not None and forkserver.user:
        user = f"uid {forkserver.user[0]} (switched from root)"
    server = forkserver or ForkServer()
    try:
        found, probed = _inspect(server)
    finally:
        if forkserver is None:
            server.close()
    return format_report(found, probed, user)


def _inspect(server: ForkServer) -> tuple[dict, dict]:
    sandbox = server.spawn()
    try:
        found = sandbox.protections()
    finally:
        sandbox.close()
    sandbox = server.spawn()
    try:
        loaded = sandbox.load("probe", PROBE, 0)
        outcome = sandbox.call("probe", (str(PROJECT_DIR),)) if loaded.ok else loaded
    finally:
        sandbox.close()
    probed = outcome.value if outcome.ok and isinstance(outcome.value, dict) else {
        f"the probes could not run ({outcome.kind}: {outcome.message})": False}
    return found, probed


def format_report(found: dict, probed: dict, user: str) -> str:
    """The text doctor prints: a loud warning first when anything is missing, then the details."""
    missing = list(found.get("missing", []))
    failed = [name for name, held in probed.items() if held is not True]
    lines = [f"gradecheck {grader_version()} on Python {platform.python_version()}, {platform.system()} "
             f"{platform.release()}, {os.cpu_count()} cores, running as {user}"]
    if missing or failed:
        lines += ["", f"WARNING: {len(missing) + len(failed)} sandbox protection(s) are OFF on this machine.",
                  "Learner code could read or damage what the protections below should keep from it.",
                  "Do not grade untrusted notebooks here: run as root on Linux, or allow unprivileged user",
                  "namespaces (sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces > 0).", ""]
    elif not user.startswith("root"):
        lines += ["Not root: the sandbox runs in a user namespace, as your own user id but with no capabilities."]
    lines.append("Sandbox protections in force:")
    lines += [f"  [on]  {item}" for item in found.get("applied", [])]
    lines += [f"  [OFF] {item}" for item in missing]
    if not missing:
        lines.append("  nothing is missing")
    lines.append("Checked by attacking from inside a sandbox:")
    lines += [f"  [{'ok' if held is True else 'FAILED'}] {name}" for name, held in probed.items()]
    lines.append(f"Each call into learner code may take {CALL_TIMEOUT:g} s (GCGRADE_CALL_TIMEOUT).")
    lines.append(f"Course secret: {course_secret()[1]}")
    lines.append(f"Interpreter: {sys.executable}")
    return "\n".join(lines)
