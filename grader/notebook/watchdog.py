"""Find a kernel that stopped answering while a cell runs, in seconds instead of at the 900 s limit.

A kernel frozen by the system (stopped, swapped out, deadlocked in its I/O threads: "IOStream.flush
timed out" under heavy load) looks like a long cell to nbclient, which waits for the notebook's
limit and charges the student a failed `notebook_runs`. `Watchdog.watch()` runs beside the cells:
while a cell runs, it sends a `kernel_info_request` on the control channel every fifth of the
bound. An ipykernel answers those from its own thread, also while the student's code computes,
and publishes a status message for each on IOPub. The kernel has stalled when, for `bound`
seconds of a running cell,

* no control reply came (the process is stopped or its threads are stuck), or
* no IOPub message of any kind came (its output thread is stuck: nothing the cell prints would
  arrive either).

A student's long computation is no stall: the control thread answers (Python switches threads
every few milliseconds, and numpy and torch release the lock while they compute), and a kernel
whose processes ran or waited for a CPU for a tenth of the bound since the last probe
(`group_schedstat`: a C call that holds the interpreter's lock for minutes, a busy machine)
counts as answering. `execute` then kills the kernel and runs the notebook again on a fresh one;
a second stall is a grader fault.

`cell_timer` is a cell's own time limit, on the same kind of load-aware clock.
"""
from __future__ import annotations

import asyncio
import time
from queue import Empty

from jupyter_core.utils import ensure_async

from ..sandbox.clock import StarvationClock, group_schedstat

PROBES_PER_BOUND = 5


class Watchdog:
    """Watches one started kernel client (`nbclient.NotebookClient.kc`); see the module."""

    def __init__(self, kc, bound: float, pgid: int | None = None) -> None:
        self.kc = kc
        self.bound = bound
        self.pgid = pgid  # the kernel's process group: its CPU time says it is computing
        self.cell_running = False
        self.last_control = self.last_iopub = time.monotonic()
        self._activity = self._active_ns()
        self._wrap_iopub()

    def _active_ns(self) -> int:
        return sum(group_schedstat(self.pgid)) if self.pgid else 0

    def _note_activity(self, seconds: float) -> None:
        """A kernel that ran or waited for a CPU for a tenth of `seconds` is alive."""
        now_active = self._active_ns()
        if (now_active - self._activity) / 1e9 > seconds / 10:
            self.last_control = self.last_iopub = time.monotonic()
        self._activity = now_active

    def _wrap_iopub(self) -> None:
        """Note the time of every IOPub message nbclient reads (whatever cell it is for)."""
        channel = self.kc.iopub_channel
        get_msg = channel.get_msg

        async def noting_get_msg(*args, **kwargs):
            message = await get_msg(*args, **kwargs)
            self.last_iopub = time.monotonic()
            return message

        channel.get_msg = noting_get_msg

    def cell_started(self) -> None:
        self.last_control = self.last_iopub = time.monotonic()
        self.cell_running = True

    def cell_ended(self) -> None:
        self.cell_running = False

    def stalled(self) -> str | None:
        """Why the kernel counts as stalled now (None: it does not)."""
        if not self.cell_running:
            return None
        now = time.monotonic()
        if now - self.last_control > self.bound:
            return f"the kernel stopped answering (no reply for {self.bound:g} s while a cell ran)"
        if now - self.last_iopub > self.bound:
            return (f"the kernel's output channel stopped (no message for {self.bound:g} s while "
                    f"a cell ran)")
        return None

    async def watch(self) -> str:
        """Probe until the kernel stalls; returns why (cancel the task to stop watching)."""
        interval = max(0.2, self.bound / PROBES_PER_BOUND)
        control = self.kc.control_channel
        while True:
            if self.cell_running:
                control.send(self.kc.session.msg("kernel_info_request"))
            deadline = time.monotonic() + interval
            while (left := deadline - time.monotonic()) > 0:
                try:
                    await control.get_msg(timeout=left)
                except Empty:
                    break
                self.last_control = time.monotonic()
            if self.cell_running:
                self._note_activity(interval)
            why = self.stalled()
            if why:
                return why
            await asyncio.sleep(0)


async def cell_timer(km, timeout: float, pgid: int | None, fired: list[bool]) -> None:
    """Interrupt the kernel of manager `km` after `timeout` seconds of the cell (and again after
    each further `timeout`), counted on a clock that stretches while the kernel's process group
    `pgid` waits for a CPU (`sandbox.clock`): a busy machine does not time a cell out. Appends
    to `fired` each time."""
    while True:
        clock = StarvationClock(pgid, timeout) if pgid else None
        end = time.monotonic() + timeout
        while (left := clock.remaining() if clock else end - time.monotonic()) > 0:
            await asyncio.sleep(left)
        fired.append(True)
        await ensure_async(km.interrupt_kernel())
