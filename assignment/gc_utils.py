"""Helpers the notebook hands to learners: activations and parameter <-> vector reshaping.

The 3-layer fraud model has 47 parameters. Gradient checking works on one flat
column vector, so these helpers flatten the parameter (or gradient) dictionary in a
fixed key order and rebuild it again.
"""
import numpy as np

#: parameter names and shapes of the fraud model, in the order they are flattened
LAYOUT = (
    ("W1", (5, 4)),
    ("b1", (5, 1)),
    ("W2", (3, 5)),
    ("b2", (3, 1)),
    ("W3", (1, 3)),
    ("b3", (1, 1)),
)


def sigmoid(x):
    """Logistic function, applied element-wise."""
    return 1 / (1 + np.exp(-x))


def relu(x):
    """max(0, x), applied element-wise."""
    return np.maximum(0, x)


def _slices():
    start = 0
    for name, (rows, cols) in LAYOUT:
        yield name, (rows, cols), start, start + rows * cols
        start += rows * cols


#: (name, shape, start, stop) of each parameter inside the (47, 1) vector, computed once
_SLICES = tuple(_slices())


def _flatten(dictionary, names):
    columns = [np.reshape(dictionary[name], (-1, 1)) for name in names]
    return np.concatenate(columns, axis=0)


def dictionary_to_vector(parameters):
    """Stack W1, b1, ..., b3 into one (47, 1) column; also return each entry's key name."""
    keys = []
    for name, _, start, stop in _SLICES:
        keys += [name] * (stop - start)
    return _flatten(parameters, [name for name, _ in LAYOUT]), keys


def vector_to_dictionary(theta):
    """Cut a (47, 1) column back into the parameter dictionary W1, b1, ..., b3."""
    return {name: theta[start:stop].reshape(shape) for name, shape, start, stop in _SLICES}


def gradients_to_vector(gradients):
    """Stack dW1, db1, ..., db3 into one (47, 1) column (the same order as the parameters)."""
    return _flatten(gradients, ["d" + name for name, _ in LAYOUT])
