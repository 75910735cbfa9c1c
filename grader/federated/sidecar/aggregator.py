"""The round's aggregator: the course's Sedna `AggregationServerV2` plus a trusted recorder.

Run as a script in its own process (started by `grader.federated.round`); imports nothing from
`grader`. It builds the aggregator exactly as the course server did (`AggregationServerV2` with
`FedAvgV2`, the configured transmitter and `SimpleClientChoose(per_round=2)`, global model
`resnet20(num_classes=100)`), starts it at round `--start-round`, runs that one round and ends
(Plato's `os._exit(0)` after disconnecting the clients).

What only the server sees is written into `--record DIR` for the grader, as plain data only:

    record.json     {"version", "start_round", "pid", "events": [{"t", "event", ...}, ...]}
                    rewritten atomically after every event, so a stalled round still shows how
                    far it got (connected, round_started, sent, upload, aggregated, closed)
    *.npy           float64 vectors of a model's floating-point state-dict entries, in the
                    global model's key order (global model sent, each upload, the aggregate)

The grader reads them with `json` and `numpy.load(allow_pickle=False)`; nothing here is pickled.
"""
import argparse
import hashlib
import json
import logging
import os
import sys
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))
RECORD_VERSION = 1


def _scrub_sys_path():
    """Running a script puts its folder first on sys.path; nothing here should be importable."""
    sys.path[:] = [p for p in sys.path if p and os.path.abspath(p) != HERE]


def _skip_plato_datasources():
    """Stand in for Plato's datasource registry, which this process never uses.

    The aggregator does not test the global model (`server.do_test: false`) and so never loads
    data, but `plato.servers.fedavg` imports the registry, which imports every dataset library
    Plato supports (Hugging Face `datasets`, pyarrow, torchvision datasets): about 13 s of a
    round's start-up on a busy two-core machine. The stub refuses to be used.
    """
    stub = types.ModuleType("plato.datasources.registry")

    def get(client_id=0):
        raise RuntimeError("the round's aggregator does not load data (server.do_test is false)")

    stub.get = get
    stub.registered_datasources = {}
    stub.registered_partitioned_datasources = {}
    sys.modules[stub.__name__] = stub


class Recorder:
    """Append events to `record.json` (atomic rewrite) and save model vectors beside it."""

    def __init__(self, folder, start_round):
        self.folder = folder
        self.data = {"version": RECORD_VERSION, "start_round": start_round, "pid": os.getpid(),
                     "events": []}
        self.layout = None  # [(name, dtype, shape)] of the global model, fixed at the first send

    def event(self, name, **fields):
        self.data["events"].append({"t": time.time(), "event": name, **fields})
        tmp = os.path.join(self.folder, ".record.json.tmp")
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(self.data, handle)
        os.replace(tmp, os.path.join(self.folder, "record.json"))

    def describe(self, state_dict, file_name):
        """Digest, layout check and saved float64 vector of one state dict (plain data)."""
        import numpy as np

        entries = [(name, tensor.detach().cpu()) for name, tensor in state_dict.items()]
        digest = hashlib.sha256()
        for name, tensor in entries:
            digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)};".encode())
            digest.update(tensor.contiguous().numpy().tobytes())
        layout = [(name, str(t.dtype), list(t.shape)) for name, t in entries]
        if self.layout is None:
            self.layout = layout
        info = {"digest": digest.hexdigest(), "entries": len(entries)}
        if layout != self.layout:
            info["layout_mismatch"] = True
            return info
        floats = [t.double().reshape(-1).numpy() for _, t in entries if t.is_floating_point()]
        vector = np.concatenate(floats) if floats else np.zeros(0)
        np.save(os.path.join(self.folder, file_name), vector, allow_pickle=False)
        info.update(file=file_name, size=int(vector.size),
                    int_entries=[name for name, t in entries if not t.is_floating_point()])
        return info


