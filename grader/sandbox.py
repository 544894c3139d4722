"""Stage 2, run: the grader's handle on sandbox processes. Every call comes back as an Outcome.

Learner code never runs in this process. A warm fork server (grader.sandbox_child) holds
numpy and the public helpers; each submission gets a fresh sandbox forked from it (and a
new one after a fatal call). Calls and results cross as plain data (grader.wire); anything
the learner's process does, hanging, crashing, exiting, trickling or forging frames, ends as
an Outcome here, never an exception. Every field of every frame is treated as hostile: text
is capped and made printable, numbers are bounded, and callbacks take only numbers.
"""
from __future__ import annotations

import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from grader import wire
from grader.jail import Limits
from grader.provided import PROJECT_DIR


def _call_timeout(default: float = 10.0) -> float:
    """GCGRADE_CALL_TIMEOUT (seconds, 1 to 600) from the grader's environment; learner code never sees it."""
    try:
        value = float(os.environ.get("GCGRADE_CALL_TIMEOUT", default))
    except ValueError:
        return default
    return min(max(value, 1.0), 600.0) if math.isfinite(value) else default


#: seconds one call may take before the sandbox is killed (`gcgrade doctor` shows it)
CALL_TIMEOUT = _call_timeout()
#: seconds the fork server may take to fork a sandbox; it runs no learner code, so this is generous
SPAWN_TIMEOUT = 30.0
#: characters kept of the text fields of a reply, before escaping
TEXT_CAP = {"message": 2000, "output": 20000, "traceback": 6000, "exc_type": 200}
#: most elements a callback's arguments may broadcast to (the supplied helpers take numbers)
CALLBACK_ELEMENTS = 100_000
#: characters that must not reach a terminal or a page raw: C0/C1 controls but tab and newline, bidi overrides
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
#: outcome kinds after which the sandbox process is gone
FATAL = frozenset({"timeout", "crashed", "exited", "killed", "cpu", "protocol"})
_SIGNALS = {signal.SIGSEGV: "a segmentation fault", signal.SIGBUS: "a bus error", signal.SIGFPE: "a floating-point trap",
            signal.SIGABRT: "an abort", signal.SIGILL: "an illegal instruction"}


@dataclass(frozen=True)
class Outcome:
    kind: str               #: value, raised, not_implemented, memory, recursion, not_plain_data, missing,
                            #: timeout, crashed, exited, killed, cpu, protocol
    value: Any = None
    message: str = ""       #: in words a learner understands
    output: str = ""        #: what the code printed (capped)
    traceback: str = ""     #: only the learner's own lines
    line: int = 0
    duration: float = 0.0
    args_after: Any = None  #: the arguments as they were after the call, when asked for
    exc_type: str = ""
    trace: Any = None       #: where the provided forward pass was evaluated, when asked for (chart data only)

    @property
    def ok(self) -> bool:
        return self.kind == "value"

    @property
    def fatal(self) -> bool:
        return self.kind in FATAL


