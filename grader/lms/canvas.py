"""Canvas: "Download Submissions" names in, the gradebook export filled back out.

Download names (one file per submission, flat):
    <login name>_[LATE_]<canvas user id>_<file id>_<original file name>
e.g. `muellerjurgen_LATE_4711_90210_week5-1.ipynb` (Canvas appends -1, -2 to a re-uploaded
file's name; login names may hold non-ASCII letters).

The gradebook export (Grades > Export > Export Entire Gradebook) is a CSV whose header starts
`Student,ID,SIS User ID,SIS Login ID,[Integration ID,]Section`, then one column per assignment
named `<title> (<assignment id>)`, then read-only totals; its second row is `    Points Possible`
(and some exports have a row of posting policies, "Manual Posting"), then a row per student with
their Canvas user id in `ID`. `OUT/lms/canvas-import.csv` is that file byte for byte, with the
chosen assignment's cell of every graded student set to their total scaled to the column's
points possible; Canvas's Grades > Import takes it as is.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

from ..results.model import SubmissionResult
from .grades import format_points, scaled
from .platform import Download, Enrolled, LmsError, Roster, Written, read_table, student_of

name = "canvas"
title = "Canvas"
download = re.compile(r"^(?P<name>.+?)_(?:(?P<late>LATE)_)?(?P<id>\d+)_(?P<file_id>\d+)_"
                      r"(?P<file>.+)$", re.DOTALL)
gradebook = "gradebook export (Grades > Export > Export Entire Gradebook)"
IMPORT_FILE = "canvas-import.csv"
_ASSIGNMENT = re.compile(r"^(?P<title>.*\S)\s*\((?P<id>\d+)\)$", re.DOTALL)
_TEST_STUDENT = {"student, test", "test student"}  # Student View's stand-in, never a real student


def identify(parts: tuple[str, ...]) -> Download | None:
    found = download.match(parts[-1])
    return Download(student_of(PLATFORM, found), found["file"]) if found else None


def recognises(header: list[str]) -> bool:
    cells = [c.strip() for c in header]
    return len(cells) > 1 and cells[0] == "Student" and cells[1] == "ID"


def read_gradebook(path: Path, assignment: str | None) -> Roster:
    csv, rows = read_table(PLATFORM, path)
    header = rows[0]
    column = _assignment_column(header, assignment, path)
    points, students = None, {}
    for index, row in enumerate(rows[1:], start=1):
        first = row[0].strip() if row else ""
        cell = row[column].strip() if column < len(row) else ""
        if first == "Points Possible":
            points = _points_possible(cell, header[column], path)
        elif len(row) > 1 and row[1].strip().isdigit():
            if first.lower() in _TEST_STUDENT:
                continue
            students[row[1].strip()] = Enrolled(row[1].strip(), first, index)
    if points is None:
        raise LmsError(f"{path.name} has no 'Points Possible' row: export the gradebook again "
                       "from Canvas (Grades > Export > Export Entire Gradebook) and pass that file")
    return Roster(path, csv, students, header[column], points, {"grade": column})


def _assignment_column(header: list[str], wanted: str | None, path: Path) -> int:
    columns = {i: _ASSIGNMENT.match(h.strip()) for i, h in enumerate(header)}
    columns = {i: m for i, m in columns.items() if m}
    listed = "; ".join(repr(header[i].strip()) for i in columns) or "none"
    if wanted is None:
        if len(columns) == 1:
            return next(iter(columns))
        raise LmsError(f"{path.name} has {len(columns)} assignment columns ({listed}): say which "
                       "to fill with --assignment NAME (its name, its id or 'Name (id)')")
    key = wanted.strip()
    for test in (lambda m: m.group(0) == key, lambda m: m["id"] == key,
                 lambda m: m["title"] == key, lambda m: m["title"].casefold() == key.casefold()):
        hits = [i for i, m in columns.items() if test(m)]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            named = "; ".join(repr(header[i].strip()) for i in hits)
            raise LmsError(f"--assignment {wanted!r} fits {len(hits)} columns of {path.name} "
                           f"({named}): give the assignment's id instead")
    raise LmsError(f"{path.name} has no assignment column {wanted!r}; its assignment columns: "
                   f"{listed}")


def _points_possible(cell: str, column: str, path: Path) -> float:
    try:
        points = float(cell)
    except ValueError:
        points = -1.0
    if not points > 0:
        raise LmsError(f"{path.name}: the column {column!r} has points possible {cell!r}, not a "
                       "positive number: set the assignment's points in Canvas, export again")
    return points


def write(roster: Roster | None, chosen: dict[str, SubmissionResult], out_dir: Path,
          feedback_dir: Path) -> Written:
    written = Written()
    if roster is None:
        return written
    column = roster.details["grade"]
    cells = {}
    for student_id, sub in chosen.items():
        enrolled = roster.students.get(student_id)
        if enrolled is not None:
            cells[(enrolled.row, column)] = format_points(scaled(sub, roster.points))
    target = out_dir / IMPORT_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(roster.csv.edited(cells))
    written.files.append(target)
    written.lines.append(f"{len(cells)} grade(s) in the column {roster.column!r} (out of "
                         f"{format_points(roster.points)} points): import {target} in Canvas "
                         "(Grades > Import)")
    return written


PLATFORM = sys.modules[__name__]  # the module is the adapter (`platform.Platform`)
