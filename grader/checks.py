"""Stage 3, judge: the hidden pytest checks run in the grader process and call into the sandbox.

One pytest session collects solutions/checks once and then grades any number of
submissions (a batch worker pays pytest's start-up once). For each submission every
check item runs again; the plugin turns each report into a CheckResult.
"""
from __future__ import annotations

import json
import sys
import time
import warnings
import zlib
from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np
import pytest
from _pytest.reports import TestReport
from _pytest.runner import runtestprotocol

from grader import wire
from grader.judge import LearnerFailed, Mismatch
from grader.notebook import GRADED, Submission
from grader.provided import PROJECT_DIR

if str(PROJECT_DIR) not in sys.path:  # the hidden checks import solutions/ (grader process only)
    sys.path.insert(0, str(PROJECT_DIR))
from grader.result import CheckResult, CheckStatus
from grader.jail import Limits
from grader.sandbox import ForkServer, Outcome, Sandbox

CHECKS_DIR = PROJECT_DIR / "solutions" / "checks"
#: the course's points per function
POINTS = {"forward_propagation": 10, "backward_propagation": 10, "gradient_check": 10, "gradient_check_n": 20}
#: graded helpers the grader supplies (as its own versions) to the other graded functions, with their real
#: parameter names; a learner's function is never graded through the learner's own helpers
SUPPLIED = {"forward_propagation": ["x", "theta"], "backward_propagation": ["x", "theta"]}


def stubs_for(function: str) -> dict:
    return {name: params for name, params in SUPPLIED.items() if name != function}


@dataclass
class Job:
    """One submission to check, with the seed that draws its hidden inputs."""
    submission: Submission
    seed: int
    forkserver: ForkServer
    sandbox: Sandbox | None = None                 #: the live sandbox process, shared by the graded functions
    loaded: set = field(default_factory=set)       #: functions whose cell runs in that process
    failed: dict = field(default_factory=dict)     #: function -> Outcome that ended it for this submission
    loads: dict = field(default_factory=dict)      #: function -> Outcome of loading its cell
    answers: dict = field(default_factory=dict)    #: (function, encoded inputs) -> Outcome, shared by checks
    memo: dict = field(default_factory=dict)       #: per-submission notes the checks keep (mistakes seen so far)
    problems: list = field(default_factory=list)   #: top-level errors while loading, for warnings
    sandbox_seconds: float = 0.0  #: starting sandbox processes and loading cells into them
    learner_seconds: float = 0.0  #: inside learner calls, as the sandbox measured them
    started: float = 0.0       #: perf_counter when reading began
    read_seconds: float = 0.0

    def close(self) -> None:
        if self.sandbox is not None:
            self.sandbox.close()
            self.sandbox = None


class Learner:
    """What a check holds: one graded function of one submission, called through the sandbox.

    The functions of a submission share one sandbox process, each in its own namespace. When a
    call hangs, crashes or exits, that function is done for this submission (its later checks
    fail at once with the same reason) and the next function gets a fresh process.
    """

    def __init__(self, job: Job, function: str, default_helpers: dict):
        self.job, self.function, self.default_helpers = job, function, default_helpers
        self.last: Outcome | None = None

    def __call__(self, *args, helpers: dict | None = None, return_args: bool = False, trace: bool = False, **kwargs):
        """Call the learner's function; returns its (decoded) value or raises LearnerFailed.

        Calls with the grader's default helpers are remembered per submission: two checks that
        ask the same question (the same inputs) share one call into the sandbox.
        """
        sandbox = self._ready()
        if sandbox is None:
            raise LearnerFailed(self.job.failed[self.function])
        key, fetch_args, fetch_trace = None, return_args, trace
        if helpers is None:
            key = (self.function, json.dumps([wire.encode(list(args)), wire.encode(kwargs)]))
            fetch_args = True
        outcome = self.job.answers.get(key) if key else None
        if outcome is not None and trace and outcome.trace is None:
            outcome = None  # the remembered answer has no trace; this check draws a chart, so ask again
        if outcome is None:
            outcome = sandbox.call(self.function, args, kwargs, callbacks=helpers or self.default_helpers,
                                   return_args=fetch_args, trace=fetch_trace)
            self.job.learner_seconds += outcome.duration
            if key and not outcome.fatal:
                self.job.answers[key] = outcome
        self.last = outcome
        if outcome.fatal:
            self.job.failed[self.function] = outcome
            self.job.close()
        if not outcome.ok:
            raise LearnerFailed(outcome)
        return (outcome.value, outcome.args_after) if return_args else outcome.value

    def _ready(self) -> Sandbox | None:
        """A live sandbox with this function's cell loaded, or None when the function cannot run."""
        job, name = self.job, self.function
        if name in job.failed:
            return None
        if job.sandbox is None or job.sandbox.dead is not None:
            started = time.perf_counter()
            job.sandbox, job.loaded = job.forkserver.spawn(), set()
            job.sandbox_seconds += time.perf_counter() - started
        if name not in job.loaded:
            started = time.perf_counter()
            code = job.submission.functions[name]
            outcome = job.sandbox.load(name, code.source, code.cell, stubs_for(name))
            job.sandbox_seconds += time.perf_counter() - started
            job.loads[name] = outcome
            if not outcome.ok:
                job.failed[name] = _load_failure(name, outcome)
                if outcome.fatal:
                    job.close()
                return None
            job.loaded.add(name)
            job.problems += [(name, code.cell, p) for p in outcome.value or ()]
        return job.sandbox


