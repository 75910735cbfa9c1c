"""One federated round: a local aggregator, client A (the submission) and client B (the reference).

    outcome = run_round(nb, RoundSettings(), on_progress=print_progress)

All three processes are sandboxed (`grader.sandbox`) and join one `SharedNetwork`: they reach
each other on 127.0.0.1 and nothing else. Each gets its own top-level run directory
(`grader.environment.layout`), its own session and the round's marker in its environment.
Client A is the submission's notebook, executed through nbclient in a sandboxed kernel up to its
`fl.train()` cell (Plato's `os._exit` on disconnect is the expected end of that kernel); the
aggregator and client B are scripts from `sidecar/`. A monitor thread follows the aggregator's
record and ends the round as soon as its outcome is known: completed, a side that left or failed,
or the one deadline. Whatever happens, every process of the round is killed before `run_round`
returns (process groups, the marker sweep of `reaper`, then the shared namespace's own sweep).
"""
from __future__ import annotations

import json
import math
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Callable

import nbformat

from ..course import REFERENCE
from ..environment import layout
from ..notebook.execute import Execution, execute
from ..sandbox.logs import tail_text
from ..sandbox.process import SharedNetwork, spawn, stop
from . import clients
from .reaper import MARKER_VARIABLE, kill_marked
from .record import AggregatorRecord, HookLog, cell_text
from .settings import RoundSettings, threads_per_process

SIDECAR = Path(__file__).resolve().parent / "sidecar"
A_ID, B_ID = 1, 2
POLL = 0.2
LOG_TAIL = 4000



class RoundEnding(StrEnum):
    """How a round ended (`RoundOutcome.ended`)."""

    RUNNING = ""                       # not ended (yet)
    COMPLETED = "completed"            # the aggregator aggregated, closed and exited
    NO_FEDERATED_CELL = "no_federated_cell"
    A_ERROR = "a_error"                # an exception escaped client A's socket.io handlers
    A_LEFT = "a_left"                  # client A's notebook ended before it uploaded
    B_LEFT = "b_left"                  # client B exited before it uploaded
    AGGREGATOR_DIED = "aggregator_died"
    SETUP_FAILED = "setup_failed"      # the round's sandbox could not be set up (isolation=require)
    DEADLINE = "deadline"


# The short names the round and its verdict use.
COMPLETED, NO_FEDERATED_CELL = RoundEnding.COMPLETED, RoundEnding.NO_FEDERATED_CELL
A_ERROR, A_LEFT, B_LEFT = RoundEnding.A_ERROR, RoundEnding.A_LEFT, RoundEnding.B_LEFT
AGGREGATOR_DIED, SETUP_FAILED = RoundEnding.AGGREGATOR_DIED, RoundEnding.SETUP_FAILED
DEADLINE = RoundEnding.DEADLINE

Progress = Callable[[float, str], None]


@dataclass
class RoundOutcome:
    settings: RoundSettings
    ended: RoundEnding
    start_round: int
    train_size: int
    test_size: int
    marker: str
    record: AggregatorRecord
    hook: HookLog
    folders: dict[str, Path] = field(default_factory=dict)  # per process; removed unless keep_dir
    execution: Execution | None = None     # client A's notebook (with the grader's wait cell)
    federated_cell: int | None = None      # index of the fl.train() cell in it
    a_output: str = ""                     # what that cell printed
    b_log: str = ""                        # tails of client B's and the aggregator's logs
    aggregator_log: str = ""
    exit_codes: dict[str, int | None] = field(default_factory=dict)
    detail: str = ""                       # e.g. the error that ended the round
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def expected_samples(self) -> int:
        """Client A's partition size: half of the training set (Task 2)."""
        return self.train_size // 2


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


ROLES = ("aggregator", "client-a", "client-b")


