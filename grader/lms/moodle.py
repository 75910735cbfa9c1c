"""Moodle: "Download all submissions" names in, the grading worksheet and a feedback zip out.

Download names: a folder per student, `<Full name>_<participant id>_assignsubmission_file_/`,
holding the files as uploaded (or, with "Download submissions in folders" off, the same prefix
on each file: `Änne Müller_12_assignsubmission_file_week5.ipynb`). An online-text answer comes
as `..._assignsubmission_onlinetext_onlinetext.html`.

The grading worksheet (Assignment > Submissions > Download grading worksheet) is a CSV with the
columns `Identifier` ("Participant 12"), `Full name`, `Email address`, `Status`, `Grade`,
`Maximum Grade`, `Grade can be changed`, `Last modified (submission)`, `Last modified (grade)`
and, with feedback comments on, `Feedback comments` (more identity columns where the site shows
them). `OUT/lms/moodle-worksheet.csv` is that file byte for byte with `Grade` set to each graded
student's total scaled to their `Maximum Grade` and `Feedback comments` to a short summary; Moodle
takes it back with "Upload grading worksheet". `OUT/lms/moodle-feedback.zip` holds each student's
feedback page as `<Full name>_<participant id>_assignsubmission_file_/feedback.html`, the naming
"Upload multiple feedback files in a zip" reads (it splits the folder name at `_`, so a name's
own underscores become spaces).
"""
from __future__ import annotations

import re
import sys
import zipfile
from pathlib import Path

from ..render.text import feedback_filename, student_label
from ..results.model import SubmissionResult
from .grades import comment, format_points, scaled
from .platform import Download, Enrolled, Roster, Written, read_table, student_of

name = "moodle"
title = "Moodle"
download = re.compile(r"^(?P<name>.+)_(?P<id>\d+)_assignsubmission_(?P<plugin>[a-z]+)_"
                      r"(?P<file>.*)$", re.DOTALL)
gradebook = "grading worksheet (Assignment > Submissions > Download grading worksheet)"
WORKSHEET_FILE = "moodle-worksheet.csv"
FEEDBACK_ZIP = "moodle-feedback.zip"
FEEDBACK_PAGE = "feedback.html"
_REQUIRED = ("Identifier", "Full name", "Grade", "Maximum Grade")
_PARTICIPANT = re.compile(r"(\d+)\s*$")
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # a rerun writes the same zip


def identify(parts: tuple[str, ...]) -> Download | None:
    for index, part in enumerate(parts):
        found = download.match(part)
        if found:
            inner = "/".join(p for p in (found["file"], *parts[index + 1:]) if p)
            return Download(student_of(PLATFORM, found), inner or part)
    return None


def recognises(header: list[str]) -> bool:
    cells = {c.strip() for c in header}
    return all(column in cells for column in _REQUIRED)


def read_gradebook(path: Path, assignment: str | None) -> Roster:
    csv, rows = read_table(PLATFORM, path)
    header = [c.strip() for c in rows[0]]
    at = {column: header.index(column) for column in header[::-1]}  # the first of each name
    students = {}
    for index, row in enumerate(rows[1:], start=1):
        cell = {column: row[i] if i < len(row) else "" for column, i in at.items()}
        participant = _PARTICIPANT.search(cell["Identifier"])
        if participant is None:
            continue
        locked = "" if cell.get("Grade can be changed", "Yes").strip() != "No" else \
            "Moodle says its grade cannot be changed (locked or overridden in the gradebook)"
        students[participant[1]] = Enrolled(participant[1], cell["Full name"].strip(), index,
                                            late="late" in cell.get("Status", "").lower(),
                                            locked=locked)
    details = {column: at[column] for column in ("Grade", "Maximum Grade", "Feedback comments")
               if column in at}
    return Roster(path, csv, students, "Grade", None, details)


def write(roster: Roster | None, chosen: dict[str, SubmissionResult], out_dir: Path,
          feedback_dir: Path) -> Written:
    written = Written()
    out_dir.mkdir(parents=True, exist_ok=True)
    if roster is not None:
        written.files.append(_worksheet(roster, chosen, out_dir / WORKSHEET_FILE, written.lines))
        chosen = {sid: sub for sid, sub in chosen.items() if sid in roster.students}
    target = out_dir / FEEDBACK_ZIP
    pages = 0
    with zipfile.ZipFile(target.with_suffix(".tmp"), "w", zipfile.ZIP_DEFLATED) as archive:
        for student_id, sub in sorted(chosen.items()):
            page = feedback_dir / feedback_filename(sub.submission)
            if not page.is_file():
                written.lines.append(f"{student_label(sub.student)}: no feedback page to upload")
                continue
            enrolled = roster.students.get(student_id) if roster else None
            full_name = enrolled.name if enrolled else sub.student.name
            entry = zipfile.ZipInfo(f"{folder_name(full_name, student_id)}/{FEEDBACK_PAGE}",
                                    _ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, page.read_bytes())
            pages += 1
    target.with_suffix(".tmp").replace(target)
    written.files.append(target)
    written.lines.append(f"{pages} feedback page(s) in {target}: upload it in Moodle with "
                         "'Upload multiple feedback files in a zip'")
    return written


def folder_name(full_name: str, participant: str) -> str:
    """The zip folder Moodle's feedback import files under the participant (it reads the id
    between the first and second `_`, so the name keeps none)."""
    clean = " ".join(re.sub(r"[_/\\\x00-\x1f]", " ", full_name).split()) or "Participant"
    return f"{clean}_{participant}_assignsubmission_file_"


def _worksheet(roster: Roster, chosen: dict[str, SubmissionResult], target: Path,
               lines: list[str]) -> Path:
    rows = roster.csv.rows()
    grade, maximum = roster.details["Grade"], roster.details["Maximum Grade"]
    feedback = roster.details.get("Feedback comments")
    cells, filled = {}, 0
    for student_id, sub in chosen.items():
        enrolled = roster.students.get(student_id)
        if enrolled is None:
            continue
        if enrolled.locked:
            lines.append(f"{enrolled.name} (Moodle {student_id}): not filled, {enrolled.locked}")
            continue
        row = rows[enrolled.row]
        try:
            points = float(row[maximum]) if maximum < len(row) else 0.0
        except ValueError:
            points = 0.0
        if not points > 0:
            lines.append(f"{enrolled.name} (Moodle {student_id}): not filled, the worksheet's "
                         "Maximum Grade is not a positive number")
            continue
        cells[(enrolled.row, grade)] = format_points(scaled(sub, points), decimals=2)
        if feedback is not None:
            cells[(enrolled.row, feedback)] = comment(sub)
        filled += 1
    target.write_bytes(roster.csv.edited(cells))
    lines.append(f"{filled} grade(s) in {target}: upload it in Moodle with 'Upload grading "
                 "worksheet' (tick 'Allow updating records that have been modified more "
                 "recently in Moodle' only if you mean it)")
    if feedback is None:
        lines.append(f"{roster.path.name} has no 'Feedback comments' column: turn on feedback "
                     "comments in the assignment's settings to get the summaries too")
    return target


PLATFORM = sys.modules[__name__]  # the module is the adapter (`platform.Platform`)
