"""Hidden checks of forward_propagation(x, theta) = theta * x."""
import pytest

from solutions.checks.support import EXACT, judge

pytestmark = pytest.mark.graded("forward_propagation")


def check_notebook_example(learner, reference):
    """the notebook's example, x = 2 and θ = 4"""
    judge(learner, "forward_propagation(2, 4)", reference.forward_propagation(2, 4), EXACT, (2, 4), shown_expected="8")


def check_random_inputs(learner, reference, rng):
    """hidden random real inputs, positive and negative"""
    for x, theta in rng.uniform(-5, 5, size=(4, 2)):
        judge(learner, "forward_propagation(x, θ) on a hidden real input", reference.forward_propagation(x, theta),
              EXACT, (float(x), float(theta)))


def check_integer_inputs(learner, reference, rng):
    """hidden whole-number inputs"""
    for x, theta in rng.integers(-9, 10, size=(3, 2)):
        judge(learner, "forward_propagation(x, θ) on hidden whole numbers", reference.forward_propagation(x, theta),
              EXACT, (int(x), int(theta)))
