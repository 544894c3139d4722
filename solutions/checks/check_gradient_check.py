"""Hidden checks of gradient_check(x, theta, epsilon): the grader supplies J and its derivative.

The learner's own forward_propagation and backward_propagation are never used here; each
check hands in its own pair (the notebook's linear J, a cubic J, a broken derivative), so
gradient_check is graded on its own and must call the two helpers it is given.
"""
import pytest

from grader.judge import expect_float
from solutions.checks.support import DIFFERENCE, cubic, cubic_derivative, judge

pytestmark = pytest.mark.graded("gradient_check")


def check_notebook_examples(learner, reference):
    """the notebook's linear J at x = 2 or 3, θ = 4: a correct backward pass passes"""
    for x in (2, 3):
        judge(learner, f"gradient_check({x}, 4)", reference.gradient_check(x, 4), DIFFERENCE, (x, 4))


def check_nonlinear_J(learner, reference, rng):
    """a non-linear J we supply, with its correct derivative"""
    helpers = {"forward_propagation": cubic, "backward_propagation": cubic_derivative}
    for x, theta in rng.uniform(0.5, 3, size=(2, 2)):
        expected = reference.gradient_check(x, theta, 1e-7, cubic, cubic_derivative)
        judge(learner, "gradient_check with a non-linear J we supplied", expected, DIFFERENCE,
              (float(x), float(theta)), helpers)


def check_broken_backward(learner, reference, rng):
    """a backward pass we broke on purpose (scaled by a hidden factor) must be reported"""
    scale = float(rng.uniform(1.2, 1.6))

    def broken(x, theta):
        return scale * x

    helpers = {"forward_propagation": reference.forward_propagation, "backward_propagation": broken}
    x, theta = (float(v) for v in rng.uniform(0.5, 3, size=2))
    expected = reference.gradient_check(x, theta, 1e-7, reference.forward_propagation, broken)
    judge(learner, "gradient_check with a backward pass we broke on purpose", expected, DIFFERENCE, (x, theta), helpers)


def check_sign_flip(learner, reference, rng):
    """a backward pass with the wrong sign gives a difference of 1"""
    def flipped(x, theta):
        return -cubic_derivative(x, theta)

    helpers = {"forward_propagation": cubic, "backward_propagation": flipped}
    x, theta = (float(v) for v in rng.uniform(0.5, 3, size=2))
    expected = reference.gradient_check(x, theta, 1e-7, cubic, flipped)
    judge(learner, "gradient_check with a backward pass of the wrong sign", expected, DIFFERENCE, (x, theta), helpers)


def check_other_epsilon(learner, reference, rng):
    """another ε (1e-2) on a non-linear J: the centred difference's own small error must show"""
    helpers = {"forward_propagation": cubic, "backward_propagation": cubic_derivative}
    x, theta = float(rng.uniform(0.5, 3)), float(rng.uniform(0.5, 2))
    expected = reference.gradient_check(x, theta, 1e-2, cubic, cubic_derivative)
    judge(learner, "gradient_check(x, θ, 1e-2) with a non-linear J", expected, DIFFERENCE, (x, theta, 1e-2), helpers)


def check_returns_float(learner):
    """the difference comes back as a plain float"""
    expect_float(learner(3, 4), "gradient_check(3, 4)")
