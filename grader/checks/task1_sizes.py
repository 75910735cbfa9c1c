"""Task 1 at the notebook's size: `parallel_seeded_choice` on 50,000 CIFAR images of 3072 bytes
and a list of 50,000 labels with n = 25,000, as Task 2 calls it.

The worker builds those arrays itself (`probes.cifar_like`) and stops a call after
SIZE_TIME_LIMIT seconds of CPU time, so a function that is quadratic, loops over elements, recurses
or overflows a small index dtype fails here with a sentence that says so, while the reference
needs a few hundredths of a second. The inputs are `SizeCase`s of the check `task1_seeded_choice`
(assembled in `task1.py`).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.checks import feedback
from grader.checks.cases import SizeCase
from grader.checks.spec import CheckContext, Failure, Observation
from grader.checks.task1_choice import ALGORITHM, TITLE
from grader.sandbox import probes

# CPU seconds one call at the notebook's size may take (CPU time, so other processes' load does
# not count). The reference takes 0.02-0.15 s here, so a correct answer meets it with a wide
# margin; feedback quotes that bound, never a measurement, so every rerun says the same.
SIZE_TIME_LIMIT = 2.0
REFERENCE_TIME = "under 0.2 s"


def request_at_size(case: SizeCase) -> tuple[str, dict]:
    return "seeded_choice_at_size", dict(population=case.population, seed=case.seed, n=case.n,
                                         labels=case.labels, container=case.container,
                                         time_limit=SIZE_TIME_LIMIT)


@dataclass(frozen=True)
class SizedItem:
    type: str
    shape: tuple[int, ...] | None
    positions: np.ndarray | None  # the source position of each row (-1: not a row of it)


@dataclass(frozen=True)
class SizedActual:
    seconds: float
    stopped: bool  # the time bound interrupted the call
    kind: str = ""
    count: int | None = None  # None: not a list, tuple or array
    items: tuple[SizedItem, ...] = ()
    repr: str = ""


@dataclass(frozen=True)
class SizedExpected:
    positions: np.ndarray
    shapes: tuple[tuple[int, ...], ...]


@functools.lru_cache(maxsize=4)
def _position_of_id(population: int) -> np.ndarray:
    order = probes.cifar_like_ids(population)
    where = np.empty(population, dtype=np.int64)
    where[order] = np.arange(population)
    return where


def observe_at_size(context: CheckContext, case: SizeCase, value: dict) -> Observation:
    where = _position_of_id(case.population)

    def positions(ids: Any) -> np.ndarray | None:
        if not isinstance(ids, np.ndarray):
            return None
        inside = (ids >= 0) & (ids < case.population)
        return np.where(inside, where[np.clip(ids, 0, case.population - 1)], -1)

    items = tuple(SizedItem(str(item.get("type")),
                            tuple(item["shape"]) if item.get("shape") is not None else None,
                            positions(item.get("ids")))
                  for item in value.get("items") or ())
    actual = SizedActual(float(value["seconds"]), bool(value["stopped"]), str(value.get("kind")),
                         value.get("count"), items, str(value.get("repr", "")))
    chosen = np.asarray(context.data["choose"]([np.arange(case.population)], case.seed,
                                               case.n)[0])
    expected = SizedExpected(chosen, ((case.n, probes.IMAGE_BYTES), (case.n,)))
    return Observation(actual=actual, expected=expected)


def describe_at_size(case: SizeCase) -> str:
    labels = "a Python list" if case.labels == "list" else "a numpy array"
    passed_as = ", passed as a tuple" if case.container == "tuple" else ""
    return (f"with seed={case.seed}, n={case.n:,} and {case.population:,} CIFAR-sized images "
            f"(uint8 rows of {probes.IMAGE_BYTES} bytes) with their labels as {labels}"
            f"{passed_as}")


def notebook_sizes(case: SizeCase, obs: Observation) -> Failure | None:
    """At the size Task 2 calls it with: in time, one array per input, the reference's rows."""
    actual, expected = obs.actual, obs.expected
    if actual.stopped or actual.seconds > SIZE_TIME_LIMIT:
        # The same words however far past the limit it got: a rerun must say the same.
        took = f"needed more than {SIZE_TIME_LIMIT:g} s of CPU time"
        return Failure(
            f"{TITLE} {took} {describe_at_size(case)}, the size Task 2 calls it with, and was stopped; "
            f"the reference needs {REFERENCE_TIME}. Draw the indices once (rng.choice) and "
            "index each array with them (array[indices] after np.asarray): no Python loops "
            "over elements, list.index or repeated copies.",
            expected=f"a result within {SIZE_TIME_LIMIT:g} s (the reference: {REFERENCE_TIME})",
            actual=took, key=("too slow",))
    if actual.count is None:
        return Failure(f"{TITLE} returned a {actual.kind} {describe_at_size(case)}; it should return a "
                       "list (or tuple) with one array per input array.",
                       expected="a list of 2 arrays", actual=f"a {actual.kind}: {actual.repr}")
    if actual.count != 2:
        return Failure(f"{TITLE} returned {feedback.plural(actual.count, 'array')} for 2 inputs "
                       f"{describe_at_size(case)}.", expected="2 arrays",
                       actual=feedback.plural(actual.count, "array"))
    for index, (item, shape) in enumerate(zip(actual.items, expected.shapes)):
        what = ("images", "labels")[index]
        if item.shape is None or item.positions is None:
            return Failure(f"{TITLE} returned a {item.type} as the {feedback.ordinal(index)} "
                           f"array (the {what}) {describe_at_size(case)}; it should be the selected "
                           f"{what}.", expected=f"an array of shape {shape}",
                           actual=f"a {item.type}")
        if tuple(item.shape) != shape:
            return Failure(f"{TITLE} returned the {what} in shape {tuple(item.shape)} "
                           f"{describe_at_size(case)}; the selection has shape {shape}.",
                           expected=f"shape {shape}", actual=f"shape {tuple(item.shape)}")
        if not np.array_equal(item.positions, expected.positions):
            got = tuple(int(p) if p >= 0 else None for p in item.positions)
            return Failure(
                f"{TITLE} chose the wrong elements {describe_at_size(case)}: the {what} should be the "
                f"rows at positions {feedback.positions(tuple(expected.positions))}, as "
                f"{ALGORITHM} picks them, but they were {feedback.positions(got)}. Small inputs "
                "may hide this: look for a fixed size or a small index dtype (uint8, int16).",
                expected=f"positions {feedback.positions(tuple(expected.positions))}",
                actual=f"positions {feedback.positions(got)}")
    return None


SIZE_CASES = (
    SizeCase(50_000, 19891217, 25_000),  # Task 2's call on the training set
    SizeCase(50_000, 2 ** 32 - 1, 25_000, labels="array", container="tuple"),
)
