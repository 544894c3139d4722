"""What the hidden checks share: calling the learner, judging the value, and naming the likely mistake."""
from __future__ import annotations

import numpy as np

from grader import provided
from grader.judge import Mismatch, THRESHOLD, Tolerance, expect_close
from grader.trace import gradapprox_from_trace
from solutions import reference
from solutions.reference import approximate_gradient_n
from solutions.mistakes import mistakes_for

#: forward/backward of the 1-D functions: exact arithmetic, so a tight tolerance
EXACT = Tolerance(rtol=1e-9, atol=1e-12, floor=None, why="J = θx and dJ/dθ = x are computed exactly")
#: gradient check results: relative above the threshold, "both below" under it
DIFFERENCE = Tolerance(rtol=1e-5, floor=THRESHOLD, why="a correct check with the same inputs agrees far closer than this")


def judge(learner, what: str, expected: float, tolerance: Tolerance, args: tuple, helpers: dict | None = None,
          shown_expected: str = "", chart: bool = False) -> None:
    """Call the learner with `args`, compare with `expected`; on a mismatch, look for a known mistake.

    With `chart` (gradient_check_n only), a mismatch also carries the per-parameter gradapprox of the
    reference and of the learner, for the report's picture.
    """
    got = learner(*args, helpers=helpers, trace=chart) if helpers else learner(*args, trace=chart)
    try:
        expect_close(got, expected, what, tolerance, shown_expected)
    except Mismatch as mismatch:
        _fingerprint(mismatch, learner.function, args, helpers, got, tolerance)
        if chart:
            mismatch.details["chart"] = _chart(args, learner.last.trace)
        raise


def _chart(args: tuple, trace) -> dict:
    parameters, gradients, X, Y = args[:4]
    epsilon = args[4] if len(args) > 4 else 1e-7
    theta, keys = provided.dictionary_to_vector(parameters)
    reference_values = approximate_gradient_n(parameters, X, Y, epsilon)
    return {"names": list(keys), "reference": [float(v) for v in reference_values.ravel()],
            "learner": gradapprox_from_trace(trace, theta, epsilon),
            "given": [float(v) for v in provided.gradients_to_vector(gradients).ravel()]}


def _fingerprint(mismatch: Mismatch, function: str, args: tuple, helpers: dict | None, got, tolerance: Tolerance):
    """Name the known mistake whose answer on these very inputs matches the learner's answer."""
    try:
        value = float(np.asarray(got, dtype=float).reshape(-1)[0])
    except (TypeError, ValueError, IndexError):
        return
    helpers = helpers or {"forward_propagation": reference.forward_propagation,
                          "backward_propagation": reference.backward_propagation}
    for mistake in mistakes_for(function):
        try:
            theirs = float(np.asarray(mistake.compile(helpers)(*_copies(args)), dtype=float).reshape(-1)[0])
        except Exception:  # a mistake may not even run on these inputs
            continue
        if np.isfinite(theirs) and abs(theirs - value) <= 1e-6 * max(abs(theirs), 1e-300):
            mismatch.hint, mismatch.hint_id = mistake.hint, mistake.id
            return


def _copies(args: tuple) -> tuple:
    import copy
    return tuple(copy.deepcopy(a) for a in args)


def cubic(x, theta):
    """A non-linear J the learner cannot predict: x·θ³."""
    return x * theta ** 3


def cubic_derivative(x, theta):
    return 3 * x * theta ** 2
