"""Hidden checks of backward_propagation(x, theta) = dJ/dθ = x."""
import pytest

from solutions.checks.support import EXACT, judge

pytestmark = pytest.mark.graded("backward_propagation")


def check_notebook_examples(learner, reference):
    """the notebook's examples, x = 2 or 3 and θ = 4"""
    for x in (2, 3):
        judge(learner, f"backward_propagation({x}, 4)", reference.backward_propagation(x, 4), EXACT, (x, 4),
              shown_expected=str(x))


def check_random_inputs(learner, reference, rng):
    """hidden random real inputs"""
    for x, theta in rng.uniform(-5, 5, size=(4, 2)):
        judge(learner, "backward_propagation(x, θ) on a hidden input", reference.backward_propagation(x, theta),
              EXACT, (float(x), float(theta)))


def check_independent_of_theta(learner, reference, rng):
    """the same x with very different θ gives the same derivative"""
    x = float(rng.uniform(0.5, 3))
    for theta in (-7.0, 0.5, 11.0):
        judge(learner, "backward_propagation(x, θ) for one x and several θ", reference.backward_propagation(x, theta),
              EXACT, (x, theta))
