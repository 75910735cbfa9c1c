"""Hypothesis strategies named for the exercise's domain.

Arrays are built so that every row is unique and no value equals its own position: the grader can
then tell from the returned values which positions a student's function chose, and a function that
returns the indices instead of the elements does not pass by accident (as it would on np.arange).
"""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from grader.checks.cases import ChoiceCase, ClientRounds, PartitionCase, SchedulePattern

MAX_POPULATION = 60
ARRAY_KINDS = ("int64", "float32", "images", "int32", "uint8", "float64", "matrix", "cube",
               "bool_rows", "str")
LIST_KINDS = ("int_list", "float_list")
PARTITION_SIZES = (10, 7, 2, 33, 1)


def seeds() -> st.SearchStrategy[int]:
    """Seeds from 0 to 2**32 - 1: 0, birthdays like 19891217, and everything a 32-bit seed
    can be. (default_rng takes larger ones too; students' seeds are birthdays, so the exam
    stays where the exercise lives.)"""
    return st.integers(0, 2 ** 32 - 1)


def birthday_seeds() -> st.SearchStrategy[int]:
    """Seeds that look like MY_RANDOM_SEED values (YYYYMMDD), plus small ones."""
    return st.one_of(st.integers(19000101, 20251231), st.integers(0, 1000))


def populations(max_size: int = MAX_POPULATION) -> st.SearchStrategy[int]:
    return st.integers(1, max_size)


def sample_sizes(population: int) -> st.SearchStrategy[int]:
    """n for a population of `population`: 0, all of them, anything between."""
    return st.integers(0, population)


def encoded_rows(kind: str, order: np.ndarray, salt: int):
    """An array (or list) of `kind` whose i-th row encodes order[i] (all rows distinct)."""
    n = len(order)
    order = np.asarray(order, dtype=np.int64)
    if kind in ("int64", "int32", "uint8"):
        return (order + 100).astype(kind)
    if kind == "float32":
        return (order * 0.5 + 0.25).astype(np.float32)
    if kind == "float64":
        return order * 1.5 - 7.0
    if kind == "images":  # CIFAR-like rows: 3072 random bytes, the first two encode the row
        raw = np.random.default_rng(salt).bytes(n * 3072)
        pixels = np.frombuffer(raw, dtype=np.uint8).reshape(n, 3072).copy()
        pixels[:, 0] = order // 256
        pixels[:, 1] = order % 256
        return pixels
    if kind == "matrix":
        return np.stack([order * 1.0, -order * 2.0, order + 0.5], axis=1)
    if kind == "cube":
        cube = np.stack([order, order + 1, -order, order * 3], axis=1)
        return cube.reshape(n, 2, 2).astype(np.int16)
    if kind == "bool_rows":  # 6 bits hold any position < 64
        return ((order[:, None] >> np.arange(6)) & 1).astype(bool)
    if kind == "str":
        return np.array([f"s{v}" for v in order])
    if kind == "int_list":
        return [int(v) for v in order + 200]
    if kind == "float_list":
        return [float(v) + 0.5 for v in order]
    raise ValueError(kind)


@st.composite
def arrays_of_length(draw, population: int, kinds=ARRAY_KINDS):
    kind = draw(st.sampled_from(kinds))
    salt = draw(st.integers(0, 2 ** 16))
    order = np.random.default_rng(salt).permutation(population)
    return encoded_rows(kind, order, salt)


@st.composite
def array_lists(draw, population: int, min_arrays: int = 1, max_arrays: int = 5,
                lists: bool = False):
    """`min_arrays`..`max_arrays` arrays of `population` rows; the first is always a numpy array,
    later ones are Python lists too when `lists` (then at least one is)."""
    count = draw(st.integers(min_arrays, max_arrays))
    arrays = [draw(arrays_of_length(population))]
    for position in range(1, count):
        kinds = ARRAY_KINDS + LIST_KINDS if lists else ARRAY_KINDS
        arrays.append(draw(arrays_of_length(population, kinds)))
    if lists and count > 1 and not any(isinstance(a, list) for a in arrays):
        arrays[-1] = draw(arrays_of_length(population, LIST_KINDS))
    return tuple(arrays)


@st.composite
def choice_problems(draw, min_arrays: int = 2, max_arrays: int = 2, lists: bool = False,
                    max_population: int = MAX_POPULATION):
    """A whole call: arrays of one population size, a seed, n between 0 and the size."""
    population = draw(populations(max_population))
    arrays = draw(array_lists(population, min_arrays, max_arrays, lists))
    seed = draw(seeds())
    n = draw(sample_sizes(population))
    container = draw(st.sampled_from(("list", "tuple")))
    return ChoiceCase(arrays, seed, n, container)


def partition_cases(train: bool = True) -> st.SearchStrategy[PartitionCase]:
    return st.builds(PartitionCase, seed=birthday_seeds(), size=st.sampled_from(PARTITION_SIZES),
                     train=st.just(train))


def learning_rates() -> st.SearchStrategy[float]:
    """Positive initial learning rates, from tiny to large."""
    return st.one_of(st.sampled_from((0.1, 0.01, 0.05, 1.0, 0.3)),
                     st.floats(1e-6, 10.0, allow_nan=False, allow_infinity=False))


def rounds() -> st.SearchStrategy[int]:
    """Round numbers a course server sends (1..50)."""
    return st.integers(1, 50)


def schedule_patterns() -> st.SearchStrategy[SchedulePattern]:
    """One to three fresh trainers, each called for one to six rounds in any order (repeats
    and gaps included), with any initial learning rate."""
    calls = st.lists(rounds(), min_size=1, max_size=6).map(tuple)
    return st.builds(SchedulePattern, initial=learning_rates(),
                     trainers=st.lists(calls, min_size=1, max_size=3).map(tuple))


def accuracies() -> st.SearchStrategy[float]:
    """Test accuracies a trainer may report (never 0 or 1, so no answer passes by accident)."""
    return st.floats(0.01, 0.99, allow_nan=False).map(lambda a: round(a, 4))


def payload_rounds() -> st.SearchStrategy[ClientRounds]:
    """Two to four different rounds, in any order, for one client."""
    return st.lists(rounds(), min_size=2, max_size=4, unique=True).map(
        lambda found: ClientRounds(tuple(found)))


def accuracy_rounds() -> st.SearchStrategy[ClientRounds]:
    """Two to four different accuracies, one per validation pass of one client."""
    return st.lists(accuracies(), min_size=2, max_size=4, unique=True).map(
        lambda found: ClientRounds(tuple(found)))
