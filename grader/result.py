"""The one Result model: built once by the checks, then only formatted by every writer."""
from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field, fields


class CheckStatus(str, enum.Enum):
    PASSED = "passed"              #: the learner's value matched within the tolerance
    FAILED = "failed"              #: a value came back and it was wrong
    ERROR = "error"                #: the learner's code gave no value (raised, hung, crashed, exited, ...)
    GRADER_ERROR = "grader_error"  #: the grader itself failed; staff must look


class FunctionStatus(str, enum.Enum):
    PASSED = "passed"                  #: every check passed
    PARTIAL = "partial"                #: some checks passed
    FAILED = "failed"                  #: ran, but no check passed
    NOT_IMPLEMENTED = "not_implemented"  #: the starter placeholder is still there
    MISSING = "missing"                #: no definition found in the notebook
    ERROR = "error"                    #: the function never ran (syntax error, crash while loading, ...)


@dataclass(frozen=True)
class CheckResult:
    function: str            #: graded function this check belongs to
    name: str                #: short identifier, stable across runs (the pytest test name)
    title: str               #: what was checked, in plain words
    status: CheckStatus
    points: float
    max_points: float
    message: str = ""        #: what went wrong, for the learner; empty when passed
    expected: str = ""       #: summary of the expected value (never hidden-check code)
    got: str = ""            #: summary of what came back
    tolerance: str = ""      #: the tolerance that applied, and why
    hint: str = ""           #: the likely misconception, when a fingerprint matched
    hint_id: str = ""        #: the fingerprint's identifier (for the dashboard's counts)
    outcome: str = ""        #: how the learner call ended: value, raised, timeout, crashed, exited, ...
    output: str = ""         #: what the learner code printed during the check (capped)
    traceback: str = ""      #: trimmed to the learner's own lines
    line: int = 0            #: line of the learner's cell where it failed, 0 if unknown
    duration: float = 0.0    #: seconds
    visibility: str = "visible"
    details: dict = field(default_factory=dict)  #: plain data for charts (e.g. per-parameter values)

    @property
    def label(self) -> str:
        """`function: what was checked`, the name used in results.json."""
        return f"{self.function}: {self.title}"


@dataclass(frozen=True)
class FunctionResult:
    name: str
    status: FunctionStatus
    score: float
    max_score: float
    checks: tuple[CheckResult, ...] = ()
    cell: int = -1           #: index of the notebook cell the definition came from, -1 if none
    source: str = ""         #: the learner's graded cell, as it ran
    message: str = ""        #: why the function was not graded, when it was not


@dataclass(frozen=True)
class Result:
    submission: str          #: the student id or file stem
    path: str                #: the file that was graded
    content_hash: str        #: sha256 of the file's bytes
    seed: int                #: drew the hidden inputs; reproduces the grading
    grader_version: str
    score: float
    max_score: float
    functions: tuple[FunctionResult, ...] = ()
    warnings: tuple[str, ...] = ()
    error: str = ""          #: why the notebook could not be graded at all, empty otherwise
    release: str = ""        #: which course release the notebook looks like
    duration: float = 0.0    #: seconds for the whole submission
    timings: dict = field(default_factory=dict)  #: seconds per phase: read, sandbox, checks, ...

    @property
    def readable(self) -> bool:
        return not self.error

    def function(self, name: str) -> FunctionResult:
        for item in self.functions:
            if item.name == name:
                return item
        raise KeyError(name)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Result":
        functions = []
        for fdata in data.get("functions", ()):
            checks = tuple(
                CheckResult(**{**c, "status": CheckStatus(c["status"])}) for c in fdata.get("checks", ())
            )
            functions.append(FunctionResult(**{**fdata, "status": FunctionStatus(fdata["status"]), "checks": checks}))
        known = {f.name for f in fields(cls)}
        base = {k: v for k, v in data.items() if k in known}
        base["functions"] = tuple(functions)
        base["warnings"] = tuple(data.get("warnings", ()))
        return cls(**base)
