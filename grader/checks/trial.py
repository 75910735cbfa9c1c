"""One property tried on the student's code: the exam first, then a search that shrinks a failure.

`exam(prop, max_examples)` is the list of inputs a derandomized Hypothesis search meets while
every input passes (computed once per process and property): up to its first failure, every
submission meets exactly these. `run_property` judges them in order without Hypothesis; only when
one fails does it run the search again, from the start, so Hypothesis shrinks the failing input
(the inputs before it are answered from the session's memory).

The result is a `PropertyOutcome`, a value: held or not, the failure (a sentence for the student)
and the input it happened on. A lost worker (`WorkerLost`, with its reason) or the check's spent
time budget ends the trial with a failure saying so; a search still running then only finishes
shrinking without asking the worker again (Hypothesis hears of a failing input only by an
exception, so each later input is refused at once). Anything else that goes wrong is the grader's
own fault and propagates (the runner makes it the check's `error`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

from hypothesis import HealthCheck, Phase, Verbosity, example, given, seed, settings

from grader.checks import feedback
from grader.checks.spec import CheckContext, CheckSpec, Failure, Property
from grader.sandbox.errors import LostReason, WorkerLost

# Hypothesis' seed for every search. Derandomized runs would seed from the test function's
# source text, so any edit of this module would change every student's exam; this pins it.
EXAM_SEED = 5


@dataclass
class PropertyOutcome:
    """How one property fared: `failure` and `case` say why and on which input when it did not
    hold; `tried` counts the inputs judged (by the last pass)."""

    name: str
    held: bool
    failure: Failure | None = None
    case: Any = None
    tried: int = 0


def hypothesis_settings(max_examples: int) -> settings:
    """The same exam for everyone: derandomized, no example database, no deadline."""
    _pin_hypothesis_constants()
    return settings(
        derandomize=True,
        database=None,
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        print_blob=False,
        verbosity=Verbosity.quiet,
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
    )


def _pin_hypothesis_constants() -> None:
    """Keep the exam independent of which modules the grading process happens to have loaded.

    Hypothesis (6.13x+) sometimes draws literals collected from "local" modules (anything not in
    site-packages or the stdlib) of the running process. `grade`, `check`, batch workers and the
    tests load different modules, so derandomized runs would still differ between them. This
    empties that pool (Hypothesis' own built-in constants stay). Private API: if a future
    Hypothesis renames it, nothing is patched and only this guarantee is lost.
    """
    try:
        from hypothesis.internal.conjecture import providers
        from hypothesis.internal.constants_ast import Constants
    except ImportError:  # pragma: no cover - older or newer Hypothesis
        return
    if getattr(providers, "_get_local_constants", None) is None \
            or getattr(providers._get_local_constants, "pinned_by_grader", False):
        return
    empty = Constants()

    def no_local_constants() -> Constants:
        return empty

    no_local_constants.pinned_by_grader = True
    providers._get_local_constants = no_local_constants
    cache = getattr(providers, "CONSTANTS_CACHE", None)
    if cache is not None:  # drop pools computed before the pin (an LRUCache has no clear())
        providers.CONSTANTS_CACHE = type(cache)(1024)


def _search(prop: Property, max_examples: int, visit: Callable[[Any], None]) -> None:
    """Give `visit` the property's inputs: its examples in order, then what Hypothesis draws.
    An input `visit` rejects (by raising) ends the search once Hypothesis has shrunk it."""
    def test(case: Any) -> None:
        visit(case)

    if prop.strategy is None:
        for case in prop.examples:
            visit(case)
        return
    wrapped = given(case=prop.strategy())(test)
    for case in reversed(prop.examples):  # the first example runs first
        wrapped = example(case=case)(wrapped)
    seed(EXAM_SEED)(hypothesis_settings(max_examples)(wrapped))()


_EXAMS: dict[tuple[Property, int], tuple[Any, ...]] = {}


def exam(prop: Property, max_examples: int) -> tuple[Any, ...]:
    """The inputs a search meets when every input passes, in order (computed once per process).

    Derandomized Hypothesis draws each input from the ones before and a fixed seed, never from
    the test's verdicts, so up to the first failure every submission meets exactly these. The
    runner judges them without Hypothesis and searches (to shrink) only when one fails. Keyed
    on the property itself (a frozen value: equal properties have equal exams).
    """
    key = (prop, max_examples)
    if key not in _EXAMS:
        cases: list[Any] = []
        _search(prop, max_examples, cases.append)
        _EXAMS[key] = tuple(cases)
    return _EXAMS[key]


class _Rejected(Exception):
    """How `visit` tells Hypothesis that an input failed; what failed is in the `_Trial`."""


@dataclass
class _Trial:
    """A property's trial while it runs: its failure so far and, once it must end early, why."""

    spec: CheckSpec
    prop: Property
    context: CheckContext
    deadline: float
    failure: Failure | None = None
    case: Any = None  # the failing input (a search starts from the exam's)
    tried: int = 0
    lost: WorkerLost | None = None  # the worker was lost on `lost_case`
    lost_case: Any = None
    out_of_time: bool = False

    @property
    def ended(self) -> bool:
        return self.lost is not None or self.out_of_time

    def judge(self, case: Any) -> bool:
        """Judge one input; False when it failed or the trial had to end (nothing is raised)."""
        if self.ended:
            return False
        if time.monotonic() > self.deadline:
            self.out_of_time = True
            return False
        self.tried += 1
        try:
            failure = _evaluate(self.spec, self.prop, self.context, case)
        except WorkerLost as lost:
            self.lost, self.lost_case = lost, case
            return False
        if failure is not None:
            self.failure, self.case = failure, case
            return False
        return True

    def visit(self, case: Any) -> None:
        """`judge` for a Hypothesis search, which hears of a failing input by an exception."""
        if not self.judge(case):
            raise _Rejected()


def run_property(spec: CheckSpec, prop: Property, cases: tuple[Any, ...], context: CheckContext,
                 *, deadline: float, max_examples: int, call_timeout: float,
                 check_budget: float) -> PropertyOutcome:
    """Try `prop` on the exam `cases`, then (if one failed) shrink it by a search."""
    if time.monotonic() > deadline:
        return PropertyOutcome(prop.name, False, Failure(
            f"{prop.name}: not checked, the check's time budget of {check_budget:g} s "
            "was used up by earlier properties."))
    trial = _Trial(spec, prop, context, deadline)
    if all(trial.judge(case) for case in cases):
        return PropertyOutcome(prop.name, True, tried=trial.tried)
    if trial.failure is not None and prop.strategy is not None:
        # The same search again, from the start, shrinks what failed: the inputs up to this
        # one are the exam's, answered from the session's memory.
        found = trial.failure
        trial = _Trial(spec, prop, context, deadline, case=trial.case)
        try:
            _search(prop, max_examples, trial.visit)
        except _Rejected:
            pass
        except Exception:
            if trial.failure is None and not trial.ended:
                raise  # Hypothesis complained without a recorded failure: our problem
            # e.g. Hypothesis' Flaky: the recorded failure stands.
        if trial.failure is None and not trial.ended:  # the search passed (code that is not
            trial.failure = found  # deterministic): the exam's failure stands, with its input
    return _outcome(spec, prop, trial, call_timeout, check_budget)


def _outcome(spec: CheckSpec, prop: Property, trial: _Trial, call_timeout: float,
             check_budget: float) -> PropertyOutcome:
    """The outcome of a trial that did not pass."""
    if trial.lost is not None:
        lost, case = trial.lost, trial.lost_case
        where = spec.describe(case) if case is not None else ""
        failure = Failure(feedback.lost(spec.title, lost.reason, lost.detail, where, call_timeout),
                          expected="a result", actual=_lost_actual(lost), key=("lost", lost.reason))
        return PropertyOutcome(prop.name, False, failure, case, trial.tried)
    if trial.out_of_time and trial.failure is None:
        return PropertyOutcome(prop.name, False, Failure(
            f"{prop.name}: not finished, the check's time budget of "
            f"{check_budget:g} s ran out (is your code very slow?)."), trial.case, trial.tried)
    return PropertyOutcome(prop.name, False, trial.failure, trial.case, trial.tried)


def _lost_actual(lost: WorkerLost) -> str:
    return {LostReason.TIMEOUT: "no result (stopped after the time limit)",
            LostReason.DIED: "no result (the worker process ended)"}.get(lost.reason, lost.detail)


def _evaluate(spec: CheckSpec, prop: Property, context: CheckContext, case: Any) -> Failure | None:
    observation = spec.observe(context, case)
    if observation.error is not None:
        error = observation.error
        return Failure(feedback.raised(spec.title, error, spec.describe(case)),
                       expected="a result", actual=f"{error.type}: {error.message}",
                       key=("raised", error.type, error.where))
    return prop.holds(case, observation)
