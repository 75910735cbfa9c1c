"""Task 3: `EdgeAiTrainer.set_learning_rate` follows the schedule the exercise states (its values
are not secret, so they are shown). Uses Plato and torch only as the notebook does: the kernel's
own `plato.config.Config` gets the initial rate, the trainer gets a tiny torch model."""
from __future__ import annotations

import math
import sys
from typing import Any

from edge_ai_w5_selfcheck.observe import Raised, call, short_repr, type_name

TITLE = "EdgeAiTrainer.set_learning_rate"


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


def _number(value: Any) -> bool:
    return isinstance(value, float) and not isinstance(value, bool)


def _close(got: Any, want: float, tol: float) -> bool:
    return _number(got) and math.isclose(got, want, rel_tol=tol, abs_tol=0.0)


def _show(value: Any) -> str:
    return repr(value) if _number(value) else f"a {type_name(value)} ({short_repr(value)})"


def _describe(initial: float) -> str:
    return f"with trainer.learning_rate = {initial!r} in Plato's configuration"


def rounds_property(first: int, last: int, share: str):
    def holds(cls, case, exam):
        rates = _rates(cls, case["initial"], exam["rounds"])
        if isinstance(rates, Raised):
            return f"{TITLE} raised {rates.text} {_describe(case['initial'])}.", rates.text, ""
        for number in range(first, last + 1):
            got, want = rates[number - 1], case["expected"][number - 1]
            if not _close(got, want, exam["rel_tol"]):
                return (f"In round {number} the learning rate was {_show(got)} "
                        f"{_describe(case['initial'])}; rounds {first}-{last} should use {share} of "
                        f"the initial rate, {want!r}.", f"{_show(got)} in round {number}",
                        f"{want!r} in round {number}")
        return None
    return holds


def never_above_initial(cls, case, exam):
    initial = case["initial"]
    rates = _rates(cls, initial, exam["rounds"])
    if isinstance(rates, Raised):
        return f"{TITLE} raised {rates.text} {_describe(initial)}.", rates.text, ""
    for number, got in zip(exam["rounds"], rates):
        if not _number(got) or not 0 < got <= initial * (1 + exam["rel_tol"]):
            return (f"In round {number} the learning rate was {_show(got)} {_describe(initial)}; it "
                    f"must be positive and never above the initial rate {initial!r}.",
                    f"{_show(got)} in round {number}", f"0 < rate <= {initial!r}")
    return None


def non_increasing(cls, case, exam):
    rates = _rates(cls, case["initial"], exam["rounds"])
    if isinstance(rates, Raised):
        return f"{TITLE} raised {rates.text} {_describe(case['initial'])}.", rates.text, ""
    for number in exam["rounds"][1:]:
        before, now = rates[number - 2], rates[number - 1]
        if _number(before) and _number(now) and now > before * (1 + exam["rel_tol"]):
            return (f"The learning rate went up from {before!r} in round {number - 1} to {now!r} "
                    f"in round {number} {_describe(case['initial'])}; it may only decrease.",
                    f"{now!r} in round {number}", f"at most {before!r}")
    return None


def depends_on_round_only(cls, case, exam):
    ordered = _rates(cls, case["initial"], exam["rounds"])
    if isinstance(ordered, Raised):
        return f"{TITLE} raised {ordered.text} {_describe(case['initial'])}.", ordered.text, ""
    for calls in case["trainers"]:
        got_all = _rates(cls, case["initial"], calls)
        if isinstance(got_all, Raised):
            return f"{TITLE} raised {got_all.text} {_describe(case['initial'])}.", got_all.text, ""
        for number, got in zip(calls, got_all):
            want = ordered[number - 1]
            same = _close(got, want, exam["rel_tol"]) if _number(want) else got == want
            if not same:
                return (f"{TITLE} gave {_show(got)} in round {number} on a fresh trainer called "
                        f"for rounds {', '.join(map(str, calls))} {_describe(case['initial'])}, "
                        f"but {_show(want)} in round {number} when one trainer is called for "
                        "rounds 1, 2, ..., 50 in order. The rate must depend only on the round "
                        "and the initial rate: compute it from self.current_round each time "
                        "instead of keeping state between calls.",
                        f"{_show(got)} in round {number}", f"{_show(want)} in round {number}")
    return None


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
