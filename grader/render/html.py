"""HTML feedback: one page per submission, a class report and its numbers as JSON.

`write_reports(run, out_dir)` is the one entry point (called at the end of the batch export):

    OUT/feedback/<submission>.html   what a student reads (score, checks, counterexamples,
                                     their executed notebook from OUT/executed/<submission>.ipynb)
    OUT/report.html                  what the instructor reads (distribution, pass rates,
                                     common mistakes, problems, grading time)
    OUT/summary.json                 the report's numbers, versioned ("schema_version")

Pages are self-contained (CSS inlined, charts as base64 PNG, no scripts) and carry a
Content-Security-Policy that forbids scripts and every network fetch. Our templates autoescape;
student HTML inside the notebook is sanitized by `notebook_html.clean_html`.
"""
from __future__ import annotations

import functools
import json
import re
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from ..results.model import GradingRun, SubmissionResult
from .class_report import render_report, summarize
from .feedback_page import LABELS, render_feedback, submission_status
from .files import write_atomic
from .text import clean_text, feedback_filename, feedback_href, submission_title

TEMPLATES = Path(__file__).resolve().parent / "templates"
# No scripts, no fetches: images only from data: URIs, styles only inline.
CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; "
       "form-action 'none'")


@functools.lru_cache(maxsize=1)
def environment() -> Environment:
    from .notebook_html import highlight_css

    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.globals.update(csp=CSP, labels=LABELS, feedback_href=feedback_href,
                       css=(TEMPLATES / "style.css").read_text(encoding="utf-8"),
                       highlight_css=highlight_css())
    env.filters["points"] = lambda value: f"{value:g}"
    env.filters["num"] = lambda value: "n/a" if value is None else f"{round(value, 2):g}"
    env.filters["percent"] = lambda value: "n/a" if value is None else f"{value * 100:.0f}%"
    env.filters["seconds"] = lambda value: "n/a" if value is None else f"{value:.1f} s"
    return env


def feedback_page(sub: SubmissionResult, executed: Path | None = None) -> str:
    """The feedback page of one submission (`executed`: its executed notebook, if kept)."""
    try:
        return render_feedback(sub, executed, environment())
    except Exception as exc:  # noqa: BLE001 - one odd result must not cost the class its pages
        return environment().get_template("fallback.html.j2").render(
            name=submission_title(sub), score=f"{sub.score:g}", max_score=f"{sub.max_score:g}",
            status=submission_status(sub), problem=f"{type(exc).__name__}: {clean_text(str(exc))}",
            checks=sub.checks)


def class_report(run: GradingRun, views: dict[str, str] | None = None) -> tuple[str, str]:
    """`report.html` and `summary.json` of a run, from the same numbers (`views`: how much of
    each notebook its feedback page shows, `notebook_views`)."""
    summary = summarize(run, views)
    return render_report(summary, environment()), json.dumps(summary, indent=2) + "\n"


_VIEW = re.compile(rb'<meta name="grader-notebook-view" content="([a-z0-9 ]+)">')


def notebook_views(run: GradingRun, out_dir: Path) -> dict[str, str]:
    """How much of each notebook its feedback page shows, read from the pages' <meta> (a page
    without one shows the whole notebook, or has none to show): pages are written by the
    grading workers, long before the report, and say it themselves."""
    views = {}
    for sub in run.submissions:
        try:
            with open(Path(out_dir) / "feedback" / feedback_filename(sub.submission), "rb") as page:
                head = page.read(4096)
        except OSError:
            continue
        found = _VIEW.search(head)
        views[sub.submission] = found[1].decode() if found else "whole"
    return views


def write_feedback_page(sub: SubmissionResult, out_dir: Path) -> None:
    """Write OUT/feedback/<submission>.html atomically; grading workers call it as each
    submission finishes, so pages render in parallel instead of all at the end."""
    executed = Path(out_dir) / "executed" / f"{sub.submission}.ipynb"
    write_atomic(Path(out_dir) / "feedback" / feedback_filename(sub.submission),
                 feedback_page(sub, executed if executed.is_file() else None))


def write_reports(run: GradingRun, out_dir: Path) -> None:
    """Write OUT/report.html, OUT/summary.json and every feedback page not yet written (those of
    reused or copied results), each atomically."""
    out_dir = Path(out_dir)
    for sub in run.sorted():
        if not (out_dir / "feedback" / feedback_filename(sub.submission)).is_file():
            write_feedback_page(sub, out_dir)
    report, summary = class_report(run, notebook_views(run, out_dir))
    write_atomic(out_dir / "summary.json", summary)
    write_atomic(out_dir / "report.html", report)
