"""Plain, type-tagged data across the sandbox boundary: no pickle, defensive decoding.

Frames are a 4-byte length and a JSON body. Values are JSON scalars or one-key tagged
objects: {"l": [...]} list, {"t": [...]} tuple, {"d": {...}} dict with string keys,
{"a": [dtype, shape, base64]} numpy array of a numeric dtype. Anything else is refused.
Both directions are bounded the same way (depth, items, array size, integer size, valid
Unicode), so a value that crosses can always be turned into a float, JSON or text by the
grader without blowing up, and a forged frame fails as cleanly as an honest one.
"""
from __future__ import annotations

import base64
import json
import math
import socket
import struct
import time

import numpy as np

#: largest frame either side accepts
MAX_FRAME = 64 * 1024 * 1024
#: largest array, in elements
MAX_ELEMENTS = 4_000_000
MAX_DEPTH = 32
#: most list, tuple and dict entries in one value, counted through the nesting
MAX_ITEMS = 100_000
#: integers stay below 2**1023 in size, so float() of any of them works
MAX_INT_BITS = 1023
ALLOWED_DTYPES = frozenset(
    np.dtype(name).str for name in
    ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
     "float16", "float32", "float64")
)
_SCALAR_TYPES = (np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
                 np.uint64, np.float16, np.float32, np.float64)


class NotPlainData(ValueError):
    """A value that may not cross the boundary; the message says which and where."""


class WireError(ValueError):
    """A frame that is not well-formed."""


def encode(value, _path="value", _depth=0, _budget=None):
    """Turn a value into JSON-ready tagged data, refusing anything outside the closed list."""
    if _depth > MAX_DEPTH:
        raise NotPlainData(f"{_path} is nested more than {MAX_DEPTH} levels deep")
    budget = _budget if _budget is not None else [MAX_ITEMS]
    kind = type(value)
    if value is None or kind is bool:
        return value
    if kind is str:
        if not _valid_text(value):
            raise NotPlainData(f"{_path} is a string that is not valid Unicode (it holds a lone surrogate)")
        return value
    if kind is int:
        if value.bit_length() > MAX_INT_BITS:
            raise NotPlainData(f"{_path} is an integer of {value.bit_length()} bits, more than {MAX_INT_BITS}")
        return value
    if kind is float:
        return _float(value)
    if kind in _SCALAR_TYPES:
        if kind is np.bool_:
            return bool(value)
        if np.issubdtype(kind, np.integer):
            return int(value)
        return _float(float(value))
    if kind is np.ndarray:
        if value.dtype.str not in ALLOWED_DTYPES and value.dtype.newbyteorder("=").str not in ALLOWED_DTYPES:
            raise NotPlainData(f"{_path} is a numpy array of dtype {value.dtype}, not a numeric array")
        if value.size > MAX_ELEMENTS:
            raise NotPlainData(f"{_path} has {value.size} elements, more than {MAX_ELEMENTS}")
        data = np.ascontiguousarray(value, dtype=value.dtype.newbyteorder("<") if value.dtype.itemsize > 1 else value.dtype)
        return {"a": [data.dtype.str, list(data.shape), base64.b64encode(data.tobytes()).decode("ascii")]}
    if kind is list or kind is tuple:
        _spend(budget, len(value), _path, NotPlainData)
        items = [encode(item, f"{_path}[{i}]", _depth + 1, budget) for i, item in enumerate(value)]
        return {"l" if kind is list else "t": items}
    if kind is dict:
        _spend(budget, len(value), _path, NotPlainData)
        out = {}
        for key, item in value.items():
            if type(key) is not str or not _valid_text(key):
                raise NotPlainData(f"{_path} has a key of type {type(key).__name__}; only string keys can be returned")
            out[key] = encode(item, f"{_path}[{key!r}]", _depth + 1, budget)
        return {"d": out}
    raise NotPlainData(f"{_path} is of type {kind.__module__}.{kind.__qualname__}, which is not plain data "
                       f"(a number, string, list, tuple, dict or numeric numpy array)")


def _spend(budget: list, count: int, path: str, error: type) -> None:
    """Take `count` entries from the value's budget; too many entries in all is refused."""
    budget[0] -= count
    if budget[0] < 0:
        raise error(f"{path} holds more than {MAX_ITEMS} entries in all")


