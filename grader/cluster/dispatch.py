"""The client side of `grade --cluster`: send submissions to the workers, write what comes back.

`ClusterDispatch(connection)` is a `batch.Dispatch`: `grade_batch` keeps doing everything a batch
does (plan, gradebook lookups, twins, progress, exports; one writer), and `grade` only replaces
the process pool. It registers the `GraderPlugin` (each worker: one warm grader, its canary) with
the batch's options, then keeps one submission in flight per worker thread (so the client and
the scheduler hold a few notebooks at a time, not a cohort, and a worker that dies takes only its
own submission down as a suspect), each a
`grade_task` and, when the batch runs rounds, a `round_task` after it (on a GPU worker when the
cluster has one). Each finished submission's executed notebook and feedback page are written
into the output folder here and its result yielded to the batch, which records it at once
(resumable as the pool is).

Outcomes: a result; a submission whose task took down its worker more than `ALLOWED_FAILURES`
times is an `error` row, the submission's fault; any other failure of a task is a grader fault
row (graded again by a rerun); a worker's failed canary (`GraderBroken`), or a cluster left
without any worker for `NO_WORKER_STOP` seconds, stops the batch: what is still in flight is
cancelled and yielded as not graded.

`resolve(options)`: `--fl-round auto` on a cluster means a round when the cluster has a GPU
worker; the options the batch fingerprints say what was decided (`on` or `off`).
"""
from __future__ import annotations

import dataclasses
import uuid
from pathlib import Path
from typing import Iterator

from ..batch import Job
from ..canary import GraderBroken
from ..federated import should_run
from ..pipeline import Options, error_result
from ..render.files import write_atomic
from ..render.text import feedback_filename
from ..results.model import Fault, SubmissionResult
from ..sandbox.process import isolation_status
from .connection import (ALLOWED_FAILURES, ClusterError, Connection,
                         client_pid_for_workers, import_distributed)
from .plugin import GraderPlugin, plugin_state
from .tasks import Payload, grade_task, round_task

Outcome = SubmissionResult | GraderBroken | None
NO_WORKER_STOP = 180.0
"""Seconds a cluster may have no worker at all (a LocalCluster restarting one under load takes a
while) before the batch stops."""
POLL = 5.0
"""Seconds between looks at a cluster that finished nothing: has it any worker left?"""


