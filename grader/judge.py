"""What a hidden check asserts with: tolerant comparisons that fail with a learner-readable Mismatch.

Comparisons run here, in the grader process, on plain floats and arrays the grader built
itself from the decoded reply; nothing the learner returned is trusted to compare itself.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

#: below this a gradient check calls the backward pass correct (2018 and later releases)
THRESHOLD = 2e-7


class Mismatch(AssertionError):
    """A value came back and it is wrong. Carries what the report shows."""

    def __init__(self, message: str, expected: str = "", got: str = "", tolerance: str = "", details: dict | None = None):
        super().__init__(message)
        self.message, self.expected, self.got, self.tolerance = message, expected, got, tolerance
        self.details = details or {}
        self.hint = self.hint_id = ""


class LearnerFailed(Exception):
    """The learner's code gave no value (raised, hung, crashed, exited, returned non-plain data)."""

    def __init__(self, outcome):
        super().__init__(outcome.message)
        self.outcome = outcome


@dataclass(frozen=True)
class Tolerance:
    """Relative tolerance above the noise floor; below it, both sides must simply be below the floor."""
    rtol: float = 1e-5
    atol: float = 0.0
    floor: float | None = THRESHOLD
    why: str = field(default="")

    def describe(self, expected: float) -> str:
        if self.floor is not None and expected < self.floor:
            return (f"below {self.floor:g}: a correct gradient check only reports finite-difference noise here "
                    f"(about 1e-10 to 1e-7), so any value under the threshold counts")
        text = f"within a relative {self.rtol:g} of the expected value"
        return text + (f" ({self.why})" if self.why else "")

    def accepts(self, got: float, expected: float) -> bool:
        if not math.isfinite(got):
            return False
        if self.floor is not None and expected < self.floor:
            return 0 <= got < self.floor
        return abs(got - expected) <= max(self.rtol * abs(expected), self.atol)


def describe_value(value) -> str:
    """A short summary of any decoded value: number, array shape and dtype, or type."""
    if value is None:
        return "None"
    if isinstance(value, bool):
        return f"the boolean {value}"
    if isinstance(value, (int, float)):
        return f"{value:.10g}"
    if isinstance(value, np.ndarray):
        head = np.array2string(value.ravel()[:4], precision=6, separator=", ")
        return f"a numpy array of shape {value.shape} and dtype {value.dtype}, starting {head}"
    if isinstance(value, (list, tuple, dict)):
        return f"a {type(value).__name__} of length {len(value)}"
    return f"a {type(value).__name__}"


def as_number(value, what: str) -> float:
    """A float from a number or a one-element numeric array; a Mismatch for anything else."""
    if isinstance(value, bool) or value is None:
        raise Mismatch(f"{what} returned {describe_value(value)}, not a number.", got=describe_value(value))
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, np.ndarray) and value.size == 1 and value.dtype.kind in "iuf":
        return float(value.reshape(()))
    raise Mismatch(f"{what} returned {describe_value(value)}; a single number was expected.",
                   expected="a number", got=describe_value(value))


def expect_close(got, expected: float, what: str, tolerance: Tolerance, shown_expected: str = "") -> None:
    """Assert that `got` (from the learner) matches the grader's own `expected` value."""
    value = as_number(got, what)
    expected = float(expected)  # the grader's own numbers may be numpy scalars; the Result holds plain floats
    if tolerance.accepts(value, expected):
        return
    expected_text = shown_expected or f"{expected:.10g}"
    if tolerance.floor is not None and expected < tolerance.floor:
        expected_text = f"a value below {tolerance.floor:g}"
    relative = abs(value - expected) / abs(expected) if expected else math.inf
    message = f"{what} returned {value:.10g}; expected {expected_text}."
    if math.isfinite(relative) and not (tolerance.floor is not None and expected < tolerance.floor):
        message += f" That is off by a relative {relative:.2g}."
    raise Mismatch(message, expected=expected_text, got=f"{value:.10g}", tolerance=tolerance.describe(expected),
                   details={"expected": expected, "got": value})


def expect_float(got, what: str) -> None:
    """The difference must be a plain number (float or numpy float), not an array of any shape."""
    if isinstance(got, float) or (isinstance(got, int) and not isinstance(got, bool)):
        return
    raise Mismatch(f"{what} returned {describe_value(got)}; it should return a plain float. An array usually "
                   f"means a norm was taken with axis= or keepdims=, or the result was wrapped in np.array.",
                   expected="a float", got=describe_value(got))