def _valid_text(text: str) -> bool:
    """JSON can carry lone surrogates, but no file, page or terminal can show them."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _float(value: float):
    if math.isfinite(value):
        return value
    return {"f": "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")}


def decode(data, _depth=0, _budget=None):
    """Rebuild a value from tagged data, creating only builtin and numpy objects."""
    if _depth > MAX_DEPTH:
        raise WireError("value nested too deeply")
    budget = _budget if _budget is not None else [MAX_ITEMS]
    kind = type(data)
    if data is None or kind is bool or kind is float:
        return data
    if kind is int:
        if data.bit_length() > MAX_INT_BITS:
            raise WireError(f"integer of {data.bit_length()} bits is too large")
        return data
    if kind is str:
        if not _valid_text(data):
            raise WireError("string is not valid Unicode")
        return data
    if kind is not dict or len(data) != 1:
        raise WireError(f"untagged {kind.__name__} in a frame")
    (tag, body), = data.items()
    if tag in ("l", "t", "d") and type(body) in (list, dict):
        _spend(budget, len(body), "value", WireError)
    if tag == "l" and type(body) is list:
        return [decode(item, _depth + 1, budget) for item in body]
    if tag == "t" and type(body) is list:
        return tuple(decode(item, _depth + 1, budget) for item in body)
    if tag == "d" and type(body) is dict:
        if not all(_valid_text(key) for key in body):
            raise WireError("dict key is not valid Unicode")
        return {key: decode(item, _depth + 1, budget) for key, item in body.items()}
    if tag == "f" and body in ("nan", "inf", "-inf"):
        return float(body)
    if tag == "a" and type(body) is list and len(body) == 3:
        return _array(*body)
    raise WireError(f"unknown tag {tag!r}")


def _array(dtype, shape, payload) -> np.ndarray:
    if type(dtype) is not str or dtype not in ALLOWED_DTYPES:
        raise WireError(f"array dtype {dtype!r} is not allowed")
    if type(shape) is not list or len(shape) > 8 or not all(type(n) is int and 0 <= n <= MAX_ELEMENTS for n in shape):
        raise WireError("array shape is not a list of sizes")
    count = math.prod(shape)
    if count > MAX_ELEMENTS:
        raise WireError(f"array of {count} elements is too large")
    if type(payload) is not str:
        raise WireError("array data is not text")
    try:
        raw = base64.b64decode(payload.encode("ascii"), validate=True)
    except ValueError:  # binascii.Error and UnicodeEncodeError are both ValueErrors
        raise WireError("array data is not base64") from None
    kind = np.dtype(dtype)
    if len(raw) != count * kind.itemsize:
        raise WireError("array data does not match its shape")
    return np.frombuffer(raw, dtype=kind).reshape(shape).astype(kind.newbyteorder("="), copy=True)


def dumps(message: dict) -> bytes:
    body = json.dumps(message, allow_nan=False, separators=(",", ":")).encode("utf-8")
    if len(body) > MAX_FRAME:
        raise NotPlainData(f"the value is {len(body)} bytes long once encoded, more than {MAX_FRAME}")
    return struct.pack(">I", len(body)) + body


def loads(body: bytes) -> dict:
    try:
        message = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise WireError(f"frame is not JSON ({type(exc).__name__})") from None
    if type(message) is not dict:
        raise WireError("frame is not an object")
    return message


def send(sock: socket.socket, message: dict) -> None:
    sock.sendall(dumps(message))


def recv(sock: socket.socket, deadline: float | None = None) -> dict:
    """Read one frame; raises EOFError when the peer is gone, WireError when it is malformed.

    With a `deadline` (time.monotonic()), the whole frame must arrive by then or TimeoutError is
    raised: a peer trickling one byte at a time cannot keep the reader waiting past it.
    """
    header = _exactly(sock, 4, deadline)
    (size,) = struct.unpack(">I", header)
    if size > MAX_FRAME:
        raise WireError(f"frame of {size} bytes is larger than {MAX_FRAME}")
    return loads(_exactly(sock, size, deadline))


def _exactly(sock: socket.socket, size: int, deadline: float | None = None) -> bytes:
    chunks, need = [], size
    while need:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("the frame did not arrive in time")
            sock.settimeout(remaining)
        chunk = sock.recv(min(need, 1 << 20))
        if not chunk:
            raise EOFError("peer closed the connection")
        chunks.append(chunk)
        need -= len(chunk)
    return b"".join(chunks)
