"""Chart data: the learner's per-parameter gradapprox, recovered from where the forward pass was evaluated.

Only for the report's picture. The trace comes from the sandbox, so it is never used to grade.
"""
from __future__ import annotations

import numpy as np


def gradapprox_from_trace(trace, theta, epsilon: float) -> list:
    """One value per parameter (None where the trace does not show a clean ±ε step on that parameter).

    A centred pair gives (J⁺ − J⁻) / 2ε; a single step next to an unperturbed evaluation gives the
    one-sided slope, which is what such a learner computed.
    """
    theta = np.asarray(theta, dtype=float).ravel()
    plus, minus, base = {}, {}, None
    for entry in trace or ():
        try:
            vector, cost = np.asarray(entry[0], dtype=float).ravel(), float(entry[1])
        except (TypeError, ValueError, IndexError):
            continue
        if vector.shape != theta.shape:
            continue
        moved = np.flatnonzero(vector != theta)
        if moved.size == 0:
            base = cost
        elif moved.size == 1:
            index = int(moved[0])
            (plus if vector[index] > theta[index] else minus).setdefault(index, (cost, abs(vector[index] - theta[index])))
    values = []
    for index in range(theta.size):
        if index in plus and index in minus:
            values.append(float((plus[index][0] - minus[index][0]) / (plus[index][1] + minus[index][1])))
        elif index in plus and base is not None:
            values.append(float((plus[index][0] - base) / plus[index][1]))
        elif index in minus and base is not None:
            values.append(float((base - minus[index][0]) / minus[index][1]))
        else:
            values.append(None)
    return values
