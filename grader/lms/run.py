"""The learning platform's part of a `grade` run: `prepare` before grading, `finish` after.

`prepare` reads the options (`LmsOptions`, declared in `grader.options`), the platform's
gradebook file and the inputs (unpacking archives), and matches the students, so that every bad
input (an unknown platform, a gradebook of another platform, a missing or ambiguous assignment
column, a corrupt archive) is an `LmsError` before anything is graded. `finish` writes the
platform's files into OUT/lms/ and returns the lines of the terminal summary: the notes on files
and students (also in grades.json and the class report) and what was written where.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from ..options import group, option
from ..results.model import GradingRun
from . import PLATFORMS, platform, read_gradebook
from .archive import ArchiveLimits
from .collect import Intake, collect
from .export import export, match
from .platform import LmsError, Platform, Roster


@dataclass(frozen=True)
class LmsOptions:
    platform: str | None = option("lms")
    gradebook: Path | None = option("gradebook")
    assignment: str | None = option("assignment")
    archive: ArchiveLimits = group(ArchiveLimits)


@dataclass
class Prepared:
    platform: Platform | None
    roster: Roster | None
    intake: Intake

    def summary(self) -> str | None:
        """One line before grading: whose submissions were recognised (None: none at all)."""
        students = {(e.student.platform, e.student.id) for e in self.intake.named if e.student}
        if not students and self.platform is None:
            return None
        titles = sorted({PLATFORMS[p].title for p, _ in students}) or [self.platform.title]
        line = (f"{' and '.join(titles)} download: {len(students)} student(s), "
                f"{len(self.intake.named)} file(s) to grade as theirs")
        if self.roster is not None:
            line += (f"; {self.roster.path.name}: {len(self.roster.students)} student(s), "
                     f"column {self.roster.column!r}")
        notes = len(self.intake.notes)
        return line + (f"; {notes} note(s) at the end" if notes else "")


def prepare(paths: list[Path], out_dir: Path, options: LmsOptions) -> Prepared:
    """The submissions of `paths` with their students, and the gradebook file read; LmsError
    for any bad input, before grading."""
    chosen = platform(options.platform) if options.platform else None
    if options.gradebook is not None and chosen is None:
        raise LmsError(f"--gradebook {options.gradebook}: say whose file it is with --lms "
                       f"{'|'.join(PLATFORMS)}")
    roster = None
    if options.gradebook is not None:
        roster = read_gradebook(chosen, options.gradebook, options.assignment)
    if options.assignment is not None and (roster is None or chosen.name != "canvas"):
        print("warning: --assignment picks the column of a Canvas gradebook export "
              "(--lms canvas --gradebook CSV); ignored here", file=sys.stderr)
    platforms = [chosen] if chosen else list(PLATFORMS.values())
    intake = collect(paths, platforms, out_dir, options.archive, named_platform=chosen is not None)
    if roster is not None:
        match(chosen, roster, intake)
    return Prepared(chosen, roster, intake)


def finish(prepared: Prepared, run: GradingRun, out_dir: Path) -> list[str]:
    """Write the platform's files (with --lms) and say what the instructor must know."""
    lines = [f"note: {note.message}" for note in run.notes]
    if prepared.platform is not None:
        written = export(prepared.platform, prepared.roster, run, out_dir)
        lines += [f"{prepared.platform.title}: {line}" for line in written.lines]
    return lines
