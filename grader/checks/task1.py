"""Task 1's check `task1_seeded_choice`, assembled: `parallel_seeded_choice(array_list, seed, n)`
on small arrays of every kind (`task1_choice.py`) and at the notebook's size
(`task1_sizes.py`). `MY_RANDOM_SEED` is the check `task1_random_seed` (`task1_seed.py`).
"""
from __future__ import annotations

import numpy as np

from grader.checks import task1_choice as choice
from grader.checks import task1_sizes as sizes
from grader.checks.cases import ChoiceCase, SizeCase, course_choice_cases
from grader.checks.reference import reference_function
from grader.checks.spec import CheckContext, CheckSpec, Observation, Property
from grader.checks.strategies import choice_problems, encoded_rows


def _prepare(context: CheckContext) -> None:
    context.data["choose"] = reference_function(context.reference, "parallel_seeded_choice")


def _request(context: CheckContext, case: ChoiceCase | SizeCase) -> tuple[str, dict]:
    if isinstance(case, SizeCase):
        return sizes.request_at_size(case)
    return choice.request(case)


def _observe(context: CheckContext, case: ChoiceCase | SizeCase) -> Observation:
    reply = context.probe(case)
    if reply.error is not None:
        return Observation(error=reply.error)
    if isinstance(case, SizeCase):
        return sizes.observe_at_size(context, case, reply.value)
    return choice.observe(context, case, reply.value)


def describe(case: ChoiceCase | SizeCase) -> str:
    if isinstance(case, SizeCase):
        return sizes.describe_at_size(case)
    return choice.describe(case)


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
    title=choice.TITLE,
    needs=("parallel_seeded_choice",),
    request=_request,
    observe=_observe,
    describe=describe,
    prepare=_prepare,
    max_examples=40,
    properties=(
        Property("course_example", choice.course_example, examples=course_choice_cases()),
        Property("any_number_of_arrays", choice.any_number_of_arrays,
                 strategy=lambda: choice_problems(1, 5), examples=_EXAMPLES["numbers"]),
        Property("lists_accepted", choice.lists_accepted,
                 strategy=lambda: choice_problems(2, 2, lists=True), examples=_EXAMPLES["lists"]),
        Property("matches_reference", choice.matches_reference,
                 strategy=lambda: choice_problems(2, 2), examples=_EXAMPLES["reference"]),
        Property("no_duplicates", choice.no_duplicates,
                 strategy=lambda: choice_problems(2, 2), examples=_EXAMPLES["duplicates"]),
        Property("same_indices", choice.same_indices,
                 strategy=lambda: choice_problems(2, 3), examples=_EXAMPLES["same"]),
        Property("deterministic", choice.deterministic, strategy=lambda: choice_problems(2, 2),
                 examples=_EXAMPLES["same"]),
        Property("global_state_untouched", choice.global_state_untouched,
                 strategy=lambda: choice_problems(2, 2), examples=course_choice_cases()[:1]),
        Property("notebook_sizes", sizes.notebook_sizes, examples=sizes.SIZE_CASES),
    ),
)
