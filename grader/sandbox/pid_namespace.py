"""A PID namespace (with its own /proc) for each process a fork server forks.

Standard library only, like `namespaces.py`: the fork server (`worker.py`) loads this file from its
folder as `_sandbox.pid_namespace` (the `grader` package is not importable there); the grader
imports it as `grader.sandbox.pid_namespace`.

The fork server serves one submission after another from one sandbox; without this, each kernel
and check worker it forks could list (`/proc`) and signal every process of the machine that runs
as the same user (for an instructor's laptop: the grader itself), and its orphans would be
reparented to the machine's init, which may reap them late: a fork storm's zombies then still
count against the sandbox's process limit when the next submission's kernel starts.

`split(...)`, called in a freshly forked child of the server (A), makes three processes of it:

* A stays in the server's PID namespace: it makes a new mount namespace and PID namespace (the
  server keeps CAP_SYS_ADMIN in its own user namespace for this, see `Limits.fork_namespaces`),
  forks B, tells the server B's pid, closes everything else and waits for B; it dies with the
  server (PDEATHSIG).
* B is PID 1 of the new namespace: it leads its own session (so one `killpg` from the grader
  reaches it and everything it forks), mounts a read-only /proc that shows only its namespace,
  drops every capability but the file-access ones, forks C and reaps every orphan until C
  ends, then exits with C's status; it dies with A. When B ends, Linux kills and reaps every
  other process of the namespace before B's pidfd says it has ended, so "B has ended" means
  "nothing of this submission is left, not even a zombie".
* C returns from `split` and becomes the kernel or worker (PID 2 in the namespace).

Where the platform refuses a step, A says why, drops the capabilities and becomes the student
process itself (the server's sandbox still holds); with `required=True` it exits instead.
"""
from __future__ import annotations

import ctypes
import os
import select
import signal

from .namespaces import CAP_SYS_ADMIN, KEPT_CAPS, PR_CAPBSET_DROP, PR_SET_PDEATHSIG
from .syscalls import (CLONE_NEWNS, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY,
                       c_library, check, mount, unshare)

CLONE_NEWPID = 0x20000000
PR_SET_CHILD_SUBREAPER = 36
_CAP_VERSION_3 = 0x20080522
EXIT_NO_PID_NAMESPACE = 73


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def become_subreaper() -> None:
    """Orphans of this process's descendants are reparented here, not to the machine's init
    (which may reap them seconds later); with SIGCHLD ignored they are reaped at once."""
    c_library().prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _die_with_parent() -> None:
    check(c_library().prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "PR_SET_PDEATHSIG")


def _keep_only_file_caps() -> None:
    """Drop what the server kept for making namespaces: only the file-access capabilities stay
    (bounding set, then effective/permitted/inheritable)."""
    libc = c_library()
    try:
        with open("/proc/sys/kernel/cap_last_cap") as handle:
            last = int(handle.read())
    except OSError:
        last = 40
    for cap in range(last + 1):
        if cap not in KEPT_CAPS:
            check(libc.prctl(PR_CAPBSET_DROP, ctypes.c_ulong(cap), 0, 0, 0), "PR_CAPBSET_DROP")
    _set_caps(KEPT_CAPS)


def _set_caps(caps) -> None:
    """Effective and permitted capabilities: exactly `caps` (all below 32); none inheritable."""
    mask = sum(1 << cap for cap in caps)
    data = (_CapData * 2)(_CapData(mask, mask, 0), _CapData(0, 0, 0))
    check(c_library().capset(ctypes.byref(_CapHeader(_CAP_VERSION_3, 0)), data), "capset")


def _in_user_namespace() -> bool:
    """This process runs in a user namespace of its own (not the machine's)."""
    try:
        with open("/proc/self/uid_map") as handle:
            return handle.read().split() != ["0", "0", "4294967295"]
    except OSError:
        return False


def _has_capability(cap: int) -> bool:
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("CapEff:"):
                    return bool(int(line.split()[1], 16) >> cap & 1)
    except (OSError, ValueError):
        pass
    return True


def _exit_like(status: int) -> None:
    """Exit as a process that ended with wait status `status` would be seen from outside."""
    if os.WIFEXITED(status):
        os._exit(os.WEXITSTATUS(status))
    os._exit(128 + (os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0))