def run_round(nb: nbformat.NotebookNode, settings: RoundSettings | None = None, *,
              on_progress: Progress | None = None,
              reference: nbformat.NotebookNode | None = None) -> RoundOutcome:
    """Run one round with `nb` as client A; never raises for anything the submission does."""
    settings = settings or RoundSettings()
    began, wall0 = time.monotonic(), time.time()
    say = _progress(on_progress, began)
    data_dir = settings.data_folder()
    train_size, test_size = _sizes(data_dir)
    marker = uuid.uuid4().hex
    port = free_port()
    # One top-level folder per process: the sandbox makes a process's folder its only writable
    # (and, below the temporary folder, its only visible) one, so client A can neither read nor
    # forge the aggregator's record.
    folders = {role: Path(tempfile.mkdtemp(prefix=f"fl-round-{marker[:8]}-{role}-",
                                           dir=settings.keep_dir)) for role in ROLES}
    runs = {role: layout.build_run_dir(folders[role], data_dir, agg_port=port) for role in ROLES}
    record_dir = runs["aggregator"].root / "record"
    record_dir.mkdir()
    hook_log = runs["client-a"].root / "hook.jsonl"
    outcome = RoundOutcome(settings, RoundEnding.RUNNING, settings.start_round, train_size, test_size, marker,
                           AggregatorRecord(record_dir), HookLog(), folders=folders)
    procs: dict[str, subprocess.Popen] = {}
    logs: dict[str, object] = {}
    network = SharedNetwork(isolation=settings.limits.isolation)
    try:
        try:
            a_nb, outcome.federated_cell = clients.round_notebook(nb, runs["client-a"].root)
        except clients.NoFederatedCell as exc:
            outcome.ended, outcome.detail = NO_FEDERATED_CELL, str(exc)
            return outcome
        b_cells = clients.reference_cells(reference or nbformat.read(REFERENCE, as_version=4),
                                          runs["client-b"].root, settings.reference_seed)
        cells_file = runs["client-b"].root / "cells.json"
        cells_file.write_text(json.dumps(b_cells), encoding="utf-8")
        try:
            network.start()  # one loopback for the three processes, and nothing else
        except OSError as exc:
            outcome.ended, outcome.detail = SETUP_FAILED, f"the round's sandbox could not start: {exc}"
            return outcome
        limits = network.limits(settings.limits)

        def env(role: str, client_id: int | None = None, **extra: str) -> dict[str, str]:
            threads = str(threads_per_process())
            return runs[role].env(client_id=client_id, extra={
                MARKER_VARIABLE: marker, "GRADER_FL_ROLE": role, "OMP_NUM_THREADS": threads,
                "MKL_NUM_THREADS": threads, **extra})

        shared = ("a private loopback" if network.isolated
                  else f"the machine's loopback ({network.reason})")
        say(f"aggregator on 127.0.0.1:{port} ({shared}), round {settings.start_round}, "
            f"{train_size} training / {test_size} test images, deadline {settings.round_deadline:g} s")
        for role, argv, run_env in (
            ("aggregator", [str(SIDECAR / "aggregator.py"), "--record", str(record_dir),
                            "--start-round", str(settings.start_round),
                            "--model-seed", str(settings.model_seed)], env("aggregator")),
            ("client-b", [str(SIDECAR / "run_cells.py"), str(cells_file)], env("client-b", B_ID)),
        ):
            logs[role] = open(runs[role].root / f"{role}.log", "wb")
            procs[role] = spawn([sys.executable, *argv], cwd=runs[role].work_dir, env=run_env,
                                limits=limits, stdin=subprocess.DEVNULL,
                                stdout=logs[role], stderr=logs[role])
        a_env = env("client-a", A_ID, GRADER_FL_HOOK_LOG=str(hook_log),
                    PYTHONPATH=f"{SIDECAR / 'hook'}:{layout.SITE_DIR}")
        monitor = _Monitor(settings, outcome, procs, record_dir, hook_log, began, say)
        monitor.start()
        say("client A: executing your notebook")
        deadline_left = max(1, math.ceil(settings.round_deadline - (time.monotonic() - began)))
        try:
            outcome.execution = execute(a_nb, run_dir=runs["client-a"].work_dir, env=a_env,
                                        limits=limits, cell_timeout=deadline_left,
                                        total_timeout=deadline_left)
        finally:
            monitor.a_done.set()
            monitor.join()
        cell = outcome.execution.notebook.cells[outcome.federated_cell]
        outcome.a_output = cell_text(cell)
        say(f"client A: notebook ended ({_federated_status(outcome)})")
    finally:
        for proc in procs.values():
            stop(proc)
        kill_marked(marker)
        network.close()  # kills whatever is left in the round's namespace
        for role, proc in procs.items():
            outcome.exit_codes[role] = proc.returncode
        for handle in logs.values():
            handle.close()
        outcome.record = AggregatorRecord.read(record_dir)
        outcome.record.load_vectors()
        outcome.hook = HookLog.read(hook_log)
        outcome.b_log = tail_text(runs["client-b"].root / "client-b.log", LOG_TAIL)
        outcome.aggregator_log = tail_text(runs["aggregator"].root / "aggregator.log", LOG_TAIL)
        outcome.seconds = time.monotonic() - began
        outcome.timings = _timings(outcome.record, wall0, outcome.seconds)
        if settings.keep_dir is None:
            for folder in folders.values():
                shutil.rmtree(folder, ignore_errors=True)
    return outcome


