"""Sealed answers: a keyed hash (HMAC-SHA256) of the canonical encoding of an output.

The encoding and the hash are `grader.portable.seal`, which the kit carries as
`edge_ai_w5_selfcheck.portable.seal` (one source; the kit also carries the key of its release). The
point is that the answers of the public exam are not readable as data, not that they are secret
from someone who reverse-engineers the kit: grading uses its own exam, which the kit cannot
reproduce.
"""
from __future__ import annotations

import json
import secrets
from typing import Any

from grader.portable.seal import canonical, matches, seal  # noqa: F401 - the release's API


def new_key() -> str:
    """A fresh per-release key (hex)."""
    return secrets.token_hex(16)


def dumps(data: Any) -> str:
    """The kit's data file text: stable key order, compact."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"))
