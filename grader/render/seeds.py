"""A class-level check only this exercise has: is each student's MY_RANDOM_SEED personal?

MY_RANDOM_SEED (the student's birthdate) picks each student's half of CIFAR-100; students who
share a seed, or copy one the course shows as an example (`course.EXAMPLE_SEEDS`: 42, the
example answer's 19891217, ...), train on the same half. The seed each submission set is read
from the results (`task1_random_seed`'s `observed`), never from the notebooks. A seed written as
text ("19891217") counts as the number it spells, so a copied example is found either way.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any

from ..course import EXAMPLE_SEEDS
from ..results.model import SubmissionResult

SEED_CHECK = "task1_random_seed"
SEED_NAME = "MY_RANDOM_SEED"


def seed_key(value: Any) -> Any:
    """The seed a value stands for: an int, or the int a digit string spells, else the text."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return value
    text = str(value).strip().strip("'\"").strip()
    return int(text) if text.isdigit() and len(text) < 20 else str(value)


def _order(key: Any) -> tuple:
    return (isinstance(key, str), key if isinstance(key, int) else 0, str(key))


def seed_summary(subs: list[SubmissionResult]) -> dict[str, Any]:
    """Seeds shared by several submissions and seeds equal to the course's examples."""
    by_seed: dict[Any, list[str]] = defaultdict(list)
    for sub in subs:
        check = sub.check(SEED_CHECK)
        if check is not None and check.observed and SEED_NAME in check.observed:
            by_seed[seed_key(check.observed[SEED_NAME])].append(sub.submission)
    shared = [{"seed": seed, "count": len(names), "submissions": names,
               "example": EXAMPLE_SEEDS.get(seed)}
              for seed, names in sorted(by_seed.items(), key=lambda kv: (-len(kv[1]), _order(kv[0])))
              if len(names) > 1]
    examples = [{"seed": seed, "why": why, "count": len(by_seed[seed]), "submissions": by_seed[seed]}
                for seed, why in sorted(EXAMPLE_SEEDS.items()) if seed in by_seed]
    return {"recorded": sum(len(names) for names in by_seed.values()), "distinct": len(by_seed),
            "shared": shared, "examples": examples}
