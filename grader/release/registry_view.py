"""What the kit knows of the grader's checks, generated from the grader's check registry
(`grader.checks.registry.REGISTRY`): ids, tasks, what each checks, the names each check needs,
property names in the grader's order, and the grader's sentence for a missing definition. The kit
carries this as data (`exam.json`), so it never holds a second hand-written copy.
"""
from __future__ import annotations

from typing import Any

from grader.checks import feedback
from grader.checks.registry import REGISTRY, Source

DIFFERENCES = (
    "No fl_round: the federated round is run by the grader only.",
    "No notebook_runs: the kit checks the definitions of your kernel, not a fresh top-to-bottom run "
    "(the terminal mode `python -m edge_ai_w5_selfcheck NOTEBOOK` does run it).",
    "No memory limit and no sandbox: your code runs in your own kernel.",
    "Other inputs: the kit's exam is public and smaller; grading uses its own, larger exam.",
)
MISSING_PLACEHOLDER = "\x00NAMES\x00"


def checks_view() -> list[dict[str, Any]]:
    return [{"id": check.id, "task": check.task, "title": check.spec.title,
             "summary": check.summary, "needs": list(check.spec.needs),
             "properties": list(check.properties)}
            for check in REGISTRY if check.source is Source.WORKER]


def missing_template() -> str:
    """The grader's sentence for names a notebook does not define, with `{names}` for the list."""
    text = feedback.missing([MISSING_PLACEHOLDER])
    return text.replace(f"`{MISSING_PLACEHOLDER}`", "{names}")


def registry_view() -> dict[str, Any]:
    return {"checks": checks_view(), "rubric_ids": list(REGISTRY.rubric_ids),
            "not_in_kit": {check.id: check.summary for check in REGISTRY
                           if check.source is not Source.WORKER},
            "differences": list(DIFFERENCES), "missing": missing_template()}
