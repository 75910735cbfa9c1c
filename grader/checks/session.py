"""The grader's side of a check worker: start it, send requests, wait with timeouts, kill it.

A `WorkerHost` starts worker processes (`grader/sandbox/worker.py`), always sandboxed through
`grader.sandbox.process.spawn`:

* `FreshHost` spawns a new interpreter per worker (simple; every worker pays its own imports);
* `ForkServerHost` spawns one fork server that imports the course stack once (torch, torchvision,
  imgaug, Plato) and forks a worker per check. Student code runs only in the forked workers, each
  the leader of its own process group, so isolation is the same as with fresh workers.

A `Session` is one check's view: it loads the check's program into a worker, answers probe calls
(memoized per input, so Hypothesis may replay an input for free; `prefetch` makes a whole exam's
calls in one pipelined stream ahead of judging them), and turns every way a worker can fail into a
`WorkerLost` carrying a sentence for the student. After a loss it starts a fresh
worker for the next input, a bounded number of times.
"""
from __future__ import annotations

import json
import math
import os
import select
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from grader.options import default, option
from grader.sandbox import codec
from grader.sandbox.process import Limits, kill_group, kill_strays, log_head, spawn

WORKER = Path(__file__).resolve().parent.parent / "sandbox" / "worker.py"
MAX_REPLY_BYTES = 64 * 1024 * 1024
LOG_NAME = "worker.log"

RunDirFactory = Callable[[], "tuple[Path, dict[str, str]]"]


class WorkerLost(BaseException):
    """The worker stopped answering: it timed out, died, or sent something that is not a reply.

    A BaseException on purpose: it must abort a running Hypothesis search instead of being
    treated as a failing example to shrink (every later call would hit the same dead worker).
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason  # "timeout" | "died" | "protocol" | "gave_up"
        self.detail = detail


class HarnessError(Exception):
    """The grader's own machinery failed (not the student's code): the check's status is error."""


class LaunchError(HarnessError):
    """A worker could not start or hand-shake (before any student code ran): a grader fault.
    `log` holds the first lines of the worker's log (what the launcher or Python said)."""

    def __init__(self, message: str, log: str = "") -> None:
        super().__init__(message + (f"; its log begins: {log}" if log else ""))
        self.log = log


@dataclass(frozen=True)
class StudentError:
    """An exception raised by student code, as the worker reported it."""

    type: str
    message: str
    traceback: tuple[str, ...] = ()

    @classmethod
    def from_plain(cls, data: dict) -> StudentError:
        return cls(str(data.get("type", "Exception")), str(data.get("message", "")),
                   tuple(str(line) for line in data.get("traceback", ())))

    @property
    def where(self) -> str:
        """'cell abc, line 9, in f' of the innermost student frame, or ''."""
        frames = [line for line in self.traceback if not line.startswith("    ")]
        return frames[-1] if frames else ""


@dataclass
class Reply:
    value: Any = None
    error: StudentError | None = None


@dataclass
class LoadError:
    cell_id: str
    line: int
    error: StudentError


# --- worker processes -------------------------------------------------------------------------


