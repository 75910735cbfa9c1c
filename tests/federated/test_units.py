"""The federated round's parts that need no round: settings, the clients' programs, the record,
the verdict, client A's instrumentation and the reaper. (A real round: test_federated_round.py.)
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import nbformat
import numpy as np
import pytest

from grader.federated import clients, settings
from grader.federated.reaper import MARKER_VARIABLE, kill_marked, processes_with_marker
from grader.federated.record import AggregatorRecord, HookLog, pre_training_accuracy
from grader.federated.round import (A_ERROR, A_ID, A_LEFT, AGGREGATOR_DIED, B_ID, B_LEFT, COMPLETED,
                                    REFERENCE, SETUP_FAILED, SIDECAR, RoundOutcome)
from grader.federated.settings import RoundSettings, expected_learning_rate
from grader.federated.verdict import verdict
from grader.results.model import ERROR, FAILED, PASSED

from tests.helpers import notebook


FL_CELL = textwrap.dedent("""\
    fl = FederatedLearningV2(data=our_dataset, estimator=estimator, aggregation=fedavg,
                             transmitter=transmitter)
    fl.train()""")


# --- settings -------------------------------------------------------------------------------


@pytest.mark.parametrize("round_number, lr", [(1, 0.1), (20, 0.1), (21, 0.01), (25, 0.01), (40, 0.01),
                                              (41, 0.001), (50, 0.001)])
def test_expected_learning_rate_follows_the_course_schedule(round_number, lr):
    assert expected_learning_rate(round_number) == pytest.approx(lr, rel=1e-12)


def test_modes_and_cuda_detection(monkeypatch):
    assert settings.should_run("on") and not settings.should_run("off")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert not settings.cuda_available() and not settings.should_run("auto")
    with pytest.raises(ValueError, match="--fl-round"):
        settings.should_run("maybe")


def test_cpu_settings_keep_rounds_short_and_the_start_round_in_the_course():
    cpu = RoundSettings(cuda=False)
    assert cpu.round_deadline == 180 and cpu.synthetic_sizes() == (128, 300)
    assert RoundSettings(cuda=True).synthetic_sizes() == (50_000, 10_000)
    assert 21 <= cpu.start_round <= 40
    with pytest.raises(ValueError, match="1-50"):
        RoundSettings(start_round=0)


# --- the clients' programs ------------------------------------------------------------------


def test_client_a_notebook_is_cut_after_the_federated_cell_with_a_wait_cell_before_it(tmp_path):
    nb = notebook("x = open('/kaggle/input/cifar100/train')", FL_CELL, "print('after')", FL_CELL + "  # again",
                  "print('never')")
    a_nb, index = clients.round_notebook(nb, tmp_path)
    sources = [c.source for c in a_nb.cells]
    assert len(sources) == 5 and index == 4
    assert sources[0] == f"x = open('{tmp_path}/kaggle/input/cifar100/train')"
    assert "[grader]" in sources[3] and "GRADER_AGG_PORT" in sources[3]
    assert sources[4].endswith("fl.train()  # again")  # the last one, kept (federated=True)
    compile(sources[3], "wait", "exec")


def test_a_notebook_without_a_federated_cell_is_named():
    with pytest.raises(clients.NoFederatedCell, match="FederatedLearningV2"):
        clients.federated_cell_index(notebook("fl.train()", "x = FederatedLearningV2"))


def test_client_b_is_the_reference_with_another_seed_as_plain_python(tmp_path):
    reference = nbformat.read(REFERENCE, as_version=4)
    cells = clients.reference_cells(reference, tmp_path, 20220509)
    program = "\n".join(c["source"] for c in cells)
    assert "MY_RANDOM_SEED = 20220509" in program and "19891217" not in program
    assert "get_ipython" not in program and not any(line.lstrip().startswith("!") for line in program.splitlines())
    assert program.count("/kaggle/input") == program.count(f"{tmp_path}/kaggle/input") > 0
    assert cells[-1]["source"].rstrip().endswith("fl.train()")
    for cell in cells:
        compile(cell["source"], cell["id"], "exec")


def test_pre_training_accuracy_is_the_one_logged_before_training():
    log = ("base.py:236 INFO:[Client #2] Received 1.09 MB of payload data from the server.\n"
           "x.py:36 INFO:[Client #2] Test accuracy: 2.33%\n"
           "simple.py:114 INFO:[Client #2] Started training in communication round #25.\n"
           "simple.py:139 INFO:[Client #2] Test accuracy: 7.00%\n")
    assert pre_training_accuracy(log) == 2.33
    assert pre_training_accuracy(log.split("\n", 1)[0] + "\nsimple.py:114 Started training\n"
                                 "simple.py:139 INFO:[Client #2] Test accuracy: 7.00%\n") is None


# --- the verdict, from hand-made records ---------------------------------------------------


def _outcome(tmp_path, *, ended=COMPLETED, a_samples=64, a_vector=None, aggregate=None, lrs=(0.01,),
             a_log="INFO:[Client #1] Test accuracy: 2.33%\nStarted training\n", b_upload=True):
    rng = np.random.default_rng(0)
    global_v, b_v = rng.normal(size=50), rng.normal(size=50)
    a_v = global_v + 0.1 if a_vector is None else a_vector
    uploads = [(A_ID, a_samples, a_v)] + ([(B_ID, 64, b_v)] if b_upload else [])
    events = [{"t": 1.0, "event": "ready"}, {"t": 2.0, "event": "connected", "client": B_ID},
              {"t": 2.5, "event": "connected", "client": A_ID},
              {"t": 3.0, "event": "round_started", "round": 25, "model": _saved(tmp_path, "g", global_v)},
              {"t": 3.1, "event": "sent", "client": A_ID}, {"t": 3.2, "event": "sent", "client": B_ID}]
    for client, samples, vector in uploads:
        events.append({"t": 9.0, "event": "upload", "client": client, "num_samples": samples,
                       "model": _saved(tmp_path, f"u{client}", vector)})
    if b_upload:
        mean = (a_samples * a_v + 64 * b_v) / (a_samples + 64) if aggregate is None else aggregate
        events += [{"t": 9.5, "event": "aggregated", "model": _saved(tmp_path, "agg", mean)},
                   {"t": 9.6, "event": "closed"}]
    (tmp_path / "record.json").write_text(json.dumps({"version": 1, "start_round": 25, "events": events}))
    hook = HookLog(optimizers=[{"t": 5.0, "event": "optimizer", "type": "SGD", "lrs": list(lrs)}])
    return RoundOutcome(RoundSettings(cuda=False), ended, 25, 128, 300, "m", AggregatorRecord.read(tmp_path),
                        hook, a_output=a_log)


def _saved(folder, name, vector):
    np.save(folder / f"{name}.npy", np.asarray(vector, dtype=np.float64))
    return {"file": f"{name}.npy", "size": int(np.asarray(vector).size),
            "digest": str(hash(np.asarray(vector).tobytes()))}


def test_a_clean_round_passes_with_evidence(tmp_path):
    result = verdict(_outcome(tmp_path), 2.0)
    assert result.status == PASSED and result.score == 2.0
    assert [p.name for p in result.properties] == ["uploaded", "sample_count", "trained", "aggregated",
                                                   "accuracy_before", "learning_rate"]
    assert "2.33%" in result.feedback and "lr=0.01" in result.feedback


def test_each_failed_part_gets_its_own_sentence_and_partial_credit(tmp_path):
    result = verdict(_outcome(tmp_path, a_samples=128, lrs=(0.1,), a_log="Started training\n"), 2.0)
    assert result.status == FAILED
    failed = {p.name for p in result.properties if not p.passed}
    assert failed == {"sample_count", "accuracy_before", "learning_rate"}
    assert result.score == pytest.approx(1.0)
    for phrase in ("reported 128 training samples", "half of the round's 128 training images is 64",
                   "did not log a test accuracy before training", "used lr=0.1, but round 25 trains with"):
        assert phrase in result.feedback


def test_an_aggregate_that_is_not_the_weighted_mean_fails(tmp_path):
    result = verdict(_outcome(tmp_path, aggregate=np.zeros(50)), 2.0)
    assert [p.name for p in result.properties if not p.passed] == ["aggregated"]


def test_an_upload_equal_to_the_global_model_did_not_train(tmp_path):
    outcome = _outcome(tmp_path)
    upload = outcome.record.uploads_of(A_ID)[0]
    upload["model"]["digest"] = outcome.record.first("round_started")["model"]["digest"]
    result = verdict(outcome, 2.0)
    assert [p.name for p in result.properties if not p.passed] == ["trained"]
    assert "exactly the weights it received" in result.feedback


def test_a_client_error_names_the_exception(tmp_path):
    outcome = _outcome(tmp_path, ended=A_ERROR, b_upload=True)
    outcome.record.events = [e for e in outcome.record.events
                             if not (e["event"] == "upload" and e["client"] == A_ID)
                             and e["event"] not in ("aggregated", "closed")]
    outcome.hook.optimizers = []
    outcome.detail = "AssertionError: the current round of the trainer was not correctly set"
    result = verdict(outcome, 2.0)
    assert result.status == FAILED and result.score == pytest.approx(2.0 / 6, abs=1e-4)
    assert "raised AssertionError: the current round" in result.feedback
    assert "did not upload" in result.feedback and "never built an optimizer" in result.feedback
    assert "not checked" not in result.feedback  # consequences stay in the properties only


@pytest.mark.parametrize("ended, detail", [(B_LEFT, "client B (the reference) exited with code 1"),
                                           (AGGREGATOR_DIED, "the aggregator exited with code 1"),
                                           (SETUP_FAILED, "the round's sandbox could not start: no")])
def test_the_grader_side_failing_is_an_error_not_the_students_fault(tmp_path, ended, detail):
    outcome = _outcome(tmp_path, ended=ended, b_upload=False)
    outcome.detail = detail
    result = verdict(outcome, 2.0)
    assert result.status == ERROR and result.score == 0 and detail in result.feedback


# --- client A's instrumentation --------------------------------------------------------------


def test_the_hook_logs_optimizer_rates_and_handler_errors(tmp_path):
    # A stand-in for torch's module layout (the real one is seen in the round tests): the hook
    # patches `torch.optim.optimizer.Optimizer` when that module is first imported.
    package = tmp_path / "fake" / "torch" / "optim"
    package.mkdir(parents=True)
    (package.parent / "__init__.py").write_text("")
    (package / "optimizer.py").write_text(textwrap.dedent("""
        class Optimizer:
            def __init__(self, params, defaults):
                self.param_groups = [dict(defaults, params=list(params))]
    """))
    (package / "__init__.py").write_text(textwrap.dedent("""
        from .optimizer import Optimizer

        class SGD(Optimizer):
            def __init__(self, params, lr, momentum=0):
                super().__init__(params, {"lr": lr, "momentum": momentum})
    """))
    log = tmp_path / "hook.jsonl"
    code = textwrap.dedent("""
        import asyncio, logging
        import torch.optim
        logging.basicConfig()
        torch.optim.SGD([1.0], lr=0.02, momentum=0.9)

        async def handler():
            raise AssertionError("the current round of the trainer was not correctly set")

        async def main():
            asyncio.get_running_loop().create_task(handler())
            await asyncio.sleep(0.1)

        asyncio.run(main())
    """)
    env = {"PATH": os.environ["PATH"], "GRADER_FL_HOOK_LOG": str(log),
           "PYTHONPATH": f"{SIDECAR / 'hook'}{os.pathsep}{tmp_path / 'fake'}"}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60, capture_output=True)
    hook = HookLog.read(log)
    assert [(o["type"], o["lrs"]) for o in hook.optimizers] == [("SGD", [0.02])]
    assert hook.handler_errors[0]["error"] == ("AssertionError: the current round of the trainer was "
                                               "not correctly set")


# --- the reaper -------------------------------------------------------------------------------


def test_the_reaper_finds_and_kills_marked_processes_even_in_their_own_session():
    token = f"test-{os.getpid()}-{time.time_ns()}"
    env = {"PATH": os.environ["PATH"], MARKER_VARIABLE: token}
    proc = subprocess.Popen(["sh", "-c", "sleep 60 & sleep 60"], env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        while len(processes_with_marker(token)) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(processes_with_marker(token)) == 3  # sh and both sleeps
        kill_marked(token)
        proc.wait(timeout=10)
        assert processes_with_marker(token) == []
    finally:
        proc.kill()
        proc.wait()


def test_a_client_that_leaves_after_its_validation_pass_is_told_about_a_zero_accuracy(tmp_path):
    outcome = _outcome(tmp_path, ended=A_LEFT, a_log="INFO:[Client #1] Do a validation pass before training.\n")
    outcome.record.events = [e for e in outcome.record.events
                             if not (e["event"] == "upload" and e["client"] == A_ID)]
    outcome.record.events.append({"t": 4.0, "event": "disconnected", "client": A_ID})
    outcome.hook.optimizers = []
    result = verdict(outcome, 2.0)
    assert result.status == FAILED
    assert "disconnected from the aggregator before it uploaded" in result.feedback
    assert "extra_test returns 0" in result.feedback


def test_on_the_cpu_the_round_ignores_the_real_data_folder(tmp_path):
    from grader.federated import settings_from
    from grader.pipeline import Options

    assert settings_from(Options(data_dir=tmp_path), cuda=False).data_dir is None
    assert settings_from(Options(data_dir=tmp_path), cuda=True).data_dir == tmp_path
