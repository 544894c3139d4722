"""The sandbox side of the boundary: a warm fork server and the process that runs learner code.

Started by grader.sandbox as `python -I -c ...main(FD)`. It imports numpy and the public
assignment helpers once, never the solutions or the checks, then forks one sandbox per
request. Each sandbox enters fresh namespaces and a new root (grader.jail), forks the
learner's process (PID 1 of its namespace, so killing it kills everything it started),
and reports how that process ended. Everything the learner's process sends is treated by
the grader as hostile; this side only tries to give honest code clear answers.
"""
from __future__ import annotations

import ast
import json
import linecache
import os
import signal
import socket
import sys
import time
import traceback

import numpy as np
import numpy.linalg  # noqa: F401  (loaded now: the learner's process cannot read the disk)
import numpy.random  # noqa: F401
import copy, math, random, itertools, functools, collections, fractions, decimal, statistics, operator, io, re  # noqa: E401,F401
import encodings.idna  # noqa: F401  (host names in socket calls need it, even to be refused)

from grader import jail, provided, wire

OUTPUT_CAP = 16 * 1024
TRACE_CAP = 400
NAMESPACE_NAMES = ("sigmoid", "relu", "dictionary_to_vector", "vector_to_dictionary", "gradients_to_vector",
                   "gradient_check_n_test_case", "forward_propagation_n", "backward_propagation_n")


def main(control_fd: int) -> None:
    control = socket.socket(fileno=control_fd)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # sandboxes are reaped by the kernel
    jail.forbid_inspection()  # processes of the same user cannot read or trace this one
    base = jail.address_space()
    while True:
        try:
            data, fds, _, _ = socket.recv_fds(control, 65536, 1)
        except OSError:
            os._exit(0)
        if not data:
            os._exit(0)
        request = json.loads(data)
        pid = os.fork()
        if pid == 0:
            control.close()
            try:
                _sandbox(fds[0], request, base)
            finally:
                os._exit(70)
        for fd in fds:
            os.close(fd)
        control.send(json.dumps({"pid": pid}).encode())


