"""The canonical encoding of an output and its keyed hash (HMAC-SHA256): the grader seals the
reference's outputs of the kit's public exam with it, the kit seals the student's the same way,
so they meet exactly when the outputs are equal."""
from __future__ import annotations

import hashlib
import hmac
from typing import Any

import numpy as np


def canonical(value: Any) -> bytes:
    """Bytes that depend only on the value: integers and positions as int64, floats by repr,
    sequences element by element, None as a marker."""
    if value is None:
        return b"N;"
    if isinstance(value, (bool, np.bool_)):
        return b"B" + (b"1" if value else b"0") + b";"
    if isinstance(value, (int, np.integer)):
        return b"I" + str(int(value)).encode() + b";"
    if isinstance(value, (float, np.floating)):
        return b"F" + repr(float(value)).encode() + b";"
    if isinstance(value, str):
        data = value.encode("utf-8")
        return b"S" + str(len(data)).encode() + b":" + data
    if isinstance(value, np.ndarray) and value.dtype.kind in "iu":
        data = np.ascontiguousarray(value, dtype="<i8").tobytes()
        return b"A" + str(value.size).encode() + b":" + data
    if isinstance(value, (list, tuple, np.ndarray)):
        return b"L" + str(len(value)).encode() + b"[" + b"".join(canonical(v) for v in value) + b"]"
    raise TypeError(f"no canonical encoding for {type(value).__name__}")


def seal(key: str, label: str, value: Any) -> str:
    """The keyed hash of `value` for the exam entry `label` (labels keep equal answers of
    different inputs apart)."""
    message = label.encode("utf-8") + b"\x00" + canonical(value)
    return hmac.new(bytes.fromhex(key), message, hashlib.sha256).hexdigest()


def matches(key: str, label: str, value: Any, sealed: str) -> bool:
    return hmac.compare_digest(seal(key, label, value), sealed)
