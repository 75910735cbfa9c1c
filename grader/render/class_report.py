"""The class report: how the class did, which check is hard, which mistake is common, which seed
is not personal, and which feedback page could not show all of its notebook.

`summarize(run)` reduces a grading run to plain numbers (the content of `summary.json`); the
HTML report (`report.html`) and its charts are drawn from that same dict, so the page and the
JSON never disagree. Verdicts and scores are read from the results model, never recomputed.
"""
from __future__ import annotations

import re
import statistics
from collections import Counter
from typing import Any

from ..results.model import (ERROR, FAILED, PASSED, SHARE_OF_A_PHASE, SKIPPED, GradingRun,
                             SubmissionResult)
from . import plots
from .common_failures import failure_groups, property_rates
from .seeds import seed_summary
from .text import clean_text, feedback_href, first_sentence, submission_title

# 2: problems of kind "grader", grader_faults; 3: titles, notes; 4: failure_groups (by property)
# and properties replace common_failures, seeds, notebook_views
SUMMARY_SCHEMA_VERSION = 4
# Above this many submissions the timing chart shows only the slowest ones.
TIMING_ROWS = 30

# The results model has no timeout status: a timeout shows in the words of the execute stage
# ("timed out after 120 s", "exceeded its 900 s limit") or of a check's runner.
_TIMEOUT = re.compile(r"\btimed?[ -]?out\b|\btime limit\b|exceeded (?:its|the) [\d.]+ ?s(?:econds?)? limit",
                      re.IGNORECASE)


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(float(value), digits)


def _check_order(run: GradingRun) -> list[str]:
    """Check ids in the order the grader reports them (first seen across the sorted run)."""
    order: dict[str, None] = {}
    for sub in run.sorted():
        for check in sub.checks:
            order.setdefault(check.id, None)
    return list(order)


def _run_max_score(subs: list[SubmissionResult]) -> float:
    """The run's maximum: the most common per-submission maximum (all equal in a normal run)."""
    maxima = Counter(sub.max_score for sub in subs if sub.checks)
    return maxima.most_common(1)[0][0] if maxima else 0.0


