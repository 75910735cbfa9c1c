"""Helpers for the sandbox tests: run a Python snippet in a sandboxed process, find leftovers."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader.sandbox.process import Limits, isolation_status, kill_group, spawn

ISOLATED = bool(isolation_status().get("isolated"))
needs_isolation = pytest.mark.skipif(
    not ISOLATED, reason=f"no namespaces here: {isolation_status().get('reason')}")


def student_env(home: Path) -> dict[str, str]:
    return {"PATH": os.path.dirname(sys.executable) + ":/usr/bin:/bin", "HOME": str(home),
            "TMPDIR": str(home), "LC_ALL": "C.UTF-8"}


def run_snippet(code: str, work: Path, limits: Limits = Limits(), timeout: float = 30,
                env: dict[str, str] | None = None) -> tuple[int | None, str]:
    """Run `python -c code` sandboxed in `work`; (exit status, stdout+stderr). The whole
    sandbox is killed afterwards, whatever the snippet left behind."""
    work.mkdir(parents=True, exist_ok=True)
    proc = spawn([sys.executable, "-c", code], cwd=work, env=env or student_env(work),
                 limits=limits, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc.pid)
        out, _ = proc.communicate()
    kill_group(proc.pid)
    return proc.returncode, out.decode(errors="replace")


def processes_under(folder: Path) -> list[int]:
    """Live processes whose working directory lies in `folder` (leftovers of a test)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            cwd = os.readlink(f"/proc/{name}/cwd")
            with open(f"/proc/{name}/stat") as handle:
                state = handle.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and (cwd == str(folder) or cwd.startswith(str(folder) + "/")):
            found.append(int(name))
    return found


def alive(pid: int) -> bool:
    """Whether a process with this pid exists (a zombie not yet reaped counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
