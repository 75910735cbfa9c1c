"""The Sedna-compatible layer's event-loop-bound paths, in-process: the loop helpers, the
transmitter and `Context` read when the objects are built inside a running loop, and how
`FederatedLearningV2` / `AggregationServerV2` merge their arguments into Plato's `Config()`.
(The same merging in a separate student process: tests/test_environment_sedna.py.)
"""
from __future__ import annotations

import asyncio
import inspect
import os
import sys

import pytest

from .conftest import START_ROUND, tiny_model


async def test_current_loop_is_the_running_loop(course_site):
    from sedna.common.event_loop import current_loop

    assert current_loop() is asyncio.get_running_loop()


async def test_run_until_complete_inside_a_running_loop_asks_for_nest_asyncio(course_site):
    from sedna.common.event_loop import run_until_complete

    async def answer():
        return 42

    coroutine = answer()
    with pytest.raises(RuntimeError, match=r"nest_asyncio\.apply\(\)"):
        run_until_complete(coroutine)
    assert coroutine.cr_frame is None  # closed: no "never awaited" warning, nothing left running


async def test_the_transmitter_is_read_from_the_environment_when_asked(course_site, monkeypatch):
    from sedna.algorithms.transmitter import WSTransmitter
    from sedna.core.federated_learning import FederatedLearningV2

    monkeypatch.delenv("TRANSMITTER", raising=False)
    default = FederatedLearningV2.get_transmitter_from_config()
    assert type(default) is WSTransmitter and default.parameters == {}
    monkeypatch.setenv("TRANSMITTER", " WS ")
    assert type(FederatedLearningV2.get_transmitter_from_config()) is WSTransmitter
    monkeypatch.setenv("TRANSMITTER", "s3")
    with pytest.raises(ValueError, match=r"TRANSMITTER='s3'.*\['ws'\]"):
        FederatedLearningV2.get_transmitter_from_config()


class Data:
    customized = True
    trainset = list(range(30))
    testset = list(range(10))


def estimator(**hyperparameters):
    class Estimator:
        model = tiny_model()
        pretrained = saved = None
        use_client = "edge_ai_client"

    Estimator.hyperparameters = {"type": "basic", "rounds": 3, "epochs": 2, "learning_rate": 0.1,
                                 "model_name": "cifar100_resnet", **hyperparameters}
    return Estimator()


async def test_federated_learning_v2_builds_the_course_client_and_train_needs_nest_asyncio(
        plato_config, edge_ai_client_class, monkeypatch):
    from plato.config import Config
    from sedna.algorithms.aggregation import FedAvgV2
    from sedna.core.federated_learning import FederatedLearningV2

    # set after the layer was imported: read when the client is built
    monkeypatch.setenv("AGG_IP", "127.0.0.9")
    monkeypatch.setenv("AGG_PORT", "7777")
    monkeypatch.setenv("CLIENT_ID", "2")
    given = estimator()
    fl = FederatedLearningV2(data=Data(), estimator=given, aggregation=FedAvgV2(),
                             transmitter=FederatedLearningV2.get_transmitter_from_config())
    server, clients, trainer = Config().server, Config().clients, Config().trainer
    assert (server.address, server.port) == ("127.0.0.9", 7777)
    assert clients.type == "edge_ai_client" and clients.do_test is True
    assert (trainer.learning_rate, trainer.epochs, trainer.momentum) == (0.1, 2, 0.9)  # YAML kept
    assert Config().algorithm._asdict() == {"type": "fedavg"}
    assert type(fl.client) is edge_ai_client_class  # the notebook's client, from the registry
    assert fl.client.client_id == Config().args.id == 2
    assert fl.client.datasource.get_train_set() == Data.trainset
    assert fl.client.custom_model() is given.model

    started = []
    monkeypatch.setattr(fl.client, "start_client", lambda: started.append(1) or asyncio.sleep(5))
    with pytest.raises(RuntimeError, match=r"nest_asyncio\.apply\(\)"):
        fl.train()  # inside this test's running loop, as in a Jupyter kernel without nest_asyncio
    assert started == [1] and fl.client.trainer is not None  # configured, then refused at once


async def test_aggregation_server_v2_merges_environment_chooser_and_estimator(
        plato_config, monkeypatch):
    from plato.config import Config
    from sedna.algorithms.aggregation import FedAvgV2
    from sedna.algorithms.client_choose import SimpleClientChoose
    from sedna.algorithms.transmitter import WSTransmitter
    from sedna.service.server import AggregationServerV2

    monkeypatch.setenv("AGG_IP", "127.0.0.9")  # the clients' address: not what the server binds
    monkeypatch.setenv("AGG_BIND_PORT", "7603")
    monkeypatch.delenv("AGG_BIND_IP", raising=False)
    given = estimator(type="edge_ai_trainer", rounds=START_ROUND)
    agg = AggregationServerV2(data=None, estimator=given, aggregation=FedAvgV2(),
                              transmitter=WSTransmitter(), chooser=SimpleClientChoose(per_round=3))
    server, clients = Config().server, Config().clients
    assert (server.address, server.port) == ("127.0.0.1", 7603)
    assert server.disable_clients is True and server.do_test is False
    assert clients.per_round == clients.total_clients == agg.server.clients_per_round == 3
    assert Config().trainer.rounds == START_ROUND and Config().algorithm._asdict() == {"type": "fedavg"}
    agg.server.load_trainer()
    assert agg.server.model is given.model
    assert type(agg.server.trainer).__module__ == "plato.trainers.basic"  # not registered here
    agg.server.current_round = START_ROUND
    assert agg.server.customize_server_payload("W") == {"weights": "W", "current_round": START_ROUND}
    assert inspect.signature(type(agg.server).start).parameters["port"].default is None


def test_fresh_config_ignores_the_process_arguments_and_restores_them(course_site, tmp_path,
                                                                      monkeypatch):
    from plato.config import Config
    from sedna.common.plato_sections import fresh_config

    from grader.environment import layout

    monkeypatch.setattr(sys, "argv", ["pytest", "-q", "--unknown-to-plato"])
    monkeypatch.setenv("config_file", "/nonexistent.yml")
    monkeypatch.chdir(tmp_path)  # Plato makes its folders in the working directory
    try:
        config = fresh_config(layout.SITE_DIR / "edge_ai_w5_course.yml", argv=["--id", "2"])
        assert config is Config() and Config().args.id == 2
        assert Config().trainer.learning_rate == 0.01
        assert sys.argv == ["pytest", "-q", "--unknown-to-plato"]
        assert os.environ["config_file"] == "/nonexistent.yml"
    finally:
        Config._instance = None
