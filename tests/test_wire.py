"""grader.wire: only plain data crosses, and malformed frames are refused."""
import base64
import math

import numpy as np
import pytest

from grader import wire


def roundtrip(value):
    return wire.decode(wire.loads(wire.dumps({"v": wire.encode(value)})[4:])["v"])


def test_plain_values_roundtrip():
    value = {"a": [1, 2.5, None, True, "é"], "t": (1, 2), "arr": np.arange(6.0).reshape(2, 3), "n": np.float64(3.5)}
    back = roundtrip(value)
    assert back["a"] == [1, 2.5, None, True, "é"] and back["t"] == (1, 2) and back["n"] == 3.5
    assert back["arr"].shape == (2, 3) and back["arr"].dtype == np.float64 and np.array_equal(back["arr"], value["arr"])


def test_nan_and_infinity_survive():
    back = roundtrip([float("nan"), float("inf"), -math.inf])
    assert math.isnan(back[0]) and back[1] == math.inf and back[2] == -math.inf


def test_zero_dimensional_array_stays_an_array():
    assert isinstance(roundtrip(np.array(2.0)), np.ndarray)


@pytest.mark.parametrize("value", [object(), np.array(["a"]), {1: 2}, type("F", (float,), {})(1.0), lambda: 1, {1, 2}])
def test_non_plain_values_are_refused(value):
    with pytest.raises(wire.NotPlainData):
        wire.encode(value)


def test_float_subclass_is_named_in_the_message():
    lying = type("AlwaysEqual", (float,), {"__eq__": lambda self, other: True})(0.0)
    with pytest.raises(wire.NotPlainData, match="AlwaysEqual"):
        wire.encode({"difference": lying})


@pytest.mark.parametrize("frame", [
    {"x": 1, "y": 2},
    {"a": ["object", [1], "AA=="]},
    {"a": ["<f8", [10], base64.b64encode(b"short").decode()]},
    {"a": ["<f8", [10 ** 9], ""]},
    {"zz": []},
    [1, 2],
])
def test_malformed_tagged_data_is_refused(frame):
    with pytest.raises(wire.WireError):
        wire.decode(frame)


def test_deep_nesting_is_refused():
    value = []
    for _ in range(wire.MAX_DEPTH + 5):
        value = [value]
    with pytest.raises(wire.NotPlainData):
        wire.encode(value)