def _load_failure(name: str, outcome: Outcome) -> Outcome:
    if outcome.kind == "missing":
        return Outcome("missing", message=f"{name} was not defined: {outcome.message}", traceback=outcome.traceback,
                       line=outcome.line)
    prefix = f"running the cell that defines {name} failed before the function could be called: "
    return Outcome(outcome.kind, message=prefix + outcome.message, output=outcome.output,
                   traceback=outcome.traceback, line=outcome.line)


class GradingPlugin:
    """Runs every collected check once per job and hands back CheckResults."""

    def __init__(self, jobs: Iterable[Job], on_result: Callable[[Job, list], None]):
        self.jobs, self.on_result = jobs, on_result
        self.job: Job | None = None
        self.failures: dict = {}
        self.current: Learner | None = None  #: the learner fixture of the check now running

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session):
        items = list(session.items)
        weights = _weights(items)
        for job in self.jobs:
            self.job = job
            results = []
            try:
                for item in items:
                    try:
                        results.append(self._run(item, weights[item.nodeid]))
                    except Exception as exc:  # never lose the submission over a grader fault
                        results.append(_grader_error(item, weights[item.nodeid], f"{type(exc).__name__}: {exc}"))
            finally:
                job.close()
            self.on_result(job, results)
        return True

    def _run(self, item, points: float) -> CheckResult:
        function = _function_of(item)
        code = self.job.submission.functions.get(function)
        title = _title(item)
        if code is None or code.syntax_error:
            message = (f"{function} was not found in the notebook." if code is None
                       else f"{function} could not run: {code.syntax_error}.")
            return CheckResult(function, item.name, title, CheckStatus.ERROR, 0.0, points, message=message,
                               outcome="missing" if code is None else "syntax_error",
                               line=code.error_line if code is not None else 0)
        self.failures.pop(item.nodeid, None)
        self.current = None
        item._initrequest()
        started = time.perf_counter()
        reports = runtestprotocol(item, nextitem=None, log=False)
        duration = time.perf_counter() - started
        failed = [r for r in reports if r.failed]
        if not failed:
            return CheckResult(function, item.name, title, CheckStatus.PASSED, points, points, outcome="value",
                               duration=duration)
        error = self.failures.get(item.nodeid)
        if isinstance(error, Mismatch):
            return CheckResult(function, item.name, title, CheckStatus.FAILED, 0.0, points, message=error.message,
                               expected=error.expected, got=error.got, tolerance=error.tolerance, hint=error.hint,
                               hint_id=error.hint_id, outcome="value", duration=duration, details=error.details,
                               output=self.current.last.output if self.current and self.current.last else "")
        if isinstance(error, LearnerFailed):
            o = error.outcome
            return CheckResult(function, item.name, title, CheckStatus.ERROR, 0.0, points, message=_explain(o),
                               outcome=o.kind, output=o.output, traceback=o.traceback, line=o.line, duration=duration)
        return _grader_error(item, points, str(failed[0].longrepr)[-3000:], duration)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_makereport(self, item, call):
        """Keep the check's exception for the CheckResult. A learner-side failure gets a one-line report:
        pytest's own traceback rendering costs ~15 ms and nobody reads it. Grader faults keep the full one."""
        if call.excinfo is None or call.when != "call":
            return None
        error = call.excinfo.value
        self.failures[item.nodeid] = error
        if not isinstance(error, (Mismatch, LearnerFailed)):
            return None
        return TestReport(item.nodeid, item.location, {}, "failed", str(error)[:500], call.when,
                          duration=call.duration, start=call.start, stop=call.stop)

    @pytest.fixture
    def learner(self, request):
        """The learner's graded function this check module is about, callable through the sandbox."""
        from solutions import reference
        helpers = {"forward_propagation": reference.forward_propagation,
                   "backward_propagation": reference.backward_propagation}
        self.current = Learner(self.job, _function_of(request.node), helpers)
        return self.current

    @pytest.fixture
    def rng(self, request):
        """Hidden inputs: drawn from the submission's seed and this check's name (or its `inputs`
        marker, so two checks can share one hidden case), so reruns agree."""
        marker = request.node.get_closest_marker("inputs")
        label = marker.args[0] if marker else request.node.name
        return np.random.default_rng([self.job.seed, zlib.crc32(label.encode())])

    @pytest.fixture
    def reference(self):
        from solutions import reference
        return reference


