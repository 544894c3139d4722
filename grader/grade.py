"""The pipeline in numbered steps: read, seed, run the hidden checks, assemble one Result."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Iterable

from grader import grader_version
from grader.checks import POINTS, Job, run_checks
from grader.notebook import GRADED, Submission, read_submission
from grader.result import CheckStatus, FunctionResult, FunctionStatus, Result
from grader.sandbox import ForkServer
from grader.seeding import seed_for


def grade(path: str | Path, name: str | None = None, forkserver: ForkServer | None = None,
          secret: str | None = None) -> Result:
    """Grade one notebook file. Never raises for anything wrong with the file or the learner's code."""
    results: list = []
    grade_many([(path, name)], results.append, forkserver, secret)
    return results[0]


def grade_many(inputs: Iterable, on_result: Callable[[Result], None], forkserver: ForkServer | None = None,
               secret: str | None = None) -> None:
    """Grade (path, name) pairs in one pytest session, handing each Result to `on_result` as it is ready."""
    own = forkserver is None
    forkserver = forkserver or ForkServer()

    def jobs():
        for path, name in inputs:
            started = time.perf_counter()
            submission = read_submission(path, name)                               # 1. read the notebook
            if submission.error:
                on_result(unreadable(submission, time.perf_counter() - started))
                continue
            seed = seed_for(submission.content_hash, secret)                       # 2. draw the seed
            job = Job(submission, seed, forkserver, started=started, read_seconds=time.perf_counter() - started)
            yield job                                                              # 3. run the hidden checks

    try:
        run_checks(jobs(), lambda job, checks: on_result(assemble(job, checks)))  # 4. one Result each
    finally:
        if own:
            forkserver.close()


def unreadable(submission: Submission, duration: float, why: str = "the notebook could not be read") -> Result:
    """A result of zero for a submission that was never graded: its file could not be read, or (in a
    batch) grading it kept killing the worker. `submission.error` says why, in full."""
    functions = tuple(FunctionResult(name, FunctionStatus.MISSING, 0.0, float(POINTS[name]),
                                     message=f"not graded: {why}") for name in GRADED)
    return Result(submission.name, submission.path, submission.content_hash, 0, grader_version(), 0.0,
                  float(sum(POINTS.values())), functions, submission.warnings, submission.error,
                  submission.release, duration, {"read": duration})


def assemble(job: Job, checks: list) -> Result:
    """Build the Result: per function, its checks, points and status. The only place grades are decided."""
    submission = job.submission
    functions = []
    for name in GRADED:
        mine = tuple(c for c in checks if c.function == name)
        functions.append(_function_result(name, mine, submission, job))
    warnings = list(submission.warnings)
    for name, cell, problem in job.problems:
        warnings.append(f"In cell {cell + 1} (the cell of {name}), a line outside the function raised "
                        f"{problem.get('exc_type', 'an error')}: {str(problem.get('message', ''))[:200]}. "
                        f"Only the function was graded.")
    duration = time.perf_counter() - job.started
    check_seconds = sum(c.duration for c in checks)
    timings = {"read": job.read_seconds, "sandbox": job.sandbox_seconds, "learner": job.learner_seconds,
               "checks": check_seconds - job.learner_seconds}
    score = round(sum(f.score for f in functions), 6)
    return Result(submission.name, submission.path, submission.content_hash, job.seed, grader_version(), score,
                  float(sum(POINTS.values())), tuple(functions), tuple(warnings), "", submission.release,
                  duration, timings)


def _function_result(name: str, checks: tuple, submission: Submission, job: Job) -> FunctionResult:
    code = submission.functions.get(name)
    score = round(sum(c.points for c in checks), 6)
    maximum = float(POINTS[name])
    if code is None:
        return FunctionResult(name, FunctionStatus.MISSING, 0.0, maximum, checks,
                              message=f"{name} was not found in the notebook: no cell defines it.")
    if code.syntax_error:
        return FunctionResult(name, FunctionStatus.ERROR, 0.0, maximum, checks, code.cell, code.source,
                              message=f"The cell of {name} does not run: {code.syntax_error}.")
    load = job.loads.get(name)
    if checks and all(c.status is CheckStatus.PASSED for c in checks):
        status, message = FunctionStatus.PASSED, ""
    elif score > 0:
        status, message = FunctionStatus.PARTIAL, ""
    elif code.placeholder or any(c.outcome == "not_implemented" for c in checks):
        status, message = FunctionStatus.NOT_IMPLEMENTED, f"{name} is not implemented yet."
    elif load is not None and not load.ok:
        status, message = FunctionStatus.ERROR, checks[0].message if checks else load.message
    else:
        status, message = FunctionStatus.FAILED, ""
    return FunctionResult(name, status, score, maximum, checks, code.cell, code.source, message)
