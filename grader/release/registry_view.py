"""What the kit knows of the grader's checks, generated from the grader's own check declarations
(`grader.checks.CHECKS`, the rubric's ids): ids, titles, the names each check needs, property
names in the grader's order, and the grader's sentence for a missing definition. The kit carries
this as data (`exam.json`), so it never holds a second hand-written copy.
"""
from __future__ import annotations

from typing import Any

from grader.checks import CHECKS, RUBRIC_IDS
from grader.checks import feedback

# Graded by the grader only; the kit lists them as differences by design.
NOT_IN_KIT = {
    "notebook_runs": "the grader runs your whole notebook top to bottom in a fresh kernel with a "
                     "time limit per cell; the kit checks what your running kernel defines",
    "fl_round": "the grader runs a real federated round (an aggregator and two clients); the kit "
                "does not start one",
}
DIFFERENCES = (
    "No fl_round: the federated round is run by the grader only.",
    "No notebook_runs: the kit checks the definitions of your kernel, not a fresh top-to-bottom run "
    "(the terminal mode `python -m edge_ai_w5_selfcheck NOTEBOOK` does run it).",
    "No memory limit and no sandbox: your code runs in your own kernel.",
    "Other inputs: the kit's exam is public and smaller; grading uses its own, larger exam.",
)
MISSING_PLACEHOLDER = "\x00NAMES\x00"


def task_of(check_id: str) -> str:
    """'task1_seeded_choice' -> 'Task 1', 'task4a_load_payload' -> 'Task 4a'."""
    head = check_id.split("_", 1)[0]
    return "Task " + head[len("task"):] if head.startswith("task") else check_id


def checks_view() -> list[dict[str, Any]]:
    return [{"id": spec.id, "task": task_of(spec.id), "title": spec.title,
             "needs": list(spec.needs),
             "properties": [prop.name for prop in spec.properties]}
            for spec in CHECKS]


def missing_template() -> str:
    """The grader's sentence for names a notebook does not define, with `{names}` for the list."""
    text = feedback.missing([MISSING_PLACEHOLDER])
    return text.replace(f"`{MISSING_PLACEHOLDER}`", "{names}")


def registry_view() -> dict[str, Any]:
    return {"checks": checks_view(), "rubric_ids": list(RUBRIC_IDS),
            "not_in_kit": dict(NOT_IN_KIT), "differences": list(DIFFERENCES),
            "missing": missing_template()}
