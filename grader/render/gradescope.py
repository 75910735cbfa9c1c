"""Gradescope's autograder `results.json` (their documented schema), one per submission.

The top-level `output` is the score and the checks to fix (the sentence a platform shows next
to the grade); each check's `output` its feedback and smallest failing input. A grader fault
(`fault: "grader"`) says so first in the submission's and the check's `output`, so
nobody reads it as the student's result; Gradescope's schema has no field for it.
"""
from __future__ import annotations

import json

from ..results.model import Fault, SubmissionResult
from .text import score_summary

GRADER_FAULT_NOTE = ("NOT GRADED: the grader failed, not this submission; it must be graded "
                     "again.")

DETAILS = "Each test below says what failed and on which smallest input."

_STATUS = {"passed": "passed", "failed": "failed", "error": "failed", "skipped": "passed"}


def gradescope_results(sub: SubmissionResult) -> str:
    tests = []
    for check in sub.checks:
        output = check.feedback
        if check.counterexample:
            ce = check.counterexample
            output += f"\n\nInput: {ce.input}\nExpected: {ce.expected}\nActual: {ce.actual}"
        if check.fault is Fault.GRADER:
            output = f"{GRADER_FAULT_NOTE}\n{output}"
        tests.append({"name": check.id, "score": check.score, "max_score": check.max_score,
                      "status": _STATUS[check.status], "output": output.strip(),
                      "visibility": "visible"})
    data = {"score": sub.score,
            "execution_time": round(sub.seconds, 3),  # phases once (student_code is a share)
            "output": summary(sub),
            "visibility": "visible",
            "stdout_visibility": "hidden",
            "tests": tests}
    return json.dumps(data, indent=2) + "\n"


def summary(sub: SubmissionResult) -> str:
    """The submission's top-level `output`: the grader-fault note, or the score and the checks to
    fix (an unreadable notebook's error in full)."""
    if sub.grader_fault:
        return f"{GRADER_FAULT_NOTE}\n{sub.error or ''}".strip()
    head = score_summary(sub, DETAILS)
    return f"{head}\n\n{sub.error}" if sub.error else head
