"""Task 1's `MY_RANDOM_SEED`: the student's birthdate as one integer YYYYMMDD.

The worker reports the top-level value (`probes.task1.value`); the properties judge it here.
"""
from __future__ import annotations

import datetime

from grader.checks.cases import SeedCase
from grader.checks.spec import CheckContext, CheckSpec, Failure, Observation, Property
from grader.portable.dates import date_problem


def _observe_seed(context: CheckContext, case: SeedCase) -> Observation:
    reply = context.probe(case)
    if reply.error is not None:
        return Observation(error=reply.error)
    found = reply.value
    # Kept as data: the class report lists seeds several students share or copied from the course.
    context.observed["MY_RANDOM_SEED"] = found["int"] if found["integral"] else found["repr"]
    return Observation(actual=found)


def _seed_phrase(found: dict) -> str:
    return f"MY_RANDOM_SEED is the {found['type']} {found['repr']}"


def is_integer(case: SeedCase, obs: Observation) -> Failure | None:
    found = obs.actual
    if found["integral"]:
        return None
    return Failure(f"{_seed_phrase(found)}; store your birthdate as one integer, e.g. "
                   "MY_RANDOM_SEED = 19891217 (no quotes, no dots).",
                   expected="an int such as 19891217", actual=f"{found['type']} {found['repr']}")


def is_calendar_date(case: SeedCase, obs: Observation) -> Failure | None:
    found = obs.actual
    if found["integral"]:
        number = found["int"]
    elif isinstance(found.get("text"), str) and found["text"].strip().isdigit():
        number = int(found["text"].strip())
    else:
        return Failure(f"{_seed_phrase(found)}, which does not read as a date YYYYMMDD.",
                       expected="a date YYYYMMDD", actual=found["repr"])
    problem = date_problem(number, datetime.date.today().year)
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
