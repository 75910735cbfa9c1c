"""One running check worker, seen from the grader: a request pipe, a reply pipe, a process group.

`WorkerProcess.exchange(bodies, timeout)` streams requests (JSON object texts, see the protocol
in `worker.py`) and yields their replies in order; every way the worker can fail while doing so
(no reply in time, the process ended, a reply that is not one) kills its process group and raises
`WorkerLost` with the reason as a field and a sentence for the student. Hosts (`hosts.py`) make
these; `grader.checks.session` uses them.
"""
from __future__ import annotations

import os
import select
import subprocess
import time
from pathlib import Path
from typing import Iterator

from . import codec
from .clock import StarvationClock
from .errors import LostReason, WorkerLost
from .logs import log_head, log_tail
from .process import GONE_TIMEOUT, kill_group, open_pidfd, wait_pidfd

MAX_REPLY_BYTES = 64 * 1024 * 1024


def open_pipes() -> tuple[int, int, int, int]:
    """(request read end, request write end, reply read end, reply write end)."""
    req_r, req_w = os.pipe()
    rep_r, rep_w = os.pipe()
    return req_r, req_w, rep_r, rep_w


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
        # a forked worker is not our child: its pidfd tells when it (with a PID namespace of its
        # own: everything it started) is gone
        self._pidfd = open_pidfd(pid) if popen is None else None

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
            line = self._read_line(timeout)
            try:
                reply = codec.decode(line)
            except codec.CodecError as exc:
                self.kill()
                raise WorkerLost(LostReason.PROTOCOL,
                                 f"the worker sent an unreadable reply ({exc})") from None
            if not isinstance(reply, dict) or reply.get("id") != first + offset:
                self.kill()
                raise WorkerLost(LostReason.PROTOCOL,
                                 "the worker sent a reply that does not match the request")
            yield reply

    def _read_line(self, timeout: float) -> bytes:
        """The next reply line, writing pending requests while waiting for it, within `timeout`
        seconds of the wall clock; but a worker that waited for a CPU more than half of the
        last quarter of that time (a busy machine) gets quarters more, up to LOAD_ALLOWANCE
        times `timeout` (`StarvationClock`), so a verdict does not depend on the load."""
        clock = StarvationClock(self.pid, timeout)
        while True:
            newline = self._buffer.find(b"\n")
            if newline >= 0:
                line = bytes(self._buffer[:newline])
                del self._buffer[:newline + 1]
                return line
            remaining = clock.remaining()
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
                raise WorkerLost(LostReason.PROTOCOL, "the reply was larger than "
                                 f"{MAX_REPLY_BYTES // 2**20} MiB")

    def _lost_timeout(self) -> WorkerLost:
        self.kill()
        return WorkerLost(LostReason.TIMEOUT, "it did not finish in time and was stopped")

    def _lost_died(self) -> WorkerLost:
        status = self.kill()
        if status is None:
            how = "the Python process running your code ended unexpectedly"
        elif status < 0:
            how = f"the Python process running your code was killed by signal {-status}"
        else:
            how = f"the Python process running your code exited with code {status}"
        tail = self.log_tail()
        return WorkerLost(LostReason.DIED, how + (f" (last output: {tail})" if tail else ""))

    def log_head(self, lines: int = 5, limit: int = 600) -> str:
        """The first lines of the worker's log, joined by ' | ' (what a failed start said)."""
        return log_head(self.log_path, lines, limit)

    def log_tail(self, lines: int = 3, limit: int = 300) -> str:
        """The last lines of the worker's log, joined by ' | ' (what it said before it ended)."""
        return log_tail(self.log_path, lines, limit)

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
            if self._pidfd is not None:
                wait_pidfd(self._pidfd, GONE_TIMEOUT)
                os.close(self._pidfd)
                self._pidfd = None
        if self.popen is not None:
            try:
                return self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                return None
        return None
