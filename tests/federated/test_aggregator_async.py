"""The round's aggregator in-process: the Sedna-compatible `AggregationServerV2` (Plato's FedAvg
server with the course payload) plus the grader's recorder, against fake socket.io clients.

Each test bounds every wait (conftest `WAIT`, or a shorter bound of its own), so a round that
stalls fails the test with what the aggregator recorded instead of hanging it.
"""
from __future__ import annotations

import asyncio
import logging

import numpy as np
import pytest
import torch

from grader.federated.record import AggregatorRecord, HookLog
from grader.federated.round import A_ID, B_ID, DEADLINE, RoundOutcome
from grader.federated.settings import RoundSettings
from grader.federated.verdict import verdict
from grader.results.model import ERROR, FAILED

from .conftest import START_ROUND, eventually, tiny_model, weights, within

QUIET = 0.3
"""How long a test watches the aggregator to show that it did NOT do something."""


def vector(state) -> np.ndarray:
    """A state dict as the recorder's float64 vector (entries in the global model's order)."""
    return np.concatenate([state[name].double().reshape(-1).numpy()
                           for name in tiny_model().state_dict()])


async def start_round(clients):
    """Two fake clients join; both receive the round's payload. Returns (a, b, payload of a, of b)."""
    a, b = await clients(A_ID, B_ID)
    pa, pb = await asyncio.gather(a.payload(), b.payload())
    return a, b, pa, pb


# --- the payload ------------------------------------------------------------------------------


async def test_each_client_receives_exactly_the_global_weights_and_the_start_round(aggregator, clients):
    a, b, pa, pb = await start_round(clients)
    global_state = tiny_model().state_dict()
    for client, payload in ((a, pa), (b, pb)):
        assert isinstance(payload, dict) and set(payload) == {"weights", "current_round"}, payload
        assert payload["current_round"] == START_ROUND
        assert list(payload["weights"]) == list(global_state)
        for name, tensor in global_state.items():
            assert torch.equal(payload["weights"][name], tensor), name
        assert client.response["current_round"] == START_ROUND
    assert {a.plato_id, b.plato_id} == {A_ID, B_ID}  # Plato 0.4.0: ids 1..per_round
    started = aggregator.record().first("round_started")
    assert started["round"] == START_ROUND and sorted(started["clients"]) == [A_ID, B_ID]


async def test_the_round_waits_for_the_second_client(aggregator, clients):
    (a,) = await clients(A_ID)
    await aggregator.recorded("connected", A_ID)
    await asyncio.sleep(QUIET)
    assert a.response is None and "round_started" not in aggregator.events()
    (b,) = await clients(B_ID)
    pa, pb = await asyncio.gather(a.payload(), b.payload())
    assert pa["current_round"] == pb["current_round"] == START_ROUND


# --- aggregation ------------------------------------------------------------------------------


async def test_the_aggregate_is_the_sample_weighted_mean_exactly(aggregator, clients):
    a, b, _, _ = await start_round(clients)
    ua, ub = weights(1.0), weights(-2.0)
    await a.upload(ua, num_samples=30)
    await b.upload(ub, num_samples=10)
    await aggregator.wait_ended()

    # 30/40 and 10/40 are exact in binary, and so is every step of FedAvg on these values
    expected = {name: 0.75 * ua[name] + 0.25 * ub[name] for name in ua}
    assert all(expected[name].eq(0.25).all() for name in expected)  # and unlike 0.5 * a + 0.5 * b
    aggregate = aggregator.server.algorithm.extract_weights()
    for name, tensor in expected.items():
        assert torch.equal(aggregate[name], tensor), (
            f"{name}: aggregate {aggregate[name].tolist()} is not the sample-weighted mean "
            f"{tensor.tolist()} of uploads with 30 and 10 samples")

    record = aggregator.record()
    aggregated = record.first("aggregated")
    assert sorted(aggregated["num_samples"]) == [10, 30]
    assert np.array_equal(record.vector(aggregated["model"]), vector(expected))
    uploads = {e["client"]: e for e in record.all("upload")}
    assert uploads[A_ID]["num_samples"] == 30 and uploads[B_ID]["num_samples"] == 10
    assert np.array_equal(record.vector(uploads[A_ID]["model"]), vector(ua))


async def test_after_aggregating_the_round_closes_and_tells_every_client_to_leave(aggregator, clients):
    a, b, _, _ = await start_round(clients)
    await a.upload(weights(1.0), num_samples=3)
    await b.upload(weights(1.0), num_samples=1)
    await aggregator.wait_ended()
    await within(asyncio.gather(a.told_to_leave.wait(), b.told_to_leave.wait()),
                 "telling both clients to leave")
    events = aggregator.events()
    assert events.index("aggregated") < events.index("closed")
    assert events.count("round_started") == 1  # a closed server starts no further round
    assert (aggregator.server.current_round, aggregator.server.closed) == (START_ROUND, True)


# --- clients that leave, stall or send garbage ------------------------------------------------


async def test_a_client_that_disconnects_after_the_other_uploaded_leaves_a_one_client_aggregate(
        aggregator, clients, caplog):
    caplog.set_level(logging.INFO)
    a, b, _, _ = await start_round(clients)
    await a.upload(weights(1.0), num_samples=30)
    await aggregator.recorded("upload", A_ID)
    await b.leave()
    await aggregator.wait_ended()

    aggregate = aggregator.server.algorithm.extract_weights()
    assert all(t.eq(1.0).all() for t in aggregate.values())  # a's upload alone, weight 30/30
    record = aggregator.record()
    assert [e["client"] for e in record.all("disconnected")] == [B_ID]
    assert record.first("aggregated")["num_samples"] == [30]
    assert "disconnected and removed from this server" in caplog.text