class ForkServer:
    """One warm fork server per grading worker; spawns sandboxes on request."""

    def __init__(self, limits: Limits = Limits(), hidden: tuple = (), *, user: tuple[int, int] | None = None):
        """`hidden`: folders to hide even inside the visible system folders (the project always is).

        `user`: (uid, gid) the fork server switches to once it has loaded, when the grader runs as root;
        the sandboxes then take the path of an unprivileged grader (a user namespace). For tests and doctor.
        """
        self.limits = Limits(**{**asdict(limits), "hidden": tuple(limits.hidden) + (str(PROJECT_DIR),) + tuple(hidden)})
        self.user = (int(user[0]), int(user[1])) if user else None
        self._process = None
        self._control = None

    def _start(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"}
        for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
            if name in os.environ:
                env[name] = os.environ[name]
        become = ""
        if self.user:
            uid, gid = self.user
            become = f"import os; os.setgroups([]); os.setresgid({gid}, {gid}, {gid}); os.setresuid({uid}, {uid}, {uid}); "
        boot = (f"import sys; sys.path.insert(0, {str(PROJECT_DIR)!r}); "
                f"from grader.sandbox_child import main; {become}main({theirs.fileno()})")
        self._process = subprocess.Popen([sys.executable, "-I", "-c", boot], pass_fds=(theirs.fileno(),), env=env,
                                         stdin=subprocess.DEVNULL, cwd="/", start_new_session=True)
        theirs.close()
        self._control = ours

    def spawn(self) -> "Sandbox":
        if self._process is None or self._process.poll() is not None:
            self._start()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        request = json.dumps({"limits": asdict(self.limits)}).encode()
        try:
            self._control.settimeout(SPAWN_TIMEOUT)
            socket.send_fds(self._control, [request], [theirs.fileno()])
            json.loads(self._control.recv(4096))
        except (OSError, ValueError):
            self.close()
            raise RuntimeError("the sandbox fork server stopped answering") from None
        finally:
            theirs.close()
        return Sandbox(ours)

    def close(self) -> None:
        if self._control is not None:
            self._control.close()
        if self._process is not None:
            try:
                os.killpg(self._process.pid, signal.SIGKILL)
            except OSError:
                pass
            self._process.wait()
        self._process = self._control = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Sandbox:
    """One sandbox process: load a cell into it, call the function it defines, kill it."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.dead: Outcome | None = None
        self.pid = 0
        self._pidfd = -1
        self._isolated = False  #: the learner's process is PID 1 of its own namespace
        hello = self._receive(time.monotonic() + SPAWN_TIMEOUT, {}, started=time.monotonic())
        if isinstance(hello, Outcome):
            self.dead = hello
            return
        # the hello comes from the sandbox's own process before any learner code runs, so the pid is
        # trustworthy; a pidfd pins it, so closing later never signals a recycled pid
        pid = hello.get("pid")
        self.pid = pid if type(pid) is int and pid > 1 else 0
        self._isolated = hello.get("pid_namespace") is True
        if self.pid:
            try:
                self._pidfd = os.pidfd_open(self.pid)
            except (AttributeError, OSError):
                self._pidfd = -1

    def protections(self) -> dict:
        reply = self._request({"op": "protections"}, {}, None)
        return reply.value if reply.ok else {"applied": [], "missing": [reply.message]}

    def load(self, name: str, source: str, cell: int, stubs: dict | None = None, timeout: float | None = None) -> Outcome:
        """Run a graded cell in a fresh namespace; `stubs` maps helper names to parameter lists.

        The value of a successful load lists the errors raised by top-level lines of the cell, each
        a dict with a text `exc_type` and `message` and an int `line`.
        """
        request = {"op": "load", "name": name, "source": source, "cell": cell, "stubs": stubs or {}}
        outcome = self._request(request, {}, timeout)
        if outcome.ok:
            problems = outcome.value if type(outcome.value) is list else []
            outcome = replace(outcome, value=[_problem(p) for p in problems[:20]])
        return outcome

    def call(self, name: str, args: tuple = (), kwargs: dict | None = None, callbacks: dict | None = None,
             return_args: bool = False, trace: bool = False, timeout: float | None = None) -> Outcome:
        """Call the loaded function with plain data; `callbacks` answer the stubs, in this process.

        Callbacks take numbers: their arguments must be numbers or numeric arrays, broadcasting to
        at most CALLBACK_ELEMENTS elements, or the learner's call gets an error instead.
        """
        request = {"op": "call", "name": name, "args": wire.encode(list(args)), "kwargs": wire.encode(kwargs or {}),
                   "return_args": return_args, "trace": trace}
        outcome = self._request(request, callbacks or {}, timeout)
        if outcome.ok and return_args and not (type(outcome.args_after) is list and len(outcome.args_after) == len(args)):
            outcome = Outcome("not_plain_data", message="the arguments could not be read back after the call",
                              output=outcome.output, duration=outcome.duration)
        if outcome.ok and trace and type(outcome.trace) is not list:
            outcome = replace(outcome, trace=None)
        return outcome

    def _request(self, request: dict, callbacks: dict, timeout: float | None) -> Outcome:
        if self.dead is not None:
            return self.dead
        timeout = CALL_TIMEOUT if timeout is None else timeout  # read now, so a test may lower it
        started = time.monotonic()
        deadline = started + timeout
        try:
            self.sock.settimeout(timeout)
            wire.send(self.sock, request)
        except TimeoutError:  # the learner's process stopped reading: it is busy or stuck
            return self._timeout(started)
        except wire.NotPlainData as exc:  # e.g. a notebook cell larger than a frame may be
            return Outcome("not_plain_data", message=f"this could not be sent to the sandbox: {exc}")
        except OSError:
            return self._die(Outcome("crashed", message="the sandbox process was gone before the call"))
        reply = self._receive(deadline, callbacks, started)
        if isinstance(reply, Outcome):
            return reply
        outcome = _outcome(reply)
        return self._die(outcome) if outcome.fatal else outcome

    def _receive(self, deadline: float, callbacks: dict, started: float):
        """The next reply frame, answering callbacks on the way; an Outcome when the process is gone."""
        while True:
            try:
                frame = wire.recv(self.sock, deadline)
            except TimeoutError:
                return self._timeout(started)
            except (EOFError, OSError):
                return self._die(Outcome("crashed", message="the sandbox process ended without a word"))
            except wire.WireError as exc:
                return self._die(Outcome("protocol", message=f"your code wrote into the grader's channel ({exc})"))
            op = frame.get("op")
            if op == "ended":
                return self._die(_ended(frame, time.monotonic() - started))
            if op == "callback":
                self._answer(frame, callbacks, deadline)
                continue
            if op is not None and op != "hello":
                return self._die(Outcome("protocol", message="your code wrote into the grader's channel"))
            return frame

    def _answer(self, frame: dict, callbacks: dict, deadline: float) -> None:
        """Run a grader helper for the learner's stub; whatever was sent, the learner gets a value or an error."""
        name = frame.get("name")
        helper = callbacks.get(name) if type(name) is str else None
        try:
            if helper is None:
                raise LookupError("this helper is not available here")
            args = wire.decode(frame.get("args"))
            _numbers_only(args)
            with np.errstate(all="ignore"):
                value = helper(*args)
            body = wire.dumps({"value": wire.encode(value)})
        except Exception as exc:  # a probe refusing odd input answers the learner with an error
            body = wire.dumps({"error": _text(f"{type(exc).__name__}: {exc}", 500)})
        try:
            self.sock.settimeout(max(deadline - time.monotonic(), 0.001))
            self.sock.sendall(body)
        except OSError:  # not read in time, or gone: the next receive says which
            pass

    def _timeout(self, started: float) -> Outcome:
        elapsed = max(time.monotonic() - started, 0.0)
        return self._die(Outcome("timeout", message=f"stopped after {elapsed:.0f} s: the code did not finish in time "
                                                    f"(an endless loop, or far too much work)", duration=elapsed))

    def _die(self, outcome: Outcome) -> Outcome:
        self.close()
        self.dead = outcome
        return outcome

    def close(self) -> None:
        """Kill the learner's process, and so its whole PID namespace; never a pid that may have been reused."""
        if self._pidfd >= 0:
            try:
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
            except OSError:
                pass
            os.close(self._pidfd)
            self._pidfd = -1
        elif self.pid:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except OSError:
                pass
        if self.pid and not self._isolated:  # no PID namespace: its process group is the best we can reach
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except OSError:
                pass
        self.pid = 0
        try:
            self.sock.close()
        except OSError:
            pass
        if self.dead is None:
            self.dead = Outcome("crashed", message="the sandbox was closed")


def _ended(frame: dict, elapsed: float) -> Outcome:
    """How the learner's process ended, as its sandbox reported it (or as the learner forged it: same words)."""
    number, code = frame.get("signal"), frame.get("code")
    if type(number) is int:
        if number == signal.SIGXCPU:
            return Outcome("cpu", message="stopped: the code used up its CPU time", duration=elapsed)
        if number == signal.SIGKILL:
            return Outcome("killed", message="the process was killed (it used more memory or processes than allowed)",
                           duration=elapsed)
        what = _SIGNALS.get(number, f"signal {number}" if 0 < number < 128 else "a signal")
        return Outcome("crashed", message=f"the Python process running your code crashed with {what}", duration=elapsed)
    shown = code if type(code) is int and 0 <= code < 256 else "..."
    return Outcome("exited", message=f"your code ended the Python process (os._exit({shown}) or similar), "
                                     f"so no answer came back", duration=elapsed)


def _text(value, cap: int) -> str:
    """Learner-made text, safe to store and show: a string, capped, valid UTF-8, control characters escaped."""
    if type(value) is not str:
        return ""
    value = value[:cap].encode("utf-8", "backslashreplace").decode("utf-8")
    return _UNPRINTABLE.sub(lambda match: f"\\x{ord(match.group()):02x}" if ord(match.group()) < 256
                            else f"\\u{ord(match.group()):04x}", value)


def _number(value, low: float, high: float, default):
    """A number from a reply, inside [low, high]; `default` for anything else."""
    if type(value) not in (int, float) or not math.isfinite(value):
        return default
    return type(default)(min(max(value, low), high))


def _problem(problem) -> dict:
    """One top-level error of a loaded cell, in the shape the grader expects, whatever was sent."""
    problem = problem if type(problem) is dict else {}
    return {"exc_type": _text(problem.get("exc_type"), TEXT_CAP["exc_type"]) or "an error",
            "message": _text(problem.get("message"), TEXT_CAP["message"]),
            "line": _number(problem.get("line"), 0, 10 ** 6, 0)}


def _numbers_only(args) -> None:
    """Callback arguments: numbers or numeric arrays only, so a grader helper never builds a huge object."""
    if type(args) not in (list, tuple):
        raise TypeError("the helper was called without a list of arguments")
    shapes = []
    for arg in args:
        if type(arg) is np.ndarray and arg.dtype.kind in "biuf":
            shapes.append(arg.shape)
        elif type(arg) not in (int, float, bool):
            raise TypeError(f"the helper takes numbers or numpy arrays of numbers, not {type(arg).__name__}")
    try:
        size = math.prod(np.broadcast_shapes(*shapes)) if shapes else 1
    except ValueError:
        return  # shapes that do not broadcast: the helper itself says so
    if size > CALLBACK_ELEMENTS:
        raise ValueError(f"the helper takes at most {CALLBACK_ELEMENTS} numbers at once")


def _outcome(reply: dict) -> Outcome:
    """Turn a reply frame into an Outcome, decoding the value and cleaning every field defensively."""
    kind = reply.get("status")
    text = {key: _text(reply.get(key, ""), cap) for key, cap in TEXT_CAP.items()}
    line = _number(reply.get("line"), 0, 10 ** 6, 0)
    duration = _number(reply.get("duration"), 0.0, 24 * 3600.0, 0.0)
    if kind == "value":
        try:
            value = wire.decode(reply.get("value"))
            after = wire.decode(reply["args_after"]) if "args_after" in reply else None
            trace = wire.decode(reply["trace"]) if "trace" in reply else None
        except (wire.WireError, ValueError, TypeError, RecursionError) as exc:
            return Outcome("not_plain_data", message=_text(f"the value that came back could not be read ({exc})", 500),
                           output=text["output"], duration=duration)
        return Outcome("value", value=value, output=text["output"], duration=duration, args_after=after, trace=trace)
    if kind == "ok":
        found = {key: reply.get(key) if type(reply.get(key)) is list else [] for key in ("applied", "missing")}
        return Outcome("value", value={key: [_text(item, 500) for item in items] for key, items in found.items()})
    if kind in ("raised", "not_implemented", "memory", "recursion", "not_plain_data", "missing", "exited"):
        return Outcome(kind, message=text["message"], output=text["output"], traceback=text["traceback"], line=line,
                       duration=duration, exc_type=text["exc_type"])
    return Outcome("protocol", message="the sandbox answered something the grader does not understand")
