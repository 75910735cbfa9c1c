"""The canonical encoding of an output and its keyed hash; byte-for-byte the grader's
(`grader/release/seal.py`), so a student's output seals to the reference's exactly when they are
equal."""
from __future__ import annotations

import hashlib
import hmac
from typing import Any

import numpy as np


def canonical(value: Any) -> bytes:
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
    message = label.encode("utf-8") + b"\x00" + canonical(value)
    return hmac.new(bytes.fromhex(key), message, hashlib.sha256).hexdigest()


def matches(key: str, label: str, value: Any, sealed: str) -> bool:
    return hmac.compare_digest(seal(key, label, value), sealed)
