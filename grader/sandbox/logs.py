"""Reading back what a student process wrote to its log, for messages about it.

A process's log (a kernel's, a worker's, the fork server's, a federated client's) is untrusted and
may be huge: these helpers read a bounded piece of it, decode it leniently, and return '' when the
file cannot be read.

* `log_head(path)`: the first non-empty lines, joined by ' | ' (what a failed start said).
* `log_tail(path)`: the last non-empty lines, joined by ' | ' (what a process said before it died).
* `tail_text(path, size)`: the last `size` bytes as text (a log excerpt kept in a record).
"""
from __future__ import annotations

import os
from pathlib import Path

TAIL_BYTES = 4096


def log_head(path: str | Path | None, lines: int = 5, limit: int = 600) -> str:
    """The first non-empty lines of a sandboxed process's log, joined by ' | ', or '' (none,
    unreadable): what a process that failed to start said (the launcher, Python, an import)."""
    if path is None:
        return ""
    try:
        with open(path, "rb") as handle:
            text = handle.read(8192).decode("utf-8", "replace")
    except OSError:
        return ""
    first = [line.strip() for line in text.splitlines() if line.strip()][:lines]
    return " | ".join(first)[:limit]


def tail_text(path: str | Path, size: int = TAIL_BYTES) -> str:
    """The last `size` bytes of the file at `path`, decoded leniently; '' if it cannot be read."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - size))
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return ""


def log_tail(path: str | Path, lines: int = 3, limit: int = 300) -> str:
    """The last non-empty lines of a process's log, joined by ' | ' (at most `limit` characters,
    the end kept), or '': what a process said before it ended."""
    last = [line.strip() for line in tail_text(path).strip().splitlines()[-lines:] if line.strip()]
    return " | ".join(last)[-limit:]
