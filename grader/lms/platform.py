"""What every learning platform adapter provides (`Platform`), and the data it hands back.

A platform is declared data plus two small functions: the regular expression of its download
names (`download`, with named groups), how a download's path names a student (`identify`), and
how its own gradebook file is read (`read_gradebook`: who is enrolled, which cell gets the grade)
and filled in (`write`). The registry (`grader.lms.PLATFORMS`) lists the adapters; a third
platform is one module and one line there. Nothing here grades or renders.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ..results.model import Student, SubmissionResult
from .csvtext import CsvError, CsvText


class LmsError(Exception):
    """Bad input from or for a platform (an archive, a gradebook file, an option): the message
    says what is wrong and what to do; `grade` stops with exit status 2 before grading."""


class WrongFile(LmsError):
    """A gradebook file that is not `platform`'s (`grader.lms.read_gradebook` says whose it is)."""

    def __init__(self, platform: Platform, path: Path, header: list[str]):
        super().__init__(f"{path.name} is not {platform.title}'s {platform.gradebook}")
        self.platform, self.path, self.header = platform, path, header


@dataclass(frozen=True)
class Download:
    """One file of a platform's download: whose it is, and its own name in the submission."""

    student: Student
    file: str


@dataclass(frozen=True)
class Enrolled:
    """A student of the platform's gradebook file: their id, name and the file's record."""

    id: str
    name: str
    row: int
    late: bool = False  # the gradebook says the submission was late (Moodle's Status)
    locked: str = ""  # why the grade cannot be set here ("" when it can)


@dataclass
class Roster:
    """A platform's gradebook file as read: its text, its students (by platform id), the
    column that takes the grade and, where the file says it once, the points possible."""

    path: Path
    csv: CsvText
    students: dict[str, Enrolled]
    column: str
    points: float | None = None
    details: dict[str, int] = field(default_factory=dict)  # other columns a platform fills


@dataclass
class Written:
    """What `Platform.write` produced: the files, and a sentence for each row it left alone."""

    files: list[Path] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)


class Platform(Protocol):
    name: str  # the registry's and --lms's name: "canvas"
    title: str  # as people write it: "Canvas"
    download: re.Pattern[str]  # a download name, with groups name, id and file (late optional)
    gradebook: str  # what its gradebook file is called, and where to get it

    def identify(self, parts: tuple[str, ...]) -> Download | None:
        """The student and file a download's relative path names, or None (not this platform's)."""

    def recognises(self, header: list[str]) -> bool:
        """Whether a CSV header row is this platform's gradebook file."""

    def read_gradebook(self, path: Path, assignment: str | None) -> Roster:
        """The gradebook file, or LmsError naming what is missing or ambiguous."""

    def write(self, roster: Roster | None, chosen: dict[str, SubmissionResult], out_dir: Path,
              feedback_dir: Path) -> Written:
        """Fill the platform's own files into `out_dir` from each enrolled student's chosen result
        (by platform id); `feedback_dir`: the students' feedback pages."""


def student_of(platform: Platform, match: re.Match[str]) -> Student:
    """The student a `download` match names (the groups name, id and, if present, late)."""
    groups = match.groupdict()
    return Student(platform=platform.name, id=groups["id"], name=groups["name"],
                   late=bool(groups.get("late")))


def read_table(platform: Platform, path: Path) -> tuple[CsvText, list[list[str]]]:
    """A gradebook file's text and rows, or LmsError (unreadable) or WrongFile (its header is
    not `platform`'s)."""
    try:
        csv = CsvText.read(path)
    except CsvError as exc:
        raise LmsError(str(exc)) from None
    rows = csv.rows()
    if not rows or not platform.recognises(rows[0]):
        raise WrongFile(platform, path, rows[0] if rows else [])
    return csv, rows