class WorkerProcess:
    """One running worker: a request pipe to write, a reply pipe to read, a process group."""

    def __init__(self, pid: int, requests_fd: int, replies_fd: int, log_path: Path,
                 popen: subprocess.Popen | None = None) -> None:
        self.pid = pid
        self.requests_fd = requests_fd
        self.replies_fd = replies_fd
        self.log_path = log_path
        self.popen = popen
        self._buffer = bytearray()
        self._next_id = 0
        self._outgoing = memoryview(b"")  # requests not yet written
        self.closed = False
        os.set_blocking(requests_fd, False)

    def request(self, message: dict, timeout: float) -> dict:
        """Send one request and wait for its reply; WorkerLost on timeout, death or garbage."""
        return next(self.exchange([codec.encode(message)], timeout))

    def exchange(self, bodies: list[str], timeout: float) -> Iterator[dict]:
        """Send the requests (JSON object texts) and yield their replies, in order.

        The worker answers each request while later ones are still being written, so many
        inputs cost one stream instead of a round trip each. Every reply must come within
        `timeout` of the previous one (a request's own time limit): WorkerLost otherwise.
        """
        first = self._next_id + 1
        self._next_id += len(bodies)
        self._outgoing = memoryview(b"".join(
            ('{"id":%d,%s\n' % (first + offset, body[1:])).encode("ascii")
            for offset, body in enumerate(bodies)))
        for offset in range(len(bodies)):
            line = self._read_line(time.monotonic() + timeout)
            try:
                reply = codec.decode(line)
            except codec.CodecError as exc:
                self.kill()
                raise WorkerLost("protocol", f"the worker sent an unreadable reply ({exc})") from None
            if not isinstance(reply, dict) or reply.get("id") != first + offset:
                self.kill()
                raise WorkerLost("protocol", "the worker sent a reply that does not match the request")
            yield reply

    def _read_line(self, deadline: float) -> bytes:
        """The next reply line, writing pending requests while waiting for it."""
        while True:
            newline = self._buffer.find(b"\n")
            if newline >= 0:
                line = bytes(self._buffer[:newline])
                del self._buffer[:newline + 1]
                return line
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._lost_timeout()
            sending = [self.requests_fd] if self._outgoing else []
            readable, writable, _ = select.select([self.replies_fd], sending, [], remaining)
            if writable:
                try:
                    written = os.write(self.requests_fd, self._outgoing)
                except BlockingIOError:
                    written = 0
                except OSError:  # BrokenPipeError & co.: the worker is gone
                    raise self._lost_died() from None
                self._outgoing = self._outgoing[written:]
            if not readable:
                continue
            chunk = os.read(self.replies_fd, 1 << 20)
            if not chunk:
                raise self._lost_died()
            self._buffer += chunk
            if len(self._buffer) > MAX_REPLY_BYTES:
                self.kill()
                raise WorkerLost("protocol", "the reply was larger than "
                                 f"{MAX_REPLY_BYTES // 2**20} MiB")

    def _lost_timeout(self) -> WorkerLost:
        self.kill()
        return WorkerLost("timeout", "it did not finish in time and was stopped")

    def _lost_died(self) -> WorkerLost:
        status = self.kill()
        if status is None:
            how = "the Python process running your code ended unexpectedly"
        elif status < 0:
            how = f"the Python process running your code was killed by signal {-status}"
        else:
            how = f"the Python process running your code exited with code {status}"
        tail = self.log_tail()
        return WorkerLost("died", how + (f" (last output: {tail})" if tail else ""))

    def log_head(self, lines: int = 5, limit: int = 600) -> str:
        """The first lines of the worker's log, joined by ' | ' (what a failed start said)."""
        return log_head(self.log_path, lines, limit)

    def log_tail(self, lines: int = 3, limit: int = 300) -> str:
        try:
            with open(self.log_path, "rb") as handle:
                handle.seek(0, os.SEEK_END)
                size = handle.tell()
                handle.seek(max(0, size - 4096))
                text = handle.read().decode("utf-8", "replace")
        except OSError:
            return ""
        last = [line.strip() for line in text.strip().splitlines()[-lines:] if line.strip()]
        tail = " | ".join(last)
        return tail[-limit:]

    def kill(self) -> int | None:
        """SIGKILL the worker's process group; returns the exit status when it is known."""
        if not self.closed:
            self.closed = True
            kill_group(self.pid)
            try:
                os.kill(self.pid, 9)  # a forked worker killed before its setsid()
            except (ProcessLookupError, PermissionError):
                pass
            for fd in (self.requests_fd, self.replies_fd):
                try:
                    os.close(fd)
                except OSError:
                    pass
        if self.popen is not None:
            try:
                return self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                return None
        return None


class WorkerHost:
    """Starts worker processes; `close()` stops anything it keeps running."""

    def __init__(self, site_dir: Path, limits: Limits) -> None:
        self.site_dir = Path(site_dir)
        self.limits = limits
        self.launch_failures = 0  # workers that could not start or hand-shake (LaunchError)

    def start(self, cwd: Path, env: dict[str, str], log_path: Path, *,
              needs_stack: bool = True) -> WorkerProcess:
        """A new worker in `cwd` with `env`, its output going to `log_path`. `needs_stack`:
        the check imports the course stack (a hint for hosts that preload it)."""
        raise NotImplementedError

    def begin(self) -> None:
        """Start any slow setup in the background (optional)."""

    def close(self) -> None:
        pass

    def __enter__(self) -> WorkerHost:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _pipes() -> tuple[int, int, int, int]:
    req_r, req_w = os.pipe()
    rep_r, rep_w = os.pipe()
    return req_r, req_w, rep_r, rep_w