def _histogram(scores: list[float], errored: list[bool], max_score: float) -> dict[str, Any]:
    """Bins one point wide centred on whole points (wider above 20 points), errored apart."""
    top = max([max_score, *scores]) if scores else max_score
    step = max(1, -(-int(top) // 20)) if top > 20 else 1
    edges = [-step / 2 + i * step for i in range(int(top // step) + 2)]
    graded = [0] * (len(edges) - 1)
    failed = [0] * (len(edges) - 1)
    for score, is_error in zip(scores, errored):
        index = min(len(graded) - 1, max(0, int((score - edges[0]) // step)))
        (failed if is_error else graded)[index] += 1
    return {"bin_edges": edges, "graded": graded, "errored": failed}


def _timeout_reasons(sub: SubmissionResult) -> list[str]:
    texts = [(None, sub.error or "")] + [(c.id, c.feedback) for c in sub.checks]
    return [f"{cid}: {first_sentence(text)}" if cid else first_sentence(text)
            for cid, text in texts if text and _TIMEOUT.search(clean_text(text))]


def summarize(run: GradingRun, views: dict[str, str] | None = None) -> dict[str, Any]:
    """The class-level numbers of a run (JSON-ready; the content of `summary.json`). `views`:
    how much of each notebook its feedback page shows (`feedback_page.notebook_view`), if known."""
    subs = run.sorted()
    check_ids = _check_order(run)
    max_score = _run_max_score(subs)
    scores = [sub.score for sub in subs]
    graded_scores = [sub.score for sub in subs if sub.status != ERROR]

    checks = []
    for check_id in check_ids:
        counts = Counter()
        points, got, not_passed = 0.0, [], 0
        for sub in subs:
            check = sub.check(check_id)
            if check is None:
                continue
            counts[check.status] += 1
            points = max(points, check.max_score)
            if check.status != SKIPPED:
                got.append(check.score)
            if check.status in (FAILED, ERROR) and sub.status != ERROR:
                not_passed += 1
        judged = counts[PASSED] + counts[FAILED] + counts[ERROR]
        checks.append({
            "id": check_id,
            "max_score": points,
            "submissions": sum(counts.values()),
            "passed": counts[PASSED], "failed": counts[FAILED], "error": counts[ERROR],
            "skipped": counts[SKIPPED],
            "pass_rate": _round(counts[PASSED] / judged) if judged else None,
            "mean_score": _round(statistics.fmean(got)) if got else None,
            # failed or errored in graded submissions (those the failure groups are drawn from)
            "not_passed_graded": not_passed,
            "failure_groups": failure_groups(check_id, subs),
            "properties": property_rates(check_id, subs),
        })

    problems = []
    for sub in subs:
        if sub.status == ERROR:  # kind "grader": the grader failed, not the student; grade again
            problems.append({"submission": sub.submission, "title": submission_title(sub),
                             "kind": "grader" if sub.grader_fault else "error",
                             "message": clean_text(sub.error) or "could not be graded"})
        else:
            reasons = _timeout_reasons(sub)
            if reasons:
                problems.append({"submission": sub.submission, "title": submission_title(sub),
                                 "kind": "timeout", "message": "; ".join(reasons)})

    recorded: dict[str, None] = {}  # every timing, in first-seen order
    for sub in subs:
        for phase in sub.timings:
            recorded.setdefault(phase, None)
    phases = [p for p in recorded if p not in SHARE_OF_A_PHASE]  # these add up to the total
    per_submission = [{
        "submission": sub.submission,
        "title": submission_title(sub),
        "student": sub.student.to_dict() if sub.student else None,
        "status": sub.status,
        "score": sub.score,
        "max_score": sub.max_score,
        "not_passed": [c.id for c in sub.checks if c.status in (FAILED, ERROR)],
        "seconds": _round(sub.seconds, 3),
        "phases": {k: _round(v, 3) for k, v in sub.timings.items() if k in phases},
        "feedback": feedback_href(sub.submission),
    } for sub in subs]
    seconds = [row["seconds"] for row in per_submission]

    def stats(values: list[float]) -> dict[str, float | None]:
        if not values:
            return {"mean": None, "median": None, "max": None, "total": 0.0}
        return {"mean": _round(statistics.fmean(values), 3), "median": _round(statistics.median(values), 3),
                "max": _round(max(values), 3), "total": _round(sum(values), 3)}

    return {
        "schema_version": SUMMARY_SCHEMA_VERSION,
        "submissions": len(subs),
        "graded": sum(1 for s in subs if s.status != ERROR),
        "errored": sum(1 for p in problems if p["kind"] in ("error", "grader")),
        "grader_faults": sum(1 for p in problems if p["kind"] == "grader"),
        "retried": sum(1 for s in subs if "retry" in s.timings),  # graded again (Grader.grade)
        "timed_out": sum(1 for p in problems if p["kind"] == "timeout"),
        "score": {
            "max_score": max_score,
            "mean": _round(statistics.fmean(scores)) if scores else None,
            "median": _round(statistics.median(scores)) if scores else None,
            "stdev": _round(statistics.pstdev(scores)) if scores else None,
            "min": min(scores, default=None),
            "max": max(scores, default=None),
            "mean_graded": _round(statistics.fmean(graded_scores)) if graded_scores else None,
            "full_marks": sum(1 for s in subs if s.checks and s.score >= s.max_score and s.status != ERROR),
            "histogram": _histogram(scores, [s.status == ERROR for s in subs], max_score),
        },
        "checks": checks,
        "problems": problems,
        "notes": [{"kind": str(n.kind), "message": clean_text(n.message)} for n in run.notes],
        "seeds": seed_summary(subs),
        "notebook_views": _notebook_views(subs, views),
        "timings": {
            "phases": phases,
            "per_phase": {p: stats([s.timings[p] for s in subs if p in s.timings]) for p in recorded},
            "per_submission_seconds": stats(seconds),
            "per_submission": per_submission,
        },
    }


def _notebook_views(subs: list[SubmissionResult], views: dict[str, str] | None) -> dict[str, Any]:
    """Feedback pages whose notebook view lost something (`partial`) or all of it (`none`)."""
    views = views or {}
    partial, none = [], []
    for sub in subs:
        view = views.get(sub.submission, "")
        if view.startswith("partial "):
            partial.append({"submission": sub.submission, "lost": int(view.split()[1])})
        elif view == "none":
            none.append(sub.submission)
    return {"pages_read": len(views), "partial": partial, "none": none}


def charts(summary: dict[str, Any]) -> dict[str, str | None]:
    """The report's charts as data URIs (None where there is nothing to draw)."""
    if not summary["submissions"]:
        return {"scores": None, "checks": None, "properties": None, "times": None}
    hist = summary["score"]["histogram"]
    result = {
        "scores": plots.score_histogram(hist["bin_edges"], hist["graded"], hist["errored"],
                                        summary["score"]["max_score"]),
        "checks": plots.check_pass_rates(summary["checks"]) if summary["checks"] else None,
        "properties": (plots.property_pass_rates(summary["checks"])
                       if any(c["properties"] for c in summary["checks"]) else None),
        "times": None,
    }
    rows = summary["timings"]["per_submission"]
    if any(row["seconds"] for row in rows):
        slowest = sorted(rows, key=lambda r: (-r["seconds"], r["submission"]))[:TIMING_ROWS]
        result["times"] = plots.grading_times(slowest, summary["timings"]["phases"], len(rows))
    return result


def render_report(summary: dict[str, Any], env) -> str:
    """`report.html` from a summary; `env` is the jinja2 environment of `grader.render.html`."""
    attention = {p["submission"]: p for p in summary["problems"]}
    names = {row["submission"]: row["title"] for row in summary["timings"]["per_submission"]}
    return env.get_template("report.html.j2").render(summary=summary, charts=charts(summary),
                                                     attention=attention, names=names)
