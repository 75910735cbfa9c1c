"""Task 3's properties of a learning-rate schedule, judged on the rates observed.

`EdgeAiTrainer.set_learning_rate` sets `current_learning_rate` for `current_round`; the grader's
worker and the kit each call it (for rounds 1..50 in order on one trainer, and in other patterns
on fresh trainers) and pass the rates here: `rates` maps a round to the value found (a float, or
anything else the student's code left there). Each function returns None when the property
holds, else a Problem (a sentence, the student's value, the expected value). `show(value)` says a
value as the caller knows it (the grader's stand-in for objects that did not cross the sandbox).
The expected rates come from the caller (the grader computes them; the kit reads them from its
data file): nothing here computes the schedule.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Mapping, NamedTuple, Optional, Sequence

TITLE = "EdgeAiTrainer.set_learning_rate"
REL_TOL = 1e-9


class Problem(NamedTuple):
    message: str
    actual: str
    expected: str


def is_rate(value: Any) -> bool:
    return isinstance(value, float)


def close(value: Any, want: float, rel_tol: float = REL_TOL) -> bool:
    return is_rate(value) and math.isclose(value, want, rel_tol=rel_tol, abs_tol=0.0)


def show(value: Any) -> str:
    """`0.1`, or 'a NoneType (None)' for what is not a number."""
    return repr(value) if is_rate(value) else f"a {type(value).__name__} ({repr(value)[:200]})"


def initial_phrase(initial: float) -> str:
    return f"with trainer.learning_rate = {initial!r} in Plato's configuration"


def pattern_phrase(initial: float, trainers: Sequence[Sequence[int]]) -> str:
    calls = "; then on another fresh trainer for ".join(
        f"round{'s' if len(rounds) > 1 else ''} {', '.join(map(str, rounds))}"
        for rounds in trainers)
    return (f"with trainer.learning_rate = {initial!r}, calling set_learning_rate on a fresh "
            f"trainer for {calls}")


def rounds_problem(first: int, last: int, share: str, rates: Mapping[int, Any],
                   expected: Mapping[int, float], where: str, show: Callable = show,
                   rel_tol: float = REL_TOL) -> Optional[Problem]:
    """Rounds `first`..`last` use `share` of the initial rate."""
    for number in range(first, last + 1):
        got, want = rates[number], expected[number]
        if not close(got, want, rel_tol):
            return Problem(f"In round {number} the learning rate was {show(got)} {where}; rounds "
                           f"{first}-{last} should use {share} of the initial rate, {want!r}.",
                           f"{show(got)} in round {number}", f"{want!r} in round {number}")
    return None


def above_initial_problem(initial: float, rates: Mapping[int, Any], where: str,
                          show: Callable = show, rel_tol: float = REL_TOL) -> Optional[Problem]:
    """Every rate is positive and never above the initial rate."""
    for number, got in rates.items():
        if not is_rate(got) or not 0 < got <= initial * (1 + rel_tol):
            return Problem(f"In round {number} the learning rate was {show(got)} {where}; it must "
                           f"be positive and never above the initial rate {initial!r} (the "
                           "trainer's get_optimizer asserts both).",
                           f"{show(got)} in round {number}", f"0 < rate <= {initial!r}")
    return None


def increase_problem(rates: Mapping[int, Any], where: str,
                     rel_tol: float = REL_TOL) -> Optional[Problem]:
    """The rate never goes up from one round to the next (values that are not numbers are
    `above_initial_problem`'s)."""
    numbers = sorted(rates)
    for before_round, number in zip(numbers, numbers[1:]):
        before, now = rates[before_round], rates[number]
        if is_rate(before) and is_rate(now) and now > before * (1 + rel_tol):
            return Problem(f"The learning rate went up from {before!r} in round {before_round} to "
                           f"{now!r} in round {number} {where}; it may only decrease.",
                           f"{now!r} in round {number}", f"at most {before!r} in round {number}")
    return None


def order_problem(trainers: Sequence[Sequence[int]], found: Sequence[Sequence[Any]],
                  ordered: Mapping[int, Any], where: str, show: Callable = show,
                  same: Optional[Callable[[Any, Any], bool]] = None) -> Optional[Problem]:
    """Each fresh trainer's rate for a round (`found`, per trainer, per call) is the rate one
    trainer gives for that round when called for rounds 1, 2, ..., 50 in order (`ordered`)."""
    same = same or (lambda got, want: close(got, want) if is_rate(want) else got == want)
    for rounds, rates in zip(trainers, found):
        for number, got in zip(rounds, rates):
            want = ordered[number]
            if not same(got, want):
                return Problem(
                    f"{TITLE} gave {show(got)} in round {number} {where}, but {show(want)} in "
                    f"round {number} when one trainer is called for rounds 1, 2, ..., 50 in "
                    "order. The rate must depend only on the round and the initial rate: in a "
                    "federation a client may start at any round (a resumed federation, a new "
                    "process), skips rounds it is not selected for and can meet a round twice, "
                    "so compute it from self.current_round each time instead of keeping state "
                    "between calls.", f"{show(got)} in round {number}",
                    f"{show(want)} in round {number}")
    return None
