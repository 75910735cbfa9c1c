"""Which processes belong to a sandbox, and killing them all (children that left the group too).

* `kill_group(pid)`: SIGKILL a process group; for a sandbox's launcher also every other process of
  the sandbox (children that left the group with `setsid`).
* `kill_strays(pid)`: everything of the sandbox but its launcher (between two submissions served
  by one fork server).
* `stop(proc, grace)`: kill a spawned process's sandbox and reap it.
* `open_pidfd(pid)` / `wait_pidfd(fd, timeout)`: wait for a process that is not our child (a
  fork server's fork: the first process of its PID namespace, which ends only once Linux has
  killed and reaped everything else in that namespace).
* `sandbox_members(pid)`: the processes of the sandbox launched as `pid`, found by the kernel uid
  of a root grader's sandbox or by the user namespace of a non-root grader's.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from .namespaces import UID_BASE


SHARED_USER_NAMESPACES: set[int] = set()  # inodes of SharedNetwork namespaces (swept on close)
_USER_NS_OF: dict[int, int] = {}  # launcher pid -> its user namespace, while a sweep runs
NS_GET_PARENT = 0xB702


def kill_group(pid: int, *, settle: float = 2.0) -> None:
    """SIGKILL the process group led by `pid`. When `pid` is a sandbox's launcher (a kernel, a
    worker or fork server started through `spawn`/`sandboxed_command`), every other process of
    that sandbox dies too: children that left the group with setsid, a fork storm's stragglers
    (see `sandbox_members`); they are killed until none is left or `settle` seconds passed. A
    group that is already gone is fine."""
    members = sandbox_members(pid)
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    _kill_until_gone(pid, members, settle, keep_launcher=False)


def kill_strays(pid: int, *, settle: float = 2.0) -> int:
    """SIGKILL every process of the sandbox launched as `pid` except `pid` itself: what a
    submission left behind in a long-lived sandbox (a fork server that forks kernels and
    workers for one submission after another). Call it between submissions. Returns how many
    there were, once they are dead (or `settle` seconds passed)."""
    strays = [p for p in sandbox_members(pid) if p != pid and _alive(p)]
    _kill_until_gone(pid, strays, settle, keep_launcher=True)
    return len(strays)


def _kill_until_gone(pid: int, targets: list[int], settle: float, *, keep_launcher: bool) -> None:
    """SIGKILL `targets` (processes of the sandbox launched as `pid`), then whatever of the
    sandbox is still alive (its launcher spared with `keep_launcher`), until none is left or
    `settle` seconds passed."""
    deadline = time.monotonic() + settle
    while targets:
        for target in targets:
            try:
                os.kill(target, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if time.monotonic() > deadline:
            break
        time.sleep(0.01)
        targets = [p for p in sandbox_members(pid, _ns=_USER_NS_OF.get(pid))
                   if _alive(p) and not (keep_launcher and p == pid)]
    _USER_NS_OF.pop(pid, None)


def _proc_pids() -> list[int]:
    try:
        return [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return []


def _status_field(pid: int, field: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith(field):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def _user_ns(pid: int) -> int | None:
    try:
        return os.stat(f"/proc/{pid}/ns/user").st_ino
    except OSError:
        return None


def _in_user_ns(pid: int, ns: int) -> bool:
    """`pid` lives in user namespace `ns` or in one nested below it."""
    import fcntl

    try:
        fd = os.open(f"/proc/{pid}/ns/user", os.O_RDONLY)
    except OSError:
        return False
    try:
        for _ in range(40):
            if os.fstat(fd).st_ino == ns:
                return True
            try:
                parent = fcntl.ioctl(fd, NS_GET_PARENT)
            except OSError:
                return False
            os.close(fd)
            fd = parent
        return False
    finally:
        os.close(fd)


def sandbox_members(pid: int, *, _ns: int | None = None) -> list[int]:
    """The other processes of the sandbox whose launcher is `pid` ([] when `pid` is not one, for
    example a worker forked inside a sandbox). A root grader's sandbox runs as its own kernel
    uid (`namespaces.UID_BASE + pid`); a non-root grader's is found by its user namespace
    (nested ones included), which must be known: `pid` alive, its parent outside it."""
    if not sys.platform.startswith("linux"):
        return []
    me = os.getpid()
    if os.geteuid() == 0:
        uid = UID_BASE + pid
        return [p for p in _proc_pids() if p != me and _status_field(p, "Uid:") == uid]
    ns = _ns or _user_ns(pid)
    if ns is None or ns == _user_ns(me) or ns in SHARED_USER_NAMESPACES:
        return []
    if _ns is None:
        parent = _status_field(pid, "PPid:")
        if parent is not None and _user_ns(parent) == ns:
            return []  # forked inside the sandbox: not its launcher
        _USER_NS_OF[pid] = ns
    return [p for p in _proc_pids() if p != me and _in_user_ns(p, ns)]


GONE_TIMEOUT = 10.0  # seconds to wait for a killed fork (and its PID namespace) to be gone


def open_pidfd(pid: int) -> int | None:
    """A pidfd on `pid` (None when it is gone already or the platform has none)."""
    try:
        return os.pidfd_open(pid)
    except (OSError, AttributeError):
        return None


def wait_pidfd(fd: int, timeout: float) -> bool:
    """Wait until the process of pidfd `fd` has ended; False when `timeout` passed first."""
    import select

    try:
        return bool(select.select([fd], [], [], timeout)[0])
    except (OSError, ValueError):
        return True


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def stop(proc: subprocess.Popen, grace: float = 0.0) -> int | None:
    """Kill `proc`'s sandbox (after `grace` seconds to exit on its own) and reap it."""
    deadline = time.monotonic() + grace
    while grace and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    kill_group(proc.pid)
    try:
        return proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        return None

