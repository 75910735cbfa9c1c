"""One LocalCluster for every test here (two worker processes, each with a warm grader), and the
helpers to grade a handful of notebooks on it. Starting a cluster costs seconds, and a grader's
warm-up and canary more: every batch here has the same options, so the workers keep their
graders from one batch to the next (a worker killed by a test starts a new one)."""
from __future__ import annotations

import os
import shutil
import sqlite3
import threading
import time
from pathlib import Path

import psutil
import pytest

from grader.batch import grade_batch
from grader.pipeline import Options
from tests.conftest import BATCH_CELL_TIMEOUT
from tests.helpers import SUBMISSIONS as SAMPLES
OPTIONS = Options(cell_timeout=BATCH_CELL_TIMEOUT, fl_round="off")
"""Every batch's options here: those of the pool's batch the first test compares with (the
workers keep their warm graders from one batch to the next)."""
FEW = ("reference", "task1_permutation", "task3_off_by_one")
"""Notebooks for the tests that do not compare whole batches: full marks, two kinds of lost points."""


def cluster_processes() -> set[int]:
    """This process's descendants, but multiprocessing's resource tracker (started with the
    first spawned process, it ends with this one)."""
    found = set()
    for child in psutil.Process().children(recursive=True):
        try:
            if "resource_tracker" not in " ".join(child.cmdline()):
                found.add(child.pid)
        except psutil.NoSuchProcess:
            pass
    return found


@pytest.fixture(scope="package")
def connection():
    """The cluster of this folder's tests, closed when they are done (its workers each hold a
    warm grader of ~1 GB: the rest of the suite is better off without them)."""
    from grader.cluster import connect

    before = cluster_processes()
    with connect("local:2") as conn:
        yield conn
    deadline = time.monotonic() + 30
    while (left := cluster_processes() - before) and time.monotonic() < deadline:
        time.sleep(0.5)
    for pid in left:
        try:
            psutil.Process(pid).kill()
        except psutil.NoSuchProcess:
            pass
    assert not left, f"processes survived the cluster: {left}"


def copies(folder: Path, names=FEW, renamed: dict[str, str] | None = None) -> Path:
    """`names` from fixtures/submissions copied into `folder` (`renamed`: new name -> sample)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(SAMPLES / f"{name}.ipynb", folder / f"{name}.ipynb")
    for new, sample in (renamed or {}).items():
        shutil.copy(SAMPLES / f"{sample}.ipynb", folder / f"{new}.ipynb")
    return folder


def on_cluster(connection, paths: list[Path], out: Path, progress=None):
    from grader.cluster import open_dispatch

    dispatch = open_dispatch(connection)
    return grade_batch(paths, out, dispatch.resolve(OPTIONS), progress=progress, dispatch=dispatch)


def processes_in(folder: Path) -> list[int]:
    """Live processes whose working directory lies in `folder`."""
    found = []
    for process in psutil.process_iter(["cwd", "status"]):
        cwd = process.info["cwd"] or ""
        if process.info["status"] != psutil.STATUS_ZOMBIE and \
                (cwd == str(folder) or cwd.startswith(str(folder) + "/")):
            found.append(process.pid)
    return found


def gradebook_rows(out: Path) -> int:
    book = out / "gradebook.sqlite"
    if not book.exists():
        return 0
    with sqlite3.connect(book) as db:
        return db.execute("SELECT COUNT(*) FROM results").fetchone()[0]


class WorkerKiller(threading.Thread):
    """SIGKILLs the worker whose task names `name`, `times` times, as the OOM killer would."""

    def __init__(self, connection, name: str, times: int) -> None:
        super().__init__(daemon=True)
        self.connection, self.name, self.times = connection, name, times
        self.kills = 0
        self._halt = threading.Event()

    def run(self) -> None:
        client = self.connection.client
        while self.kills < self.times and not self._halt.wait(0.2):
            for address, keys in client.processing().items():
                if any(f"-{self.name}-" in str(key) for key in keys):
                    try:
                        pid = client.run(os.getpid, workers=[address])[address]
                    except Exception:  # noqa: BLE001 - it left meanwhile: look again
                        continue
                    if pid:
                        psutil.Process(pid).kill()
                        self.kills += 1
                        self._wait_gone(address)
                    break

    def _wait_gone(self, address: str) -> None:
        deadline = time.monotonic() + 60
        while address in self.connection.workers() and time.monotonic() < deadline:
            time.sleep(0.2)

    def stop(self) -> None:
        self._halt.set()
        self.join(5)