class FreshHost(WorkerHost):
    """A new sandboxed interpreter per worker."""

    def start(self, cwd: Path, env: dict[str, str], log_path: Path, *,
              needs_stack: bool = True) -> WorkerProcess:
        req_r, req_w, rep_r, rep_w = _pipes()
        argv = [sys.executable, "-I", str(WORKER), "--site", str(self.site_dir),
                "--requests", str(req_r), "--replies", str(rep_w)]
        try:
            with open(log_path, "ab") as log:
                popen = spawn(argv, cwd=cwd, env=env, limits=self.limits, stdin=subprocess.DEVNULL,
                              stdout=log, stderr=subprocess.STDOUT, pass_fds=(req_r, rep_w))
        except BaseException:
            for fd in (req_r, req_w, rep_r, rep_w):
                os.close(fd)
            raise
        os.close(req_r)
        os.close(rep_w)
        return WorkerProcess(popen.pid, req_w, rep_r, log_path, popen)


class ForkServerHost(WorkerHost):
    """One sandboxed fork server that has imported `preload`; forks a fresh worker per start.

    The server runs in a run directory from `run_dir_factory`; `begin()` spawns it without
    waiting (else the first `start` does), and a server that died is restarted once. If it cannot
    be started at all, `fallback` (fresh workers) takes over. Close the host to stop it. Not
    thread-safe: one host per grading thread.
    """

    def __init__(self, site_dir: Path, limits: Limits, run_dir_factory: RunDirFactory,
                 preload: tuple[str, ...], startup_timeout: float = default("load_timeout"),
                 fallback: WorkerHost | None = None) -> None:
        super().__init__(site_dir, limits)
        self.run_dir_factory = run_dir_factory
        self.preload = tuple(preload)
        self.startup_timeout = startup_timeout
        self.fallback = fallback  # used (for good) when the server cannot be started
        self.failure: str | None = None
        self._server: subprocess.Popen | None = None
        self._control: socket.socket | None = None
        self._began = 0.0
        self.ready = False  # the server has said hello (its imports are done)
        self.startup_seconds = 0.0
        self.log_path: Path | None = None  # the server's log (what a failed start said)

    def _failed(self, exc: BaseException) -> str:
        """`failure`'s text: the exception and the first lines of the server's log."""
        head = log_head(self.log_path) if self.log_path is not None else ""
        return f"{type(exc).__name__}: {exc}" + (f"; its log begins: {head}" if head else "")

    def begin(self) -> None:
        """Spawn the server without waiting for its imports (checks without the course stack
        run on fresh workers meanwhile)."""
        if self._control is not None or self.failure is not None:
            return
        ours = theirs = None
        try:
            run_dir, env = self.run_dir_factory()
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            argv = [sys.executable, "-I", str(WORKER), "--site", str(self.site_dir),
                    "--fork-server", str(theirs.fileno()), "--preload", ",".join(self.preload),
                    "--parent", str(os.getpid())]
            self._began = time.monotonic()
            self.log_path = Path(run_dir) / "fork-server.log"
            with open(self.log_path, "ab") as log:
                self._server = spawn(argv, cwd=_work_dir(run_dir), env=env, limits=self.limits,
                                     stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=subprocess.STDOUT, pass_fds=(theirs.fileno(),))
        except (OSError, ValueError) as exc:
            if ours is not None:
                ours.close()
            self.close()
            self.failure = f"{type(exc).__name__}: {exc}"
            return
        finally:
            if theirs is not None:
                theirs.close()
        self._control = ours
        self.ready = False

    def _start_server(self) -> None:
        self.begin()
        if self._control is None:
            raise HarnessError(f"the check fork server could not be started: {self.failure}")
        remaining = self.startup_timeout - (time.monotonic() - self._began)
        hello = self._receive(max(remaining, 1.0))
        self.startup_seconds = time.monotonic() - self._began
        if not hello.get("ready"):
            self.close()
            raise HarnessError("the check fork server could not import the course environment: "
                               + "; ".join(hello.get("errors", [])))
        self.ready = True

    def _receive(self, timeout: float) -> dict:
        assert self._control is not None
        readable, _, _ = select.select([self._control], [], [], timeout)
        message = self._control.recv(1 << 16) if readable else b""
        if not message:
            self.close()
            raise HarnessError("the check fork server did not answer")
        return json.loads(message)

    def start(self, cwd: Path, env: dict[str, str], log_path: Path, *,
              needs_stack: bool = True) -> WorkerProcess:
        if not needs_stack and not self.ready and self.fallback is not None:
            return self.fallback.start(cwd, env, log_path)  # don't wait for the server's imports
        for attempt in range(2):  # a server that died since the last start gets one restart
            self.warm_up()
            if self.failure is not None:
                break
            try:
                return self._fork(cwd, env, log_path)
            except (OSError, HarnessError, ValueError) as exc:
                self.close()
                if attempt:
                    self.failure = self._failed(exc)
        if self.fallback is None:
            raise HarnessError(f"the check fork server failed: {self.failure}")
        return self.fallback.start(cwd, env, log_path, needs_stack=needs_stack)

    def warm_up(self) -> float:
        """Wait until the server has imported the course stack; returns the seconds waited. A
        server that cannot start sets `failure` (callers then start processes the usual way)."""
        if self.ready or self.failure is not None:
            return 0.0
        began = time.monotonic()
        try:
            self._start_server()
        except (OSError, HarnessError, ValueError) as exc:
            self.close()
            self.failure = self._failed(exc)
        return time.monotonic() - began

    def fork_kernel(self, cwd: Path, env: dict[str, str], connection_file: Path,
                    log_path: Path) -> int:
        """Fork an IPython kernel (course stack already imported) and return its pid.

        A server that died since the last fork (a submission's process may kill it: it is in
        the same sandbox) is restarted once, as for workers; when that fails, HarnessError or
        OSError: the kernel could not start, a grader fault (`notebook.execute`).
        """
        for attempt in range(2):
            if self.failure is not None:
                raise HarnessError(f"the fork server is not available: {self.failure}")
            if not self.ready:
                self._start_server()
            try:
                return self._fork_kernel(cwd, env, connection_file, log_path)
            except (OSError, HarnessError):
                self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _fork_kernel(self, cwd: Path, env: dict[str, str], connection_file: Path,
                     log_path: Path) -> int:
        log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            header = json.dumps({"kind": "kernel", "cwd": str(cwd), "env": env,
                                 "connection_file": str(connection_file)}).encode()
            socket.send_fds(self._control, [header], [log_fd])
            answer = self._receive(60.0)
        finally:
            os.close(log_fd)
        if "pid" not in answer:
            raise HarnessError(f"the fork server refused to fork a kernel: {answer}")
        return int(answer["pid"])

    def _fork(self, cwd: Path, env: dict[str, str], log_path: Path) -> WorkerProcess:
        req_r, req_w, rep_r, rep_w = _pipes()
        log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            header = json.dumps({"cwd": str(cwd), "env": env}).encode()
            socket.send_fds(self._control, [header], [req_r, rep_w, log_fd])
            answer = self._receive(60.0)
        except BaseException:
            os.close(req_w)
            os.close(rep_r)
            raise
        finally:
            for fd in (req_r, rep_w, log_fd):
                os.close(fd)
        if "pid" not in answer:
            os.close(req_w)
            os.close(rep_r)
            raise HarnessError(f"the check fork server refused: {answer}")
        return WorkerProcess(int(answer["pid"]), req_w, rep_r, log_path)

    def kill_strays(self) -> None:
        """Kill whatever a submission left running in the server's sandbox (a daemon that left
        its kernel's process group could watch the next submission): call between submissions."""
        if self._server is not None:
            kill_strays(self._server.pid)

    def close(self) -> None:
        if self.fallback is not None:
            self.fallback.close()
        if self._control is not None:
            self._control.close()
            self._control = None
        if self._server is not None:
            kill_group(self._server.pid)
            try:
                self._server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            self._server = None
        self.ready = False


