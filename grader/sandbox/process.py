"""Start student-code processes with limits and kill them with their whole process group.

Every process that runs student code (notebook kernel, check worker, federated client) is started
through `sandboxed_command`, so limits, the scrubbed environment and the process group are the
same everywhere and no caller re-implements that plumbing.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

LAUNCHER = Path(__file__).with_name("launch.py")
GiB = 1024 ** 3


@dataclass(frozen=True)
class Limits:
    """Resource limits of one student process (and everything it forks)."""

    memory_bytes: int | None = 8 * GiB
    cpu_seconds: int | None = 900
    file_size_bytes: int | None = 256 * 1024 ** 2
    max_processes: int | None = None
    open_files: int | None = 1024


def sandboxed_command(argv: list[str], limits: Limits) -> list[str]:
    """`argv` wrapped by the launcher that applies `limits` and starts a new session."""
    return [sys.executable, "-I", str(LAUNCHER), json.dumps(asdict(limits)), "--", *argv]


def kill_group(pid: int) -> None:
    """SIGKILL the process group led by `pid`; a group that is already gone is fine."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def spawn(argv: list[str], *, cwd: Path, env: dict[str, str], limits: Limits,
          **popen_kwargs) -> subprocess.Popen:
    """Start `argv` sandboxed, as the leader of its own process group."""
    return subprocess.Popen(sandboxed_command(argv, limits), cwd=cwd, env=env,
                            start_new_session=True, **popen_kwargs)


def stop(proc: subprocess.Popen, grace: float = 0.0) -> int | None:
    """Kill `proc`'s process group (after `grace` seconds to exit on its own) and reap it."""
    deadline = time.monotonic() + grace
    while grace and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    kill_group(proc.pid)
    try:
        return proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        return None
