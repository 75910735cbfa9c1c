"""Sealed answers: a keyed hash (HMAC-SHA256) of the canonical encoding of an output.

The kit carries the key of its release and the same encoding (`edge_ai_w5_selfcheck.canonical`,
which must stay byte-for-byte equal to `canonical` here; a test compares them on many values). The
point is that the answers of the public exam are not readable as data, not that they are secret
from someone who reverse-engineers the kit: grading uses its own exam, which the kit cannot
reproduce.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Any

import numpy as np


def new_key() -> str:
    """A fresh per-release key (hex)."""
    return secrets.token_hex(16)


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


def dumps(data: Any) -> str:
    """The kit's data file text: stable key order, compact."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"))
