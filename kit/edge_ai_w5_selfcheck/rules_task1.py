"""Task 1: `parallel_seeded_choice` and `MY_RANDOM_SEED`, with numpy only.

Each property meets its inputs of the public exam in order; the first input it fails on is
reported. Where the grader compares with the reference, the kit compares the positions the
student's function chose with the sealed positions the reference chose.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Callable, Optional

import numpy as np

from edge_ai_w5_selfcheck.portable.seal import matches
from edge_ai_w5_selfcheck.exam import decode_array
from edge_ai_w5_selfcheck.observe import (Raised, call, ordinal, plain_array, plural, positions,
                                          short_repr, type_name, values)

TITLE = "parallel_seeded_choice"


@dataclass
class Selection:
    kind: str
    items: Optional[list]  # a plain array or None per item; None: not a sequence
    repr: str = ""

    @property
    def count(self) -> int:
        return len(self.items or ())


def selection(result: Any) -> Selection:
    if isinstance(result, (list, tuple)) or (isinstance(result, np.ndarray) and result.ndim >= 1):
        return Selection(type_name(result), [plain_array(item) for item in list(result)])
    return Selection(type_name(result), None, short_repr(result))


def positions_in(output: Any, source: Any) -> Optional[np.ndarray]:
    """The position in `source` of each row of `output` (-1: not a row of it); None when the
    shapes do not fit (the grader's rule)."""
    src = plain_array(source)
    out = plain_array(output)
    if src is None or out is None or out.ndim == 0:
        return None
    if out.size == 0:
        return np.zeros(0, np.int64)
    if out.shape[1:] != src.shape[1:]:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cast = out.astype(src.dtype)
            if not np.array_equal(cast, out):
                return None
    except (TypeError, ValueError):
        return None
    lookup = {src[i].tobytes(): i for i in range(len(src))}
    return np.asarray([lookup.get(row.tobytes(), -1) for row in cast], np.int64)


def global_state() -> bytes:
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return keys.tobytes() + repr((name, int(pos), int(has_gauss), float(cached))).encode()


class Case:
    """One input of the exam and what the student's function made of it (called lazily once)."""

    def __init__(self, entry: dict, key: str):
        self.entry, self.key = entry, key
        self.arrays = [decode_array(a) for a in entry["arrays"]]
        self._seen: Optional[tuple] = None

    def fresh(self):
        copies = [a.copy() if isinstance(a, np.ndarray) else list(a) for a in self.arrays]
        return tuple(copies) if self.entry["container"] == "tuple" else copies

    def observe(self, function: Callable):
        if self._seen is None:
            seed, n = self.entry["seed"], self.entry["n"]
            before = global_state()
            first = call(function, self.fresh(), seed, n)
            changed = global_state() != before
            second = call(function, self.fresh(), seed, n)
            self._seen = (first, second, changed)
        return self._seen

    def describe(self) -> str:
        arrays, population = self.arrays, len(self.arrays[0])
        passed_as = " (passed as a tuple)" if self.entry["container"] == "tuple" else ""
        head = f"with seed={self.entry['seed']}, n={self.entry['n']} and "
        if all(isinstance(a, np.ndarray) and a.dtype.kind == "i"
               and np.array_equal(a, np.arange(population)) for a in arrays):
            return head + f"{plural(len(arrays), 'array')} np.arange({population}){passed_as}"
        kinds = ", ".join(f"a Python list of {type(a[0]).__name__ if a else 'nothing'}"
                          if isinstance(a, list) else f"a {a.dtype} array"
                          + (f" of shape {a.shape}" if a.ndim > 1 else "") for a in arrays)
        return head + (f"{plural(len(arrays), 'array')} of length {population}{passed_as}: "
                       f"{kinds}")

    def right(self, found: Optional[np.ndarray]) -> bool:
        return found is not None and matches(self.key, self.entry["label"], found,
                                             self.entry["sealed"])

    def expected_text(self) -> str:
        shown = self.entry.get("expected_positions")
        if shown is None:
            return ""
        return values(plain_array(self.arrays[0])[np.asarray(shown, int)]) \
            if len(shown) else "[]"


# --- properties: each returns None (held) or (message, actual, expected) --------------------


def _container(case: Case, sel: Selection):
    if sel.items is not None:
        return None
    return (f"{TITLE} returned a {sel.kind} {case.describe()}; it should return a list (or "
            "tuple) with one array per input array.", f"a {sel.kind}: {sel.repr}",
            f"a list of {len(case.arrays)} arrays")


def _count(case: Case, sel: Selection):
    problem = _container(case, sel)
    if problem or sel.count == len(case.arrays):
        return problem
    return (f"{TITLE} returned {plural(sel.count, 'array')} for "
            f"{plural(len(case.arrays), 'input')}: {case.describe()}. It should return one "
            "selection per array in `array_list`, in the same order, however many arrays there "
            "are.", plural(sel.count, "array"), plural(len(case.arrays), "array"))


def _values(case: Case, sel: Selection, indices, algorithm: str):
    problem = _container(case, sel)
    if problem:
        return problem
    for index in indices:
        if index >= sel.count:
            return (f"{TITLE} returned no {ordinal(index)} array {case.describe()}.",
                    plural(sel.count, "array"), case.expected_text())
        found = positions_in(sel.items[index], case.arrays[index])
        if not case.right(found):
            return (f"{TITLE} chose the wrong elements {case.describe()}: the {ordinal(index)} "
                    f"array is not what {algorithm} picks.",
                    f"{values(sel.items[index])} (positions {positions(found)})",
                    case.expected_text())
    return None


def _found(case: Case, sel: Selection):
    return [(i, positions_in(sel.items[i], case.arrays[i]))
            for i in range(min(sel.count, len(case.arrays)))]


def course_example(case, sel, second, changed, algorithm):
    return _count(case, sel) or _values(case, sel, range(len(case.arrays)), algorithm)


def any_number_of_arrays(case, sel, second, changed, algorithm):
    return _count(case, sel)


def lists_accepted(case, sel, second, changed, algorithm):
    problem = _container(case, sel)
    if problem:
        return problem
    first = positions_in(sel.items[0], case.arrays[0]) if sel.count else None
    first_ok = first is not None and (first >= 0).all()
    for index, array in enumerate(case.arrays):
        if not isinstance(array, list):
            continue
        found = positions_in(sel.items[index], array) if index < sel.count else None
        same = (np.array_equal(found, first) if first_ok and found is not None
                else case.right(found))
        if not same:
            got = values(sel.items[index]) if index < sel.count else "missing"
            return (f"{TITLE} did not select from a Python list like from an array "
                    f"{case.describe()}: the {ordinal(index)} array, a list, came back as {got}. "
                    "Arrays after the first may be Python lists, as CIFAR labels are "
                    "(np.asarray turns them into arrays).", got,
                    f"positions {positions(first)}" if first_ok else "")
    return None


def matches_reference(case, sel, second, changed, algorithm):
    if sel.items is not None and sel.count == 0 and case.arrays:
        return _count(case, sel)
    return _values(case, sel, range(min(len(case.arrays), sel.count)), algorithm)


def no_duplicates(case, sel, second, changed, algorithm):
    problem = _container(case, sel)
    if problem:
        return problem
    for index, found in _found(case, sel):
        known = [int(p) for p in (found if found is not None else ()) if p >= 0]
        repeated = sorted({p for p in known if known.count(p) > 1})
        if repeated:
            return (f"{TITLE} chose the same element more than once {case.describe()}: position "
                    f"{repeated[0]} appears {known.count(repeated[0])} times in the "
                    f"{ordinal(index)} array. A sample must not be included twice (look at "
                    "choice's `replace` argument).", f"positions {positions(found)}",
                    "n different positions")
    return None


def same_indices(case, sel, second, changed, algorithm):
    problem = _container(case, sel)
    if problem:
        return problem
    known = [(i, f) for i, f in _found(case, sel) if f is not None]
    for index, found in known[1:]:
        base = known[0][1]
        if len(found) != len(base) or any(a >= 0 and b >= 0 and a != b
                                          for a, b in zip(found, base)):
            return (f"{TITLE} chose different positions for different arrays {case.describe()}: "
                    f"the {ordinal(known[0][0])} array got positions {positions(base)} but the "
                    f"{ordinal(index)} got {positions(found)}. Draw the positions once and index "
                    "every array with them, so images and labels stay paired.",
                    f"positions {positions(found)}", f"positions {positions(base)}")
    return None


def deterministic(case, sel, second, changed, algorithm):
    problem = _container(case, sel)
    if problem:
        return problem
    other = selection(second) if not isinstance(second, Raised) else Selection("error", None)
    same = other.items is not None and sel.count == other.count and all(
        (a is None and b is None) or (a is not None and b is not None and a.shape == b.shape
                                      and np.array_equal(a, b))
        for a, b in zip(sel.items, other.items))
    if same:
        return None
    one = values(sel.items[0]) if sel.count else "nothing"
    two = values(other.items[0]) if other.count else "nothing"
    return (f"Two calls of {TITLE} with the same input returned different results "
            f"{case.describe()}: first {one}, then {two}. The same seed must always give the "
            "same selection.", f"then {two}", f"the same selection twice: {one}")


def global_state_untouched(case, sel, second, changed, algorithm):
    if not changed:
        return None
    return (f"{TITLE} changed numpy's global random state {case.describe()} (through "
            "np.random.seed, np.random.choice, np.random.shuffle, ...). Use only the generator "
            "from np.random.default_rng(seed), so other code's randomness is not affected.",
            "it changed", "np.random.get_state() unchanged")


PROPERTIES = {f.__name__: f for f in (course_example, any_number_of_arrays, lists_accepted,
                                      matches_reference, no_duplicates, same_indices,
                                      deterministic, global_state_untouched)}
