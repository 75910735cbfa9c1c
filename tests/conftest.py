"""Fixtures shared by several test folders (helpers that are no fixtures: tests/helpers.py)."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import nbformat
import pytest

from tests.helpers import ADVERSARIAL, ROOT, SUBMISSIONS, grader_command, grader_env, notebook
from tests.side_by_side import SideBySide

BATCH_CELL_TIMEOUT = json.loads((ADVERSARIAL / "manifest.json").read_text())["cell_timeout"]
"""The cell timeout of `pool_batches` (the adversarial manifest's)."""


@pytest.fixture
def write_notebook(tmp_path):
    """`write_notebook(name, *cells)`: a notebook of those code cells written to `tmp_path/name`."""
    def write(name: str, *cells: str) -> Path:
        path = tmp_path / name
        nbformat.write(notebook(*cells), path)
        return path
    return write


@pytest.fixture(scope="module")
def run_dirs(tmp_path_factory):
    """A factory of check-worker run directories (course layout, a tiny synthetic CIFAR-100 set),
    one per test module, removed at its end."""
    from grader.checks.rundirs import temporary_run_dirs
    from grader.environment import data as cifar

    data_dir = cifar.synthetic_dir(8, 4, cache_dir=tmp_path_factory.mktemp("cache"))
    with temporary_run_dirs(tmp_path_factory.mktemp("runs"), data_dir) as factory:
        yield factory


@pytest.fixture(scope="session")
def warm_grader():
    """One `Grader` (`--fl-round off`, default options) for the tests that only need a notebook
    graded: its fork server imports the course stack once per session, not once per test.
    Whatever a test does to it (a killed fork server) the grader mends, as in a batch."""
    from grader.pipeline import Grader, Options

    with Grader(Options(fl_round="off")) as grader:
        yield grader


@pytest.fixture(scope="session")
def pool_batches(tmp_path_factory):
    """fixtures/adversarial and fixtures/submissions graded in one batch by the process pool
    (`--workers 2`), then fixtures/adversarial alone again, into two fresh output folders:
    `(outs, runs, left_running)`. Once per session, for the sandbox's batch tests (the second
    run: grading again gives the same grades) and the cluster's (the samples graded again, on
    the cluster, give the pool's grades)."""
    from tests.sandbox.helpers import processes_under

    tmp = Path(tempfile.mkdtemp(prefix="sbt-", dir="/tmp"))  # short: kernels' IPC socket paths
    outs, runs = [], []
    try:
        for attempt, folders in (("first", (ADVERSARIAL, SUBMISSIONS)), ("second", (ADVERSARIAL,))):
            out = tmp_path_factory.mktemp(attempt) / "grades"
            runs.append(subprocess.run(
                grader_command(*map(str, folders), "--out", str(out),
                               "--workers", "2", "--cell-timeout", str(BATCH_CELL_TIMEOUT)),
                cwd=ROOT, env=grader_env(tmp), capture_output=True, text=True, timeout=900))
            outs.append(out)
        yield outs, runs, processes_under(tmp)
    finally:
        for pid in processes_under(tmp):
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(tmp, ignore_errors=True)


def pytest_configure(config):
    """The suite side by side under pytest-xdist (tests/side_by_side.py)."""
    config.pluginmanager.register(SideBySide(config), "side-by-side")
