"""Shared fixtures for the in-process federation tests: Plato, the aggregator, fake clients.

Everything runs in the test process on pytest-asyncio's event loop: the course aggregator (the
round's `sidecar/aggregator.py` build, i.e. the Sedna-compatible `AggregationServerV2` with the
grader's recorder) is served by `aiohttp.web.AppRunner` on 127.0.0.1 at an ephemeral port, and the
clients are socket.io clients on the same loop. No process is started.

The seams used (see docs/DESIGN.md, "In-process federation"):

* `sedna.common.plato_sections.fresh_config` builds Plato's `Config()` singleton from a YAML
  file without parsing pytest's `sys.argv`; each test gets its own, with Plato's folders
  (`checkpoints`, `models/pretrained`) in the test's temporary folder.
* `RoundPayloadServer.make_app()` is the app its `start()` would serve; `exit_process()` is where
  its own process would end (Plato's `os._exit(0)`): here it sets `Aggregator.ended`.

Every wait is bounded (`WAIT` seconds unless a test says otherwise); a wait that runs out fails
with a sentence naming what did not happen and what the aggregator recorded.
"""
from __future__ import annotations

import asyncio
import importlib.util
import logging
import pickle
import sys
import time
from collections import OrderedDict
from pathlib import Path

import pytest
import yaml

from grader.environment import layout
from grader.federated.record import AggregatorRecord
from grader.federated.round import SIDECAR
from grader.federated.settings import DEFAULT_START_ROUND

START_ROUND = DEFAULT_START_ROUND
WAIT = 2.0
"""Seconds any single wait for the aggregator or a client may take before the test fails."""


async def within(awaitable, what: str, timeout: float = WAIT):
    """`await awaitable`, failing the test with `what` if it takes more than `timeout` seconds."""
    try:
        return await asyncio.wait_for(awaitable, timeout)
    except TimeoutError:
        pytest.fail(f"{what} did not finish within {timeout:g} s", pytrace=False)


