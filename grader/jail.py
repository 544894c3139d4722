"""The limits put on a sandbox process, meant to hold when the grader runs as root.

Two steps, both inside the forked sandbox: `enter_namespaces` (before the learner's
process is forked: new PID, network, IPC and mount namespaces, staff folders hidden under
empty read-only mounts, a fresh /tmp) and `restrict_process` (in the learner's process:
resource limits, an unprivileged user, no new privileges). Each step says what it applied,
so `gcgrade doctor` can report it and nothing degrades silently.
"""
from __future__ import annotations

import ctypes
import os
import resource
from dataclasses import dataclass, field

CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWUSER = 0x00020000, 0x08000000, 0x10000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT = 0x1, 0x2, 0x4, 0x20
MS_BIND, MS_REC, MS_PRIVATE = 0x1000, 0x4000, 0x40000
PR_SET_NO_NEW_PRIVS, PR_SET_DUMPABLE = 38, 4
#: folders that are always hidden when they exist (home folders, shared scratch space)
ALWAYS_HIDDEN = ("/root", "/home", "/work", "/srv", "/mnt", "/media", "/opt", "/var/tmp", "/dev/shm", "/run/user")
#: never covered, whatever the configuration says: the system the interpreter needs
NEVER_HIDDEN = ("/", "/usr", "/lib", "/lib64", "/bin", "/sbin", "/etc", "/proc", "/dev", "/sys", "/tmp")

_libc = ctypes.CDLL(None, use_errno=True)


@dataclass(frozen=True)
class Limits:
    memory_bytes: int = 1 << 30     #: address space the learner's code may add (1 GiB)
    cpu_seconds: int = 60           #: CPU time for one sandbox process (one graded function)
    processes: int = 16             #: processes the sandbox user may have
    file_bytes: int = 8 << 20       #: largest file the learner's code may write
    open_files: int = 64
    scratch_bytes: int = 16 << 20   #: size of the private /tmp
    uid: int = 61000                #: unprivileged user when the grader runs as root
    hidden: tuple = field(default=())  #: extra folders to hide (submissions, outputs, gradebook)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _mount(source, target, fstype, flags, data=None) -> None:
    _check(_libc.mount(source and source.encode(), target.encode(), fstype and fstype.encode(),
                       ctypes.c_ulong(flags), data and data.encode()), f"mount {target}")


def enter_namespaces(limits: Limits, extra_hidden: tuple = ()) -> tuple[list, list]:
    """Unshare namespaces and hide folders; returns (applied, missing) protections."""
    applied, missing = [], []
    root = os.geteuid() == 0
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC
    uid, gid = os.getuid(), os.getgid()
    try:
        _check(_libc.unshare(flags if root else flags | CLONE_NEWUSER), "unshare")
        if not root:
            _write("/proc/self/setgroups", "deny")
            _write("/proc/self/uid_map", f"{uid} {uid} 1")
            _write("/proc/self/gid_map", f"{gid} {gid} 1")
            applied.append("user namespace (no root needed)")
        applied += ["PID namespace: every process dies with the sandbox", "no network (empty network namespace)"]
    except OSError as exc:
        missing += [f"namespaces unavailable ({exc.strerror}): network and PID isolation are off"]
        return applied, missing
    try:
        _mount(None, "/", None, MS_REC | MS_PRIVATE)
        hidden = []
        for path in dict.fromkeys(ALWAYS_HIDDEN + tuple(limits.hidden) + tuple(extra_hidden)):
            path = os.path.realpath(path)
            if path in NEVER_HIDDEN or not os.path.isdir(path):
                continue
            _mount("gcgrade", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k,mode=0555")
            hidden.append(path)
        applied.append("hidden folders: " + ", ".join(hidden))
        try:
            _mount(None, "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY)
            applied.append("read-only file system")
        except OSError:
            missing.append("could not make / read-only; unprivileged file permissions still apply")
        _mount("gcgrade", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={limits.scratch_bytes},mode=1777")
        applied.append(f"private /tmp scratch of {limits.scratch_bytes >> 20} MiB, gone with the sandbox")
    except OSError as exc:
        missing.append(f"mount namespace incomplete ({exc}): staff files may be readable")
    return applied, missing


def _write(path: str, text: str) -> None:
    with open(path, "w") as handle:
        handle.write(text)


def restrict_process(limits: Limits, base_address_space: int) -> tuple[list, list]:
    """Resource limits, then an unprivileged user; called in the learner's process itself."""
    applied, missing = [], []
    cap = base_address_space + limits.memory_bytes
    for name, value in (("RLIMIT_AS", cap), ("RLIMIT_CPU", limits.cpu_seconds),
                        ("RLIMIT_FSIZE", limits.file_bytes), ("RLIMIT_NOFILE", limits.open_files),
                        ("RLIMIT_CORE", 0), ("RLIMIT_NPROC", limits.processes)):
        kind = getattr(resource, name)
        hard = value + 1 if name == "RLIMIT_CPU" else value
        try:
            resource.setrlimit(kind, (value, hard))
        except (ValueError, OSError) as exc:
            missing.append(f"{name} not set ({exc})")
    applied.append(f"limits: {limits.memory_bytes >> 20} MiB memory, {limits.cpu_seconds} s CPU, "
                   f"{limits.processes} processes, {limits.file_bytes >> 20} MiB files, {limits.open_files} open files")
    if os.geteuid() == 0:
        try:
            os.setgroups([])
            os.setgid(limits.uid)
            os.setuid(limits.uid)
            applied.append(f"runs as unprivileged user {limits.uid}, not root")
        except OSError as exc:
            missing.append(f"could not drop root ({exc}): file permissions do not protect staff files")
    else:
        applied.append(f"runs as the grader's own user {os.getuid()} (not root)")
    if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0:
        applied.append("no new privileges (setuid programs cannot raise them)")
    _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    return applied, missing


def address_space() -> int:
    """Current virtual size of this process, in bytes (the base the memory limit adds to)."""
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[0])
    return pages * os.sysconf("SC_PAGE_SIZE")
