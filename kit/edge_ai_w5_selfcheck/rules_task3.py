"""Task 3: `EdgeAiTrainer.set_learning_rate` follows the schedule the exercise states (its values
are not secret, so they are shown). Uses Plato and torch only as the notebook does: the kernel's
own `plato.config.Config` gets the initial rate, the trainer gets a tiny torch model. The
properties and their sentences are the grader's (`portable.schedule`); this module calls the
student's trainer and hands them the rates."""
from __future__ import annotations

import sys
from typing import Any

from edge_ai_w5_selfcheck.observe import Raised, call, short_repr, type_name
from edge_ai_w5_selfcheck.portable import schedule

TITLE = schedule.TITLE


def _set_initial(rate: float) -> None:
    from plato.config import Config

    config = Config()
    trainer = config.trainer._replace(learning_rate=rate)
    Config.trainer = trainer  # Plato 0.4.0 sections are namedtuples on the class
    if "trainer" in vars(config):
        config.trainer = trainer


def _rates(cls, initial: float, rounds) -> Any:
    _set_initial(initial)
    import torch

    trainer = call(cls, torch.nn.Linear(2, 2))
    if isinstance(trainer, Raised):
        trainer = call(cls)
    if isinstance(trainer, Raised):
        return trainer
    rates = []
    for number in rounds:
        trainer.current_round = number
        outcome = call(trainer.set_learning_rate)
        if isinstance(outcome, Raised):
            return outcome
        rates.append(getattr(trainer, "current_learning_rate", None))
    return rates


def _judged(rule):
    """A property on the rates of one trainer called for the exam's rounds in order."""
    def holds(cls, case, exam):
        rates = _rates(cls, case["initial"], exam["rounds"])
        if isinstance(rates, Raised):
            return _raised(rates, case)
        return rule(case, dict(zip(exam["rounds"], rates)), exam)
    return holds


def _raised(error: Raised, case) -> tuple:
    where = schedule.initial_phrase(case["initial"])
    return f"{TITLE} raised {error.text} {where}.", error.text, ""


def _show(value: Any) -> str:
    return repr(value) if schedule.is_rate(value) else f"a {type_name(value)} ({short_repr(value)})"


def rounds_property(first: int, last: int, share: str):
    return _judged(lambda case, rates, exam: schedule.rounds_problem(
        first, last, share, rates, dict(zip(exam["rounds"], case["expected"])),
        schedule.initial_phrase(case["initial"]), _show, exam["rel_tol"]))


never_above_initial = _judged(lambda case, rates, exam: schedule.above_initial_problem(
    case["initial"], rates, schedule.initial_phrase(case["initial"]), _show, exam["rel_tol"]))
non_increasing = _judged(lambda case, rates, exam: schedule.increase_problem(
    rates, schedule.initial_phrase(case["initial"]), exam["rel_tol"]))


def depends_on_round_only(cls, case, exam):
    ordered = _rates(cls, case["initial"], exam["rounds"])
    if isinstance(ordered, Raised):
        return _raised(ordered, case)
    found = []
    for calls in case["trainers"]:
        rates = _rates(cls, case["initial"], calls)
        if isinstance(rates, Raised):
            return _raised(rates, case)
        found.append(rates)
    return schedule.order_problem(case["trainers"], found, dict(zip(exam["rounds"], ordered)),
                                  schedule.pattern_phrase(case["initial"], case["trainers"]),
                                  _show)


PROPERTIES = {"rounds_1_to_20": rounds_property(1, 20, "all"),
              "rounds_21_to_40": rounds_property(21, 40, "a tenth"),
              "rounds_41_to_50": rounds_property(41, 50, "a hundredth"),
              "never_above_initial": never_above_initial, "non_increasing": non_increasing,
              "depends_on_round_only": depends_on_round_only}
REQUIRES = ("torch", "plato.config")


def missing_packages() -> list:
    import importlib.util

    return [name for name in REQUIRES
            if name not in sys.modules and importlib.util.find_spec(name.split(".")[0]) is None]
