"""Task 3: `EdgeAiTrainer.set_learning_rate` follows the course schedule for any initial rate.

Rounds 1-20 use the initial rate (Plato's `trainer.learning_rate`), rounds 21-40 a tenth of it,
rounds 41-50 a hundredth. The worker sets the initial rate in Plato's configuration, builds the
student's trainer with a tiny model and reads `current_learning_rate` for every round; values are
compared with a relative tolerance, so `lr * 0.1 ** k` and `lr / 10 ** k` both pass.

The course's test calls one trainer for rounds 1, 2, ..., 50 in order; a federation does not. A
client process may start at round 25 (a resumed federation, or the grader's own round), skips the
rounds it is not selected for and can meet a round twice. `depends_on_round_only` calls fresh
trainers in such patterns and requires the rates the same trainer code gives in order: a schedule
that keeps state between calls (divides by 10 when it *sees* round 21) fails it, and only it.
"""
from __future__ import annotations

from typing import Any

from grader.checks.cases import SchedulePattern
from grader.checks.spec import CheckContext, CheckSpec, Failure, Observation, Property
from grader.checks.strategies import learning_rates, schedule_patterns
from grader.portable import schedule
from grader.sandbox.codec import Opaque

TITLE = schedule.TITLE
ROUNDS = tuple(range(1, 51))
REL_TOL = schedule.REL_TOL


def scheduled_rate(initial: float, round_number: int) -> float:
    """The exercise's schedule: lr for rounds 1-20, lr/10 for 21-40, lr/100 for 41-50."""
    return initial / 10 ** ((round_number - 1) // 20)


def _request(context: CheckContext, case: float | SchedulePattern) -> tuple[str, dict]:
    if isinstance(case, SchedulePattern):
        return "lr_patterns", {"learning_rate": case.initial, "rounds": list(ROUNDS),
                               "trainers": [list(calls) for calls in case.trainers]}
    return "lr_schedule", {"learning_rate": case, "rounds": list(ROUNDS)}


def _observe(context: CheckContext, case: float | SchedulePattern) -> Observation:
    reply = context.probe(case)
    if reply.error is not None:
        return Observation(error=reply.error)
    if isinstance(case, SchedulePattern):  # actual: the patterns' rates; expected: in order
        return Observation(actual=tuple(tuple(rates) for rates in reply.value["patterns"]),
                           expected=dict(zip(ROUNDS, reply.value["ordered"])))
    rates = dict(zip(ROUNDS, reply.value["rates"]))
    return Observation(actual=rates, expected={r: scheduled_rate(case, r) for r in ROUNDS})


def describe(case: float | SchedulePattern) -> str:
    if isinstance(case, SchedulePattern):
        return schedule.pattern_phrase(case.initial, case.trainers)
    return schedule.initial_phrase(case)


def _rate(value: Any) -> str:
    return f"a {value.type} ({value.repr})" if isinstance(value, Opaque) else f"{value!r}"


def _failure(problem: schedule.Problem | None) -> Failure | None:
    if problem is None:
        return None
    return Failure(problem.message, expected=problem.expected, actual=problem.actual)


def _rounds_property(first: int, last: int, share: str):
    def holds(initial: float, obs: Observation) -> Failure | None:
        return _failure(schedule.rounds_problem(first, last, share, obs.actual, obs.expected,
                                                describe(initial), _rate))

    holds.__name__ = f"rounds_{first}_to_{last}"
    return holds


def never_above_initial(initial: float, obs: Observation) -> Failure | None:
    return _failure(schedule.above_initial_problem(initial, obs.actual, describe(initial), _rate))


def non_increasing(initial: float, obs: Observation) -> Failure | None:
    return _failure(schedule.increase_problem(obs.actual, describe(initial)))


def _same_rate(got: Any, want: Any) -> bool:
    if isinstance(want, Opaque):  # not a number either way: the same kind of value
        return isinstance(got, Opaque) and (got.type, got.repr) == (want.type, want.repr)
    return schedule.close(got, want) if isinstance(want, float) else got == want


def depends_on_round_only(case: SchedulePattern, obs: Observation) -> Failure | None:
    """Every call gives what the same code gives for that round when called in order."""
    return _failure(schedule.order_problem(case.trainers, obs.actual, obs.expected,
                                           describe(case), _rate, _same_rate))


_EXAMPLES = (0.1, 0.01, 0.05)
_PATTERNS = (
    SchedulePattern(0.1, ((25,),)),  # a fresh process at round 25 (the grader's own round)
    SchedulePattern(0.1, ((1, 2, 3, 22, 43),)),  # rounds skipped while not selected
    SchedulePattern(0.1, ((45, 30, 10, 1),)),  # late rounds first
    SchedulePattern(0.05, ((20, 21, 21, 40, 41, 41),)),  # a round twice
    SchedulePattern(0.01, ((41,), (21,), (1,))),  # one fresh trainer per round
)

LR_SCHEDULE = CheckSpec(
    id="task3_lr_schedule",
    title=TITLE,
    needs=("EdgeAiTrainer",),
    preload=("edge_ai_w5_sedna_configuration",),
    request=_request,
    observe=_observe,
    describe=describe,
    max_examples=25,
    properties=(
        Property("rounds_1_to_20", _rounds_property(1, 20, "all"), strategy=learning_rates,
                 examples=_EXAMPLES),
        Property("rounds_21_to_40", _rounds_property(21, 40, "a tenth"), strategy=learning_rates,
                 examples=_EXAMPLES),
        Property("rounds_41_to_50", _rounds_property(41, 50, "a hundredth"),
                 strategy=learning_rates, examples=_EXAMPLES),
        Property("never_above_initial", never_above_initial, strategy=learning_rates,
                 examples=_EXAMPLES[::-1]),
        Property("non_increasing", non_increasing, strategy=learning_rates, examples=_EXAMPLES),
        Property("depends_on_round_only", depends_on_round_only, strategy=schedule_patterns,
                 examples=_PATTERNS),
    ),
)
