"""Correct implementations written the unusual ways learners write them; each must get full marks.

`tests/test_correct_variants.py` grades every one of them, and `gcgrade selfcheck` grades them
again beside the mistakes: a hidden check that fails one of these is unfair, not strict.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Variant:
    id: str          #: stable identifier, used as the notebook's name in tests and selfcheck
    function: str    #: the graded function this source replaces in the correct solution
    title: str       #: what is unusual about it, in a few words
    source: str      #: the whole graded cell's code
    release: str = "2021"  #: the course release whose notebook shape it comes in (grader.synth)


VARIANTS = (
    Variant("forward_dot", "forward_propagation", "J with np.dot",
            "def forward_propagation(x, theta):\n    J = np.dot(theta, x)\n    return J\n"),
    Variant("forward_multiply_float", "forward_propagation", "J as float(np.multiply(x, theta))",
            "def forward_propagation(x, theta):\n    return float(np.multiply(x, theta))\n"),
    Variant("backward_via_forward", "backward_propagation", "dtheta derived from forward_propagation",
            "def backward_propagation(x, theta):\n    return forward_propagation(x, theta) / theta\n"),
    Variant("backward_zero_d_array", "backward_propagation", "dtheta as a 0-d numpy array",
            "def backward_propagation(x, theta):\n    return np.array(x)\n"),
    Variant("gc_keywords_sqrt_abs", "gradient_check", "keyword calls, / 2 / ε, sqrt of a square, abs; 2017 signature",
            '''
def gradient_check(x, theta, epsilon = 1e-7):
    J_plus = forward_propagation(x=x, theta=theta + epsilon)
    J_minus = forward_propagation(theta=theta - epsilon, x=x)
    gradapprox = (J_plus - J_minus) / 2 / epsilon
    grad = backward_propagation(x, theta=theta)
    difference = np.sqrt((grad - gradapprox) ** 2) / (abs(grad) + abs(gradapprox))
    if difference < 1e-7:
        print("The gradient is correct!")
    else:
        print("The gradient is wrong!")
    return difference
'''),
    Variant("gc_helper_and_item", "gradient_check", "a helper for the centred difference; returns .item()",
            '''
def _centred(f, x, theta, eps):
    return (f(x, theta + eps) - f(x, theta - eps)) / (2 * eps)

def gradient_check(x, theta, epsilon=1e-7, print_msg=False):
    gradapprox = _centred(forward_propagation, x, theta, epsilon)
    grad = backward_propagation(x, theta)
    difference = np.linalg.norm(grad - gradapprox) / (np.linalg.norm(grad) + np.linalg.norm(gradapprox))
    if print_msg:
        print("\\033[92mdifference = " + str(difference) + "\\033[0m")
    return difference.item()
'''),
    Variant("gcn_eye_vectorised", "gradient_check_n", "shifts from np.eye, list comprehensions, sqrt of sums; always prints",
            '''
def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7, print_msg=False):
    theta, _ = dictionary_to_vector(parameters)
    grad = gradients_to_vector(gradients)
    n = theta.shape[0]
    shifts = np.eye(n) * epsilon
    J_plus = np.array([forward_propagation_n(X, Y, vector_to_dictionary(theta + shifts[:, [i]]))[0] for i in range(n)])
    J_minus = np.array([forward_propagation_n(X, Y, vector_to_dictionary(theta - shifts[:, [i]]))[0] for i in range(n)])
    gradapprox = ((J_plus - J_minus) / (2 * epsilon)).reshape(n, 1)
    difference = np.sqrt(np.sum((grad - gradapprox) ** 2)) / (np.sqrt(np.sum(grad ** 2)) + np.sqrt(np.sum(gradapprox ** 2)))
    print("difference:", difference)
    return float(difference)
'''),
    Variant("gcn_dot_copy_2017", "gradient_check_n", "2017 release: .copy(), np.array copy, thetaplus[i][0] indexing",
            '''
def gradient_check_n(parameters, gradients, X, Y, epsilon = 1e-7):
    parameters_values, _ = dictionary_to_vector(parameters)
    grad = gradients_to_vector(gradients)
    num_parameters = parameters_values.shape[0]
    J_plus = np.zeros((num_parameters, 1))
    J_minus = np.zeros((num_parameters, 1))
    gradapprox = np.zeros((num_parameters, 1))
    for i in range(num_parameters):
        thetaplus = parameters_values.copy()
        thetaplus[i][0] = thetaplus[i][0] + epsilon
        J_plus[i], _ = forward_propagation_n(X, Y, vector_to_dictionary(thetaplus))
        thetaminus = np.array(parameters_values)
        thetaminus[i][0] = thetaminus[i][0] - epsilon
        J_minus[i], _ = forward_propagation_n(X, Y, vector_to_dictionary(thetaminus))
        gradapprox[i] = (J_plus[i] - J_minus[i]) / (2. * epsilon)
    numerator = np.linalg.norm(grad - gradapprox)
    denominator = np.linalg.norm(grad) + np.linalg.norm(gradapprox)
    difference = numerator / denominator
    if difference > 1e-7:
        print ("\\033[93m" + "There is a mistake in the backward propagation! difference = " + str(difference) + "\\033[0m")
    else:
        print ("\\033[92m" + "Your backward propagation works perfectly fine! difference = " + str(difference) + "\\033[0m")
    return difference
''', release="2017"),
    Variant("gcn_in_place_restored", "gradient_check_n", "perturbs one vector in place and restores each entry",
            '''
import copy

def cost_at(vector, X, Y):
    cost, _ = forward_propagation_n(X, Y, vector_to_dictionary(vector))
    return cost

def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7, print_msg=False):
    values, keys = dictionary_to_vector(copy.deepcopy(parameters))
    grad = gradients_to_vector(gradients)
    gradapprox = np.zeros_like(values)
    for i in range(len(values)):
        saved = values[i, 0]
        values[i, 0] = saved + epsilon
        plus = cost_at(values, X, Y)
        values[i, 0] = saved - epsilon
        minus = cost_at(values, X, Y)
        values[i, 0] = saved
        gradapprox[i, 0] = (plus - minus) / (2 * epsilon)
    difference = np.linalg.norm(grad - gradapprox) / (np.linalg.norm(grad) + np.linalg.norm(gradapprox))
    return difference
'''),
    # added with `gcgrade selfcheck` (issue 7)
    Variant("backward_ones_like", "backward_propagation", "dtheta as np.ones_like(theta) * x", '''
def backward_propagation(x, theta):
    dtheta = np.ones_like(theta, dtype=float) * x
    return dtheta
'''),
    Variant("gc_lambda_and_lists", "gradient_check", "J as a lambda, keyword call, norms of one-element lists",
            '''
def gradient_check(x, theta, epsilon=1e-7, print_msg=False):
    J = lambda t: forward_propagation(x, t)
    gradapprox = (J(theta + epsilon) - J(theta - epsilon)) / (2 * epsilon)
    grad = backward_propagation(x=x, theta=theta)
    numerator = np.linalg.norm(np.array([grad]) - np.array([gradapprox]))
    denominator = np.linalg.norm([grad]) + np.linalg.norm([gradapprox])
    difference = numerator / denominator
    if print_msg:
        if difference > 2e-7:
            print("\\033[93m" + "There is a mistake in the backward propagation! difference = " + str(difference) + "\\033[0m")
        else:
            print("\\033[92m" + "Your backward propagation works perfectly fine! difference = " + str(difference) + "\\033[0m")
    return difference
'''),
    Variant("gcn_perturbs_dictionaries", "gradient_check_n", "perturbs deep copies of the dictionary, entry by entry",
            '''
import copy

def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7, print_msg=False):
    grad = gradients_to_vector(gradients)
    approx = []
    for key in ("W1", "b1", "W2", "b2", "W3", "b3"):
        for index in np.ndindex(parameters[key].shape):
            plus = copy.deepcopy(parameters)
            plus[key][index] += epsilon
            minus = copy.deepcopy(parameters)
            minus[key][index] -= epsilon
            J_plus, _ = forward_propagation_n(X, Y, plus)
            J_minus, _ = forward_propagation_n(X, Y, minus)
            approx.append((J_plus - J_minus) / (2 * epsilon))
    gradapprox = np.array(approx).reshape(-1, 1)
    difference = np.linalg.norm(grad - gradapprox) / (np.linalg.norm(grad) + np.linalg.norm(gradapprox))
    if print_msg:
        print(f"difference = {difference}")
    return difference
'''),
    Variant("gcn_plus_from_minus_ord2", "gradient_check_n", "θ⁺ built from θ⁻ with 2ε; norm(..., ord=2) of columns",
            '''
def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7, print_msg=False):
    parameters_values, _ = dictionary_to_vector(parameters)
    grad = gradients_to_vector(gradients)
    num_parameters = parameters_values.shape[0]
    gradapprox = np.zeros((num_parameters, 1))
    for i in range(num_parameters):
        theta_minus = np.copy(parameters_values)
        theta_minus[i][0] -= epsilon
        theta_plus = theta_minus.copy()
        theta_plus[i][0] += 2 * epsilon
        J_plus = forward_propagation_n(X, Y, vector_to_dictionary(theta_plus))[0]
        J_minus = forward_propagation_n(X, Y, vector_to_dictionary(theta_minus))[0]
        gradapprox[i] = (J_plus - J_minus) / (2 * epsilon)
    numerator = np.linalg.norm(grad - gradapprox, ord=2)
    denominator = np.linalg.norm(grad, ord=2) + np.linalg.norm(gradapprox, ord=2)
    difference = float(numerator / denominator)
    if print_msg:
        print("difference = " + str(difference))
    return difference
'''),
)