class ClusterDispatch:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.rounds_on_gpu = False

    def resolve(self, options: Options) -> Options:
        """`--fl-round auto`: on when the cluster has a GPU worker (rounds go there), else off."""
        gpus = self.connection.gpu_workers()
        self.rounds_on_gpu = gpus > 0
        if options.fl_round == "auto":
            return dataclasses.replace(options, fl_round="on" if gpus else "off")
        return options

    def sandbox(self, options: Options) -> dict:
        """The isolation the workers have: the first worker without it, else the first one."""
        try:
            reports = list(self.connection.client.run(isolation_status).values())
        except Exception as exc:  # noqa: BLE001 - reported, not fatal
            return {"isolated": False, "reason": f"the workers' sandbox probe failed: {exc}"}
        missing = [r for r in reports if not r.get("isolated")]
        return (missing or reports or [isolation_status()])[0]

    def _register(self, options: Options) -> None:
        plugin = GraderPlugin(dataclasses.replace(options, fl_round="off"),
                              client_pid=client_pid_for_workers(self.connection))
        if self._warm(plugin):
            return
        try:
            replies = self.connection.client.register_plugin(plugin)
        except Exception as exc:  # noqa: BLE001 - the grader's environment
            raise ClusterError(f"the grader could not start on the Dask workers: "
                               f"{type(exc).__name__}: {exc}") from exc
        for worker, reply in (replies or {}).items():
            if isinstance(reply, dict) and reply.get("status") == "error":
                raise ClusterError(f"the grader could not start on the Dask worker {worker}: "
                                   f"{reply.get('exception_text') or reply.get('exception')}")

    def _warm(self, plugin: GraderPlugin) -> bool:
        """Every worker already holds a grader for these options whose canary did not fail (an
        earlier batch registered it): keep them, rather than start each again and pay its
        warm-up and canary. Workers that join later get the scheduler's copy of it."""
        try:
            states = list(self.connection.client.run(plugin_state).values())
        except Exception:  # noqa: BLE001 - a worker could not say: register again
            return False
        wanted = plugin.state()
        return bool(states) and all(state == wanted for state in states)

    def _window(self) -> int:
        """One submission in flight per worker thread. More would be assigned to workers ahead
        (Dask queues only large groups of like tasks on the scheduler), and a worker that dies
        takes every task assigned to it down as a suspect: an innocent notebook could be given
        up for another's crash."""
        return max(1, sum(w.get("nthreads", 1) for w in self.connection.workers().values()))

    def grade(self, jobs: list[Job], out_dir: Path, options: Options) -> Iterator[tuple[Job, Outcome]]:
        distributed = import_distributed()
        client = self.connection.client
        self._register(options)
        rounds = should_run(options.fl_round)
        resources = {"GPU": 1} if self.rounds_on_gpu else None
        batch = uuid.uuid4().hex[:8]
        pending = list(reversed(jobs))
        in_flight: dict[object, Job] = {}

        def submit() -> None:
            job = pending.pop()
            notebook = job.path.read_bytes()
            future = client.submit(grade_task, job.name, job.sha256, notebook, job.student,
                                   pure=False, key=f"grade-{job.name}-{batch}")
            if rounds:
                future = client.submit(round_task, future, notebook, options.fl_round, pure=False,
                                       key=f"fl-round-{job.name}-{batch}", resources=resources)
            in_flight[future] = job

        def stop() -> Iterator[tuple[Job, Outcome]]:
            """What is left after a GraderBroken: not graded."""
            yield from [(job, None) for job in in_flight.values()]
            yield from [(job, None) for job in reversed(pending)]
            for future in in_flight:
                future.cancel()

        while pending and len(in_flight) < self._window():
            submit()
        alone = 0.0  # seconds the cluster has had no worker
        while in_flight:
            try:
                finished = distributed.wait(list(in_flight), timeout=POLL,
                                            return_when="FIRST_COMPLETED").done
            except TimeoutError:
                alone = alone + POLL if not self.connection.workers() else 0.0
                if alone >= NO_WORKER_STOP:  # nobody will grade what is left: never a hung batch
                    future, job = in_flight.popitem()
                    future.cancel()
                    yield job, GraderBroken(
                        f"The Dask cluster at {self.connection.address} has had no worker for "
                        f"{alone:.0f} s; the batch stopped (grade again once workers are back).")
                    yield from stop()
                    return
                continue
            for future in finished:
                job = in_flight.pop(future)
                outcome = self._outcome(future, job, out_dir, options, distributed)
                if isinstance(outcome, GraderBroken):  # stop: nothing more is graded
                    yield job, outcome
                    yield from stop()
                    return
                while pending and len(in_flight) < self._window():
                    submit()  # before the batch records this one: the worker does not wait for it
                yield job, outcome

    def _outcome(self, future, job: Job, out_dir: Path, options: Options,
                 distributed) -> SubmissionResult | GraderBroken:
        try:
            payload: Payload = future.result()
        except GraderBroken as broken:
            return broken
        except distributed.KilledWorker:
            return error_result(job.name, job.sha256, "this notebook stopped the grading worker "
                                f"{ALLOWED_FAILURES + 1} times (it crashed the process that ran it, "
                                "e.g. by using up the machine's memory); it was not graded",
                                options.rubric, fault=Fault.SUBMISSION)
        except Exception as exc:  # noqa: BLE001 - the batch must go on
            return error_result(job.name, job.sha256, "grader fault: grading on the cluster failed "
                                f"({type(exc).__name__}: {exc}); grade again", options.rubric,
                                fault=Fault.GRADER)
        result = SubmissionResult.from_dict(payload["result"])
        if payload["executed"] is not None:
            write_atomic(out_dir / "executed" / f"{job.name}.ipynb", payload["executed"].decode())
        if payload["page"] is not None:
            write_atomic(out_dir / "feedback" / feedback_filename(job.name), payload["page"].decode())
        return result
