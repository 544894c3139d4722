"""Hidden checks of gradient_check_n(parameters, gradients, X, Y, epsilon) on the fraud model."""
import functools

import numpy as np
import pytest

from grader import provided
from grader.judge import Mismatch, THRESHOLD, expect_float
from solutions.checks.support import DIFFERENCE, judge

pytestmark = [pytest.mark.graded("gradient_check_n")]


def _network(rng, fixed: bool, reference):
    """A hidden random fraud-model case: X (4, m), labels Y, parameters, and gradients to check."""
    for _ in range(20):
        m = int(rng.integers(3, 9))
        X = rng.standard_normal((4, m))
        Y = rng.integers(0, 2, size=m)
        parameters = {name: rng.standard_normal(shape) for name, shape in provided.LAYOUT}
        _, cache = provided.forward_propagation_n(X, Y, parameters)
        backward = reference.fixed_backward_propagation_n if fixed else provided.backward_propagation_n
        gradients = backward(X, Y, cache)
        expected = reference.gradient_check_n(parameters, gradients, X, Y)
        # keep clear of the threshold: a correct check must land well below it, a buggy one well above
        if (fixed and expected < THRESHOLD / 2) or (not fixed and expected > 1e-4):
            return parameters, gradients, X, Y
    raise RuntimeError("no suitable random network found")


def _notebook_case(reference, fixed: bool):
    X, Y, parameters = provided.gradient_check_n_test_case()
    _, cache = provided.forward_propagation_n(X, Y, parameters)
    backward = reference.fixed_backward_propagation_n if fixed else provided.backward_propagation_n
    return parameters, backward(X, Y, cache), X, Y


@functools.lru_cache(maxsize=2)
def _notebook_expected(fixed: bool) -> float:
    """The notebook's example never changes, so its reference answer is computed once per session."""
    from solutions import reference
    return reference.gradient_check_n(*_notebook_case(reference, fixed))


@pytest.mark.weight(2)
def check_notebook_planted_bugs(learner, reference):
    """the notebook's example with the two planted bugs (about 0.285)"""
    case = _notebook_case(reference, fixed=False)
    judge(learner, "gradient_check_n on the notebook's example", _notebook_expected(False), DIFFERENCE, case,
          chart=True)


@pytest.mark.weight(2)
def check_notebook_fixed(learner, reference):
    """the notebook's example with both bugs fixed: the check must pass"""
    case = _notebook_case(reference, fixed=True)
    judge(learner, "gradient_check_n on the notebook's example with correct gradients",
          _notebook_expected(True), DIFFERENCE, case)


@pytest.mark.weight(2)
@pytest.mark.inputs("hidden network with wrong gradients")
def check_random_network_buggy(learner, reference, rng):
    """a hidden random network, gradients from the buggy backward pass"""
    case = _network(rng, fixed=False, reference=reference)
    judge(learner, "gradient_check_n on a hidden network with wrong gradients", reference.gradient_check_n(*case),
          DIFFERENCE, case)


@pytest.mark.weight(2)
def check_random_network_correct(learner, reference, rng):
    """a hidden random network with correct gradients: the check must pass"""
    case = _network(rng, fixed=True, reference=reference)
    judge(learner, "gradient_check_n on a hidden network with correct gradients", reference.gradient_check_n(*case),
          DIFFERENCE, case)


@pytest.mark.weight(2)
def check_larger_epsilon(learner, reference, rng):
    """a larger ε (1e-2): shows one-sided differences and θ⁻ drifting through an alias"""
    case = _network(rng, fixed=True, reference=reference)
    expected = reference.gradient_check_n(*case, epsilon=1e-2)
    judge(learner, "gradient_check_n(..., epsilon=1e-2) on a hidden network", expected, DIFFERENCE, case + (1e-2,),
          chart=True)


@pytest.mark.inputs("hidden network with wrong gradients")
def check_inputs_unchanged(learner, reference, rng):
    """the parameters and gradients it was given are left unchanged"""
    case = _network(rng, fixed=False, reference=reference)
    _, after = learner(*case, return_args=True)
    for position, label in ((0, "parameters"), (1, "gradients")):
        for key, array in case[position].items():
            changed = after[position].get(key) if isinstance(after[position], dict) else None
            # restoring an entry with `-= epsilon` may leave the last bit changed; that is not a change
            if (not isinstance(changed, np.ndarray) or changed.shape != array.shape
                    or not np.allclose(changed, array, rtol=1e-12, atol=1e-15)):
                raise Mismatch(f"gradient_check_n changed {label}[{key!r}] that it was given. Perturb copies "
                               f"(np.copy of the parameter vector), never the caller's arrays.",
                               expected=f"{label} left as they were", got=f"{label}[{key!r}] modified")


def check_returns_float(learner, reference):
    """the difference comes back as a plain float"""
    expect_float(learner(*_notebook_case(reference, fixed=False)), "gradient_check_n on the notebook's example")
