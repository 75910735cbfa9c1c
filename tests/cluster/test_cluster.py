"""`grade --cluster`: the same grades as the process pool, workers killed mid-batch, a notebook
that keeps killing its worker, a client killed mid-batch, a worker whose canary fails, and
`--fl-round auto` deciding by the cluster's GPU workers."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from grader.batch import grade_batch
from grader.pipeline import Options
from grader.results.model import ERROR, GRADED, Fault

from .conftest import (FEW, ROOT, SAMPLES, WorkerKiller, copies, gradebook_rows, on_cluster,
                       processes_in)

sys.path.insert(0, str(ROOT / "tools"))
from compare_grades import differences  # noqa: E402


class Recorder:
    def __init__(self) -> None:
        self.seen: list[tuple[str, bool]] = []

    def start(self, total: int) -> None:
        self.total = total

    def update(self, result, reused: bool) -> None:
        self.seen.append((result.submission, reused))


@pytest.mark.slow
def test_the_cluster_gives_the_pools_grades_on_the_samples(connection, tmp_path):
    options = Options(cell_timeout=60, fl_round="off")
    pool = grade_batch([SAMPLES], tmp_path / "pool", options, workers=2)
    progress = Recorder()
    cluster = on_cluster(connection, [SAMPLES], tmp_path / "cluster", progress=progress)
    assert differences(tmp_path / "pool" / "grades.json", tmp_path / "cluster" / "grades.json") == []
    assert len(progress.seen) == progress.total == len(pool.submissions)
    for sub in cluster.submissions:  # the client wrote what the workers sent back
        assert (tmp_path / "cluster" / "executed" / f"{sub.submission}.ipynb").is_file() \
            or sub.status == ERROR
    assert len(list((tmp_path / "cluster" / "feedback").iterdir())) == len(cluster.submissions)


@pytest.fixture(scope="module")
def batch_with_kills(connection, tmp_path_factory):
    """FEW plus `crasher` (a copy of a good notebook) graded while a worker grading
    task1_permutation is SIGKILLed once and every worker grading `crasher` is SIGKILLed."""
    tmp = tmp_path_factory.mktemp("kills")
    folder = copies(tmp / "subs", renamed={"crasher": "correct_if_elif"})
    once = WorkerKiller(connection, "task1_permutation", times=1)
    always = WorkerKiller(connection, "crasher", times=5)
    once.start(), always.start()
    try:
        run = on_cluster(connection, [folder], tmp / "out")
    finally:
        once.stop(), always.stop()
    return run, once, always


@pytest.mark.slow
def test_a_worker_killed_mid_batch_is_replaced_and_every_submission_graded_once(batch_with_kills):
    run, once, _ = batch_with_kills
    assert once.kills == 1
    names = [s.submission for s in run.submissions]
    assert sorted(names) == sorted([*FEW, "crasher"])  # each once
    by_name = {s.submission: s for s in run.submissions}
    assert all(by_name[name].status == GRADED for name in FEW), [by_name[n].error for n in FEW]
    assert by_name["reference"].score == by_name["reference"].max_score
    assert by_name["task1_permutation"].score < by_name["task1_permutation"].max_score


@pytest.mark.slow
def test_a_notebook_that_kills_its_worker_twice_is_an_error_row(batch_with_kills):
    run, _, always = batch_with_kills
    assert always.kills == 2  # retried once, then given up
    crasher = next(s for s in run.submissions if s.submission == "crasher")
    assert crasher.status == ERROR and crasher.fault is Fault.SUBMISSION
    assert "stopped the grading worker 2 times" in crasher.error


def grade_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "grader", "grade", *args, "--fl-round", "off"]


@pytest.mark.slow
def test_a_client_killed_mid_batch_leaves_no_process_and_a_rerun_regrades_nothing_done(
        connection, tmp_path):
    folder = copies(tmp_path / "subs", names=(*FEW, "correct_if_elif"))
    out = tmp_path / "out"
    work = Path(tempfile.mkdtemp(prefix="clk-", dir="/tmp"))  # every process of the client runs here
    env = dict(os.environ, PYTHONPATH=str(ROOT), TMPDIR=str(work))
    client = subprocess.Popen(grade_command(str(folder), "--out", str(out), "--cluster", "local:1"),
                              cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        deadline = time.monotonic() + 600
        while gradebook_rows(out) < 1 and client.poll() is None and time.monotonic() < deadline:
            time.sleep(0.5)
        assert client.poll() is None, "the batch ended before it could be killed"
        client.send_signal(signal.SIGKILL)
        client.wait(30)
        done = gradebook_rows(out)
        deadline = time.monotonic() + 30
        while (left := processes_in(work)) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not left, f"processes outlived the killed client: {left}"
    finally:
        os.killpg(client.pid, signal.SIGKILL) if client.poll() is None else None
        shutil.rmtree(work, ignore_errors=True)
    assert 1 <= done < 4
    progress = Recorder()
    run = on_cluster(connection, [folder], out, progress=progress)
    reused = [name for name, kept in progress.seen if kept]
    assert len(reused) == done and len(progress.seen) == 4
    assert all(s.status == GRADED for s in run.submissions)


def test_fl_round_auto_follows_the_clusters_gpu_workers(connection):
    from grader.cluster import open_dispatch
    from grader.cluster.connection import Connection, import_distributed

    auto = Options(fl_round="auto")
    assert open_dispatch(connection).resolve(auto).fl_round == "off"  # no GPU worker here
    distributed = import_distributed()
    with distributed.LocalCluster(n_workers=1, processes=False, host="127.0.0.1", protocol="tcp",
                                  dashboard_address="127.0.0.1:0", resources={"GPU": 1}) as gpu, \
            distributed.Client(gpu) as client:
        dispatch = open_dispatch(Connection(client, None, gpu.scheduler_address))
        assert dispatch.resolve(auto).fl_round == "on" and dispatch.rounds_on_gpu
        assert dispatch.resolve(Options(fl_round="off")).fl_round == "off"


@pytest.mark.slow
def test_a_worker_whose_canary_fails_stops_the_batch_with_exit_2(tmp_path):
    project = tmp_path / "project"
    for name in ("grader", "reference", "student_template"):
        shutil.copytree(ROOT / name, project / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.rmtree(project / "grader" / "environment" / "site" / "sedna")
    folder = copies(tmp_path / "subs", names=("reference",))
    done = subprocess.run(grade_command(str(folder), "--out", str(tmp_path / "out"),
                                        "--cluster", "local:1"),
                          cwd=project, env=dict(os.environ, PYTHONPATH=str(project)),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    assert "Dask worker" in done.stderr and "canary" in done.stderr
    assert "No module named 'sedna'" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out" / "grades.json").exists() and gradebook_rows(tmp_path / "out") == 0


def test_a_scheduler_that_cannot_be_reached_is_exit_2(tmp_path, capsys, monkeypatch):
    from grader import cli
    from grader.cluster import connection as module

    monkeypatch.setattr(module, "CONNECT_TIMEOUT", 2.0)
    status = cli.main(["grade", str(SAMPLES / "reference.ipynb"), "--out", str(tmp_path / "out"),
                       "--cluster", "tcp://127.0.0.1:9", "--fl-round", "off"])
    assert status == 2
    assert "could not reach the Dask scheduler at tcp://127.0.0.1:9" in capsys.readouterr().err
    assert cli.main(["grade", "x", "--cluster", "local:zero"]) == 2
    assert "expected local:N" in capsys.readouterr().err