class _Monitor(threading.Thread):
    """Follow the round and end it as soon as its outcome is known (see the module docstring)."""

    def __init__(self, settings, outcome, procs, record_dir, hook_log, began, say):
        super().__init__(name="fl-round-monitor", daemon=True)
        self.settings, self.outcome, self.procs = settings, outcome, procs
        self.record_dir, self.hook_log, self.began, self.say = record_dir, hook_log, began, say
        self.a_done = threading.Event()
        self._seen = 0
        self._optimizers = 0
        self._errors = 0

    def run(self) -> None:
        try:
            self.outcome.ended, self.outcome.detail = self._follow()
        except Exception as exc:  # noqa: BLE001 - a grader bug must still end the round
            self.outcome.ended, self.outcome.detail = AGGREGATOR_DIED, f"round monitor failed: {exc!r}"
        finally:
            if self.outcome.ended != COMPLETED:
                self.say(f"stopping the round ({self.outcome.ended}): {self.outcome.detail}")
            for proc in self.procs.values():
                stop(proc)
            kill_marked(self.outcome.marker)  # ends client A's kernel too, if it still runs

    def _follow(self) -> tuple[RoundEnding, str]:
        settings, deadline = self.settings, self.began + self.settings.round_deadline
        ended_at = None  # when the aggregator finished: the clients get `grace` to leave
        error_seen = None
        while True:
            time.sleep(POLL)
            now = time.monotonic()
            record = AggregatorRecord.read(self.record_dir)
            hook = HookLog.read(self.hook_log)
            self._report(record, hook)
            agg_code = self.procs["aggregator"].poll()
            b_code = self.procs["client-b"].poll()
            a_uploaded = bool(record.uploads_of(A_ID))
            if ended_at is None and agg_code is not None:
                if record.first("closed") is None:
                    return AGGREGATOR_DIED, (f"the aggregator exited with code {agg_code} before the "
                                             "round ended")
                ended_at = now
                self.say(f"aggregator: finished (exit code {agg_code})")
            if ended_at is not None:
                b_gone = b_code is not None
                if (self.a_done.is_set() and b_gone) or now - ended_at > settings.grace:
                    return COMPLETED, ""
                continue
            if now > deadline:
                return DEADLINE, f"the round did not finish within {settings.round_deadline:g} s"
            sent = [e["t"] for e in record.all("sent") if e.get("client") == A_ID]
            errors = [e for e in hook.handler_errors if sent and e["t"] >= sent[0]]
            if errors and not a_uploaded:
                error_seen = error_seen or now
                if now - error_seen > 1.0:  # the upload may still be on its way
                    return A_ERROR, str(errors[0].get("error", "an exception"))[:500]
            if self.a_done.is_set() and not a_uploaded:
                time.sleep(1.0)
                if not AggregatorRecord.read(self.record_dir).uploads_of(A_ID):
                    return A_LEFT, "client A's notebook ended before it uploaded its model"
            if b_code is not None and not record.uploads_of(B_ID):
                return B_LEFT, f"client B (the reference) exited with code {b_code} before it uploaded"

    def _report(self, record: AggregatorRecord, hook: HookLog) -> None:
        for event in record.events[self._seen:]:
            message = _describe(event)
            if message:
                self.say(message, at=event["t"])
        self._seen = len(record.events)
        for entry in hook.optimizers[self._optimizers:]:
            lrs = ", ".join(f"{lr:.5g}" for lr in entry["lrs"])
            self.say(f"client A: built a {entry.get('type', 'torch')} optimizer with lr={lrs}",
                     at=entry["t"])
        self._optimizers = len(hook.optimizers)
        for entry in hook.handler_errors[self._errors:]:
            self.say(f"client A: an exception escaped a socket.io handler: {entry.get('error')}",
                     at=entry["t"])
        self._errors = len(hook.handler_errors)


