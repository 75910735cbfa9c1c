"""The one registry of checks: every graded check declared once, in report order.

A line per check: its id, the task it grades, its default points, what it checks (a sentence for
documentation and the student kit), who produces its result and, for a check run in a worker, its
`CheckSpec` (properties, feedback) and the worker probes that spec calls. Everything else derives
from this table:

- `RUBRIC_IDS`: every graded id, in report order (grades.json, CSV columns, Gradescope, pages);
- `TASK_CHECK_IDS` / `TASK_SPECS`: the checks the runner runs in check workers;
- the rubric's default points (`rubric.toml` only overrides them);
- `probe_table()`: which check calls each worker probe (the worker's own table is the
  `@probe`-registered functions of `grader/sandbox/probes/`; a test keeps the two equal).

Adding a check is one module (its `CheckSpec`, plus a `@probe` function if it needs a new one) and
one line here; see docs/DESIGN.md (Checks) for a worked example. The registry is plain data:
importing it starts no process and reads no file.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Iterable, Mapping

from grader.checks.spec import CheckSpec
from grader.checks.task1 import SEEDED_CHOICE
from grader.checks.task1_seed import RANDOM_SEED
from grader.checks.task2 import PARTITION
from grader.checks.task3 import LR_SCHEDULE
from grader.checks.task4 import EXTRA_TEST, LOAD_PAYLOAD


class Source(StrEnum):
    """Who produces a check's result."""

    WORKER = "worker"  # the runner, from the spec's probes in a sandboxed check worker
    EXECUTION = "execution"  # the pipeline, from running the whole notebook (`notebook_runs`)
    FEDERATED_ROUND = "federated round"  # `grader.federated`, from a real round (`fl_round`)


@dataclass(frozen=True)
class Check:
    """One graded check, declared once."""

    id: str
    task: str  # what students call the part of the exercise: "Task 1", "the whole notebook", ...
    points: float  # default points; `rubric.toml` may override them
    summary: str  # what it checks, one sentence
    source: Source = Source.WORKER
    spec: CheckSpec | None = None  # WORKER checks: needs, properties, feedback
    probes: tuple[str, ...] = ()  # WORKER checks: the worker probes the spec calls

    @property
    def properties(self) -> tuple[str, ...]:
        """The names of its separately scored properties (none outside the worker checks)."""
        return tuple(p.name for p in self.spec.properties) if self.spec is not None else ()


class RegistryError(ValueError):
    """The registry contradicts itself (a grader bug, raised at import time)."""


class Registry:
    """The checks in report order, with what derives from them."""

    def __init__(self, checks: Iterable[Check]) -> None:
        self.checks: tuple[Check, ...] = tuple(checks)
        ids = [c.id for c in self.checks]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise RegistryError(f"check ids declared twice: {repeated}")
        owners: dict[str, str] = {}
        for check in self.checks:
            _validate(check)
            for name in check.probes:
                if name in owners:
                    raise RegistryError(f"probe {name!r} declared by {owners[name]!r} and "
                                        f"{check.id!r}")
                owners[name] = check.id
        self._probe_owners = MappingProxyType(owners)

    def __iter__(self):
        return iter(self.checks)

    def __getitem__(self, check_id: str) -> Check:
        for check in self.checks:
            if check.id == check_id:
                return check
        raise KeyError(check_id)

    @property
    def rubric_ids(self) -> tuple[str, ...]:
        """Every graded id, in report order."""
        return tuple(c.id for c in self.checks)

    @property
    def task_specs(self) -> tuple[CheckSpec, ...]:
        """The specs of the checks run in check workers, in report order."""
        return tuple(c.spec for c in self.checks if c.source is Source.WORKER)

    @property
    def task_check_ids(self) -> tuple[str, ...]:
        return tuple(spec.id for spec in self.task_specs)

    def default_points(self) -> Mapping[str, float]:
        return MappingProxyType({c.id: c.points for c in self.checks})

    def probe_table(self) -> Mapping[str, str]:
        """Each worker probe's name -> the id of the check that calls it."""
        return self._probe_owners

    def with_check(self, check: Check) -> Registry:
        """This registry with `check` added last (for tests and course variants)."""
        return Registry(self.checks + (check,))


def _validate(check: Check) -> None:
    if check.points < 0:
        raise RegistryError(f"{check.id}: default points must be >= 0, got {check.points}")
    if check.source is Source.WORKER:
        if check.spec is None or check.spec.id != check.id or not check.probes:
            raise RegistryError(f"{check.id}: a worker check needs a spec with its id and the "
                                "probes it calls")
    elif check.spec is not None or check.probes:
        raise RegistryError(f"{check.id}: only worker checks have a spec and probes")


REGISTRY = Registry((
    Check("task1_seeded_choice", "Task 1", 3.0,
          "parallel_seeded_choice picks the same n positions from every array, as "
          "np.random.default_rng(seed).choice does, also at the notebook's size",
          spec=SEEDED_CHOICE, probes=("seeded_choice", "seeded_choice_at_size")),
    Check("task1_random_seed", "Task 1", 1.0,
          "MY_RANDOM_SEED is a birthdate written as one integer YYYYMMDD",
          spec=RANDOM_SEED, probes=("value",)),
    Check("task2_partition", "Task 2", 2.0,
          "CIFAR100Partition keeps the seeded half of the training set and the whole test set, "
          "each image whole and normalized, with its own label",
          spec=PARTITION, probes=("partition",)),
    Check("task3_lr_schedule", "Task 3", 2.0,
          "EdgeAiTrainer.set_learning_rate follows the course's schedule for any initial rate, "
          "whichever rounds a federation sends",
          spec=LR_SCHEDULE, probes=("lr_schedule", "lr_patterns")),
    Check("task4a_load_payload", "Task 4", 1.0,
          "EdgeAiClient.load_payload loads the payload's weights and gives its round to the "
          "trainer, round after round",
          spec=LOAD_PAYLOAD, probes=("load_payload", "load_payloads")),
    Check("task4b_extra_test", "Task 4", 1.0,
          "EdgeAiClient.extra_test returns the trainer's test accuracy before each round",
          spec=EXTRA_TEST, probes=("extra_test", "extra_tests")),
    Check("notebook_runs", "the whole notebook", 0.0,
          "every code cell runs top to bottom without an error (a gate, no points by default)",
          source=Source.EXECUTION),
    Check("fl_round", "the federated round", 2.0,
          "the notebook's client joins a real two-client round, trains with the round's rate and "
          "uploads once (only where the round is run; else skipped)",
          source=Source.FEDERATED_ROUND),
))

RUBRIC_IDS = REGISTRY.rubric_ids
TASK_SPECS = REGISTRY.task_specs
TASK_CHECK_IDS = REGISTRY.task_check_ids
