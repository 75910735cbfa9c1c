"""grades.json and grades.csv: the gradebook of one run, in a deterministic order."""
from __future__ import annotations

import csv
import io
import json

from ..results.model import SKIPPED, GradingRun


def grades_json(run: GradingRun) -> str:
    return json.dumps(run.to_dict(), indent=2, sort_keys=False) + "\n"


def grades_csv(run: GradingRun, check_ids: list[str]) -> str:
    """A row per submission, a column per check, then the total; `fault` says whose fault an
    `error` row is ("grader": not the student's result, grade again); the last four columns say
    who submitted it where a learning platform's download named them (empty otherwise)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["submission", "sha256", "status", *check_ids, "score", "max_score", "error",
                     "fault", "platform", "student_id", "student", "late"])
    for sub in run.sorted():
        scores = []
        for check_id in check_ids:
            check = sub.check(check_id)
            scores.append("" if check is None or check.status is SKIPPED else check.score)
        who = sub.student
        writer.writerow([sub.submission, sub.sha256, sub.status, *scores, sub.score, sub.max_score,
                         sub.error or "", sub.fault or "",
                         *([who.platform, who.id, who.name, "late" if who.late else ""] if who
                           else ["", "", "", ""])])
    return out.getvalue()
