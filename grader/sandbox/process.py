"""Start student-code processes sandboxed and with limits; kill them with everything they started.

Every process that runs student code (notebook kernel, check worker or fork server, federated
client) is started through `sandboxed_command` / `spawn`, so limits, namespaces, the scrubbed
environment (the caller passes the complete environment) and the process group are the same
everywhere and no caller re-implements that plumbing. See `launch.py` and `namespaces.py` for what
happens in the new process, and the README (Running untrusted code) for what is isolated on which platform.

Grader-side API:

* `Limits`: resource limits and isolation settings of one sandbox (JSON-able, picklable).
* `sandboxed_command(argv, limits)` / `spawn(argv, cwd=, env=, limits=)`.
* `kill_group(pid)`: SIGKILL a process group; for a sandbox's launcher also every other process
  of the sandbox (children that left the group with `setsid`). `kill_strays(pid)`: everything of
  the sandbox but its launcher (between two submissions served by one fork server).
* `log_head(path)`: the first lines of a process's log, for messages about a failed start.
* `describe_error(ename, evalue)`: an exception's text, naming the memory limit when it was hit.
* `isolation_status()` / `network_isolation_available()`: what this machine allows (probed once).
* `SharedNetwork`: one loopback for several sandboxes (the federated round's aggregator and
  clients): `with SharedNetwork() as net: spawn(..., limits=net.limits(base))`.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from . import namespaces

LAUNCHER = Path(__file__).with_name("launch.py")
GRADER_PACKAGE = Path(__file__).resolve().parent.parent
PROJECT_ROOT = GRADER_PACKAGE.parent
GiB = 1024 ** 3
MiB = 1024 ** 2
ISOLATION_MODES = ("auto", "require", "off")


@dataclass(frozen=True)
class Limits:
    """Resource limits and isolation of one sandbox (a student process and all it forks).

    `memory_bytes` is RLIMIT_DATA (heap and private anonymous memory, per process): torch and
    CUDA reserve far more address space than they use, so RLIMIT_AS (`address_space_bytes`, off
    by default) cannot be 4 GiB with the course stack (see the README, Running untrusted code). `max_processes` is
    RLIMIT_NPROC counted per sandbox (threads count too); it only applies where the sandbox has its
    own user namespace. `isolation`: "auto" (namespaces where the platform allows them), "require"
    (refuse to start without), "off". `hidden`: extra folders student code must not see (the
    output folder, the submissions); the grader's home, project tree and temp folder always are.
    `netns`: the token of a `SharedNetwork` to join instead of getting a loopback of its own.
    """

    memory_bytes: int | None = 4 * GiB
    cpu_seconds: int | None = 900
    file_size_bytes: int | None = 256 * MiB
    max_processes: int | None = 512
    open_files: int | None = 1024
    address_space_bytes: int | None = None
    isolation: str = "auto"
    hidden: tuple[str, ...] = ()
    netns: str | None = None

    def __post_init__(self) -> None:
        if self.isolation not in ISOLATION_MODES:
            raise ValueError(f"isolation must be one of {ISOLATION_MODES}, not {self.isolation!r}")
        object.__setattr__(self, "hidden", tuple(str(p) for p in self.hidden))

    def hiding(self, *paths: str | Path) -> Limits:
        """These limits, with `paths` hidden from student code as well."""
        return dataclasses.replace(self, hidden=self.hidden + tuple(str(p) for p in paths))


def default_hidden() -> list[str]:
    """Hidden from every sandbox: the grader's home, the project tree (reference, fixtures, .git,
    tests, a default `grades/`), the temporary folders (other submissions' run directories,
    whatever else lies there), and every top-level folder that is not part of the system
    (`/home`, `/srv`, `/mnt`, ...: other checkouts of the course, other users' files), so
    student code sees the system and what `default_keep` brings back, nothing else."""
    try:
        top = [entry.path for entry in os.scandir("/") if entry.is_dir(follow_symlinks=False)]
    except OSError:
        top = []
    return [os.path.expanduser("~"), str(PROJECT_ROOT), tempfile.gettempdir(), "/tmp", "/var/tmp",
            *top]


def default_keep() -> list[str]:
    """Readable although inside a hidden folder: the grader package (the course site, the worker
    script) and the Python installation."""
    return [str(GRADER_PACKAGE), sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix,
            os.path.dirname(os.path.realpath(sys.executable))]


NEVER_HIDDEN = frozenset({"/", "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/opt",
                          "/proc", "/run", "/sbin", "/sys", "/usr", "/var"})


def batch_hidden(out_dir: Path, inputs: list[Path]) -> tuple[str, ...]:
    """What a batch hides besides the defaults: its output folder and the folders it reads
    submissions from (each student sees no one's notebook, not even their own)."""
    folders = [Path(out_dir)] + [Path(p) if Path(p).is_dir() else Path(p).parent for p in inputs]
    return tuple(sorted({str(f.resolve()) for f in folders}))


def sandbox_plan(limits: Limits) -> dict:
    """What `launch.py` gets: rlimits, isolation mode, folders to hide and keep (real paths), the
    kept paths as named when they go through symlinks (`links`), a holder to join."""
    plan = {f.name: getattr(limits, f.name) for f in dataclasses.fields(Limits)
            if f.name not in ("hidden", "netns")}
    hidden = {os.path.realpath(p) for p in default_hidden() + list(limits.hidden)}
    plan["hidden"] = sorted(h for h in hidden if h not in NEVER_HIDDEN)
    plan["keep"] = sorted({os.path.realpath(p) for p in default_keep()})
    # ... and as the processes name them: links on the way are made again inside (namespaces.py)
    plan["links"] = sorted({os.path.abspath(p) for p in default_keep()} - set(plan["keep"]))
    if limits.netns:
        pid, user, net = (int(x) for x in limits.netns.split(":"))
        plan["join"] = {"pid": pid, "user": user, "net": net}
    return plan


def sandboxed_command(argv: list[str], limits: Limits) -> list[str]:
    """`argv` wrapped by the launcher that sandboxes it, applies `limits` and starts a session."""
    return [sys.executable, "-I", str(LAUNCHER), json.dumps(sandbox_plan(limits)), "--", *argv]


def spawn(argv: list[str], *, cwd: Path, env: dict[str, str], limits: Limits,
          **popen_kwargs) -> subprocess.Popen:
    """Start `argv` sandboxed, as the leader of its own process group, with exactly `env`."""
    return subprocess.Popen(sandboxed_command(argv, limits), cwd=cwd, env=env,
                            start_new_session=True, **popen_kwargs)


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
    deadline = time.monotonic() + settle
    while members:
        for member in members:
            try:
                os.kill(member, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if time.monotonic() > deadline:
            break
        time.sleep(0.01)
        members = [p for p in sandbox_members(pid, _ns=_USER_NS_OF.get(pid)) if _alive(p)]
    _USER_NS_OF.pop(pid, None)


def kill_strays(pid: int, *, settle: float = 2.0) -> int:
    """SIGKILL every process of the sandbox launched as `pid` except `pid` itself: what a
    submission left behind in a long-lived sandbox (a fork server that forks kernels and
    workers for one submission after another). Call it between submissions. Returns how many
    there were, once they are dead (or `settle` seconds passed)."""
    strays = [p for p in sandbox_members(pid) if p != pid and _alive(p)]
    found = len(strays)
    deadline = time.monotonic() + settle
    while strays:
        for stray in strays:
            try:
                os.kill(stray, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if time.monotonic() > deadline:
            break
        time.sleep(0.01)
        strays = [p for p in sandbox_members(pid, _ns=_USER_NS_OF.get(pid)) if p != pid and _alive(p)]
    _USER_NS_OF.pop(pid, None)
    return found


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


_SHARED_USER_NAMESPACES: set[int] = set()  # inodes of SharedNetwork namespaces (swept on close)
_USER_NS_OF: dict[int, int] = {}  # launcher pid -> its user namespace, while a sweep runs
NS_GET_PARENT = 0xB702


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
        uid = namespaces.UID_BASE + pid
        return [p for p in _proc_pids() if p != me and _status_field(p, "Uid:") == uid]
    ns = _ns or _user_ns(pid)
    if ns is None or ns == _user_ns(me) or ns in _SHARED_USER_NAMESPACES:
        return []
    if _ns is None:
        parent = _status_field(pid, "PPid:")
        if parent is not None and _user_ns(parent) == ns:
            return []  # forked inside the sandbox: not its launcher
        _USER_NS_OF[pid] = ns
    return [p for p in _proc_pids() if p != me and _in_user_ns(p, ns)]


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


# --- what this machine allows --------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def isolation_status() -> dict:
    """Set a sandbox up once in a throwaway process and report what holds. Keys: `isolated`
    (user + network + mount namespace), `reason` (why not), `interfaces`, `loopback_up`,
    `read_only`, `process_limit` (RLIMIT_NPROC enforced per sandbox), `platform`, `uid`."""
    with tempfile.TemporaryDirectory(prefix="grader-probe-") as work:
        command = [sys.executable, "-I", str(LAUNCHER), "--probe",
                   json.dumps(sandbox_plan(Limits()))]
        try:
            done = subprocess.run(command, cwd=work, env={"PATH": os.defpath, "HOME": work},
                                  capture_output=True, text=True, timeout=60)
            report = json.loads(done.stdout.strip().splitlines()[-1])
        except (OSError, subprocess.SubprocessError, ValueError, IndexError) as exc:
            report = {"isolated": False, "reason": f"the sandbox probe failed: {exc}",
                      "platform": sys.platform}
    report["process_limit"] = bool(report.get("isolated"))
    return report


def network_isolation_available() -> tuple[bool, str]:
    """(True, "") when student processes get a network namespace with only loopback, else
    (False, the reason): then student code can reach the network like any process of the grader."""
    report = isolation_status()
    if report.get("isolated") and report.get("interfaces") == ["lo"]:
        return True, ""
    return False, report.get("reason") or f"unexpected interfaces {report.get('interfaces')}"


# --- one loopback for several sandboxes -----------------------------------------------------------


class SharedNetwork:
    """A user + network namespace held open by a small process, for sandboxes that must reach
    each other over 127.0.0.1 and nothing else (the federated round: aggregator and clients).

        with SharedNetwork() as net:
            agg = spawn(argv, cwd=..., env=..., limits=net.limits(base))
            ...   # kernels: execute(..., limits=net.limits(base))

    Every process started with `net.limits(...)` joins the holder's namespaces (its own mount
    namespace and limits as usual); RLIMIT_NPROC then counts all of them together. Where
    isolation is unavailable (`isolated` is False, `reason` says why), `limits()` returns the
    limits unchanged and the processes share the machine's loopback as before. `close()` kills
    every process still in the namespace, then the holder.
    """

    def __init__(self, isolation: str = "auto", timeout: float = 30.0) -> None:
        self.isolation = isolation
        self.timeout = timeout
        self.token: str | None = None
        self.reason = ""
        self._holder: subprocess.Popen | None = None
        self._user_ns: int | None = None

    @property
    def isolated(self) -> bool:
        return self.token is not None

    def start(self) -> SharedNetwork:
        if self._holder is not None or self.isolation == "off":
            if self.isolation == "off":
                self.reason = "isolation is off"
            return self
        command = [sys.executable, "-I", str(LAUNCHER), "--hold", json.dumps({})]
        self._holder = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, start_new_session=True,
                                        env={"PATH": os.defpath}, cwd="/")
        line = _read_line(self._holder, self.timeout)
        try:
            info = json.loads(line)
            self.token = f"{info['pid']}:{info['user']}:{info['net']}"
            self._user_ns = int(info["user"])
            _SHARED_USER_NAMESPACES.add(self._user_ns)
        except (ValueError, KeyError, TypeError):
            error = ""
            if self._holder.poll() is not None:
                error = self._holder.stderr.read().decode(errors="replace").strip().splitlines()
                error = error[-1] if error else ""
            self.close()
            self.reason = f"no shared network namespace here: {error or 'the holder did not start'}"
            if self.isolation == "require":
                raise OSError(self.reason)
        return self

    def limits(self, base: Limits) -> Limits:
        """`base` joined to this namespace (unchanged when there is none)."""
        return dataclasses.replace(base, netns=self.token) if self.token else base

    def close(self) -> None:
        holder, self._holder = self._holder, None
        if holder is None:
            return
        ns, self._user_ns = self._user_ns, None
        self.token = None
        if ns is not None:
            _SHARED_USER_NAMESPACES.discard(ns)
        for stream in (holder.stdin, holder.stdout, holder.stderr):
            try:
                stream.close()
            except OSError:
                pass
        # the holder is the namespace's launcher: every process that joined, and whatever they
        # started, is swept with it (by the namespace's kernel uid, or its inode for non-root)
        kill_group(holder.pid, settle=5.0)
        try:
            holder.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass

    def __enter__(self) -> SharedNetwork:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def _read_line(proc: subprocess.Popen, timeout: float) -> str:
    import select

    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    return proc.stdout.readline().decode(errors="replace") if ready else ""
