"""Task 1: `parallel_seeded_choice(array_list, seed, n)` and `MY_RANDOM_SEED`.

Most properties draw small arrays of every kind (up to 60 rows), where a mistake shows in a few
values. `notebook_sizes` adds what the notebook really does: Task 2 calls the function on 50,000
CIFAR images of 3072 bytes and a list of 50,000 labels with n = 25,000. The worker builds those
arrays itself (`probes.cifar_like`) and stops a call after SIZE_TIME_LIMIT seconds, so a function
that is quadratic, loops over elements, recurses or overflows a small index dtype fails there with
a sentence that says so, while the reference needs a few hundredths of a second.
"""
from __future__ import annotations

import datetime
import functools
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.checks import feedback
from grader.checks.cases import ChoiceCase, SeedCase, SizeCase, course_choice_cases
from grader.checks.reference import reference_function
from grader.checks.spec import CheckContext, CheckSpec, Failure, Observation, Property
from grader.checks.strategies import encoded_rows, choice_problems
from grader.sandbox import probes

TITLE = "parallel_seeded_choice"
ALGORITHM = "np.random.default_rng(seed).choice(len(array_list[0]), n, replace=False)"
# CPU seconds one call at the notebook's size may take (CPU time, so other processes' load does
# not count). The reference takes 0.02-0.15 s here, so a correct answer meets it with a wide
# margin; feedback quotes that bound, never a measurement, so every rerun says the same.
SIZE_TIME_LIMIT = 2.0
REFERENCE_TIME = "under 0.2 s"


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


def _prepare(context: CheckContext) -> None:
    context.data["choose"] = reference_function(context.reference, "parallel_seeded_choice")


def _copies(arrays):
    return [a.copy() if isinstance(a, np.ndarray) else list(a) for a in arrays]


def _request(context: CheckContext, case: ChoiceCase | SizeCase) -> tuple[str, dict]:
    if isinstance(case, SizeCase):
        return "seeded_choice_at_size", dict(population=case.population, seed=case.seed,
                                             n=case.n, labels=case.labels,
                                             container=case.container, time_limit=SIZE_TIME_LIMIT)
    return "seeded_choice", dict(arrays=list(case.arrays), seed=case.seed, n=case.n,
                                 container=case.container)


def _observe(context: CheckContext, case: ChoiceCase | SizeCase) -> Observation:
    reply = context.probe(case)
    if reply.error is not None:
        return Observation(error=reply.error)
    if isinstance(case, SizeCase):
        return _observe_at_size(context, case, reply.value)
    value = reply.value
    actual = ChoiceActual(Selection.from_plain(value["first"]),
                          Selection.from_plain(value["second"]),
                          bool(value["global_state_changed"]))
    chosen = context.data["choose"](_copies(case.arrays), case.seed, case.n)
    arrays = tuple(np.asarray(a) for a in chosen)
    expected = ChoiceExpected(arrays, positions_in(arrays[0], case.arrays[0]))
    return Observation(actual=actual, expected=expected)


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


def _observe_at_size(context: CheckContext, case: SizeCase, value: dict) -> Observation:
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


def describe(case: ChoiceCase | SizeCase) -> str:
    if isinstance(case, SizeCase):
        labels = "a Python list" if case.labels == "list" else "a numpy array"
        passed_as = ", passed as a tuple" if case.container == "tuple" else ""
        return (f"with seed={case.seed}, n={case.n:,} and {case.population:,} CIFAR-sized images "
                f"(uint8 rows of {probes.IMAGE_BYTES} bytes) with their labels as {labels}"
                f"{passed_as}")
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


