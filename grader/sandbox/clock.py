"""Time limits that do not depend on the machine's load: a wall clock that stretches while the
processes it times wait for a CPU (a busy machine), not while they compute or sleep.

* `StarvationClock(pgid, timeout).remaining()`: seconds left for process group `pgid`;
* `run_queue_ns(pgid)`: how long that group's processes have waited on a run queue;
  `group_schedstat(pgid)`: that and how long they ran (the watchdog: a computing kernel
  is no stalled one).

Used for check workers' calls (`worker_process`) and a kernel's start (`notebook.execute`).
"""
from __future__ import annotations

import os
import time

LOAD_ALLOWANCE = 6
"""A starved worker's wait stretches up to this many times its timeout (wall clock)."""


class StarvationClock:
    """A wall-clock timeout that stretches while the worker waits for a CPU, not for itself.

    At three quarters of the timeout it notes how long the worker's processes (its process
    group) have run and waited on a run queue (/proc/PID/schedstat: only then, so a fast
    reply costs nothing); at the end it compares: a worker that spent more than half of that
    quarter waiting for a CPU gets another quarter, and so on up to LOAD_ALLOWANCE times the
    timeout. A stuck or sleeping worker does not wait for a CPU and is stopped on time; on a busy
    machine a stuck one is stopped later, with the same verdict; a correct one finishes.
    """

    def __init__(self, pgid: int, timeout: float) -> None:
        self.pgid, self.timeout = pgid, timeout
        self.began = time.monotonic()
        self.quarter = max(timeout / 4, 0.05)
        self.deadline = self.began + timeout
        self.noted: tuple[float, int] | None = None  # (when, ns waited on a run queue)

    def remaining(self) -> float:
        """Seconds left (<= 0: time is up); may be less than the time left, to take a note."""
        now = time.monotonic()
        if self.noted is None and now >= self.deadline - self.quarter:
            self.noted = (now, run_queue_ns(self.pgid))
        if now >= self.deadline and self.noted is not None:
            when, waited = self.noted
            now_waited = run_queue_ns(self.pgid)
            starved = (now_waited - waited) / 1e9 > (now - when) / 2
            if starved and now - self.began < self.timeout * LOAD_ALLOWANCE:
                self.noted = (now, now_waited)
                self.deadline = now + self.quarter
        if self.noted is None:
            return self.deadline - self.quarter - now  # > 0, or the note was taken
        return self.deadline - now


def run_queue_ns(pgid: int) -> int:
    """Nanoseconds the processes of group `pgid` (their main threads) have waited on a run
    queue (0 where it cannot tell: then nothing stretches)."""
    return group_schedstat(pgid)[1]


def group_schedstat(pgid: int) -> tuple[int, int]:
    """(ns on a CPU, ns waiting on a run queue) of the main threads of the processes of group
    `pgid`, from /proc/PID/schedstat; (0, 0) where it cannot tell."""
    ran = waited = 0
    try:
        names = os.listdir("/proc")
    except OSError:
        return 0, 0
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                if int(handle.read().rsplit(b")", 1)[1].split()[2]) != pgid:
                    continue
            with open(f"/proc/{name}/schedstat", "rb") as handle:
                fields = handle.read().split()
            ran, waited = ran + int(fields[0]), waited + int(fields[1])
        except (OSError, IndexError, ValueError):
            continue
    return ran, waited
