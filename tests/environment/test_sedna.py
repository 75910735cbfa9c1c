"""The Sedna-compatible layer and the course modules of `site/`.

Plato's `Config()` is a process-wide singleton, so everything that touches it runs in a fresh
student process (the run directory's environment) and reports back as JSON on its last line.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap

import pytest

from grader.environment import data, layout


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("sedna")
    return layout.build_run_dir(root / "run", data.synthetic_dir(20, 10, root / "cache"), agg_port=7601)


def probe(run, code: str, **env) -> dict:
    """Run `code` as a student process; return the JSON object it printed last."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=run.env(extra={k: str(v) for k, v in env.items()}),
        cwd=run.work_dir, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


ESTIMATOR = textwrap.dedent("""
    import torch
    from plato.clients import registry as client_registry
    from plato.clients.simple import Client as SimpleClient

    class ProbeClient(SimpleClient):
        pass

    client_registry.registered_clients["probe_client"] = ProbeClient

    class Data:
        customized = True
        trainset = list(range(30))
        testset = list(range(10))

    class Estimator:
        model = torch.nn.Linear(4, 2)
        pretrained = saved = None
        use_client = "probe_client"
        hyperparameters = {"type": "not_registered_here", "rounds": 3, "epochs": 2,
                           "learning_rate": 0.1, "model_name": "cifar100_resnet"}
""")


def test_configuration_module_prepares_plato_for_a_kernel(run):
    seen = probe(run, """
        import json, os, sys
        sys.argv = ["ipykernel_launcher.py", "-f", "/tmp/kernel-1.json"]
        import edge_ai_w5_sedna_configuration as course
        from plato.config import Config
        print(json.dumps({
            "argv": sys.argv, "AGG_IP": os.environ["AGG_IP"], "AGG_PORT": os.environ["AGG_PORT"],
            "CLIENT_ID": os.environ.get("CLIENT_ID"), "config_file": os.environ["config_file"],
            "server": Config().server._asdict(), "lr": Config().trainer.learning_rate,
            "model_name": Config().trainer.model_name, "do_test": Config().clients.do_test,
        }))
    """, GRADER_AGG_IP="127.0.0.3", GRADER_AGG_PORT=7602, GRADER_CLIENT_ID=2)
    assert seen["argv"] == ["ipykernel_launcher.py"]
    assert (seen["AGG_IP"], seen["AGG_PORT"], seen["CLIENT_ID"]) == ("127.0.0.3", "7602", "2")
    assert seen["server"]["address"] == "127.0.0.3" and seen["server"]["port"] == 7602
    assert seen["config_file"].startswith(str(run.tmp_dir))
    assert seen["lr"] == 0.01 and seen["model_name"] == "lenet5" and seen["do_test"] is True
    # Plato's folders appear in the working directory, nothing else does
    assert {p.name for p in run.work_dir.iterdir()} <= {"checkpoints", "models"}


def test_train_loop_helper_needs_nest_asyncio_inside_a_running_loop(run):
    seen = probe(run, """
        import asyncio, json
        from sedna.common.event_loop import run_until_complete

        async def answer():
            return 42

        async def without_patch():
            try:
                run_until_complete(answer())
            except RuntimeError as error:
                return str(error)

        plain = run_until_complete(answer())
        message = asyncio.run(without_patch())
        import nest_asyncio
        nest_asyncio.apply()

        async def with_patch():
            return run_until_complete(answer())

        print(json.dumps({"plain": plain, "message": message, "nested": asyncio.run(with_patch())}))
    """)
    assert seen["plain"] == 42 and seen["nested"] == 42
    assert "nest_asyncio.apply()" in seen["message"]