def notebook_sizes(case: SizeCase, obs: Observation) -> Failure | None:
    """At the size Task 2 calls it with: in time, one array per input, the reference's rows."""
    actual, expected = obs.actual, obs.expected
    if actual.stopped or actual.seconds > SIZE_TIME_LIMIT:
        # The same words however far past the limit it got: a rerun must say the same.
        took = f"needed more than {SIZE_TIME_LIMIT:g} s of CPU time"
        return Failure(
            f"{TITLE} {took} {describe(case)}, the size Task 2 calls it with, and was stopped; "
            f"the reference needs {REFERENCE_TIME}. Draw the indices once (rng.choice) and "
            "index each array with them (array[indices] after np.asarray): no Python loops "
            "over elements, list.index or repeated copies.",
            expected=f"a result within {SIZE_TIME_LIMIT:g} s (the reference: {REFERENCE_TIME})",
            actual=took, key=("too slow",))
    if actual.count is None:
        return Failure(f"{TITLE} returned a {actual.kind} {describe(case)}; it should return a "
                       "list (or tuple) with one array per input array.",
                       expected="a list of 2 arrays", actual=f"a {actual.kind}: {actual.repr}")
    if actual.count != 2:
        return Failure(f"{TITLE} returned {feedback.plural(actual.count, 'array')} for 2 inputs "
                       f"{describe(case)}.", expected="2 arrays",
                       actual=feedback.plural(actual.count, "array"))
    for index, (item, shape) in enumerate(zip(actual.items, expected.shapes)):
        what = ("images", "labels")[index]
        if item.shape is None or item.positions is None:
            return Failure(f"{TITLE} returned a {item.type} as the {feedback.ordinal(index)} "
                           f"array (the {what}) {describe(case)}; it should be the selected "
                           f"{what}.", expected=f"an array of shape {shape}",
                           actual=f"a {item.type}")
        if tuple(item.shape) != shape:
            return Failure(f"{TITLE} returned the {what} in shape {tuple(item.shape)} "
                           f"{describe(case)}; the selection has shape {shape}.",
                           expected=f"shape {shape}", actual=f"shape {tuple(item.shape)}")
        if not np.array_equal(item.positions, expected.positions):
            got = tuple(int(p) if p >= 0 else None for p in item.positions)
            return Failure(
                f"{TITLE} chose the wrong elements {describe(case)}: the {what} should be the "
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


def _examples() -> dict[str, tuple[ChoiceCase, ...]]:
    course = course_choice_cases()
    ten = np.arange(10)
    images = encoded_rows("images", np.random.default_rng(1).permutation(10), 1)
    labels = encoded_rows("int_list", np.random.default_rng(2).permutation(10), 2)
    five = tuple(encoded_rows(kind, np.random.default_rng(k).permutation(6), k)
                 for k, kind in enumerate(("int64", "images", "float32", "str", "bool_rows")))
    return {
        "numbers": (course[1], ChoiceCase((ten,), 42, 8), ChoiceCase(five, 19891217, 3)),
        "lists": (ChoiceCase((images, labels), 19891217, 5),),
        "reference": course + (ChoiceCase((ten, ten.copy()), 19891217, 5),
                               ChoiceCase((images, images.copy()), 0, 10)),
        "duplicates": (ChoiceCase((ten, ten.copy()), 0, 10), ChoiceCase((ten, ten.copy()), 42, 8)),
        "same": (course[0],),
    }


_EXAMPLES = _examples()
SEEDED_CHOICE = CheckSpec(
    id="task1_seeded_choice",
    title=TITLE,
    needs=("parallel_seeded_choice",),
    request=_request,
    observe=_observe,
    describe=describe,
    prepare=_prepare,
    max_examples=40,
    properties=(
        Property("course_example", course_example, examples=course_choice_cases()),
        Property("any_number_of_arrays", any_number_of_arrays,
                 strategy=lambda: choice_problems(1, 5), examples=_EXAMPLES["numbers"]),
        Property("lists_accepted", lists_accepted,
                 strategy=lambda: choice_problems(2, 2, lists=True), examples=_EXAMPLES["lists"]),
        Property("matches_reference", matches_reference,
                 strategy=lambda: choice_problems(2, 2), examples=_EXAMPLES["reference"]),
        Property("no_duplicates", no_duplicates,
                 strategy=lambda: choice_problems(2, 2), examples=_EXAMPLES["duplicates"]),
        Property("same_indices", same_indices,
                 strategy=lambda: choice_problems(2, 3), examples=_EXAMPLES["same"]),
        Property("deterministic", deterministic, strategy=lambda: choice_problems(2, 2),
                 examples=_EXAMPLES["same"]),
        Property("global_state_untouched", global_state_untouched,
                 strategy=lambda: choice_problems(2, 2), examples=course_choice_cases()[:1]),
        Property("notebook_sizes", notebook_sizes, examples=SIZE_CASES),
    ),
)


# --- MY_RANDOM_SEED ---------------------------------------------------------------------------


def _observe_seed(context: CheckContext, case: SeedCase) -> Observation:
    reply = context.probe(case)
    if reply.error is not None:
        return Observation(error=reply.error)
    return Observation(actual=reply.value)


def _seed_phrase(found: dict) -> str:
    return f"MY_RANDOM_SEED is the {found['type']} {found['repr']}"


def is_integer(case: SeedCase, obs: Observation) -> Failure | None:
    found = obs.actual
    if found["integral"]:
        return None
    return Failure(f"{_seed_phrase(found)}; store your birthdate as one integer, e.g. "
                   "MY_RANDOM_SEED = 19891217 (no quotes, no dots).",
                   expected="an int such as 19891217", actual=f"{found['type']} {found['repr']}")


def date_problem(value: int, today: datetime.date | None = None) -> str | None:
    """Why `value` is not a birthdate YYYYMMDD between 1900 and this year, or None."""
    year_now = (today or datetime.date.today()).year
    text = str(value)
    if value < 0 or len(text) != 8:
        return f"{value} has {len(text)} digits, not 8 (YYYYMMDD)"
    year, month, day = int(text[:4]), int(text[4:6]), int(text[6:])
    if not 1900 <= year <= year_now:
        return f"the year {year} is not between 1900 and {year_now}"
    try:
        datetime.date(year, month, day)
    except ValueError as exc:
        return f"{year}-{text[4:6]}-{text[6:]} is not a calendar date ({exc})"
    return None


def is_calendar_date(case: SeedCase, obs: Observation) -> Failure | None:
    found = obs.actual
    if found["integral"]:
        number = found["int"]
    elif isinstance(found.get("text"), str) and found["text"].strip().isdigit():
        number = int(found["text"].strip())
    else:
        return Failure(f"{_seed_phrase(found)}, which does not read as a date YYYYMMDD.",
                       expected="a date YYYYMMDD", actual=found["repr"])
    problem = date_problem(number)
    if problem is None:
        return None
    return Failure(f"MY_RANDOM_SEED = {found['repr']} does not read as a birthdate YYYYMMDD: "
                   f"{problem}.", expected="a date YYYYMMDD, e.g. 19891217", actual=found["repr"])


RANDOM_SEED = CheckSpec(
    id="task1_random_seed",
    title="MY_RANDOM_SEED",
    needs=("MY_RANDOM_SEED",),
    request=lambda context, case: ("value", {"name": case.name}),
    observe=_observe_seed,
    describe=lambda case: f"for {case.name}",
    properties=(
        Property("is_integer", is_integer, examples=(SeedCase(),)),
        Property("is_calendar_date", is_calendar_date, examples=(SeedCase(),)),
    ),
)
