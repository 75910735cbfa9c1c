"""One check's view of a worker: load the program, answer probe calls, survive losses.

A `Session` loads the check's program into a worker started by a `grader.sandbox.hosts.Host`,
answers probe calls (memoized per input, so Hypothesis may replay an input for free; `prefetch`
makes a whole exam's calls in one pipelined stream ahead of judging them), and turns every way a
worker can fail into a `WorkerLost` (`grader.sandbox.errors`) carrying its reason and a sentence
for the student. After a loss it starts a fresh worker for the next input, a bounded number of
times. A worker that fails before its hand-shake ran no student code: `LaunchError`, a grader
fault.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.options import option
from grader.sandbox import codec
from grader.sandbox.errors import HarnessError, LaunchError, LostReason, WorkerLost
from grader.sandbox.fork_server import work_dir
from grader.sandbox.hosts import Host
from grader.sandbox.worker_process import WorkerProcess

LOG_NAME = "worker.log"


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


def _exit_words(detail: str) -> str:
    """A lost worker's detail in the instructor's words (no student ran anything yet)."""
    return detail.replace("the Python process running your code", "the worker process")


@dataclass
class Session:
    """One check's worker: program loading, memoized probe calls, timeouts, restarts."""

    host: Host
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
            raise known.again()
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
            raise self._broken.again()
        if self._worker is not None:
            return self._worker
        if self.restarts > self.max_restarts:
            self._broken = WorkerLost(LostReason.GAVE_UP, "your code stopped the worker too many "
                                      "times, so the remaining inputs were not tried")
            raise self._broken.again()
        worker = self.host.start(work_dir(self.run_dir), self.env, self.run_dir / LOG_NAME,
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
            what = ("did not finish in time" if lost.reason is LostReason.TIMEOUT
                    else f"failed: {lost.detail}")
            self._broken = WorkerLost(lost.reason, f"loading your definitions {what}")
            raise self._broken.again() from None
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