def _sandbox(fd: int, request: dict, base: int) -> None:
    """Runs in the forked sandbox: namespaces, then the learner's process, then its end."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    sock = socket.socket(fileno=fd)
    limits = jail.Limits(**{k: tuple(v) if k == "hidden" else v for k, v in request["limits"].items()})
    setup = jail.enter_namespaces(limits)
    ready_r, ready_w = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(ready_w)
        os.read(ready_r, 1)
        os.close(ready_r)
        _learner_process(sock, limits, base, setup)
        os._exit(0)
    os.close(ready_r)
    wire.send(sock, {"op": "hello", "pid": child, "pid_namespace": setup.pid_namespace})
    os.write(ready_w, b"go")
    os.close(ready_w)
    _, status = os.waitpid(child, 0)
    if os.WIFSIGNALED(status):
        end = {"op": "ended", "signal": os.WTERMSIG(status)}
    else:
        end = {"op": "ended", "code": os.WEXITSTATUS(status)}
    try:
        wire.send(sock, end)
    except OSError:
        pass
    os._exit(0)


def _learner_process(sock, limits, base, setup) -> None:
    try:  # its own session and process group: kill(0, ...) reaches nothing of the fork server's
        os.setsid()
    except OSError:
        pass
    applied, missing = list(setup.applied), list(setup.missing)
    try:
        more_applied, more_missing = jail.enter_root(setup)
    except OSError as exc:
        more_applied, more_missing = [], [f"NO PRIVATE FILE SYSTEM (could not enter it: {exc})"]
    applied, missing = applied + more_applied, missing + more_missing
    more_applied, more_missing = jail.restrict_process(limits, base, setup)
    applied, missing = applied + more_applied, missing + more_missing
    os.environ.clear()
    os.environ.update({"PATH": "/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8", "TMPDIR": "/tmp"})
    try:
        os.chdir("/tmp")
    except OSError:
        pass
    null = os.open(os.devnull, os.O_RDWR)
    for target in (0, 1, 2):
        os.dup2(null, target)
    os.close(null)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-large file fails the write, not the process
    Server(sock, applied, missing).serve()


class CappedOutput(io.TextIOBase):
    """Stands in for sys.stdout/stderr: keeps the first OUTPUT_CAP characters, counts the rest."""

    def __init__(self):
        self.parts, self.size, self.dropped = [], 0, 0

    def write(self, text):
        text = str(text)
        room = OUTPUT_CAP - self.size
        if room > 0:
            self.parts.append(text[:room])
            self.size += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def text(self) -> str:
        tail = f"\n[... {self.dropped} more characters not shown]" if self.dropped else ""
        return "".join(self.parts) + tail


class Server:
    """Answers `load` and `call` requests; every answer is plain data."""

    def __init__(self, sock, applied, missing):
        self.sock, self.applied, self.missing = sock, applied, missing
        self.functions = {}
        self.trace = None  #: (parameter vector, cost) of each forward_propagation_n call, when asked for

    def serve(self):
        while True:
            try:
                request = wire.recv(self.sock)
            except (EOFError, OSError, wire.WireError):
                os._exit(0)
            op = request.get("op")
            if op == "protections":
                reply = {"status": "ok", "applied": self.applied, "missing": self.missing}
            elif op == "load":
                reply = self._run(lambda: self._load(request))
            elif op == "call":
                reply = self._run(lambda: self._call(request))
            else:
                reply = {"status": "protocol", "message": f"unknown request {op!r}"}
            self._send(reply)

    def _send(self, reply):
        try:
            wire.send(self.sock, reply)
        except (wire.NotPlainData, ValueError, TypeError, RecursionError) as exc:
            wire.send(self.sock, {"status": "not_plain_data", "message": _safe_str(exc),
                                  "output": _valid(reply.get("output", ""))})

    def _run(self, work):
        out = CappedOutput()
        saved = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = out
        started = time.perf_counter()
        try:
            reply = work()
        except SystemExit as exc:
            code = exc.code if type(exc.code) in (int, str, type(None)) else type(exc.code).__name__
            reply = {"status": "exited", "message": f"your code called exit({_valid(repr(code)[:200])})"}
        except wire.NotPlainData as exc:
            reply = {"status": "not_plain_data", "message": str(exc)}
        except BaseException as exc:  # learner code may raise anything, KeyboardInterrupt included
            reply = _raised(exc)
        finally:
            sys.stdout, sys.stderr = saved
        reply["output"] = out.text()
        reply["duration"] = time.perf_counter() - started
        return reply

    def _namespace(self, stubs):
        space = {"__name__": "__main__", "__builtins__": __builtins__, "np": np}
        for name in NAMESPACE_NAMES:
            space[name] = getattr(provided, name)
        space["forward_propagation_n"] = self._traced_forward
        space.update(stubs)
        return space

    def _load(self, request):
        name, source, cell = request["name"], request["source"], request["cell"]
        stubs = {stub: self._stub(stub, params) for stub, params in request.get("stubs", {}).items()}
        filename = f"<cell {cell + 1}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        space = self._namespace(stubs)
        problems = []
        for statement in ast.parse(source, filename).body:
            code = compile(ast.Module([statement], type_ignores=[]), filename, "exec")
            try:
                exec(code, space)
            except Exception as exc:  # a failing top-level line does not stop the definitions after it
                problems.append(_raised(exc))
        space.update(self._namespace(stubs))  # the grader's helpers win over the learner's copies
        if not callable(space.get(name)):
            first = problems[0] if problems else {}
            return {"status": "missing", "message": f"running the cell did not define {name}", "problems": problems,
                    "traceback": first.get("traceback", ""), "line": first.get("line", 0)}
        self.functions[name] = space[name]
        return {"status": "value", "value": wire.encode(problems)}

    def _call(self, request):
        function = self.functions[request["name"]]
        args = wire.decode(request["args"])
        kwargs = wire.decode(request["kwargs"])
        self.trace = [] if request.get("trace") else None
        try:
            value = function(*args, **kwargs)
        finally:
            trace, self.trace = self.trace, None
        reply = {"status": "value", "value": wire.encode(value)}
        if request.get("return_args"):
            reply["args_after"] = wire.encode(args, "argument")
        if trace is not None:
            reply["trace"] = wire.encode(trace[:TRACE_CAP])
        return reply

    def _traced_forward(self, X, Y, parameters):
        """The provided forward pass; while tracing, it also notes where it was evaluated (for the report's chart)."""
        cost, cache = provided.forward_propagation_n(X, Y, parameters)
        if self.trace is not None and len(self.trace) < TRACE_CAP:
            try:
                vector = provided.dictionary_to_vector(parameters)[0].ravel().astype(float)
                self.trace.append([vector, float(cost)])
            except Exception:  # odd parameters: the chart just has a gap
                pass
        return cost, cache

    def _stub(self, name, params):
        """A stand-in with the helper's real parameter names that asks the grader for the answer."""
        server = self

        def ask(*args):
            try:
                payload = wire.encode(args, "argument")
            except wire.NotPlainData as exc:
                raise TypeError(f"{name} was given something it cannot take: {exc}") from None
            wire.send(server.sock, {"op": "callback", "name": name, "args": payload})
            reply = wire.recv(server.sock)
            if "error" in reply:
                raise TypeError(f"{name}: {reply['error']}")
            return wire.decode(reply["value"])

        text = f"def {name}({', '.join(params)}):\n    return ask({', '.join(params)},)\n"
        scope = {"ask": ask}
        exec(compile(text, f"<provided {name}>", "exec"), scope)
        return scope[name]


def _raised(exc: BaseException) -> dict:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith("<cell ")]
    message = _safe_str(exc)
    try:
        last = "".join(traceback.format_exception_only(type(exc), exc))
    except BaseException:  # the learner's exception may break the formatting; its name and message still show
        last = f"{type(exc).__name__}: {message}\n"
    text = "".join(traceback.format_list(frames)) + last
    kind = "not_implemented" if isinstance(exc, NotImplementedError) else "raised"
    if isinstance(exc, MemoryError):
        kind = "memory"
    elif isinstance(exc, RecursionError):
        kind = "recursion"
    return {"status": kind, "exc_type": _valid(type(exc).__name__)[:200], "message": message[:2000],
            "traceback": _valid(text[-6000:]), "line": frames[-1].lineno if frames else 0}


def _safe_str(exc: BaseException) -> str:
    """str(exc), even when the learner's exception class makes __str__ raise or return nonsense."""
    try:
        text = str(exc)
    except BaseException:  # a learner's __str__ may raise anything
        text = f"(an exception whose message could not be shown: {type(exc).__name__})"
    return _valid(text[:2000] if type(text) is str else "")


def _valid(text) -> str:
    """Text that can cross as JSON and be shown anywhere: lone surrogates become escapes."""
    return str(text).encode("utf-8", "backslashreplace").decode("utf-8")


if __name__ == "__main__":
    main(int(sys.argv[1]))
