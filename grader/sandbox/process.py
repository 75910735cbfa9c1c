"""Start student-code processes sandboxed and with limits; kill them with everything they started.

Every process that runs student code (notebook kernel, check worker or fork server, federated
client) is started through `sandboxed_command` / `spawn`, so limits, namespaces, the scrubbed
environment (the caller passes the complete environment) and the process group are the same
everywhere and no caller re-implements that plumbing. See `launch.py` and `namespaces.py` for what
happens in the new process, and the README (Running untrusted code) for what is isolated on which platform.

Grader-side API (this module, and what it gathers from its neighbours):

* `Limits` (`limits.py`): resource limits and isolation settings of one sandbox (JSON-able,
  picklable), and the plan the launcher gets.
* `sandboxed_command(argv, limits)` / `spawn(argv, cwd=, env=, limits=)`.
* `kill_group(pid)` (`kill.py`): SIGKILL a process group; for a sandbox's launcher also every other
  process of the sandbox (children that left the group with `setsid`). `kill_strays(pid)`:
  everything of the sandbox but its launcher (between two submissions served by one fork server).
* `describe_error(ename, evalue)`: an exception's text, naming the memory limit when it was hit.
* `isolation_status()` / `network_isolation_available()`: what this machine allows (probed once).
* `SharedNetwork` (`shared_network.py`): one loopback for several sandboxes (the federated round's aggregator and
  clients): `with SharedNetwork() as net: spawn(..., limits=net.limits(base))`.
"""
from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from .kill import (GONE_TIMEOUT, kill_group, kill_strays, open_pidfd, sandbox_members, stop,
                   wait_pidfd)
from .limits import (GRADER_PACKAGE, LAUNCHER, PROJECT_ROOT, GiB, Limits, MiB, batch_hidden,
                     default_hidden, default_keep, sandbox_plan)
from .shared_network import SharedNetwork

__all__ = ["GONE_TIMEOUT", "GRADER_PACKAGE", "GiB", "LAUNCHER", "Limits", "MEMORY_LIMIT_EXCEEDED",
           "MiB", "PROJECT_ROOT", "SharedNetwork", "batch_hidden", "default_hidden",
           "default_keep", "describe_error", "isolation_status", "kill_group", "kill_strays",
           "network_isolation_available", "open_pidfd", "sandbox_members", "sandbox_plan",
           "sandboxed_command", "spawn", "stop", "wait_pidfd"]


def sandboxed_command(argv: list[str], limits: Limits) -> list[str]:
    """`argv` wrapped by the launcher that sandboxes it, applies `limits` and starts a session."""
    return [sys.executable, "-I", str(LAUNCHER), json.dumps(sandbox_plan(limits)), "--", *argv]


def spawn(argv: list[str], *, cwd: Path, env: dict[str, str], limits: Limits,
          **popen_kwargs) -> subprocess.Popen:
    """Start `argv` sandboxed, as the leader of its own process group, with exactly `env`."""
    return subprocess.Popen(sandboxed_command(argv, limits), cwd=cwd, env=env,
                            start_new_session=True, **popen_kwargs)


MEMORY_LIMIT_EXCEEDED = "memory limit exceeded"
_OUT_OF_MEMORY = ("can't allocate memory", "cannot allocate memory", "std::bad_alloc")


def describe_error(ename: str, evalue: str) -> str:
    """'ename: evalue' for an exception from student code, prefixed with "memory limit exceeded"
    when it is the sandbox's memory limit (MemoryError, torch's DefaultCPUAllocator, ENOMEM)."""
    text = f"{ename}: {evalue}" if evalue else ename
    lowered = str(evalue).lower()
    if ename == "MemoryError" or any(marker in lowered for marker in _OUT_OF_MEMORY):
        return f"{MEMORY_LIMIT_EXCEEDED} ({text})"
    return text



# --- what this machine allows --------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def isolation_status() -> dict:
    """Set a sandbox up once in a throwaway process and report what holds. Keys: `isolated`
    (user + network + mount namespace), `reason` (why not), `interfaces`, `loopback_up`,
    `read_only`, `process_limit` (RLIMIT_NPROC enforced per sandbox), `pid_namespace` (each
    kernel and check worker forked by a fork server sees and signals only its own processes;
    `pid_namespace_reason` says why not), `platform`, `uid`."""
    with tempfile.TemporaryDirectory(prefix="grader-probe-") as work:
        command = [sys.executable, "-I", str(LAUNCHER), "--probe",
                   json.dumps(sandbox_plan(Limits(fork_namespaces=True)))]
        try:
            done = subprocess.run(command, cwd=work, env={"PATH": os.defpath, "HOME": work},
                                  capture_output=True, text=True, timeout=60)
            report = json.loads(done.stdout.strip().splitlines()[-1])
        except (OSError, subprocess.SubprocessError, ValueError, IndexError) as exc:
            report = {"isolated": False, "reason": f"the sandbox probe failed: {exc}",
                      "platform": sys.platform}
    report["process_limit"] = bool(report.get("isolated"))
    report.setdefault("pid_namespace", False)
    return report


def network_isolation_available() -> tuple[bool, str]:
    """(True, "") when student processes get a network namespace with only loopback, else
    (False, the reason): then student code can reach the network like any process of the grader."""
    report = isolation_status()
    if report.get("isolated") and report.get("interfaces") == ["lo"]:
        return True, ""
    return False, report.get("reason") or f"unexpected interfaces {report.get('interfaces')}"

