"""`grade --cluster`: the same grades as the process pool, workers killed mid-batch, a notebook
that keeps killing its worker, a client killed mid-batch, a worker whose canary fails, and
`--fl-round auto` deciding by the cluster's GPU workers."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from grader.pipeline import Options
from grader.results.model import ERROR, GRADED, Fault

from tests.helpers import ROOT

from .conftest import (FEW, OPTIONS, SAMPLES, WorkerKiller, copies, gradebook_rows, on_cluster,
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
def test_the_cluster_gives_the_pools_grades_on_the_samples(connection, pool_batches, tmp_path):
    (pool_out, _), (pool_run, _), _ = pool_batches  # the pool's batch: adversarial + samples
    assert pool_run.returncode == 0, pool_run.stderr[-2000:]
    names = sorted(p.stem for p in SAMPLES.glob("*.ipynb"))
    pool = json.loads((pool_out / "grades.json").read_text())
    (tmp_path / "pool.json").write_text(json.dumps(
        {"submissions": [s for s in pool["submissions"] if s["submission"] in names]}))
    progress = Recorder()
    cluster = on_cluster(connection, [SAMPLES], tmp_path / "cluster", progress=progress)
    assert differences(tmp_path / "pool.json", tmp_path / "cluster" / "grades.json") == []
    assert len(progress.seen) == progress.total == len(names)
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


def graders(dask_worker) -> str | None:
    """Which grader this worker holds: its private folder (a new grader has a new one)."""
    from grader.cluster.plugin import NAME

    plugin = dask_worker.plugins.get(NAME)
    return str(plugin.grader._root) if plugin is not None and plugin.grader is not None else None


@pytest.mark.slow
def test_a_second_batch_with_the_same_options_keeps_the_workers_warm_graders(connection):
    from grader.cluster import open_dispatch
    from grader.cluster.connection import client_pid_for_workers
    from grader.cluster.plugin import GraderPlugin

    dispatch = open_dispatch(connection)
    options = dispatch.resolve(OPTIONS)  # as `on_cluster`'s
    dispatch._register(options)
    held = connection.client.run(graders)
    assert all(held.values()), held
    dispatch._register(options)  # the next batch: nothing started again
    assert connection.client.run(graders) == held
    other = GraderPlugin(Options(cell_timeout=30, fl_round="off"),
                         client_pid=client_pid_for_workers(connection))
    assert not dispatch._warm(other)  # other options: the grader would be started anew


def housekeeping(dask_worker) -> dict[str, tuple[bool, float]]:
    """A worker's periodic callbacks: running?, period in ms."""
    return {name: (pc.is_running(), pc.callback_time)
            for name, pc in dask_worker.periodic_callbacks.items()}


def slowed(callbacks: dict[str, tuple[bool, float]]) -> bool:
    return (not any(callbacks.get(name, (False, 0))[0] for name in ("profile", "profile-cycle"))
            and callbacks["tick"][1] >= 1000 and callbacks["monitor"][1] >= 5000)


def test_local_workers_start_with_dasks_housekeeping_slowed(connection):
    for callbacks in connection.client.run(housekeeping).values():
        assert slowed(callbacks), callbacks


def test_the_plugin_slows_the_housekeeping_of_a_worker_with_dasks_defaults():
    import dask

    from grader.cluster.connection import HOUSEKEEPING, import_distributed
    from grader.cluster.plugin import slow_housekeeping

    distributed = import_distributed()
    defaults = {"distributed.worker.profile.enabled": True, "distributed.admin.tick.interval": "20ms",
                "distributed.admin.system-monitor.interval": "500ms",
                "distributed.worker.memory.monitor-interval": "100ms"}  # Dask's own defaults
    assert set(defaults) == set(HOUSEKEEPING)
    with dask.config.set(defaults), \
            distributed.LocalCluster(n_workers=1, processes=False, host="127.0.0.1", protocol="tcp",
                                     dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        [before] = client.run(housekeeping).values()
        assert not slowed(before) and before["profile"][0]  # a remote worker as Dask starts it
        client.run(lambda dask_worker: slow_housekeeping(dask_worker))
        [after] = client.run(housekeeping).values()
        assert slowed(after), after


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
