"""What the grader reads after a round, as plain data: never unpickled, never executed.

* `AggregatorRecord` - `record.json` and the `.npy` model vectors written by the trusted
  aggregator (`sidecar/aggregator.py`): who connected, the round, each upload's sample count,
  accuracy and digest, the aggregate.
* `HookLog` - the JSON lines written inside client A by `sidecar/hook/sitecustomize.py`:
  learning rates of the optimizers it built, exceptions in its socket.io handlers.
* `pre_training_accuracy` - the test accuracy client A logged before training, from the output
  of its executed `fl.train()` cell.

Anything malformed is ignored rather than trusted: the aggregator unpickles what clients send
(Plato's protocol), so the record is parsed defensively too.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

MAX_RECORD_BYTES = 4 * 1024 * 1024
MAX_HOOK_BYTES = 1024 * 1024
_NPY_NAME = re.compile(r"^[A-Za-z0-9_]+\.npy$")


@dataclass
class AggregatorRecord:
    folder: Path
    events: list[dict[str, Any]] = field(default_factory=list)
    start_round: int | None = None
    vectors: dict[str, np.ndarray] = field(default_factory=dict)  # filled by `load_vectors`

    @classmethod
    def read(cls, folder: Path) -> AggregatorRecord:
        record = cls(Path(folder))
        path = record.folder / "record.json"
        try:
            if path.stat().st_size > MAX_RECORD_BYTES:
                return record
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return record
        if isinstance(data, dict):
            events = data.get("events")
            record.events = [e for e in (events if isinstance(events, list) else [])
                             if isinstance(e, dict) and isinstance(e.get("event"), str)
                             and isinstance(e.get("t"), (int, float))]
            start = data.get("start_round")
            record.start_round = start if isinstance(start, int) else None
        return record

    def all(self, name: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["event"] == name]

    def first(self, name: str) -> dict[str, Any] | None:
        return next((e for e in self.events if e["event"] == name), None)

    @property
    def connected(self) -> list[int]:
        return [e.get("client") for e in self.all("connected")]

    def uploads_of(self, client: int) -> list[dict[str, Any]]:
        return [e for e in self.all("upload") if e.get("client") == client]

    def load_vectors(self) -> None:
        """Read every model vector the events name into memory (before the folder goes away)."""
        for event in self.events:
            model = event.get("model")
            if isinstance(model, dict) and isinstance(model.get("file"), str):
                array = self._load(model)
                if array is not None:
                    self.vectors[model["file"]] = array

    def vector(self, model: dict[str, Any] | None) -> np.ndarray | None:
        """The float64 model vector an event's `model` entry names (None if absent or unreadable)."""
        name = (model or {}).get("file")
        if isinstance(name, str) and name in self.vectors:
            return self.vectors[name]
        return self._load(model or {})

    def _load(self, model: dict[str, Any]) -> np.ndarray | None:
        name = model.get("file")
        if not isinstance(name, str) or not _NPY_NAME.match(name):
            return None
        try:
            array = np.load(self.folder / name, allow_pickle=False)
        except (OSError, ValueError):
            return None
        if array.dtype != np.float64 or array.ndim != 1 or array.size != model.get("size"):
            return None
        return array


@dataclass
class HookLog:
    optimizers: list[dict[str, Any]] = field(default_factory=list)
    handler_errors: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def read(cls, path: Path) -> HookLog:
        log = cls()
        try:
            with open(path, "rb") as handle:
                raw = handle.read(MAX_HOOK_BYTES)
        except OSError:
            return log
        for line in raw.decode("utf-8", "replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if not isinstance(entry, dict) or not isinstance(entry.get("t"), (int, float)):
                continue
            if entry.get("event") == "optimizer" and isinstance(entry.get("lrs"), list):
                entry["lrs"] = [v for v in entry["lrs"] if isinstance(v, (int, float))]
                log.optimizers.append(entry)
            elif entry.get("event") == "handler_error":
                log.handler_errors.append(entry)
        return log


_ACCURACY = re.compile(r"Test accuracy:\s*(-?[0-9.]+)\s*%")
_TRAINING_STARTS = re.compile(r"Started training|\[Edge AI Trainer\] Start training|Epoch: \[")


def cell_text(cell) -> str:
    """Everything a cell printed (stdout, stderr, logging) as one string."""
    return "".join(o.get("text", "") for o in cell.get("outputs", [])
                   if o.get("output_type") == "stream")


def pre_training_accuracy(text: str) -> float | None:
    """The accuracy (in %) of the first `Test accuracy: x%` line logged before training started."""
    start = _TRAINING_STARTS.search(text)
    head = text[:start.start()] if start else text
    found = _ACCURACY.search(head)
    if found is None:
        return None
    try:
        return float(found.group(1))
    except ValueError:
        return None