@pytest.fixture(scope="module")
def merged(run):
    """One student process builds a client, resets Config(), then builds an aggregator.

    (Both in one process: importing Plato's client and server stack costs ~9 s.)
    """
    return probe(run, ESTIMATOR + textwrap.dedent("""
        import inspect, json, os
        from plato.config import Config
        from sedna.algorithms.aggregation import FedAvgV2
        from sedna.algorithms.client_choose import SimpleClientChoose
        from sedna.core.federated_learning import FederatedLearningV2
        from sedna.service.server import AggregationServerV2

        def sections():
            return {name: getattr(Config(), name)._asdict()
                    for name in ("trainer", "server", "clients", "algorithm", "data")}

        fl = FederatedLearningV2(data=Data(), estimator=Estimator(), aggregation=FedAvgV2(),
                                 transmitter=FederatedLearningV2.get_transmitter_from_config())
        client = fl.client
        client_side = dict(sections(),
            client_class=type(client).__name__, client_id=client.client_id, args_id=Config().args.id,
            train=client.datasource.get_train_set(), test=client.datasource.get_test_set(),
            n_train=client.datasource.num_train_examples(),
            model_is_estimator_model=client.custom_model() is Estimator.model)

        Config._instance = None  # a fresh Config() from the YAML, as in a separate process
        chooser = SimpleClientChoose(per_round=3)
        agg = AggregationServerV2(data=None, estimator=Estimator(), aggregation=FedAvgV2(),
                                  transmitter=FederatedLearningV2.get_transmitter_from_config(),
                                  chooser=chooser)
        agg.server.load_trainer()
        agg.server.current_round = 4
        os.environ["TRANSMITTER"] = "s3"
        try:
            FederatedLearningV2.get_transmitter_from_config()
            refused = None
        except ValueError as error:
            refused = str(error)
        server_side = dict(sections(),
            payload=agg.server.customize_server_payload("W"),
            per_round=agg.server.clients_per_round, total=agg.server.total_clients,
            trainer_class=type(agg.server.trainer).__module__,
            model_is_estimator_model=agg.server.model is Estimator.model,
            start_port_default=str(inspect.signature(type(agg.server).start).parameters["port"].default),
            chooser=chooser.parameters, refused=refused)
        print(json.dumps({"client": client_side, "server": server_side}))
    """), AGG_IP="127.0.0.9", AGG_PORT=7777, AGG_BIND_PORT=7603, CLIENT_ID=2)


def test_federated_learning_v2_merges_its_arguments_into_plato(merged):
    seen = merged["client"]
    assert seen["trainer"]["learning_rate"] == 0.1 and seen["trainer"]["epochs"] == 2
    assert seen["trainer"]["type"] == "not_registered_here"
    assert seen["trainer"]["momentum"] == 0.9  # untouched YAML values survive the merge
    assert seen["server"]["address"] == "127.0.0.9" and seen["server"]["port"] == 7777
    assert seen["clients"]["do_test"] is True and seen["clients"]["type"] == "probe_client"
    assert seen["algorithm"] == {"type": "fedavg"}
    assert seen["client_class"] == "ProbeClient"
    assert seen["client_id"] == seen["args_id"] == 2
    assert seen["train"] == list(range(30)) and seen["test"] == list(range(10)) and seen["n_train"] == 30
    assert seen["model_is_estimator_model"] is True


def test_aggregation_server_v2_binds_loopback_and_sends_the_round(merged):
    seen = merged["server"]
    assert seen["server"]["address"] == "127.0.0.1" and seen["server"]["port"] == 7603  # not AGG_IP
    assert seen["server"]["disable_clients"] is True and seen["server"]["do_test"] is False
    assert seen["clients"]["per_round"] == seen["per_round"] == seen["total"] == 3
    assert seen["trainer"]["rounds"] == 3 and seen["algorithm"] == {"type": "fedavg"}
    assert seen["payload"] == {"weights": "W", "current_round": 4}
    assert seen["trainer_class"] == "plato.trainers.basic"
    assert seen["model_is_estimator_model"] is True
    assert seen["start_port_default"] == "None"  # not frozen at import time
    assert seen["chooser"]["per_round"] == 3
    assert "s3" in seen["refused"] and "ws" in seen["refused"]


def load_resnets():
    spec = importlib.util.spec_from_file_location("cifar100_resnets", layout.SITE_DIR / "cifar100_resnets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_resnet20_has_the_course_shape_and_size():
    import torch

    resnets = load_resnets()
    model = resnets.resnet20(num_classes=100)
    assert model(torch.zeros(5, 3, 32, 32)).shape == (5, 100)
    parameters = sum(p.numel() for p in model.parameters())
    assert 0.26e6 < parameters < 0.30e6, parameters
    deeper = [sum(p.numel() for p in f(num_classes=100).parameters())
              for f in (resnets.resnet32, resnets.resnet44, resnets.resnet56)]
    assert parameters < deeper[0] < deeper[1] < deeper[2]
