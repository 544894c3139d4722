"""Public tests the notebook calls after each exercise: visible examples only, no hidden inputs.

Each test takes your function, calls it on a few examples and raises an AssertionError that
says what to look at when something is off. The gradient-check tests hand your function their
own J and derivative (a cubic, a deliberately wrong derivative), so a check that ignores the
helpers it is meant to call, or that only works for a straight line, does not slip through.
"""
import contextlib
import io

import numpy as np

from fraud_model import backward_propagation_n, forward_propagation_n
from testCases import gradient_check_n_test_case

# `from public_tests import *` in the notebook brings in the four tests and nothing else.
__all__ = ["forward_propagation_test", "backward_propagation_test", "gradient_check_test", "gradient_check_n_test"]

#: above this difference the backward pass is declared wrong
THRESHOLD = 2e-7

#: the notebook's N-D example, with the two planted bugs left in backward_propagation_n
PLANTED_BUGS_DIFFERENCE = 0.2850931567761623
#: the same example with both bugs fixed and epsilon = 1e-2 (the centred difference's own error)
FIXED_DIFFERENCE_AT_1E_2 = 1.68002e-06


def _passed():
    print("\033[92mAll tests passed.\033[0m")


def _quietly(function, *args, **kwargs):
    """Call function and return (its value, what it printed)."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        value = function(*args, **kwargs)
    return value, printed.getvalue()


@contextlib.contextmanager
def _helpers(target, **helpers):
    """Let `target` see these helpers under their usual names, then put the originals back."""
    assert hasattr(target, "__globals__"), (
        f"Pass the function itself (for example gradient_check), not {type(target).__name__}.")
    namespace = target.__globals__
    missing = object()
    saved = {name: namespace.get(name, missing) for name in helpers}
    namespace.update(helpers)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is missing:
                namespace.pop(name, None)
            else:
                namespace[name] = value


def _assert_float(value, call):
    assert not isinstance(value, np.ndarray) and isinstance(value, float), (
        f"{call} returned {type(value).__name__} {np.shape(value)}, expected one float. "
        "np.linalg.norm of the whole vectors gives a single number; leave out axis= and keepdims=.")


# ---------------------------------------------------------------- 1-D


def forward_propagation_test(target):
    for x, theta in [(2, 4), (3, 4), (-1.5, 2.0), (0.5, -3.0)]:
        J = target(x, theta)
        assert np.ndim(J) == 0, f"forward_propagation({x}, {theta}) should return one number, got {J!r}."
        assert np.isclose(J, theta * x, rtol=1e-12, atol=0), (
            f"forward_propagation({x}, {theta}) returned {J!r}, expected J = theta * x = {theta * x}.")
    _passed()


def backward_propagation_test(target):
    for x, theta in [(3, 4), (2, 4), (-0.5, 7.0), (4.0, -2.5)]:
        dtheta = target(x, theta)
        assert np.ndim(dtheta) == 0, (
            f"backward_propagation({x}, {theta}) should return one number, got {dtheta!r}.")
        assert np.isclose(dtheta, x, rtol=1e-12, atol=0), (
            f"backward_propagation({x}, {theta}) returned {dtheta!r}, expected dtheta = x = {x}: "
            "the derivative of theta * x with respect to theta.")
    _passed()


# The probes gradient_check_test hands to your gradient_check. They keep the parameter
# names x and theta, so calls by keyword work too.
def _linear_J(x, theta):
    return theta * x


def _linear_dJ(x, theta):
    return x


def _cubic_J(x, theta):
    return x * theta ** 3


def _cubic_dJ(x, theta):
    return 3 * x * theta ** 2


def _wrong_cubic_dJ(x, theta):
    return 2 * x * theta ** 2


def gradient_check_test(target):
    x, theta = 3, 4

    with _helpers(target, forward_propagation=_linear_J, backward_propagation=_linear_dJ):
        difference, printed = _quietly(target, x, theta, print_msg=True)
    _assert_float(difference, "gradient_check(3, 4)")
    assert difference < 1e-8, (
        f"gradient_check(3, 4) returned {difference:.3e} for J = theta * x; a correct check gives "
        "less than 1e-8. Look at the centred difference (J_plus - J_minus) / (2 * epsilon) and at "
        "the relative difference ||grad - gradapprox|| / (||grad|| + ||gradapprox||).")
    assert "works perfectly fine" in printed, (
        "With print_msg=True and a difference below 2e-7, gradient_check should print "
        f"'Your backward propagation works perfectly fine! difference = ...'; it printed {printed!r}.")

    with _helpers(target, forward_propagation=_cubic_J, backward_propagation=_cubic_dJ):
        difference, _ = _quietly(target, x, theta)
    assert difference < THRESHOLD, (
        f"With J = x * theta**3 and its true derivative, gradient_check(3, 4) returned "
        f"{difference:.3e}, expected below 2e-7. Does gradient_check call forward_propagation and "
        "backward_propagation (instead of computing theta * x itself), and shift theta rather than x?")

    with _helpers(target, forward_propagation=_cubic_J, backward_propagation=_wrong_cubic_dJ):
        difference, printed = _quietly(target, x, theta, print_msg=True)
    assert np.isclose(difference, 0.2, rtol=1e-5), (
        f"With a deliberately wrong backward_propagation (2 * x * theta**2 instead of "
        f"3 * x * theta**2), gradient_check(3, 4) returned {difference:.6g}, expected 0.2. grad must "
        "come from backward_propagation(x, theta), and gradapprox only from forward_propagation.")
    assert "There is a mistake in the backward propagation!" in printed, (
        "With print_msg=True and a difference above 2e-7, gradient_check should print "
        f"'There is a mistake in the backward propagation! difference = ...'; it printed {printed!r}.")

    epsilon = 1e-2
    exact = epsilon ** 2 / (6 * theta ** 2 + epsilon ** 2)
    with _helpers(target, forward_propagation=_cubic_J, backward_propagation=_cubic_dJ):
        difference, _ = _quietly(target, x, theta, epsilon=epsilon)
    assert np.isclose(difference, exact, rtol=1e-5, atol=0), (
        f"With J = x * theta**3, gradient_check(3, 4, epsilon=1e-2) returned {difference:.6g}; the "
        f"centred difference gives exactly epsilon**2 / (6 * theta**2 + epsilon**2) = {exact:.6g}. "
        "Use the epsilon argument, evaluate J at theta + epsilon and at theta - epsilon, and divide "
        "by 2 * epsilon.")
    _passed()


# ---------------------------------------------------------------- N-D


def _fix_planted_bugs(gradients):
    """The gradients backward_propagation_n should have returned: dW2 without the extra
    factor 2, db1 with 1/m instead of 4/m."""
    return dict(gradients, dW2=gradients["dW2"] / 2, db1=gradients["db1"] / 4)


def gradient_check_n_test(target):
    X, Y, parameters = gradient_check_n_test_case()
    _, cache = forward_propagation_n(X, Y, parameters)
    buggy = backward_propagation_n(X, Y, cache)
    fixed = _fix_planted_bugs(buggy)
    originals = [np.copy(X), np.copy(Y)] + [np.copy(v) for v in parameters.values()]
    originals += [np.copy(v) for v in buggy.values()]

    with _helpers(target, forward_propagation_n=forward_propagation_n):
        difference, printed = _quietly(target, parameters, buggy, X, Y, print_msg=True)
        _assert_float(difference, "gradient_check_n on the example")
        assert np.isclose(difference, PLANTED_BUGS_DIFFERENCE, rtol=1e-6, atol=0), (
            f"On the example with the planted bugs, gradient_check_n returned {difference!r}, "
            f"expected {PLANTED_BUGS_DIFFERENCE}. Check that theta_plus and theta_minus are fresh "
            "copies of the parameter vector with only entry i shifted, that each is turned back "
            "into a dictionary for forward_propagation_n, the division by 2 * epsilon, and the L2 norms.")
        assert "There is a mistake in the backward propagation!" in printed, (
            "With print_msg=True and a difference above 2e-7, gradient_check_n should print "
            f"'There is a mistake in the backward propagation! difference = ...'; it printed {printed!r}.")

        now = [X, Y] + list(parameters.values()) + list(buggy.values())
        assert all(np.array_equal(a, b) for a, b in zip(originals, now)), (
            "gradient_check_n changed its inputs (parameters, gradients, X or Y). Shift copies of "
            "the parameter vector (np.copy), never the arrays you were given.")

        difference, _ = _quietly(target, parameters, fixed, X, Y)
        assert difference < THRESHOLD, (
            f"With both planted bugs fixed, gradient_check_n returned {difference:.3e}, expected "
            "below 2e-7. Compare grad (from gradients_to_vector) with gradapprox entry by entry.")

        difference, _ = _quietly(target, parameters, fixed, X, Y, epsilon=1e-2)
        assert np.isclose(difference, FIXED_DIFFERENCE_AT_1E_2, rtol=1e-4, atol=0), (
            f"With both bugs fixed and epsilon=1e-2, gradient_check_n returned {difference:.6g}, "
            f"expected about {FIXED_DIFFERENCE_AT_1E_2:.6g}. A one-sided difference, a theta_minus "
            "that is not a fresh copy of the parameter vector, or ignoring epsilon shows up here.")
    _passed()
