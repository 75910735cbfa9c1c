"""Plain-data JSON codec between the grader and student processes.

Both sides use this one module: the grader imports it as `grader.sandbox.codec`; the check worker
(`worker.py`, run by path) loads this file by path before any student code runs. It therefore
imports only the standard library and numpy, and nothing from `grader`.

Wire format: one JSON document per line. Besides JSON's own types there are two tagged objects:

* numpy arrays: `{"__ndarray__": <base64 of the raw C-order bytes>, "dtype": "<dtype.str>",
  "shape": [...]}`. Only dtypes without Python objects inside travel (bool, integers, floats,
  complex, fixed-width bytes and unicode); `decode` refuses object, structured and void dtypes, so
  nothing a student process sends can make the grader build an arbitrary Python object.
* opaque values: `{"__opaque__": "<type name>", "repr": "<short repr>"}`, for things a student
  returned that have no plain-data form (a MagicMock, a generator, ...). They decode to `Opaque`,
  which only carries the two strings, for feedback.

No pickle, ever: the grader must be able to read any reply without executing anything.
"""
from __future__ import annotations

import base64
import binascii
import json
import math

import numpy as np

ARRAY_TAG = "__ndarray__"
OPAQUE_TAG = "__opaque__"
ALLOWED_KINDS = frozenset("biufcSU")  # bool, int, uint, float, complex, bytes, str
MAX_REPR = 300

# Bound once at import, before any student code can monkeypatch numpy or json in a worker.
_asarray = np.asarray
_frombuffer = np.frombuffer
_dtype = np.dtype
_ndarray = np.ndarray
_generic = np.generic
_b64encode = base64.b64encode
_b64decode = base64.b64decode
_encoder = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), allow_nan=True)
_decoder = json.JSONDecoder()


class CodecError(ValueError):
    """A message is not valid plain data (bad tag, refused dtype, size mismatch, not JSON)."""


class Opaque:
    """A value that had no plain-data form on the student side: only its type name and repr."""

    __slots__ = ("type", "repr")

    def __init__(self, type_name: str, text: str) -> None:
        self.type = str(type_name)
        self.repr = str(text)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Opaque) and (self.type, self.repr) == (other.type, other.repr)

    def __hash__(self) -> int:
        return hash((self.type, self.repr))

    def __repr__(self) -> str:
        return f"Opaque({self.type!r}, {self.repr!r})"


def short_repr(value: object, limit: int = MAX_REPR) -> str:
    """repr() cut to `limit` characters; never raises (a broken __repr__ becomes a placeholder)."""
    try:
        text = repr(value)
    except Exception as exc:  # noqa: BLE001 - a student's __repr__ may raise anything
        text = f"<{type(value).__name__} whose repr() raised {type(exc).__name__}>"
    if not isinstance(text, str):
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def type_name(value: object) -> str:
    kind = type(value)
    module = getattr(kind, "__module__", "") or ""
    name = getattr(kind, "__qualname__", None) or kind.__name__
    return name if module in ("builtins", "") else f"{module}.{name}"


def opaque(value: object) -> dict:
    return {OPAQUE_TAG: type_name(value), "repr": short_repr(value)}


def allowed_dtype(dtype: np.dtype) -> bool:
    return dtype.kind in ALLOWED_KINDS and dtype.fields is None and not dtype.hasobject


# --- encoding ---------------------------------------------------------------------------------


def to_plain(value: object, *, lenient: bool = False) -> object:
    """`value` as JSON-ready plain data.

    Strict mode (the grader's requests) raises TypeError on anything without a plain form;
    lenient mode (student results) turns such values into opaque tokens instead.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, _ndarray):
        return _array_to_plain(value, lenient)
    if isinstance(value, _generic):  # numpy scalar
        return _scalar_to_plain(value, lenient)
    if isinstance(value, (list, tuple)):
        return [to_plain(item, lenient=lenient) for item in value]
    if isinstance(value, dict):
        if all(isinstance(key, str) for key in value) and ARRAY_TAG not in value \
                and OPAQUE_TAG not in value:
            return {key: to_plain(item, lenient=lenient) for key, item in value.items()}
    if lenient:
        return opaque(value)
    raise TypeError(f"{type_name(value)} has no plain-data form")


def _array_to_plain(array: np.ndarray, lenient: bool) -> object:
    if not allowed_dtype(array.dtype):
        if lenient:
            return opaque(array)
        raise TypeError(f"arrays of dtype {array.dtype} do not travel (no Python objects)")
    return {
        ARRAY_TAG: _b64encode(array.tobytes(order="C")).decode("ascii"),
        "dtype": array.dtype.str,
        "shape": [int(d) for d in array.shape],
    }


def _scalar_to_plain(value: np.generic, lenient: bool) -> object:
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return _array_to_plain(_asarray(value), lenient)


def encode(value: object, *, lenient: bool = False) -> str:
    """One line of JSON (no newline inside) for `value`."""
    return _encoder.encode(to_plain(value, lenient=lenient))


# --- decoding ---------------------------------------------------------------------------------


def from_plain(value: object) -> object:
    """Rebuild arrays and opaque tokens in plain data that came off the wire."""
    if isinstance(value, list):
        return [from_plain(item) for item in value]
    if isinstance(value, dict):
        if ARRAY_TAG in value:
            return _array_from_plain(value)
        if OPAQUE_TAG in value:
            return Opaque(value.get(OPAQUE_TAG, "?"), value.get("repr", ""))
        return {key: from_plain(item) for key, item in value.items()}
    return value


def _array_from_plain(data: dict) -> np.ndarray:
    if set(data) != {ARRAY_TAG, "dtype", "shape"}:
        raise CodecError(f"malformed array: keys {sorted(data)}")
    dtype_str, shape, payload = data["dtype"], data["shape"], data[ARRAY_TAG]
    if not isinstance(dtype_str, str) or not isinstance(payload, str):
        raise CodecError("malformed array: dtype and data must be strings")
    if not isinstance(shape, list) or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        raise CodecError(f"malformed array shape {shape!r}")
    try:
        dtype = _dtype(dtype_str)
    except TypeError as exc:
        raise CodecError(f"unknown dtype {dtype_str!r}") from exc
    if not allowed_dtype(dtype):
        raise CodecError(f"refusing dtype {dtype_str!r}: only plain numeric or string arrays "
                         "travel")
    try:
        raw = _b64decode(payload.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise CodecError("array data is not base64") from exc
    count = math.prod(shape)
    if count * dtype.itemsize != len(raw):
        raise CodecError(f"array data has {len(raw)} bytes, shape {shape} of {dtype} needs "
                         f"{count * dtype.itemsize}")
    return _frombuffer(raw, dtype=dtype).reshape(tuple(shape)).copy()


def decode(text: str | bytes) -> object:
    """Parse one message; CodecError if it is not valid plain data."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CodecError("message is not UTF-8") from exc
    try:
        value = _decoder.decode(text.strip())
    except ValueError as exc:
        raise CodecError(f"message is not JSON: {exc}") from exc
    return from_plain(value)
