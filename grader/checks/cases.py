"""Inputs of the checks (what a strategy draws and an explicit example spells out)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True, eq=False)
class ChoiceCase:
    """One call `parallel_seeded_choice(arrays, seed, n)`.

    `arrays[0]` is a numpy array; later ones may be Python lists (as CIFAR labels are).
    `container` is how the arrays are passed: a list or a tuple (the course's test uses tuples).
    `course` marks the course's own test vectors.
    """

    arrays: tuple[Any, ...]
    seed: int
    n: int
    container: str = "list"
    course: bool = False

    @property
    def population(self) -> int:
        return len(self.arrays[0])

    @property
    def has_list(self) -> bool:
        return any(isinstance(a, list) for a in self.arrays)

    def __repr__(self) -> str:
        kinds = ", ".join(f"list[{len(a)}]" if isinstance(a, list)
                          else f"{a.dtype}{list(a.shape)}" for a in self.arrays)
        return f"ChoiceCase(seed={self.seed}, n={self.n}, arrays=[{kinds}], {self.container})"


def course_choice_cases() -> tuple[ChoiceCase, ...]:
    """The course's vectors: the numeric test cell (tuples of 2 and 3 arrays, seed 42, 10
    elements, n=8 -> [8 9 7 4 6 2 0 3]) and the visual test (seed 42, 30 elements, n=15)."""
    ten, thirty = np.arange(10), np.arange(30)
    return (
        ChoiceCase((ten, ten.copy()), 42, 8, "tuple", course=True),
        ChoiceCase((ten, ten.copy(), ten.copy()), 42, 8, "tuple", course=True),
        ChoiceCase((thirty, thirty.copy()), 42, 15, "list", course=True),
    )


@dataclass(frozen=True)
class PartitionCase:
    """CIFAR100Partition on a synthetic file of `size` images, with MY_RANDOM_SEED = `seed`."""

    seed: int
    size: int
    train: bool = True


@dataclass(frozen=True)
class SeedCase:
    """The student's own MY_RANDOM_SEED (no input: there is one value to look at)."""

    name: str = "MY_RANDOM_SEED"


@dataclass(frozen=True)
class SchedulePattern:
    """`set_learning_rate` as a federation calls it: a fresh trainer per entry of `trainers`
    (a new client process), each called for its rounds in that order (starting late, skipping
    the rounds the client was not selected for, meeting a round twice)."""

    initial: float
    trainers: tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class ClientRounds:
    """One client through several rounds, in this order: the rounds of the payloads it receives
    (Task 4a), or what its trainer's test returns on each validation pass (Task 4b)."""

    values: tuple[Any, ...]


@dataclass(frozen=True)
class SizeCase:
    """`parallel_seeded_choice([images, labels], seed, n)` at the notebook's size, built in the
    worker (`probes.cifar_like`): `population` uint8 images of 3072 bytes, labels a Python list
    (as CIFAR's pickle holds them) or an array, passed in a list or a tuple."""

    population: int
    seed: int
    n: int
    labels: str = "list"
    container: str = "list"
