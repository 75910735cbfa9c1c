"""The platform's gradebook against the intake (before grading), and filled in (after).

`match` runs before any grading: each submission whose student the gradebook knows takes the
gradebook's name for them (and its late mark, where the gradebook has one); a submission of a
student the gradebook does not know, and every enrolled student without a submission, become
notes (the class report lists them; the terminal summary too). `export` runs after grading:
each student's chosen result (`grades.choose`) goes into the platform's own files under
OUT/lms/ (`Platform.write`).
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

from ..render.text import student_label
from ..results.model import GradingRun, Note, NoteKind
from .collect import Intake
from .grades import choose
from .platform import Platform, Roster, Written

LMS_DIR = "lms"


def match(platform: Platform, roster: Roster, intake: Intake) -> None:
    """Give the intake's students their gradebook names; note who is unknown or missing."""
    seen = set()
    for index, entry in enumerate(intake.named):
        student = entry.student
        if student is None or student.platform != platform.name:
            continue
        enrolled = roster.students.get(student.id)
        if enrolled is None:
            intake.notes.append(Note(NoteKind.UNKNOWN_STUDENT, f"{student_label(student)}: "
                                     f"{roster.path.name} has no such student: graded "
                                     f"({entry.name}), not exported"))
            continue
        seen.add(student.id)
        known = dataclasses.replace(student, name=enrolled.name or student.name,
                                    late=student.late or enrolled.late)
        intake.named[index] = dataclasses.replace(entry, student=known)
    for student_id, enrolled in sorted(roster.students.items(), key=lambda kv: kv[1].row):
        if student_id not in seen:
            intake.notes.append(Note(NoteKind.NO_SUBMISSION, f"{enrolled.name} ({platform.title} "
                                     f"{student_id}) has no submission: their grade is left as "
                                     f"{roster.path.name} has it"))


def export(platform: Platform, roster: Roster | None, run: GradingRun, out_dir: Path) -> Written:
    """Write the platform's files into OUT/lms/; the files and a line for everything to know."""
    chosen, lines = choose(run.submissions, platform.name)
    written = platform.write(roster, chosen, out_dir / LMS_DIR, out_dir / "feedback")
    written.lines[:0] = lines
    return written