def split(report_fd: int, close_fds: tuple[int, ...] = (), *, required: bool = False,
          max_processes: int | None = None) -> bool:
    """Run in a freshly forked child of the fork server (see the module docstring). Returns in
    the student process only: True inside a new PID namespace, False where none could be made
    (then the caller is still the child the server forked). `report_fd` gets lines the server
    reads until it is closed (`parse_report`): "none: why" (no namespace, the caller goes on),
    or "pid N" (B's pid) from A and "ok" or "error: why" from B. `close_fds` are closed in A
    and B (the request's pipes: only the student process may hold them). `max_processes`:
    RLIMIT_NPROC inside (the server's own, higher, limit bounds all its namespaces together)."""
    if max_processes is not None and _in_user_namespace():  # else it counts the whole user
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NPROC)
        value = max_processes if hard == resource.RLIM_INFINITY else min(max_processes, hard)
        resource.setrlimit(resource.RLIMIT_NPROC, (value, value))
    try:
        unshare(CLONE_NEWNS | CLONE_NEWPID)
    except OSError as exc:
        os.write(report_fd, f"none: {exc}\n".encode())
        os.close(report_fd)
        if required:
            os._exit(EXIT_NO_PID_NAMESPACE)
        try:  # what the server kept to make namespaces is not the student's
            _keep_only_file_caps()
        except OSError:
            if _has_capability(CAP_SYS_ADMIN):
                os._exit(EXIT_NO_PID_NAMESPACE)
        return False
    alive_r, alive_w = os.pipe()
    init = os.fork()
    if init:  # A
        os.close(alive_r)
        for fd in close_fds:
            os.close(fd)
        os.write(report_fd, f"pid {init}\n".encode())
        os.close(report_fd)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        while True:
            try:
                os.waitpid(init, 0)
                break
            except ChildProcessError:
                break
            except InterruptedError:
                continue
        os._exit(0)
    os.close(alive_w)
    return _init(alive_r, report_fd, close_fds)


def _init(alive_r: int, report_fd: int, close_fds: tuple[int, ...]) -> bool:
    """B: PID 1 of the namespace. Returns in C (the student process) only."""
    try:
        os.setsid()
        _die_with_parent()
        if select.select([alive_r], [], [], 0)[0]:  # A ended before PDEATHSIG was set
            os._exit(1)
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY)
        _keep_only_file_caps()
    except OSError as exc:
        os.write(report_fd, f"error: {exc}\n".encode())
        os._exit(EXIT_NO_PID_NAMESPACE)
    os.write(report_fd, b"ok\n")
    os.close(report_fd)
    student = os.fork()
    if student == 0:
        os.close(alive_r)
        _die_with_parent()
        if os.getppid() != 1:
            os._exit(1)
        return True
    os.close(alive_r)
    for fd in close_fds:
        os.close(fd)
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(signum, signal.SIG_IGN)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    os.closerange(3, 1 << 16)
    while True:  # reap every orphan of the namespace until the student process ends
        try:
            pid, status = os.wait()
        except ChildProcessError:
            os._exit(0)
        except InterruptedError:
            continue
        if pid == student:
            _exit_like(status)


def probe() -> tuple[bool, str]:
    """Try `split` in a throwaway fork: (True, "") when a fork gets a PID namespace whose /proc
    lists only its own two processes, else (False, why)."""
    report_r, report_w = os.pipe()
    seen_r, seen_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(report_r)
            os.close(seen_r)
            if split(report_w, (seen_w,)):
                listed = sorted(p for p in os.listdir("/proc") if p.isdigit())
                os.write(seen_w, " ".join(listed).encode())
        finally:
            os._exit(0)
    os.close(report_w)
    os.close(seen_w)
    report, seen = _read_all(report_r), _read_all(seen_r)
    os.waitpid(pid, 0)
    init, why, fatal = parse_report(report)
    if init is None or fatal:
        return False, why
    if seen != "1 2":
        return False, f"its /proc lists {seen or 'nothing'}, not only its own processes"
    return True, ""


def _read_all(fd: int) -> str:
    data = b""
    while chunk := os.read(fd, 4096):
        data += chunk
    os.close(fd)
    return data.decode(errors="replace")


def parse_report(text: str) -> tuple[int | None, str, bool]:
    """What `split` wrote on its report fd: (B's pid or None, why not, fatal). No pid and not
    fatal: the forked child goes on without a namespace of its own; fatal: it could not start."""
    pid, why = None, ""
    for line in text.splitlines():
        kind, _, rest = line.partition(" ")
        if kind == "pid" and rest.isdigit():
            pid = int(rest)
        elif kind in ("none:", "error:"):
            why = rest
            if kind == "error:":
                return pid, why, True
    if pid is not None and "ok" not in text.splitlines():
        return pid, "the namespace's first process ended before it was ready", True
    return pid, why if pid is None else "", False


__all__ = ["CLONE_NEWPID", "EXIT_NO_PID_NAMESPACE", "become_subreaper", "parse_report", "probe",
           "split"]