def recording_server_class(base, recorder):
    """A subclass of the course server (`RoundPayloadServer`) that reports to `recorder`."""

    class RecordingServer(base):
        def _client_of(self, sid):
            return next((cid for cid, c in self.clients.items() if c["sid"] == sid), None)

        async def register_client(self, sid, client_id):
            if client_id not in self.clients:
                recorder.event("connected", client=client_id)
            await super().register_client(sid, client_id)

        async def client_disconnected(self, sid):
            client_id = self._client_of(sid)
            if client_id is not None:
                recorder.event("disconnected", client=client_id)
            await super().client_disconnected(sid)

        async def select_clients(self, for_next_batch=False):
            self._global_recorded = False
            await super().select_clients(for_next_batch=for_next_batch)

        def customize_server_payload(self, payload):
            if not getattr(self, "_global_recorded", False):
                self._global_recorded = True
                info = recorder.describe(payload, f"global_r{self.current_round}.npy")
                recorder.event("round_started", round=self.current_round,
                               clients=list(self.selected_clients or []), model=info)
            return super().customize_server_payload(payload)

        async def send(self, sid, payload, client_id):
            recorder.event("sent", client=self._client_of(sid), plato_id=client_id,
                           round=self.current_round)
            await super().send(sid, payload, client_id)

        async def client_payload_done(self, sid, client_id, s3_key=None):
            # Recorded before Plato processes it: the last upload triggers aggregation and
            # the end of the process.
            report = self.reports.get(sid)
            fields = {"client": self._client_of(sid), "plato_id": client_id,
                      "round": self.current_round,
                      "num_samples": getattr(report, "num_samples", None),
                      "accuracy": _number(getattr(report, "accuracy", None))}
            try:
                name = f"upload_c{fields['client']}_r{self.current_round}.npy"
                fields["model"] = recorder.describe(self.client_payload[sid], name)
            except Exception as exc:  # noqa: BLE001 - whatever the client sent
                fields["unreadable"] = f"{type(exc).__name__}: {exc}"[:300]
            if not isinstance(fields["num_samples"], int):
                fields["num_samples"] = None
            recorder.event("upload", **fields)
            await super().client_payload_done(sid, client_id, s3_key=s3_key)

        async def aggregate_weights(self, updates):
            await super().aggregate_weights(updates)
            info = recorder.describe(self.algorithm.extract_weights(),
                                     f"aggregated_r{self.current_round}.npy")
            recorder.event("aggregated", round=self.current_round,
                           plato_ids=[client_id for (client_id, _, _, _) in updates],
                           num_samples=[getattr(r, "num_samples", None) for (_, r, _, _) in updates],
                           model=info)

        async def close(self):
            recorder.event("closed", round=self.current_round)
            await super().close()

    RecordingServer.__name__ = RecordingServer.__qualname__ = base.__name__
    return RecordingServer


def _number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def build_aggregator(recorder, model, start_round, per_round=2):
    """The course's `AggregationServerV2` around `model`, recording into `recorder`.

    Built as the course server was (`FedAvgV2`, the configured transmitter,
    `SimpleClientChoose(per_round)`), with `trainer.rounds = start_round` so the server ends right
    after the one round it starts with. Plato's `Config()` must exist (the course configuration
    module or `sedna.common.plato_sections.fresh_config`). `start()` is not called here: the
    script does that; in-process tests serve `aggregator.server.make_app()` themselves.
    """
    from sedna.algorithms.aggregation import FedAvgV2
    from sedna.algorithms.client_choose import SimpleClientChoose
    from sedna.core.federated_learning import FederatedLearningV2
    from sedna.service.server import AggregationServerV2

    class Estimator:
        def __init__(self):
            self.model = model
            self.pretrained = self.saved = None
            # `rounds` is where the server stops: right after the one round it starts with.
            self.hyperparameters = {"type": "basic", "rounds": start_round,
                                    "model_name": "cifar100_resnet"}

    aggregator = AggregationServerV2(data=None, estimator=Estimator(), aggregation=FedAvgV2(),
                                     transmitter=FederatedLearningV2.get_transmitter_from_config(),
                                     chooser=SimpleClientChoose(per_round=per_round))
    server = aggregator.server
    server.__class__ = recording_server_class(type(server), recorder)
    # Plato starts counting at 0 and only starts a session from round 0 or a resumed one: resume
    # at the round before the configured one, so the first (and only) round is `start_round`.
    server.current_round = start_round - 1
    server.resumed_session = start_round > 1
    return aggregator


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--record", required=True)
    parser.add_argument("--start-round", type=int, required=True)  # the round's (`round.py`)
    parser.add_argument("--per-round", type=int, default=2)
    parser.add_argument("--model-seed", type=int, default=1)
    args = parser.parse_args(argv)

    try:
        os.nice(5)  # the clients' start-up, not the aggregator's, is a round's critical path
    except OSError:
        pass
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(filename)s:%(lineno)s %(levelname)s:%(message)s")
    recorder = Recorder(args.record, args.start_round)
    recorder.event("starting")

    _skip_plato_datasources()
    import edge_ai_w5_sedna_configuration  # noqa: F401 - resets sys.argv, AGG_* and the YAML
    import torch

    import cifar100_resnets

    torch.manual_seed(args.model_seed)  # the same global model every round: reproducible verdicts
    aggregator = build_aggregator(recorder, cifar100_resnets.resnet20(num_classes=100),
                                  start_round=args.start_round, per_round=args.per_round)
    from plato.config import Config

    recorder.event("ready", address=Config().server.address, port=int(Config().server.port))
    aggregator.start()


if __name__ == "__main__":
    _scrub_sys_path()
    main(sys.argv[1:])
