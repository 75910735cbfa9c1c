"""Task 1's `parallel_seeded_choice(array_list, seed, n)` on small arrays of every kind (up to 60
rows), where a mistake shows in a few values: observing a call, describing an input, and the
properties. The notebook-size inputs are in `task1_sizes.py`; the check is assembled in `task1.py`.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.checks import feedback
from grader.checks.cases import ChoiceCase
from grader.checks.spec import CheckContext, Failure, Observation

TITLE = "parallel_seeded_choice"
ALGORITHM = "np.random.default_rng(seed).choice(len(array_list[0]), n, replace=False)"


# --- observing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Selection:
    """What one call returned: the container, and each item as an array (None: not array-like)."""

    kind: str
    items: tuple[Any, ...] | None  # np.ndarray | None per item (the first 64 items)
    item_types: tuple[str, ...] = ()
    repr: str = ""
    count: int = 0  # how many items were returned

    @classmethod
    def from_plain(cls, data: dict) -> Selection:
        if data.get("items") is None:
            return cls(str(data.get("kind")), None, (), str(data.get("repr", "")))
        items = tuple(item.get("array") if isinstance(item.get("array"), np.ndarray) else None
                      for item in data["items"])
        types = tuple(str(item.get("type", "?")) for item in data["items"])
        count = data.get("count")
        return cls(str(data.get("kind")), items, types,
                   count=count if isinstance(count, int) else len(items))


@dataclass(frozen=True)
class ChoiceActual:
    first: Selection
    second: Selection
    state_changed: bool


@dataclass(frozen=True)
class ChoiceExpected:
    arrays: tuple[np.ndarray, ...]
    positions: tuple[int, ...] | None


def _copies(arrays):
    return [a.copy() if isinstance(a, np.ndarray) else list(a) for a in arrays]


def request(case: ChoiceCase) -> tuple[str, dict]:
    return "seeded_choice", dict(arrays=list(case.arrays), seed=case.seed, n=case.n,
                                 container=case.container)


def observe(context: CheckContext, case: ChoiceCase, value: dict) -> Observation:
    actual = ChoiceActual(Selection.from_plain(value["first"]),
                          Selection.from_plain(value["second"]),
                          bool(value["global_state_changed"]))
    chosen = context.data["choose"](_copies(case.arrays), case.seed, case.n)
    arrays = tuple(np.asarray(a) for a in chosen)
    expected = ChoiceExpected(arrays, positions_in(arrays[0], case.arrays[0]))
    return Observation(actual=actual, expected=expected)


def positions_in(output: Any, source: Any) -> tuple[int | None, ...] | None:
    """For each row of `output`, its position in `source` (rows of `source` are unique);
    None for a row that is not in `source`, None overall when the shapes do not fit."""
    try:
        src = np.asarray(source)
        out = np.asarray(output)
    except Exception:  # noqa: BLE001
        return None
    if out.ndim == 0 or out.shape[1:] != src.shape[1:] or src.dtype.kind == "O":
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cast = out.astype(src.dtype)
            if cast.size and not np.array_equal(cast, out):
                return None
    except (TypeError, ValueError):
        return None
    lookup = {src[i].tobytes(): i for i in range(len(src))}
    return tuple(lookup.get(row.tobytes()) for row in cast)


def same_values(actual: Any, expected: np.ndarray) -> bool:
    """Equal elements in equal shape, whatever the dtype (a list may come back as an array)."""
    if actual is None:
        return False
    actual = np.asarray(actual)
    if actual.size == 0 and expected.size == 0:
        return True
    if actual.shape != expected.shape:
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return bool(np.array_equal(actual, expected))
        except Exception:  # noqa: BLE001
            return False


# --- describing -------------------------------------------------------------------------------


def describe(case: ChoiceCase) -> str:
    count, population = len(case.arrays), case.population
    passed_as = " (passed as a tuple)" if case.container == "tuple" else ""
    if all(isinstance(a, np.ndarray) and a.dtype.kind == "i"
           and np.array_equal(a, np.arange(population)) for a in case.arrays):
        return (f"with seed={case.seed}, n={case.n} and "
                f"{feedback.plural(count, 'array')} np.arange({population}){passed_as}")
    parts = []
    for array in case.arrays:
        phrase = feedback.array_phrase(array)
        if population <= 8 and np.asarray(array).ndim == 1:
            phrase += f" {feedback.values(array)}"
        parts.append(phrase)
    return (f"with seed={case.seed}, n={case.n} and {feedback.plural(count, 'array')} of length "
            f"{population}{passed_as}: " + ", ".join(parts))


def _with_positions(values: Any, found: tuple | None) -> str:
    """Values, plus the positions they were taken from unless those read the same."""
    shown = feedback.values(values)
    if found is None or shown == feedback.values([-1 if p is None else p for p in found]):
        return shown
    return f"{shown} (positions {feedback.positions(found)})"


def _selected(expected: ChoiceExpected, index: int) -> str:
    return _with_positions(expected.arrays[index], expected.positions)


def _returned(case: ChoiceCase, selection: Selection, index: int) -> str:
    array = selection.items[index]
    if array is None:
        return f"a {selection.item_types[index]}"
    return _with_positions(array, positions_in(array, case.arrays[index]))

# --- properties -------------------------------------------------------------------------------


def _container_failure(case: ChoiceCase, obs: Observation) -> Failure | None:
    selection = obs.actual.first
    if selection.items is not None:
        return None
    return Failure(f"{TITLE} returned a {selection.kind} {describe(case)}; it should return a "
                   "list (or tuple) with one array per input array.",
                   expected=f"a list of {len(case.arrays)} arrays",
                   actual=f"a {selection.kind}: {selection.repr}")


def _count_failure(case: ChoiceCase, obs: Observation) -> Failure | None:
    failure = _container_failure(case, obs)
    if failure is not None:
        return failure
    got, want = obs.actual.first.count, len(case.arrays)
    if got == want:
        return None
    return Failure(f"{TITLE} returned {feedback.plural(got, 'array')} for "
                   f"{feedback.plural(want, 'input')}: {describe(case)}. It should return one "
                   "selection per array in `array_list`, in the same order, however many arrays "
                   "there are.",
                   expected=(f"{feedback.plural(want, 'array')}, the first "
                             f"{_selected(obs.expected, 0)}"),
                   actual=f"{feedback.plural(got, 'array')}")


def _value_failure(case: ChoiceCase, obs: Observation, indices) -> Failure | None:
    failure = _container_failure(case, obs)
    if failure is not None:
        return failure
    selection = obs.actual.first
    for index in indices:
        if index >= selection.count:
            return Failure(f"{TITLE} returned no {feedback.ordinal(index)} array {describe(case)}.",
                           expected=_selected(obs.expected, index),
                           actual=f"{feedback.plural(selection.count, 'array')}")
        if not same_values(selection.items[index], obs.expected.arrays[index]):
            return Failure(
                f"{TITLE} chose the wrong elements {describe(case)}: the "
                f"{feedback.ordinal(index)} array should be {_selected(obs.expected, index)}, as "
                f"{ALGORITHM} picks them, but it was {_returned(case, selection, index)}.",
                expected=_selected(obs.expected, index),
                actual=_returned(case, selection, index))
    return None


def course_example(case: ChoiceCase, obs: Observation) -> Failure | None:
    return _count_failure(case, obs) or _value_failure(case, obs, range(len(case.arrays)))


def any_number_of_arrays(case: ChoiceCase, obs: Observation) -> Failure | None:
    return _count_failure(case, obs)


def lists_accepted(case: ChoiceCase, obs: Observation) -> Failure | None:
    """A Python list gets the same positions as the first array (whichever those are)."""
    failure = _container_failure(case, obs)
    if failure is not None:
        return failure
    selection = obs.actual.first
    first = positions_in(selection.items[0], case.arrays[0]) if selection.count else None
    if first is None or None in first:
        first = obs.expected.positions
    for index, array in enumerate(case.arrays):
        if not isinstance(array, list):
            continue
        found = (positions_in(selection.items[index], array)
                 if index < selection.count and selection.items[index] is not None else None)
        if found != first:
            got = _returned(case, selection, index) if index < selection.count else "missing"
            return Failure(
                f"{TITLE} did not select from a Python list like from an array {describe(case)}: "
                f"the {feedback.ordinal(index)} array, a list, came back as {got}, while the "
                f"positions were {feedback.positions(first)}. Arrays after the first may be "
                "Python lists, as CIFAR labels are (np.asarray turns them into arrays).",
                expected=f"positions {feedback.positions(first)}", actual=got)
    return None


def matches_reference(case: ChoiceCase, obs: Observation) -> Failure | None:
    count = len(case.arrays)
    if obs.actual.first.items is not None and obs.actual.first.count == 0 and count:
        return _count_failure(case, obs)
    return _value_failure(case, obs, range(min(count, obs.actual.first.count)))


def _positions(case: ChoiceCase, selection: Selection) -> list[tuple[int, tuple | None]]:
    found = []
    for index in range(min(selection.count, len(case.arrays))):
        array = selection.items[index]
        found.append((index, None if array is None else positions_in(array, case.arrays[index])))
    return found


def no_duplicates(case: ChoiceCase, obs: Observation) -> Failure | None:
    if obs.actual.first.items is None:
        return _container_failure(case, obs)
    for index, found in _positions(case, obs.actual.first):
        known = [p for p in (found or ()) if p is not None]
        repeated = sorted({p for p in known if known.count(p) > 1})
        if repeated:
            return Failure(
                f"{TITLE} chose the same element more than once {describe(case)}: position "
                f"{repeated[0]} appears {known.count(repeated[0])} times in the "
                f"{feedback.ordinal(index)} array. A sample must not be included twice "
                "(look at choice's `replace` argument).",
                expected="n different positions",
                actual=f"positions {feedback.positions(found)}")
    return None


def same_indices(case: ChoiceCase, obs: Observation) -> Failure | None:
    if obs.actual.first.items is None:
        return _container_failure(case, obs)
    known = [(i, p) for i, p in _positions(case, obs.actual.first) if p is not None]
    for index, found in known[1:]:
        if _disagree(found, known[0][1]):
            return Failure(
                f"{TITLE} chose different positions for different arrays {describe(case)}: the "
                f"{feedback.ordinal(known[0][0])} array got positions "
                f"{feedback.positions(known[0][1])} but the {feedback.ordinal(index)} got "
                f"{feedback.positions(found)}. Draw the positions once and index every array "
                "with them, so images and labels stay paired.",
                expected=f"positions {feedback.positions(known[0][1])} in every array",
                actual=(f"positions {feedback.positions(found)} in the "
                        f"{feedback.ordinal(index)} array"))
    return None


def _disagree(one: tuple, other: tuple) -> bool:
    """Positions that cannot be the same draw; a row not found in its source (None, e.g. a
    returned index instead of an element) is no evidence either way."""
    return len(one) != len(other) or any(a is not None and b is not None and a != b
                                         for a, b in zip(one, other))


def deterministic(case: ChoiceCase, obs: Observation) -> Failure | None:
    first, second = obs.actual.first, obs.actual.second
    if first.items is None:
        return _container_failure(case, obs)
    same = (second.items is not None and first.count == second.count and all(
        (a is None and b is None) or (a is not None and b is not None and same_values(b, a))
        for a, b in zip(first.items, second.items)))
    if same:
        return None
    one = feedback.values(first.items[0]) if first.count else "nothing"
    two = feedback.values(second.items[0]) if second.items else "nothing"
    return Failure(f"Two calls of {TITLE} with the same input returned different results "
                   f"{describe(case)}: first {one}, then {two}. The same seed must always "
                   "give the same selection.",
                   expected=f"the same selection twice: {one}", actual=f"then {two}")


def global_state_untouched(case: ChoiceCase, obs: Observation) -> Failure | None:
    if not obs.actual.state_changed:
        return None
    return Failure(f"{TITLE} changed numpy's global random state {describe(case)} (through "
                   "np.random.seed, np.random.choice, np.random.shuffle, ...). Use only the "
                   "generator from np.random.default_rng(seed), so other code's randomness is "
                   "not affected.",
                   expected="np.random.get_state() unchanged", actual="it changed")
