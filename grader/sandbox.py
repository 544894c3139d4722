"""Stage 2, run: the grader's handle on sandbox processes. Every call comes back as an Outcome.

Learner code never runs in this process. A warm fork server (grader.sandbox_child) holds
numpy and the public helpers; each graded function gets a fresh sandbox forked from it.
Calls and results cross as plain data (grader.wire); anything the learner's process does,
hanging, crashing, exiting or writing garbage, ends as an Outcome here, never an exception.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, asdict
from typing import Any, Callable

from grader import wire
from grader.jail import Limits
from grader.provided import PROJECT_DIR

#: seconds one call may take before the sandbox is killed
CALL_TIMEOUT = 10.0
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

    def __init__(self, limits: Limits = Limits(), hidden: tuple = ()):
        self.limits = Limits(**{**asdict(limits), "hidden": tuple(limits.hidden) + (str(PROJECT_DIR),) + tuple(hidden)})
        self._process = None
        self._control = None

    def _start(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"}
        for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
            if name in os.environ:
                env[name] = os.environ[name]
        boot = (f"import sys; sys.path.insert(0, {str(PROJECT_DIR)!r}); "
                f"from grader.sandbox_child import main; main({theirs.fileno()})")
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
        hello = self._receive(time.monotonic() + CALL_TIMEOUT, {}, started=time.monotonic())
        if isinstance(hello, Outcome):
            self.dead = hello
        else:
            self.pid = int(hello.get("pid", 0))

    def protections(self) -> dict:
        reply = self._request({"op": "protections"}, {}, CALL_TIMEOUT)
        return reply.value if reply.ok else {"applied": [], "missing": [reply.message]}

    def load(self, name: str, source: str, cell: int, stubs: dict | None = None, timeout: float = CALL_TIMEOUT) -> Outcome:
        """Run a graded cell in a fresh namespace; `stubs` maps helper names to parameter lists."""
        request = {"op": "load", "name": name, "source": source, "cell": cell, "stubs": stubs or {}}
        return self._request(request, {}, timeout)

    def call(self, name: str, args: tuple = (), kwargs: dict | None = None, callbacks: dict | None = None,
             return_args: bool = False, trace: bool = False, timeout: float = CALL_TIMEOUT) -> Outcome:
        """Call the loaded function with plain data; `callbacks` answer the stubs, in this process."""
        request = {"op": "call", "name": name, "args": wire.encode(list(args)), "kwargs": wire.encode(kwargs or {}),
                   "return_args": return_args, "trace": trace}
        return self._request(request, callbacks or {}, timeout)

    def _request(self, request: dict, callbacks: dict, timeout: float) -> Outcome:
        if self.dead is not None:
            return self.dead
        started = time.monotonic()
        try:
            wire.send(self.sock, request)
        except OSError:
            return self._die(Outcome("crashed", message="the sandbox process was gone before the call"))
        reply = self._receive(started + timeout, callbacks, started)
        if isinstance(reply, Outcome):
            return reply
        return _outcome(reply)

    def _receive(self, deadline: float, callbacks: dict, started: float):
        """The next reply frame, answering callbacks on the way; an Outcome when the process is gone."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return self._timeout(started)
            self.sock.settimeout(remaining)
            try:
                frame = wire.recv(self.sock)
            except (TimeoutError, socket.timeout):
                return self._timeout(started)
            except (EOFError, OSError):
                return self._die(Outcome("crashed", message="the sandbox process ended without a word"))
            except wire.WireError as exc:
                return self._die(Outcome("protocol", message=f"your code wrote into the grader's channel ({exc})"))
            op = frame.get("op")
            if op == "ended":
                return self._die(_ended(frame, time.monotonic() - started))
            if op == "callback":
                self._answer(frame, callbacks)
                continue
            if op is not None and op != "hello":
                return self._die(Outcome("protocol", message="your code wrote into the grader's channel"))
            return frame

    def _answer(self, frame: dict, callbacks: dict) -> None:
        helper = callbacks.get(frame.get("name"))
        try:
            if helper is None:
                raise ValueError("this helper is not available here")
            args = wire.decode(frame.get("args"))
            reply = {"value": wire.encode(helper(*args))}
        except Exception as exc:  # a probe refusing odd input answers the learner with an error
            reply = {"error": f"{type(exc).__name__}: {exc}"[:500]}
        try:
            wire.send(self.sock, reply)
        except OSError:
            pass

    def _timeout(self, started: float) -> Outcome:
        elapsed = time.monotonic() - started
        return self._die(Outcome("timeout", message=f"stopped after {elapsed:.0f} s: the code did not finish in time "
                                                    f"(an endless loop, or far too much work)", duration=elapsed))

    def _die(self, outcome: Outcome) -> Outcome:
        self.close()
        self.dead = outcome
        return outcome

    def close(self) -> None:
        if self.pid:
            for kill in (os.killpg, os.kill):
                try:
                    kill(self.pid, signal.SIGKILL)
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
    if "signal" in frame:
        number = int(frame["signal"])
        if number == signal.SIGXCPU:
            return Outcome("cpu", message="stopped: the code used up its CPU time", duration=elapsed)
        if number == signal.SIGKILL:
            return Outcome("killed", message="the process was killed (it used more memory or processes than allowed)",
                           duration=elapsed)
        what = _SIGNALS.get(number, f"signal {number}")
        return Outcome("crashed", message=f"the Python process running your code crashed with {what}", duration=elapsed)
    return Outcome("exited", message=f"your code ended the Python process (os._exit({frame.get('code')}) or similar), "
                                     f"so no answer came back", duration=elapsed)


def _outcome(reply: dict) -> Outcome:
    """Turn a reply frame into an Outcome, decoding the value defensively."""
    kind = reply.get("status")
    text = {k: str(reply.get(k, ""))[:20000] for k in ("message", "output", "traceback", "exc_type")}
    try:
        line = int(reply.get("line", 0) or 0)
        duration = float(reply.get("duration", 0.0) or 0.0)
    except (TypeError, ValueError):
        line, duration = 0, 0.0
    if kind == "value":
        try:
            value = wire.decode(reply.get("value"))
            after = wire.decode(reply["args_after"]) if "args_after" in reply else None
            trace = wire.decode(reply["trace"]) if "trace" in reply else None
        except (wire.WireError, ValueError, TypeError) as exc:
            return Outcome("not_plain_data", message=f"the value that came back could not be read ({exc})",
                           output=text["output"], duration=duration)
        return Outcome("value", value=value, output=text["output"], duration=duration, args_after=after, trace=trace)
    if kind == "ok":
        return Outcome("value", value={"applied": reply.get("applied", []), "missing": reply.get("missing", [])})
    if kind in ("raised", "not_implemented", "memory", "recursion", "not_plain_data", "missing", "exited"):
        return Outcome(kind, message=text["message"], output=text["output"], traceback=text["traceback"], line=line,
                       duration=duration, exc_type=text["exc_type"])
    return Outcome("protocol", message="the sandbox answered something the grader does not understand")
