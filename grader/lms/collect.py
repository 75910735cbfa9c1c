"""From what `grade` was given to submissions with their students, saying a line for every file.

Inputs are notebooks, folders and platform archives (.zip, unpacked into OUT/submissions/<name>/
by `archive`). A file whose path fits a platform's download name (`Platform.identify`; every
registered platform, or only `--lms`'s) belongs to that student. A folder in which no file fits
any platform is graded as before, each notebook under its file name, without a word; an archive,
or a folder with platform names in it, is read file by file, and every file that is not graded
as a student's notebook gets a `Note`:

- a student with several notebooks: each is graded (the export takes the best) - one note;
- a file that is not a notebook next to a student's notebook: not graded - one note each;
- a student with no notebook at all: their file is graded anyway, so their row says why it
  could not be read (and the gradebook gets their zero) - no silent gap;
- a notebook whose name fits no platform: graded under its file name, matched to nobody;
- hidden and system files (`__MACOSX/`, `.DS_Store`, checkpoints): skipped, counted in one note.

Submission names (the row's key, its feedback page's file name) come from `submission_name`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..render.text import student_label
from ..results.model import Note, NoteKind, Student
from .archive import MARKER, ArchiveLimits, is_archive, unpack
from .platform import Download, Platform

UNPACKED = "submissions"  # OUT/submissions/<archive name>/
NOTEBOOK = ".ipynb"


@dataclass(frozen=True)
class Submission:
    """A file to grade as a student's (satisfies `batch.Named`)."""

    path: Path
    name: str
    student: Student | None
    root: Path  # the folder it was found in


@dataclass
class Intake:
    paths: list[Path] = field(default_factory=list)  # graded as before (plain files, folders)
    named: list[Submission] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)


def submission_name(student: Student, file: str | None = None) -> str:
    """The row name of a student's submission: `<name>_<id>`, and `__<notebook>` when the
    student handed in several notebooks."""
    base = f"{student.name[:100]}_{student.id}".replace("/", "_")  # file names stay short
    if file is None:
        return base
    stem = PurePosixPath(file).name
    stem = stem[:-len(NOTEBOOK)] if stem.lower().endswith(NOTEBOOK) else stem
    return f"{base}__{stem[:80]}"


def collect(inputs: list[Path], platforms: list[Platform], out_dir: Path,
            limits: ArchiveLimits, named_platform: bool = False) -> Intake:
    """The intake of `inputs`; LmsError (from `archive`) for an archive that cannot be read.
    `named_platform` (--lms): every folder is a download, read file by file with its notes."""
    intake = Intake()
    folders: set[str] = set()  # two archives of the same name unpack side by side
    for given in inputs:
        if is_archive(given):
            folder = given.stem
            while folder in folders:
                folder += "_"
            folders.add(folder)
            unpacked = unpack(given, out_dir / UNPACKED / folder, limits)
            intake.notes += [Note(NoteKind.FILE, line) for line in unpacked.skipped]
            _read_folder(unpacked.folder, platforms, intake, always=True, label=given.name)
        elif given.is_dir():
            _read_folder(given, platforms, intake, always=named_platform, label=given.name)
        else:
            found = _identify((given.name,), platforms) if given.is_file() else None
            if found is None:
                intake.paths.append(given)  # a plain notebook, or missing: the batch says so
            else:
                _add_student([(given, found)], given.parent, intake)
    return intake


def _identify(parts: tuple[str, ...], platforms: list[Platform]) -> Download | None:
    for platform in platforms:
        found = platform.identify(parts)
        if found is not None:
            return found
    return None


def _junk(parts: tuple[str, ...]) -> bool:
    return any(p.startswith(".") or p in ("__MACOSX", "Thumbs.db", "desktop.ini")
               for p in parts)


def _read_folder(folder: Path, platforms: list[Platform], intake: Intake, *, always: bool,
                 label: str) -> None:
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MARKER)
    found: dict[Path, Download | None] = {}
    junk = 0
    for path in files:
        parts = path.relative_to(folder).parts
        if _junk(parts):
            junk += 1
            continue
        found[path] = _identify(parts, platforms)
    if not always and not any(found.values()):
        intake.paths.append(folder)  # a plain folder of notebooks: as before
        return
    if junk:
        intake.notes.append(Note(NoteKind.FILE, f"{label}: skipped {junk} hidden or system "
                                                "file(s) (__MACOSX, .DS_Store, checkpoints)"))
    by_student: dict[tuple[str, str], list[tuple[Path, Download]]] = {}
    for path, download in found.items():
        relative = path.relative_to(folder).as_posix()
        if download is not None:
            key = (download.student.platform, download.student.id)
            by_student.setdefault(key, []).append((path, download))
        elif path.name.lower().endswith(NOTEBOOK):
            intake.paths.append(path)
            intake.notes.append(Note(NoteKind.FILE, f"{label}: {relative} fits no download name "
                                     f"of {_titles(platforms)}: graded under its file name, "
                                     "matched to no student"))
        else:
            intake.notes.append(Note(NoteKind.FILE, f"{label}: {relative} is not a notebook and "
                                     "fits no download name: not graded"))
    for files_of in by_student.values():
        _add_student(files_of, folder, intake)


def _titles(platforms: list[Platform]) -> str:
    return " or ".join(p.title for p in platforms)


def _add_student(files: list[tuple[Path, Download]], root: Path, intake: Intake) -> None:
    """A student's submission: each notebook graded; other files noted (or graded when there
    is no notebook, so that the student's row says why nothing could be graded)."""
    student = files[0][1].student
    if any(d.student.late for _, d in files):
        student = Student(student.platform, student.id, student.name, late=True)
    who = student_label(student)
    notebooks = [(p, d) for p, d in files if d.file.lower().endswith(NOTEBOOK)]
    others = [(p, d) for p, d in files if not d.file.lower().endswith(NOTEBOOK)]
    if not notebooks:
        path, download = others.pop(0)
        notebooks = [(path, download)]
        intake.notes.append(Note(NoteKind.FILE, f"{who} handed in no notebook: {download.file} "
                                 "is graded, so their row says why it cannot be read"))
    for path, download in others:
        intake.notes.append(Note(NoteKind.FILE, f"{who}: {download.file} is not a notebook: "
                                 "not graded"))
    if len(notebooks) > 1:
        intake.notes.append(Note(NoteKind.FILE, f"{who} handed in {len(notebooks)} notebooks ("
                                 f"{', '.join(d.file for _, d in notebooks)}): each is graded, "
                                 "the gradebook gets the best"))
    for path, download in notebooks:
        name = submission_name(student, download.file if len(notebooks) > 1 else None)
        intake.named.append(Submission(path, name, student, root))
