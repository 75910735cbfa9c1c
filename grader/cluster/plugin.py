"""The warm grader each Dask worker holds: one fork server and one canary per worker.

`GraderPlugin(options)` is registered with the client; Dask runs `setup` on every worker that
joins (and on each worker a nanny restarts) and `teardown` when it leaves. Setup starts the
worker's `Grader` (its fork server warms up in the background) and grades the canary in a thread,
so a worker that joins ahead of the batch is ready when its first submission arrives. `grade`
serialises the submissions of one worker (one warm grader grades one notebook at a time, whatever
`--nthreads` the worker has) and raises `GraderBroken` when the canary failed: the client then
stops the batch, as a failed canary in the process pool does. Setup also slows Dask's own
periodic work on the worker to `HOUSEKEEPING` (`slow_housekeeping`): it costs grading CPU.

When the client started the cluster itself (`local:N`), the worker ends with the client's
process (within `CLIENT_WATCH` seconds), as the pool's processes do, so a killed client leaves no
worker.
"""
from __future__ import annotations

import asyncio
import os
import threading
import time
import warnings
from pathlib import Path

from ..batch import Job, grade_one
from ..canary import Canary, GraderBroken
from ..pipeline import Grader, Options
from ..results.model import SubmissionResult
from .connection import HOUSEKEEPING, import_distributed

distributed = import_distributed()

NAME = "edge-ai-grader"
CLIENT_WATCH = 1.0
"""Seconds between a local worker's looks at its client."""


class GraderPlugin(distributed.WorkerPlugin):
    name = NAME

    def __init__(self, options: Options, client_pid: int | None = None) -> None:
        self.options = options
        self.client_pid = client_pid
        self.grader: Grader | None = None
        self.canary: Canary | None = None
        self.broken: GraderBroken | None = None
        self._lock = threading.Lock()
        self._first: threading.Thread | None = None
        self.address = "?"

    def __getstate__(self) -> dict:
        return {"options": self.options, "client_pid": self.client_pid}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["options"], state["client_pid"])

    async def setup(self, worker) -> None:
        """Start the grader in a thread: importing the grader and starting its fork server takes
        seconds, and the worker's event loop must keep answering the scheduler meanwhile."""
        self.address = worker.address
        slow_housekeeping(worker)
        if self.client_pid is not None:
            threading.Thread(target=self._end_with_client, name="grader-client-watch",
                             daemon=True).start()
        await asyncio.get_running_loop().run_in_executor(None, self._start)

    def _start(self) -> None:
        # Hypothesis checks that strategies leave the global `random` alone; the worker's own
        # threads (heartbeats) draw from it meanwhile, which is no student's and no check's doing.
        warnings.filterwarnings("ignore", message="Do not use the `random` module inside strategies")
        self.grader = Grader(self.options)
        self.canary = Canary(self.grader)
        self._first = threading.Thread(target=self._ensure, name="grader-canary", daemon=True)
        self._first.start()

    def state(self) -> dict:
        """What makes two plugins grade alike: the options (the rubric as read), the client."""
        rubric = self.options.rubric
        return {"options": self.options.__getstate__(), "client_pid": self.client_pid,
                "rubric": (sorted(rubric.points.items()), sorted(rubric.partial_credit.items()))}

    def _end_with_client(self) -> None:
        """Leave when the client that started this worker is gone (killed: nothing closed us).
        Polled: the parent-death signal of `batch._end_with` follows the parent's *thread*, and
        a LocalCluster starts and restarts its workers from short-lived threads. The fork server
        and all it forked end with this process."""
        while os.getppid() == self.client_pid:
            time.sleep(CLIENT_WATCH)
        os._exit(1)

    def teardown(self, worker) -> None:
        if self.grader is not None:
            self.grader.close()

    def _ensure(self) -> None:
        with self._lock:
            try:
                self._ensure_locked()
            except GraderBroken:
                pass  # kept in `broken`: the worker's first submission raises it to the client

    def _ensure_locked(self) -> None:
        if self.broken is not None:
            raise self.broken
        try:
            self.canary.ensure()
        except GraderBroken as broken:
            self.broken = GraderBroken(f"On the Dask worker {self.address}: {broken.message}",
                                       broken.log)
            raise self.broken from None

    def ensure(self) -> None:
        """Return once this worker's canary passed; GraderBroken otherwise."""
        with self._lock:
            self._ensure_locked()

    def grade(self, job: Job, out_dir: Path) -> SubmissionResult:
        """`batch.grade_one` with this worker's warm grader (GraderBroken: the canary failed)."""
        with self._lock:
            self._ensure_locked()
            return grade_one(self.canary, job, out_dir)


PERIODIC = {"tick": "distributed.admin.tick.interval",
            "monitor": "distributed.admin.system-monitor.interval",
            "memory_monitor": "distributed.worker.memory.monitor-interval"}
"""A worker's periodic callbacks and the `HOUSEKEEPING` setting of their period."""


def slow_housekeeping(worker) -> None:
    """`HOUSEKEEPING` on this worker, whatever configuration it was started with (a remote
    `dask worker` has its operator's): its profiler stopped, its other periodic work no more
    often than `HOUSEKEEPING` says. A `local:N` worker already has these."""
    from dask.utils import parse_timedelta

    callbacks = worker.periodic_callbacks
    if not HOUSEKEEPING["distributed.worker.profile.enabled"]:
        for name in ("profile", "profile-cycle"):
            if name in callbacks:
                callbacks[name].stop()
    for name, key in PERIODIC.items():
        if name in callbacks:
            period = parse_timedelta(HOUSEKEEPING[key]) * 1000  # milliseconds
            callbacks[name].callback_time = max(callbacks[name].callback_time, period)


def plugin_state(dask_worker) -> dict | None:
    """This worker's `GraderPlugin.state()`; None without a started grader, or with a failed
    canary (the next batch registers the plugin again: the grader starts anew)."""
    plugin = dask_worker.plugins.get(NAME)
    if plugin is None or plugin.grader is None or plugin.broken is not None:
        return None
    return plugin.state()


def worker_plugin() -> GraderPlugin:
    """This worker's plugin (inside a task)."""
    worker = distributed.get_worker()
    plugin = worker.plugins.get(NAME)
    if plugin is None or plugin.grader is None:
        raise GraderBroken(f"The grader did not start on the Dask worker {worker.address} "
                           "(its plugin is missing: see the worker's log).")
    return plugin
