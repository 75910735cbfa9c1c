"""Real federated rounds on the CPU (small synthetic data): the aggregator, the submission as
client A in a Jupyter kernel, the reference as client B. Two rounds in all, about a minute each
at most on two busy cores; each test also proves that no process of its round survives.
"""
from __future__ import annotations

import nbformat
import pytest

from grader.federated import fl_round_check, run_round, verdict
from grader.federated.reaper import processes_with_marker
from grader.federated.round import A_ERROR, A_ID, B_ID, COMPLETED, REFERENCE
from grader.federated.settings import RoundSettings
from grader.pipeline import Options
from grader.results.model import FAILED, PASSED, SKIPPED

from tests.helpers import ROOT


ROUND_ON_CLIENT = ROOT / "fixtures" / "submissions" / "task4a_round_on_client.ipynb"


def _round(path):
    events = []
    outcome = run_round(nbformat.read(path, as_version=4), RoundSettings(cuda=False),
                        on_progress=lambda seconds, message: events.append(message))
    survivors = processes_with_marker(outcome.marker)
    return outcome, events, survivors


@pytest.mark.slow
def test_the_reference_passes_a_real_round_and_leaves_nothing_behind():
    outcome, events, survivors = _round(REFERENCE)
    assert survivors == [], f"processes of the round still running: {survivors}"
    assert not any(f.exists() for f in outcome.folders.values())  # the round's folders are gone
    assert outcome.ended == COMPLETED, (outcome.detail, outcome.aggregator_log[-2000:], outcome.b_log[-2000:])
    assert outcome.exit_codes == {"aggregator": 0, "client-b": 0}

    result = verdict(outcome, 2.0)
    assert result.status == PASSED, result.feedback
    assert all(p.passed for p in result.properties)
    assert "Your trainer used lr=0.01 in round 25" in result.feedback

    record = outcome.record
    assert sorted(record.connected) == [A_ID, B_ID]
    assert [u["num_samples"] for u in record.all("upload")] == [64, 64]
    assert record.first("round_started")["round"] == 25
    # the live progress a student watches with `python -m grader fl-round`
    for phrase in ("client A (your notebook) connected", "round 25 started", "upload from client A",
                   "aggregated 2 uploads", "built a SGD optimizer with lr=0.01"):
        assert any(phrase in e for e in events), (phrase, events)
    assert {"startup", "waiting_for_clients", "training", "aggregation"} <= set(outcome.timings)


@pytest.mark.slow
def test_a_client_that_ignores_the_payload_round_fails_fast_with_the_reason():
    outcome, events, survivors = _round(ROUND_ON_CLIENT)
    assert survivors == [], f"processes of the round still running: {survivors}"
    assert not any(f.exists() for f in outcome.folders.values())
    # the notebook hangs in Plato (an exception in a socket.io handler): the grader must notice
    # it and stop the round instead of waiting for the deadline
    assert outcome.ended == A_ERROR
    assert outcome.seconds < outcome.settings.round_deadline / 2

    result = verdict(outcome, 2.0)
    assert result.status == FAILED
    failed = {p.name for p in result.properties if not p.passed}
    assert {"uploaded", "learning_rate"} <= failed and "accuracy_before" not in failed
    assert "raised AssertionError: the current round of the trainer was not correctly set" in result.feedback
    assert "did not upload" in result.feedback
    assert 0 < result.score < 2.0


def test_the_check_is_skipped_without_cuda_unless_forced(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    nb = nbformat.read(REFERENCE, as_version=4)
    for mode in ("auto", "off"):
        result = fl_round_check(nb, Options(fl_round=mode))
        assert result.status == SKIPPED and result.max_score == 0
        assert "not run" in result.feedback
    with pytest.raises(ValueError):
        fl_round_check(nb, Options(fl_round="sometimes"))
