"""Points per check: the registry's defaults (`registry.py`), overridden by a rubric file
(instructor-editable; default `grader/checks/rubric.toml`).

```toml
schema_version = 1
[checks.task1_seeded_choice]
points = 3.0
partial_credit = true   # optional, default true: points x share of properties held
```

A check without an entry keeps its default points and partial credit; an unknown id is an error.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from grader.checks.registry import REGISTRY, Registry

DEFAULT_PATH = Path(__file__).with_name("rubric.toml")
SCHEMA_VERSION = 1


class RubricError(ValueError):
    """The rubric file is malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class Rubric:
    points: Mapping[str, float]
    partial_credit: Mapping[str, bool] = field(default_factory=dict)
    source: str = "<defaults>"

    def points_for(self, check_id: str) -> float:
        try:
            return self.points[check_id]
        except KeyError:
            raise RubricError(f"{self.source}: no points for check {check_id!r}") from None

    def allows_partial_credit(self, check_id: str) -> bool:
        return self.partial_credit.get(check_id, True)

    @property
    def total(self) -> float:
        return sum(self.points.values())


def load_rubric(path: Path | str | None = None, registry: Registry = REGISTRY) -> Rubric:
    """Read and validate a rubric (default: `grader/checks/rubric.toml`)."""
    path = Path(path) if path is not None else DEFAULT_PATH
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RubricError(f"cannot read rubric {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise RubricError(f"{path} is not valid TOML: {exc}") from None
    return rubric_from_dict(data, source=str(path), registry=registry)


def rubric_from_dict(data: dict, source: str = "<dict>",
                     registry: Registry = REGISTRY) -> Rubric:
    """The registry's points, overridden by `data`'s `[checks.<id>]` entries."""
    version = data.get("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        raise RubricError(f"{source}: schema_version {version!r} is not supported "
                          f"(expected {SCHEMA_VERSION})")
    checks = data.get("checks", {})
    if not isinstance(checks, dict):
        raise RubricError(f"{source}: expected a [checks.<id>] table per check")
    known = registry.rubric_ids
    unknown = sorted(set(checks) - set(known))
    if unknown:
        raise RubricError(f"{source}: unknown check ids {unknown}; known: {list(known)}")
    points, partial = dict(registry.default_points()), {}
    for check_id in known:
        entry = checks.get(check_id, {})
        if not isinstance(entry, dict):
            raise RubricError(f"{source}: checks.{check_id} must be a table")
        value = entry.get("points", points[check_id])
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise RubricError(f"{source}: checks.{check_id}.points must be a number >= 0, "
                              f"got {value!r}")
        points[check_id] = float(value)
        flag = entry.get("partial_credit", True)
        if not isinstance(flag, bool):
            raise RubricError(f"{source}: checks.{check_id}.partial_credit must be true or false")
        partial[check_id] = flag
    return Rubric(MappingProxyType(points), MappingProxyType(partial), source)
