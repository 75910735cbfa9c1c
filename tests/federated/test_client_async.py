"""The course client in-process: the reference's `EdgeAiClient` (cell "task4-client", taken from
the reference notebook through `grader.notebook.extract`) driven through Plato's own
`start_training()` (load the payload, `train()`, report, upload) with a real payload from the
in-process aggregator.

Plato's client ends its process when it is disconnected (`ClientEvents.on_disconnect` calls
`os._exit(0)`); a mocked socket models that by raising `ProcessEnded` from `disconnect()`.
"""
from __future__ import annotations

import asyncio
from unittest.mock import AsyncMock, MagicMock

import pytest

from grader.federated.round import A_ID, B_ID

from .conftest import START_ROUND, tiny_model, weights, within


class ProcessEnded(Exception):
    """Where Plato's client process would end (`os._exit(0)` on disconnect)."""


async def real_payload(clients):
    """Two fake clients join the in-process aggregator; returns them and the payload `a` got."""
    a, b = await clients(A_ID, B_ID)
    payload, _ = await asyncio.gather(a.payload(), b.payload())
    return a, b, payload


def mocked_client(edge_ai_client_class, payload, accuracy):
    """An `EdgeAiClient` with one parent mock recording every call of its trainer, algorithm and
    socket in order; the payload is waiting, as Plato leaves it after `payload_done`."""
    calls = MagicMock(name="calls")
    client = edge_ai_client_class()
    client.client_id = A_ID
    client.trainer, client.algorithm = calls.trainer, calls.algorithm
    client.trainer.test.return_value = accuracy
    client.trainer.train.return_value = 0.01  # Plato's trainers return the training time
    client.algorithm.extract_weights.return_value = weights(1.0)
    client.sio = AsyncMock(name="sio")
    calls.attach_mock(client.sio, "sio")
    client.sio.disconnect.side_effect = ProcessEnded("os._exit(0) in ClientEvents.on_disconnect")
    client.trainset, client.testset = "trainset", "testset"
    client.sampler = MagicMock(name="sampler", **{"trainset_size.return_value": 30})
    client.outbound_processor = MagicMock(**{"process.side_effect": lambda data: data})
    client.server_payload = payload
    return client, calls


def names(calls) -> list[str]:
    return [name for name, _, _ in calls.mock_calls if not name.startswith("sampler")]


async def test_zero_accuracy_disconnects_before_training_and_uploads_nothing(
        aggregator, clients, edge_ai_client_class):
    _, _, payload = await real_payload(clients)
    client, calls = mocked_client(edge_ai_client_class, payload, accuracy=0)
    with pytest.raises(ProcessEnded):
        await within(client.start_training(), "the course client's start_training()")
    client.sio.disconnect.assert_awaited_once()
    assert names(calls) == ["algorithm.load_weights", "trainer.test", "sio.disconnect"]
    client.sio.emit.assert_not_awaited()  # no report, no chunk, no upload
    client.trainer.train.assert_not_called()


async def test_a_validation_pass_runs_once_before_training_and_the_base_train_is_awaited(
        aggregator, clients, edge_ai_client_class):
    _, _, payload = await real_payload(clients)
    client, calls = mocked_client(edge_ai_client_class, payload, accuracy=0.25)
    await within(client.start_training(), "the course client's start_training()")

    order = names(calls)
    first_train = order.index("trainer.train")
    assert order[:first_train] == ["algorithm.load_weights", "trainer.test"]  # once, before
    assert order.count("trainer.train") == 1
    # after training, Plato's base `train()`: extract the weights, test (clients.do_test), report
    assert order[first_train + 1:first_train + 3] == ["algorithm.extract_weights", "trainer.test"]
    client.trainer.test.assert_any_call("testset")  # the validation pass tests the test set
    emitted = [call.args[0] for call in client.sio.emit.await_args_list]
    assert emitted[0] == "client_report" and emitted[-2:] == ["client_payload", "client_payload_done"]
    assert client.report.num_samples == 30 and client.report.accuracy == 0.25
    client.sio.disconnect.assert_not_awaited()


async def test_load_payload_stores_the_aggregators_round_and_loads_its_weights_once(
        aggregator, clients, edge_ai_client_class):
    _, _, payload = await real_payload(clients)
    client = edge_ai_client_class()
    client.algorithm, client.trainer = MagicMock(name="algorithm"), MagicMock(name="trainer")
    client.load_payload(payload)
    assert client.trainer.current_round == START_ROUND
    client.algorithm.load_weights.assert_called_once_with(payload["weights"])
    assert [name for name, _, _ in client.algorithm.mock_calls] == ["load_weights"]


async def test_the_course_client_round_trips_through_the_aggregator(
        aggregator, clients, edge_ai_client_class):
    """The reference client, on the socket of a connected client, loads the real payload into a
    real model, "trains" (a mocked trainer moves every weight to 1.0), uploads through Plato's
    `send()`; with the other client's upload the aggregate is the weighted mean."""
    import torch
    from plato.algorithms.fedavg import Algorithm
    from plato.processors import registry as processor_registry

    a, b, payload = await real_payload(clients)
    model = tiny_model()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.zero_()
    trainer = MagicMock(name="trainer", model=model)
    trainer.test.return_value = 0.25
    loaded = []  # the model's weight when training starts

    def train(trainset, sampler):
        loaded.append(model.weight.detach().clone())
        with torch.no_grad():
            for parameter in model.parameters():
                parameter.fill_(1.0)
        return 0.01

    trainer.train.side_effect = train
    client = edge_ai_client_class()
    client.client_id, client.sio = a.plato_id, a.sio
    client.trainer, client.algorithm = trainer, Algorithm(trainer)
    client.sampler = MagicMock(**{"trainset_size.return_value": 30})
    client.outbound_processor, client.inbound_processor = processor_registry.get(
        "Client", client_id=client.client_id, trainer=trainer)
    client.server_payload = payload
    await within(client.start_training(), "the course client's start_training()")
    assert loaded and loaded[0].eq(0.5).all()  # the global model was loaded before training
    assert trainer.current_round == START_ROUND
    await b.upload(weights(-2.0), num_samples=10)
    await aggregator.wait_ended()

    aggregate = aggregator.server.algorithm.extract_weights()
    assert all(t.eq(0.75 * 1.0 + 0.25 * -2.0).all() for t in aggregate.values())
    upload = {e["client"]: e for e in aggregator.record().all("upload")}[A_ID]
    assert upload["num_samples"] == 30 and upload["accuracy"] == 0.25
