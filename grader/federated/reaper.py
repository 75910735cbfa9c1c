"""Find and kill every process of one round by the marker in its environment.

Each process of a round (aggregator, client A's kernel, client B, and whatever they fork with an
inherited environment) starts with `GRADER_FL_ROUND=<token>`. Killing the process groups the
round started catches nearly everything; this sweep catches the rest (a child that started its
own session), and the tests use it to prove that nothing of a round survives.
"""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from ..sandbox.kill import GONE_TIMEOUT

MARKER_VARIABLE = "GRADER_FL_ROUND"


def processes_with_marker(token: str) -> list[int]:
    """Ids of live processes (of this user) whose initial environment carries the round's token."""
    needle = f"{MARKER_VARIABLE}={token}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text()
        except OSError:  # gone, or another user's
            continue
        if needle in environ.split(b"\0") and _state(state) != "Z":
            found.append(int(entry.name))
    return found


def kill_marked(token: str, deadline: float = GONE_TIMEOUT) -> list[int]:
    """SIGKILL every process carrying the token, with its process group (never the grader's own),
    and return once none is left (or after `deadline` seconds): SIGKILL is delivered
    asynchronously, and on a busy machine a killed process can still be listed, environment and
    all, for a while after kill() returned. Processes forked meanwhile are killed on the next pass."""
    killed: list[int] = []
    own_group = os.getpgrp()
    give_up = time.monotonic() + deadline
    while True:
        pids = processes_with_marker(token)
        if not pids or time.monotonic() >= give_up:
            return killed
        for pid in pids:
            try:
                group = os.getpgid(pid)
                if group != own_group:
                    os.killpg(group, signal.SIGKILL)
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                continue
            if pid not in killed:
                killed.append(pid)
        time.sleep(0.02)


def _state(stat: str) -> str:
    """The state letter of /proc/PID/stat ("Z" for a zombie); the name may hold spaces."""
    tail = stat.rpartition(")")[2].split()
    return tail[0] if tail else "?"
