"""Gradescope's autograder `results.json` (their documented schema), one per submission."""
from __future__ import annotations

import json

from ..results.model import SubmissionResult

_STATUS = {"passed": "passed", "failed": "failed", "error": "failed", "skipped": "passed"}


def gradescope_results(sub: SubmissionResult) -> str:
    tests = []
    for check in sub.checks:
        output = check.feedback
        if check.counterexample:
            ce = check.counterexample
            output += f"\n\nInput: {ce.input}\nExpected: {ce.expected}\nActual: {ce.actual}"
        tests.append({"name": check.id, "score": check.score, "max_score": check.max_score,
                      "status": _STATUS[check.status], "output": output.strip(),
                      "visibility": "visible"})
    data = {"score": sub.score,
            "execution_time": round(sum(sub.timings.values()), 3),
            "output": sub.error or "",
            "visibility": "visible",
            "stdout_visibility": "hidden",
            "tests": tests}
    return json.dumps(data, indent=2) + "\n"
