"""Small text helpers shared by the HTML and terminal renderers.

Feedback, counterexamples and error messages quote student code and student output, so they may
hold ANSI colour codes or other control characters; `clean_text` makes them safe to print or to
put into HTML (after escaping). `failure_pattern` groups messages that differ only in numbers or
quoted values, for the class report.
"""
from __future__ import annotations

import re
from urllib.parse import quote

from ..results.model import ERROR, FAILED, Student, SubmissionResult

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# A sentence ends at . ! or ? before anything but a lower-case word ("e.g. this" goes on).
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[^a-z\s])|\n")
_QUOTED = re.compile(r"'[^'\n]{0,200}'|\"[^\"\n]{0,200}\"|`[^`\n]{0,200}`")
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w])")
_SPACE = re.compile(r"[ \t]+")


def clean_text(text: str | None) -> str:
    """`text` without ANSI escape sequences and control characters (newlines and tabs stay)."""
    if not text:
        return ""
    text = _ANSI.sub("", str(text)).replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text)


def first_sentence(text: str | None, limit: int = 240) -> str:
    """The first sentence (or line) of a feedback message, cut at `limit` characters."""
    text = clean_text(text).strip()
    if not text:
        return ""
    head = _SENTENCE_END.split(text, maxsplit=1)[0].strip()
    return head if len(head) <= limit else head[:limit - 1].rstrip() + "\u2026"


def failure_pattern(text: str | None) -> str:
    """A grouping key for a failure message: its first sentence, numbers and quoted values masked.

    "returned 2 arrays for 3 inputs" and "returned 4 arrays for 5 inputs" share the key
    "returned N arrays for N inputs"; identifiers such as `task1_seeded_choice` keep their digits.
    """
    sentence = first_sentence(text, limit=400)
    sentence = _QUOTED.sub("'\u2026'", sentence)
    sentence = _NUMBER.sub("N", sentence)
    return _SPACE.sub(" ", sentence).strip()


def student_label(student: Student) -> str:
    """A student as the platform named them, with its id and a late mark: "Änne Müller
    (Moodle 123, late)"."""
    late = ", late" if student.late else ""
    return f"{clean_text(student.name)} ({student.platform.capitalize()} {student.id}{late})"


def submission_title(sub: SubmissionResult) -> str:
    """How every renderer names a submission (terminal, feedback page, class report): the
    student where a platform's download said who it is, else the submission's name."""
    if sub.student is None:
        return clean_text(sub.submission)
    return student_label(sub.student)


def feedback_filename(submission: str) -> str:
    """The file name of a submission's feedback page inside `feedback/`.

    Submission names come from notebook file names, so they never hold a slash; anything that
    could still escape the folder or hide the file (path separators, NUL, a leading dot) is
    replaced, and the rest is kept as the instructor will look for it.
    """
    name = re.sub(r"[/\\\x00-\x1f]", "_", submission) or "_"
    if name.startswith("."):
        name = "_" + name[1:]
    return f"{name}.html"


def feedback_href(submission: str) -> str:
    """A relative link from `report.html` to the submission's feedback page."""
    return "feedback/" + quote(feedback_filename(submission))


def fraction(sub: SubmissionResult) -> float:
    """The share of the points a submission earned (0 for a row without points)."""
    return sub.score / sub.max_score if sub.max_score else 0.0


def format_points(value: float, decimals: int | None = None) -> str:
    """A grade as text: `decimals` fixed places ("7.50"), or the shortest form ("7.5")."""
    if decimals is not None:
        return f"{value:.{decimals}f}"
    text = f"{round(value, 2):.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def score_summary(sub: SubmissionResult, details: str) -> str:
    """A short plain summary of a graded submission, as a platform shows it next to the grade:
    the score and what to fix, then `details` (where the student reads the rest)."""
    percent = round(100 * fraction(sub))
    head = (f"Autograder: {format_points(sub.score)}/{format_points(sub.max_score)} points "
            f"({percent}%).")
    if sub.status == ERROR:
        return f"{head} Not graded: {first_sentence(sub.error, limit=200)}"
    failed = [c.id for c in sub.checks if c.status in (FAILED, ERROR)]
    if not failed:
        return f"{head} Every check passed."
    return f"{head} Checks to fix: {', '.join(failed)}. {details}"