async def eventually(predicate, what: str, timeout: float = WAIT):
    """Poll `predicate()` until it holds; fail the test with `what` after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not predicate():
        if loop.time() > end:
            pytest.fail(f"{what} did not happen within {timeout:g} s", pytrace=False)
        await asyncio.sleep(0.01)


# --- the course site and Plato's Config() ---------------------------------------------------


@pytest.fixture(scope="session")
def course_site():
    """The course environment on `sys.path` (as in a student process), and the sidecar module."""
    site = str(layout.SITE_DIR)
    added = site not in sys.path
    if added:
        sys.path.insert(0, site)
    spec = importlib.util.spec_from_file_location("fl_round_aggregator", SIDECAR / "aggregator.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    if added and site in sys.path:
        sys.path.remove(site)


@pytest.fixture
def plato_config(course_site, tmp_path):
    """A fresh Plato `Config()` from the course YAML, its folders under `tmp_path`."""
    from plato.config import Config
    from sedna.common.plato_sections import fresh_config

    config = yaml.safe_load((layout.SITE_DIR / "edge_ai_w5_course.yml").read_text(encoding="utf-8"))
    config["server"].update(address="127.0.0.1", port=0,
                            checkpoint_dir=str(tmp_path / "checkpoints"),
                            model_dir=str(tmp_path / "models" / "pretrained"))
    path = tmp_path / "plato.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    root = logging.getLogger()
    level = root.level
    yield fresh_config(path)
    root.setLevel(level)  # Config() sets the root logger to INFO
    Config._instance = None


# --- the model --------------------------------------------------------------------------------


def tiny_model():
    """A model whose global weights are all 0.5: FedAvg on it is exact in float32 (see `weights`)."""
    import torch

    model = torch.nn.Linear(3, 2)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.fill_(0.5)
    return model


def weights(value: float, *, drop: str | None = None, reshape: str | None = None, **replace):
    """A state dict shaped like `tiny_model()`'s, filled with `value` (a dyadic number keeps
    every product and sum of FedAvg exact), with one entry dropped, reshaped or replaced."""
    import torch

    state = OrderedDict((name, torch.full(t.shape, float(value)))
                        for name, t in tiny_model().state_dict().items())
    if drop is not None:
        del state[drop]
    if reshape is not None:
        state[reshape] = torch.full((7,), float(value))
    state.update(replace)
    return state


def report(num_samples: int, accuracy: float = 0.5):
    """The report a Plato simple client sends before its weights."""
    from plato.clients.simple import Report

    return Report(num_samples, accuracy, 0.01, time.time(), False)


# --- the aggregator ---------------------------------------------------------------------------


class Aggregator:
    """The course aggregator served in this process; `ended` is set where its process would end."""

    def __init__(self, aggregator, recorder, record_dir: Path):
        self.aggregator, self.server = aggregator, aggregator.server
        self.recorder, self.record_dir = recorder, record_dir
        self.ended = asyncio.Event()
        self.port: int | None = None
        self._runner = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def serve(self) -> None:
        from aiohttp import web

        self.server.exit_process = self.ended.set
        self.server.configure()  # what Plato's `run()` does before `start()`
        self._runner = web.AppRunner(self.server.make_app())
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self.recorder.event("ready", address="127.0.0.1", port=self.port)  # as the script does

    async def stop(self) -> None:
        if self.server.sio is not None:
            await self.server.sio.shutdown()
        if self._runner is not None:
            await self._runner.cleanup()

    def record(self) -> AggregatorRecord:
        record = AggregatorRecord.read(self.record_dir)
        record.load_vectors()
        return record

    def events(self) -> list[str]:
        return [e["event"] for e in self.record().events]

    async def recorded(self, name: str, client: int | None = None, timeout: float = WAIT) -> None:
        """Wait until the record holds event `name` (of `client`, if given)."""
        def seen():
            return any(client is None or e.get("client") == client
                       for e in self.record().all(name))
        who = "" if client is None else f" of client #{client}"
        await eventually(seen, f"the aggregator recording {name!r}{who} (it recorded "
                         f"{self.events()})", timeout)

    async def wait_ended(self, timeout: float = WAIT) -> None:
        try:
            await asyncio.wait_for(self.ended.wait(), timeout)
        except TimeoutError:
            pytest.fail(f"the aggregator did not end the round within {timeout:g} s; "
                        f"it recorded {self.events()}", pytrace=False)

    async def stays_open(self, seconds: float) -> bool:
        """True if the round did NOT end within `seconds` (the test's bound on waiting)."""
        try:
            await asyncio.wait_for(self.ended.wait(), seconds)
        except TimeoutError:
            return True
        return False


@pytest.fixture
async def aggregator(plato_config, course_site, tmp_path):
    """The round's aggregator (`build_aggregator` of `sidecar/aggregator.py`) at round START_ROUND,
    two clients per round, global model `tiny_model()`, listening on 127.0.0.1:<ephemeral>."""
    record_dir = tmp_path / "record"
    record_dir.mkdir()
    recorder = course_site.Recorder(str(record_dir), START_ROUND)
    built = course_site.build_aggregator(recorder, tiny_model(), start_round=START_ROUND, per_round=2)
    harness = Aggregator(built, recorder, record_dir)
    await harness.serve()
    try:
        yield harness
    finally:
        await harness.stop()


# --- fake clients -----------------------------------------------------------------------------


class FakeClient:
    """A socket.io client that speaks Plato 0.4.0's client protocol, with known weights.

    `join()` connects and says `client_alive`; `payload()` waits for the server's model;
    `upload(weights, num_samples)` sends a report and the weights as a Plato client does.
    """

    def __init__(self, url: str, client_id: int):
        import socketio

        self.url, self.client_id = url, client_id
        self.sio = socketio.AsyncClient(reconnection=False)
        self.response: dict | None = None
        self._chunks: list[bytes] = []
        self._parts: list = []
        self._payload = asyncio.get_running_loop().create_future()
        self.told_to_leave = asyncio.Event()

        @self.sio.on("payload_to_arrive")
        async def payload_to_arrive(data):
            self.response = data["response"]

        @self.sio.on("chunk")
        async def chunk(data):
            self._chunks.append(data["data"])

        @self.sio.on("payload")
        async def payload(data):
            self._parts.append(pickle.loads(b"".join(self._chunks)))  # our own server's bytes
            self._chunks = []

        @self.sio.on("payload_done")
        async def payload_done(data):
            if not self._payload.done():
                self._payload.set_result(self._parts[0] if len(self._parts) == 1 else self._parts)

        @self.sio.on("disconnect")
        async def disconnect(*_):
            self.told_to_leave.set()

    @property
    def plato_id(self) -> int:
        """The id the server gave this client for the round (Plato sends it with the payload)."""
        return self.response["id"]

    async def join(self) -> FakeClient:
        await self.sio.connect(self.url, wait_timeout=WAIT)
        await self.sio.emit("client_alive", {"id": self.client_id})
        return self

    async def payload(self, timeout: float = WAIT):
        try:
            return await asyncio.wait_for(asyncio.shield(self._payload), timeout)
        except TimeoutError:
            pytest.fail(f"client #{self.client_id} received no payload within {timeout:g} s",
                        pytrace=False)

    async def upload(self, state, num_samples: int, accuracy: float = 0.5) -> None:
        ident = self.plato_id
        await self.sio.emit("client_report", {"id": ident,
                                              "report": pickle.dumps(report(num_samples, accuracy))})
        data = pickle.dumps(state)
        for start in range(0, len(data), 4096):
            await self.sio.emit("chunk", {"data": data[start:start + 4096]})
        await self.sio.emit("client_payload", {"id": ident})
        await self.sio.emit("client_payload_done", {"id": ident})

    async def leave(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()


@pytest.fixture
async def clients(aggregator):
    """`await clients(1, 2)`: fake clients with those ids, connected; all leave at the end."""
    made: list[FakeClient] = []

    async def connect(*ids: int) -> list[FakeClient]:
        new = [FakeClient(aggregator.url, i) for i in ids]
        made.extend(new)
        for client in new:
            await client.join()
        return new

    try:
        yield connect
    finally:
        for client in made:
            await client.leave()


# --- the course client ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def course_client_source():
    """Source of the reference's `EdgeAiClient` and what it needs (cell "task4-client")."""
    import nbformat

    from grader.federated.round import REFERENCE
    from grader.notebook.extract import Definitions

    defs = Definitions.from_notebook(nbformat.read(REFERENCE, as_version=4))
    return "\n".join(snippet.source for snippet in defs.program(["EdgeAiClient"]))


@pytest.fixture
def edge_ai_client_class(course_client_source, plato_config):
    """The reference's `EdgeAiClient`, registered as the notebook's cell registers it
    (extraction keeps definitions, not the cell's `registered_clients[...] = ...` statement)."""
    from plato.clients import registry as client_registry

    namespace: dict = {"__name__": "course_notebook"}
    exec(compile(course_client_source, "<reference task4-client>", "exec"), namespace)
    client_class = namespace["EdgeAiClient"]
    client_registry.registered_clients["edge_ai_client"] = client_class
    yield client_class
    client_registry.registered_clients.pop("edge_ai_client", None)
