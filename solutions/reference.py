"""Reference implementations of the four graded functions, run only in the grader process.

The gradient checks take the functions they check as arguments, so the hidden checks
can compute the expected answer for any probe (a non-linear J, a broken backward pass).
"""
import numpy as np

from grader.provided import LAYOUT, dictionary_to_vector, forward_propagation_n, gradients_to_vector, vector_to_dictionary

#: the threshold of the 2018-and-later releases, below which a gradient is called correct
THRESHOLD = 2e-7


def forward_propagation(x, theta):
    """J(theta) = theta * x."""
    return theta * x


def backward_propagation(x, theta):
    """dJ/dtheta = x."""
    return x


def relative_difference(grad, gradapprox):
    """||grad - gradapprox|| / (||grad|| + ||gradapprox||), as a plain float."""
    numerator = np.linalg.norm(grad - gradapprox)
    denominator = np.linalg.norm(grad) + np.linalg.norm(gradapprox)
    return float(numerator / denominator)


def gradient_check(x, theta, epsilon=1e-7, forward=forward_propagation, backward=backward_propagation):
    """Centred-difference check of `backward` against `forward` at one scalar theta."""
    j_plus = forward(x, theta + epsilon)
    j_minus = forward(x, theta - epsilon)
    gradapprox = (j_plus - j_minus) / (2 * epsilon)
    grad = backward(x, theta)
    return relative_difference(np.asarray(grad, dtype=float), np.asarray(gradapprox, dtype=float))


def approximate_gradient_n(parameters, X, Y, epsilon=1e-7, forward=forward_propagation_n):
    """The (47, 1) centred-difference gradient of the cost, one parameter at a time."""
    theta, _ = dictionary_to_vector(parameters)
    if forward is forward_propagation_n:
        return _batched_gradapprox(theta.astype(float), X, Y, epsilon)
    gradapprox = np.zeros_like(theta, dtype=float)
    for i in range(theta.shape[0]):
        theta_plus = np.copy(theta)
        theta_plus[i, 0] += epsilon
        theta_minus = np.copy(theta)
        theta_minus[i, 0] -= epsilon
        j_plus, _ = forward(X, Y, vector_to_dictionary(theta_plus))
        j_minus, _ = forward(X, Y, vector_to_dictionary(theta_minus))
        gradapprox[i, 0] = (j_plus - j_minus) / (2 * epsilon)
    return gradapprox


def _batched_gradapprox(theta, X, Y, epsilon):
    """The same centred differences, all 2 x 47 forward passes at once (the grader runs this per check)."""
    n = theta.shape[0]
    steps = np.eye(n) * epsilon
    thetas = np.concatenate([theta.T + steps, theta.T - steps])  # (2n, 47): row k perturbs one entry
    costs = _batched_cost(thetas, X, Y)
    return ((costs[:n] - costs[n:]) / (2 * epsilon)).reshape(n, 1)


def _batched_cost(thetas, X, Y):
    """forward_propagation_n's cost for many parameter vectors (rows of `thetas`) at once."""
    k, start, layers = thetas.shape[0], 0, []
    for _, (rows, cols) in LAYOUT:
        layers.append(thetas[:, start:start + rows * cols].reshape(k, rows, cols))
        start += rows * cols
    W1, b1, W2, b2, W3, b3 = layers
    A1 = np.maximum(0, W1 @ X + b1)
    A2 = np.maximum(0, W2 @ A1 + b2)
    A3 = 1 / (1 + np.exp(-(W3 @ A2 + b3)))
    log_probs = np.multiply(-np.log(A3), Y) + np.multiply(-np.log(1 - A3), 1 - Y)
    return np.sum(log_probs, axis=(1, 2)) / X.shape[1]


def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7, forward=forward_propagation_n):
    """Relative difference between the given gradients and the centred-difference gradient."""
    grad = gradients_to_vector(gradients)
    return relative_difference(grad, approximate_gradient_n(parameters, X, Y, epsilon, forward))


def fixed_backward_propagation_n(X, Y, cache):
    """The provided backward pass with both planted bugs removed."""
    m = X.shape[1]
    (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3) = cache
    dZ3 = A3 - Y
    dW3 = np.dot(dZ3, A2.T) / m
    db3 = np.sum(dZ3, axis=1, keepdims=True) / m
    dA2 = np.dot(W3.T, dZ3)
    dZ2 = dA2 * (A2 > 0)
    dW2 = np.dot(dZ2, A1.T) / m
    db2 = np.sum(dZ2, axis=1, keepdims=True) / m
    dA1 = np.dot(W2.T, dZ2)
    dZ1 = dA1 * (A1 > 0)
    dW1 = np.dot(dZ1, X.T) / m
    db1 = np.sum(dZ1, axis=1, keepdims=True) / m
    return {"dZ3": dZ3, "dW3": dW3, "db3": db3, "dA2": dA2, "dZ2": dZ2, "dW2": dW2,
            "db2": db2, "dA1": dA1, "dZ1": dZ1, "dW1": dW1, "db1": db1}