def _grader_error(item, points: float, detail: str, duration: float = 0.0) -> CheckResult:
    return CheckResult(_function_of(item), item.name, _title(item), CheckStatus.GRADER_ERROR, 0.0, points,
                       message="The grader itself failed on this check; course staff have the details.",
                       traceback=detail, outcome="grader_error", duration=duration, visibility="hidden")


def _explain(outcome: Outcome) -> str:
    if outcome.kind == "not_implemented":
        return "Not implemented yet: the function still raises NotImplementedError. Replace the placeholder with your code."
    if outcome.kind in ("raised", "recursion", "memory"):
        base = f"Your code raised {outcome.exc_type}: {outcome.message}"
        if outcome.kind == "memory":
            base = (f"Your code ran out of memory (it may use at most {Limits().memory_bytes >> 20} MiB): "
                    + outcome.message)
        if outcome.kind == "recursion":
            base = "Your code recursed too deeply (a function calling itself without end): " + outcome.message
        return base + (f" (line {outcome.line} of the cell)" if outcome.line else "")
    return outcome.message[0:1].upper() + outcome.message[1:]


def _function_of(item) -> str:
    marker = item.get_closest_marker("graded")
    if marker is None or marker.args[0] not in GRADED:
        raise RuntimeError(f"{item.nodeid} has no @graded(function) marker")
    return marker.args[0]


def _title(item) -> str:
    doc = (item.function.__doc__ or item.name).strip().splitlines()[0]
    return doc.rstrip(".")


def _weights(items) -> dict:
    """Points of each check: the function's points split by the checks' `weight` markers."""
    totals: dict = {}
    for item in items:
        totals[_function_of(item)] = totals.get(_function_of(item), 0) + _weight(item)
    return {item.nodeid: POINTS[_function_of(item)] * _weight(item) / totals[_function_of(item)] for item in items}


def _weight(item) -> float:
    marker = item.get_closest_marker("weight")
    return float(marker.args[0]) if marker else 1.0


def run_checks(jobs: Iterable[Job], on_result: Callable[[Job, list], None]) -> None:
    """Run the hidden checks on each job in turn, within a single pytest session."""
    plugin = GradingPlugin(jobs, on_result)
    # plugins that wrap every test phase (log capture, warning capture, fault handler) cost ~10% of a
    # submission and give the hidden checks nothing; numpy's warnings in the grader are silenced instead
    off = ("cacheprovider", "terminal", "stepwise", "junitxml", "logging", "warnings", "faulthandler", "doctest")
    args = [str(CHECKS_DIR), "-c", str(CHECKS_DIR / "pytest.ini"), "--rootdir", str(CHECKS_DIR),
            "--import-mode=importlib", *(word for name in off for word in ("-p", f"no:{name}"))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = pytest.main(args, plugins=[plugin])
    if code not in (0, 1, 5) and plugin.job is None:
        raise RuntimeError(f"the hidden checks could not be collected (pytest exit code {code})")