def _describe(event: dict) -> str:
    name, client = event["event"], event.get("client")
    who = {A_ID: "client A (your notebook)", B_ID: "client B (reference)"}.get(client,
                                                                               f"client #{client}")
    if name == "ready":
        return f"aggregator: ready, listening on {event.get('address')}:{event.get('port')}"
    if name == "connected":
        return f"aggregator: {who} connected"
    if name == "disconnected":
        return f"aggregator: {who} disconnected"
    if name == "round_started":
        return f"aggregator: round {event.get('round')} started"
    if name == "sent":
        return f"aggregator: sent the global model of round {event.get('round')} to {who}"
    if name == "upload":
        accuracy = event.get("accuracy")
        shown = f", test accuracy {100 * accuracy:.2f}%" if isinstance(accuracy, float) else ""
        return f"aggregator: upload from {who}: {event.get('num_samples')} samples{shown}"
    if name == "aggregated":
        counts = event.get("num_samples") or []
        return f"aggregator: aggregated {len(counts)} uploads ({' + '.join(map(str, counts))} samples)"
    if name == "closed":
        return "aggregator: round over, disconnecting the clients"
    return ""


def _progress(on_progress: Progress | None, began: float):
    wall_began = time.time() - (time.monotonic() - began)

    def say(message: str, at: float | None = None) -> None:
        if on_progress is not None:
            seconds = (at - wall_began) if at is not None else time.monotonic() - began
            on_progress(max(0.0, seconds), message)
    return say


def _federated_status(outcome: RoundOutcome) -> str:
    index, execution = outcome.federated_cell, outcome.execution
    run = next((c for c in execution.cells if c.index == index), None)
    if run is None or run.status == "not_run":
        return "the fl.train() cell did not run"
    if run.status == "died":
        return ("its kernel ended, as Plato does when the server disconnects it"
                if outcome.ended in (RoundEnding.RUNNING, COMPLETED) else "the grader stopped its kernel")
    return f"fl.train() cell: {run.status}{': ' + run.error if run.error else ''}"


def _sizes(data_dir: Path) -> tuple[int, int]:
    """Numbers of training and test images, from the manifest of a synthetic folder or the files."""
    manifest = data_dir / "manifest.json"
    try:
        files = json.loads(manifest.read_text())["files"]
        return int(files["train"]["images"]), int(files["test"]["images"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    import pickle

    sizes = []
    for split in ("train", "test"):
        with open(data_dir / split, "rb") as handle:  # the instructor's CIFAR-100 (--data), trusted
            sizes.append(len(pickle.load(handle, encoding="bytes")[b"fine_labels"]))
    return sizes[0], sizes[1]


def _timings(record: AggregatorRecord, wall0: float, total: float) -> dict[str, float]:
    """Wall time split: start-up (imports, notebook cells, Plato's 5 s connect sleep), waiting for
    the second client, training (round start to last upload), aggregation, shutdown."""
    marks = {"ready": record.first("ready"), "first_connect": record.first("connected"),
             "round_started": record.first("round_started"), "aggregated": record.first("aggregated")}
    uploads = record.all("upload")
    out: dict[str, float] = {"total": total}
    if marks["ready"]:
        out["aggregator_ready"] = marks["ready"]["t"] - wall0
    points = [("startup", wall0, marks["first_connect"]),
              ("waiting_for_clients", marks["first_connect"], marks["round_started"]),
              ("training", marks["round_started"], uploads[-1] if uploads else None),
              ("aggregation", uploads[-1] if uploads else None, marks["aggregated"])]
    for name, start, end in points:
        start_t = start if isinstance(start, float) else (start or {}).get("t")
        if start_t is not None and end is not None:
            out[name] = end["t"] - start_t
    if marks["aggregated"]:
        out["shutdown"] = wall0 + total - marks["aggregated"]["t"]
    return {k: round(v, 3) for k, v in out.items()}