def _exit_words(detail: str) -> str:
    """A lost worker's detail in the instructor's words (no student ran anything yet)."""
    return detail.replace("the Python process running your code", "the worker process")


def _work_dir(run_dir: Path) -> Path:
    """The worker's cwd: `run_dir/work` when the run directory has one (the course layout)."""
    work = Path(run_dir) / "work"
    return work if work.is_dir() else Path(run_dir)


# --- one check's session ----------------------------------------------------------------------


@dataclass
class Session:
    """One check's worker: program loading, memoized probe calls, timeouts, restarts."""

    host: WorkerHost
    program: list[dict]
    run_dir: Path
    env: dict[str, str]
    preload: tuple[str, ...] = ()
    call_timeout: float = option("call_timeout")
    load_timeout: float = option("load_timeout")
    max_restarts: int = option("max_restarts")
    load_errors: list[LoadError] = field(default_factory=list)
    calls: int = 0
    restarts: int = 0
    _worker: WorkerProcess | None = None
    _broken: WorkerLost | None = None
    _memo: dict[str, Any] = field(default_factory=dict)

    def call(self, probe: str, **args: Any) -> Reply:
        """Run `probe` on the student's program; the same arguments are answered from memory."""
        key = self._send([(probe, args)], until=math.inf)[0]
        known = self._memo[key]
        if isinstance(known, WorkerLost):
            raise WorkerLost(known.reason, known.detail)
        return known

    def prefetch(self, calls: list[tuple[str, dict]], until: float) -> None:
        """Make `calls` (probe, arguments) in one stream, in order, and remember the replies,
        so that `call` answers them from memory: one exchange instead of a round trip each.
        Stops at a lost worker (remembered for the input it was on, as `call` does) and drops
        the calls still queued once `until` (a time.monotonic()) has passed."""
        try:
            self._send(calls, until)
        except WorkerLost:
            pass  # the worker could not start: `call` raises it again for each input

    def _send(self, calls: list[tuple[str, dict]], until: float) -> list[str]:
        """Memo keys of `calls`, after making those that are not remembered yet."""
        keys, todo, bodies = [], {}, []  # todo: an insertion-ordered set
        for probe, args in calls:
            encoded = codec.encode(args)
            key = probe + ":" + encoded
            keys.append(key)
            if key not in self._memo and key not in todo:
                todo[key] = None
                bodies.append('{"op":"call","probe":%s,"args":%s}' % (json.dumps(probe), encoded))
        if not todo:
            return keys
        worker = self._ensure_worker()
        replies = worker.exchange(bodies, self.call_timeout)
        for key in todo:
            if time.monotonic() > until:
                self._worker = None
                worker.kill()  # its queue holds calls nobody waits for any more
                break
            self.calls += 1
            try:
                self._memo[key] = self._reply(next(replies))
            except WorkerLost as lost:
                self._lost(key, lost)
                break
        return keys

    def _lost(self, key: str, lost: WorkerLost) -> None:
        self._worker = None
        self.restarts += 1
        self._memo[key] = lost

    def _reply(self, reply: dict) -> Reply:
        if "harness_error" in reply:
            raise HarnessError(f"check worker: {reply['harness_error']}")
        if "error" in reply:
            return Reply(error=StudentError.from_plain(reply["error"]))
        return Reply(value=reply.get("ok"))

    def _ensure_worker(self) -> WorkerProcess:
        if self._broken is not None:
            raise WorkerLost(self._broken.reason, self._broken.detail)
        if self._worker is not None:
            return self._worker
        if self.restarts > self.max_restarts:
            self._broken = WorkerLost("gave_up", "your code stopped the worker too many times, "
                                      "so the remaining inputs were not tried")
            raise WorkerLost(self._broken.reason, self._broken.detail)
        worker = self.host.start(_work_dir(self.run_dir), self.env, self.run_dir / LOG_NAME,
                                 needs_stack=bool(self.preload))
        # The hand-shake and the program in one stream: what fails before the hand-shake's reply
        # (launcher, sandbox, interpreter, harness or course imports) ran no student code.
        replies = worker.exchange([codec.encode({"op": "hello", "preload": list(self.preload)}),
                                   codec.encode({"op": "load", "program": self.program})],
                                  self.load_timeout)
        try:
            hello = next(replies)
        except WorkerLost as lost:
            self.host.launch_failures += 1
            raise LaunchError(f"a check worker could not start ({lost.reason}: "
                              f"{_exit_words(lost.detail)})", worker.log_head()) from None
        if "harness_error" in hello:
            worker.kill()
            self.host.launch_failures += 1
            raise LaunchError("a check worker could not load the grader's harness: "
                              f"{hello['harness_error']}", worker.log_head())
        try:
            reply = next(replies)
        except WorkerLost as lost:
            what = ("did not finish in time" if lost.reason == "timeout"
                    else f"failed: {lost.detail}")
            detail = f"loading your definitions {what}"
            self._broken = WorkerLost(lost.reason, detail)
            raise WorkerLost(lost.reason, detail) from None
        if "harness_error" in reply:
            worker.kill()
            raise HarnessError(f"check worker could not load the program: {reply['harness_error']}")
        self.load_errors = [LoadError(e["cell_id"], e["line"], StudentError.from_plain(e["error"]))
                            for e in reply.get("ok", {}).get("errors", [])]
        self._worker = worker
        return worker

    @property
    def inputs_tried(self) -> int:
        """Distinct inputs the student's code was called with."""
        return len(self._memo)

    def close(self) -> None:
        if self._worker is not None:
            self._worker.kill()
            self._worker = None
