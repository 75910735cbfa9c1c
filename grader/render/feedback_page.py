"""One submission's feedback page: score, checks, what to fix, then the notebook as it ran.

The top of the page answers "how did I do": the score and a table of checks. Each failed check
then gets its feedback sentence, the shrunk counterexample (input, expected, actual), its
sub-properties and a link to the notebook cell that defines the failing function. Below comes
the executed notebook (see `notebook_html`) with failing cells marked and long outputs folded.
A submission that could not be graded still gets a page that says why.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .. import __version__
from ..results.model import ERROR, FAILED, PASSED, SKIPPED, CheckResult, SubmissionResult
from .notebook_html import Note, notebook_html, prepare
from .text import clean_text, first_sentence, submission_title

LABELS = {PASSED: "passed", FAILED: "failed", ERROR: "error", SKIPPED: "skipped"}
# What to do when the page cannot show the notebook (a problem of the grader's files or page).
SEE_IN_JUPYTER = ("Your score and the feedback above are complete: open your notebook in Jupyter "
                  "to see the cells they point to, and tell the course staff, since this is a "
                  "problem of the grader's page, not of your notebook.")


def points(value: float) -> str:
    return f"{value:g}"


def submission_status(sub: SubmissionResult) -> str:
    """The page's colour: `error` (not graded), `passed` (nothing to fix), `partial` or `failed`."""
    if sub.status == ERROR:
        return "error"
    if all(c.status in (PASSED, SKIPPED) for c in sub.checks):
        return "passed"
    return "partial" if sub.score > 0 else "failed"


@dataclass
class CheckView:
    id: str
    status: str
    score: str
    max_score: str
    summary: str
    feedback: str
    anchor: str
    counterexample: dict[str, str] | None = None
    properties: list[dict] = field(default_factory=list)
    cell_href: str | None = None
    cell_id: str | None = None

    @property
    def failing(self) -> bool:
        return self.status in (FAILED, ERROR)


def _view(check: CheckResult, anchors: dict[str, str]) -> CheckView:
    ce = check.counterexample
    return CheckView(
        id=check.id, status=check.status, score=points(check.score), max_score=points(check.max_score),
        summary=first_sentence(check.feedback), feedback=clean_text(check.feedback).strip(),
        anchor=f"gr-check-{check.id}",
        counterexample={"Input": clean_text(ce.input), "Expected": clean_text(ce.expected),
                        "Actual": clean_text(ce.actual)} if ce else None,
        properties=[{"name": clean_text(p.name), "passed": p.passed, "message": clean_text(p.message)}
                    for p in check.properties],
        cell_href=f"#{anchors[check.cell_id]}" if check.cell_id in anchors else None,
        cell_id=check.cell_id)


def load_executed(path: Path | None) -> tuple[nbformat.NotebookNode | None, str | None]:
    """The executed notebook, or None and a sentence saying why it cannot be shown."""
    if path is None or not path.exists():
        return None, None
    try:
        return nbformat.read(path, as_version=4), None
    except Exception as exc:  # noqa: BLE001 - a broken file must not stop the page
        problem = (f"The executed notebook could not be read ({type(exc).__name__}: "
                   f"{clean_text(str(exc))[:300]}). {SEE_IN_JUPYTER}")
    try:  # nbformat refuses a notebook with one broken element; `prepare` takes what is sound
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None, problem
    if isinstance(data, dict) and data.get("nbformat") == 4 and isinstance(data.get("cells"), list):
        return nbformat.from_dict(data), None
    return None, problem


def notebook_view(notebook: str | None, problem: str | None, lost: list[str]) -> str:
    """How much of the notebook the page shows, for the class report (a <meta> of the page):
    `whole`, `partial N` (N elements left out), `none` (it could not be shown) or `absent`."""
    if notebook is not None:
        return f"partial {len(lost)}" if lost else "whole"
    return "none" if problem else "absent"


def feedback_context(sub: SubmissionResult, executed: Path | None) -> dict:
    """Everything the template needs, with student text cleaned (the template escapes it)."""
    notes: dict[str, list[Note]] = {}
    for check in sub.checks:
        if check.status in (FAILED, ERROR) and check.cell_id:
            notes.setdefault(check.cell_id, []).append(
                Note("check", "notebook_runs: the first cell that failed" if check.id == "notebook_runs"
                     else f"{check.id} {LABELS[check.status]}: it tests what this cell defines",
                     href=f"#gr-check-{check.id}"))
    nb, problem = load_executed(executed)
    notebook, anchors, error_cells, lost = None, {}, 0, []
    if nb is not None:
        try:
            prepared = prepare(nb, notes)
            notebook, anchors, error_cells = notebook_html(prepared), prepared.anchors, prepared.error_cells
            lost = [item.sentence() for item in sorted(prepared.lost, key=lambda item: item.cell)]
        except Exception as exc:  # noqa: BLE001 - show the feedback even if the notebook will not render
            problem = (f"Your notebook could not be displayed on this page "
                       f"({type(exc).__name__}: {clean_text(str(exc))[:300]}). {SEE_IN_JUPYTER}")
    views = [_view(c, anchors) for c in sub.checks]
    error = clean_text(sub.error).strip() if sub.error else ""
    # An ungradable notebook repeats its error as every check's feedback: say it once.
    to_fix = [v for v in views if v.failing and not (error and v.feedback == error)]
    percent = round(100 * sub.score / sub.max_score) if sub.max_score else 0
    return {
        "sub": sub,
        "name": submission_title(sub),
        "status": submission_status(sub),
        "score": points(sub.score),
        "max_score": points(sub.max_score),
        "percent": max(0, min(100, percent)),
        "error": error,
        "checks": views,
        "to_fix": to_fix,
        "failing_count": sum(1 for v in views if v.failing),
        "passed_count": sum(1 for v in views if v.status == PASSED),
        "notebook": notebook,
        "notebook_problem": problem,
        "lost": lost,
        "notebook_view": notebook_view(notebook, problem, lost),
        "error_cells": error_cells,
        "version": __version__,
    }


def render_feedback(sub: SubmissionResult, executed: Path | None, env) -> str:
    """The HTML of `feedback/<submission>.html`; `env` is `grader.render.html`'s jinja2 env."""
    return env.get_template("feedback.html.j2").render(**feedback_context(sub, executed))
