"""Correct implementations, however written, get full marks."""
import pytest

from grader.grade import grade_many
from grader.synth import make_notebook, write_notebook
from solutions.mistakes import CORRECT

VARIANTS = {
    "forward_dot": ("forward_propagation", "def forward_propagation(x, theta):\n    J = np.dot(theta, x)\n    return J\n"),
    "forward_multiply_float": ("forward_propagation", "def forward_propagation(x, theta):\n    return float(np.multiply(x, theta))\n"),
    "backward_via_forward": ("backward_propagation", "def backward_propagation(x, theta):\n    return forward_propagation(x, theta) / theta\n"),
    "backward_zero_d_array": ("backward_propagation", "def backward_propagation(x, theta):\n    return np.array(x)\n"),
    "gc_keywords_sqrt_abs": ("gradient_check", '''
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
    "gc_helper_and_item": ("gradient_check", '''
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
    "gcn_eye_vectorised": ("gradient_check_n", '''
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
    "gcn_dot_copy_2017": ("gradient_check_n", '''
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
'''),
    "gcn_in_place_restored": ("gradient_check_n", '''
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
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory, forkserver):
    folder = tmp_path_factory.mktemp("variants")
    inputs = []
    for label, (function, source) in VARIANTS.items():
        notebook = make_notebook(dict(CORRECT, **{function: source}), release="2017" if "2017" in label else "2021")
        inputs.append((write_notebook(folder / f"{label}.ipynb", notebook), label))
    results = {}
    grade_many(inputs, lambda r: results.__setitem__(r.submission, r), forkserver)
    return results


@pytest.mark.parametrize("label", sorted(VARIANTS))
def test_correct_variant_gets_full_marks(graded, label):
    result = graded[label]
    lost = {c.label: c.message for f in result.functions for c in f.checks if c.status.value != "passed"}
    assert result.score == result.max_score, lost