async def test_a_client_that_disconnects_before_the_other_uploaded_stalls_the_round(
        aggregator, clients, caplog):
    caplog.set_level(logging.INFO)
    a, b, _, _ = await start_round(clients)
    await b.leave()
    await aggregator.recorded("disconnected", B_ID)
    await a.upload(weights(1.0), num_samples=30)
    await aggregator.recorded("upload", A_ID)
    # Plato aggregates once `per_round` uploads arrived or every remaining selected client
    # reported when one leaves: neither happens here, so the round waits for the grader's deadline
    assert await aggregator.stays_open(QUIET)
    record = aggregator.record()
    assert [e["client"] for e in record.all("disconnected")] == [B_ID]
    assert [e["client"] for e in record.all("upload")] == [A_ID]
    assert record.first("aggregated") is None
    assert "disconnected and removed from this server" in caplog.text


@pytest.mark.parametrize("defect, bad, recorded, error", [
    ("missing key", weights(1.0, drop="bias"), "layout_mismatch", KeyError),
    ("wrong shape", weights(1.0, reshape="bias"), "layout_mismatch", RuntimeError),
    ("not a tensor", weights(1.0, bias="not a tensor"), "unreadable", TypeError),
])
async def test_a_malformed_upload_is_recorded_and_logged_and_never_aggregated(
        aggregator, clients, caplog, defect, bad, recorded, error):
    a, b, _, _ = await start_round(clients)
    await b.upload(bad, num_samples=10)  # first: Plato averages over the first upload's entries
    await aggregator.recorded("upload", B_ID)
    await a.upload(weights(1.0), num_samples=30)
    # Plato's averaging raises inside the socket.io handler; socket.io logs it with its traceback
    def logged():
        return [r for r in caplog.records if r.exc_info and isinstance(r.exc_info[1], error)]
    await eventually(logged, f"a {error.__name__} logged for the upload with a {defect}")
    assert await aggregator.stays_open(QUIET), f"a round with an upload with a {defect} ended"

    record = aggregator.record()
    upload = {e["client"]: e for e in record.all("upload")}[B_ID]
    assert {**upload.get("model", {}), **upload}.get(recorded), upload  # the record names it
    assert record.first("aggregated") is None
    # the global model is untouched
    assert all(t.eq(0.5).all() for t in aggregator.server.algorithm.extract_weights().values())


async def test_an_upload_missing_an_entry_after_a_whole_one_is_averaged_as_if_unchanged(
        aggregator, clients):
    # Plato's FedAvg averages the entries of the first upload and skips what a later one lacks:
    # the round completes; only the record's `layout_mismatch` tells the grader
    a, b, _, _ = await start_round(clients)
    await a.upload(weights(1.0), num_samples=30)
    await aggregator.recorded("upload", A_ID)
    await b.upload(weights(1.0, drop="bias"), num_samples=10)
    await aggregator.wait_ended()
    aggregate = aggregator.server.algorithm.extract_weights()
    assert aggregate["weight"].eq(1.0).all()
    assert aggregate["bias"].eq(0.5 + 0.75 * 0.5).all()  # b's missing delta counted as 0
    upload = {e["client"]: e for e in aggregator.record().all("upload")}[B_ID]
    assert upload["model"].get("layout_mismatch") is True and "file" not in upload["model"]


@pytest.mark.parametrize("silent, fault", [(B_ID, "the reference client B did not upload its model"),
                                           (A_ID, "did not upload within")])
async def test_a_client_that_never_answers_ends_at_the_deadline_with_a_named_reason(
        aggregator, clients, tmp_path, silent, fault):
    a, b, _, _ = await start_round(clients)
    talker = a if silent == B_ID else b
    await talker.upload(weights(1.0), num_samples=30)
    await aggregator.recorded("upload", talker.client_id)
    deadline = 0.5  # the test's deadline for the round, as the grader's monitor keeps one
    assert await aggregator.stays_open(deadline)

    record = aggregator.record()
    assert {e["client"] for e in record.all("sent")} == {A_ID, B_ID}
    assert [e["client"] for e in record.all("upload")] == [talker.client_id]
    # what the grader concludes from this record when its deadline ends the round
    outcome = RoundOutcome(RoundSettings(deadline=deadline, cuda=False), DEADLINE, START_ROUND,
                           train_size=60, test_size=10, marker="in-process", record=record,
                           hook=HookLog())
    result = verdict(outcome, 1.0)
    assert result.status == (ERROR if silent == B_ID else FAILED)
    assert fault in result.feedback, result.feedback


async def test_the_record_is_plain_data_the_grader_reads_back(aggregator, clients):
    a, b, _, _ = await start_round(clients)
    await a.upload(weights(1.0), num_samples=3)
    await b.upload(weights(0.0), num_samples=1)
    await aggregator.wait_ended()
    record = AggregatorRecord.read(aggregator.record_dir)
    assert record.start_round == START_ROUND
    assert [e for e in ("connected", "round_started", "sent", "upload", "aggregated", "closed")
            if record.first(e) is None] == []
    assert sorted(record.connected) == [A_ID, B_ID]
