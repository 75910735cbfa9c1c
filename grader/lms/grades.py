"""From a grading run to one grade per enrolled student, as the platforms take it.

`choose` picks each student's result (the best graded one when a student handed in several
notebooks; never a grader fault: that student is left for a rerun, not given a zero); `scaled`
turns a total into the platform's points; `comment` is the short plain summary a platform shows
next to the grade. Renderers' rules (`render.text`) name submissions; nothing is recomputed.
"""
from __future__ import annotations

from ..render.text import format_points, fraction, score_summary, student_label
from ..results.model import ERROR, SubmissionResult

__all__ = ["choose", "comment", "format_points", "fraction", "scaled"]


def choose(results: list[SubmissionResult], platform: str) -> tuple[dict[str, SubmissionResult],
                                                                   list[str]]:
    """Each student's result (by platform id) and a sentence for each student left out or
    chosen among several: grader faults are never exported."""
    by_student: dict[str, list[SubmissionResult]] = {}
    for sub in results:
        if sub.student is not None and sub.student.platform == platform:
            by_student.setdefault(sub.student.id, []).append(sub)
    chosen, lines = {}, []
    for student_id, subs in sorted(by_student.items()):
        kept = [s for s in subs if not s.grader_fault]
        who = student_label(subs[0].student)
        if not kept:
            lines.append(f"{who}: not exported, the grader failed on their submission "
                         "(grade again once the grader is fixed)")
            continue
        best = max(kept, key=lambda s: (s.status != ERROR, fraction(s), s.submission))
        chosen[student_id] = best
        if len(subs) > 1:
            lines.append(f"{who}: {len(subs)} notebooks graded; exported the best, "
                         f"{best.submission} ({best.score:g}/{best.max_score:g})")
    return chosen, lines


def scaled(sub: SubmissionResult, points: float) -> float:
    """The submission's total on a scale of `points` (the platform's points possible)."""
    return round(fraction(sub) * points, 2)


def comment(sub: SubmissionResult) -> str:
    """A short plain summary for the platform's feedback field: the score and what to fix."""
    return score_summary(sub, "Details in your feedback file.")
