"""Learning platforms: their bulk downloads in, their own gradebook files out.

The registry below is the extension contract: each platform is one module (`canvas`, `moodle`)
that satisfies `platform.Platform` (its download names as one regular expression; how its
gradebook file is read and filled). The rest is shared: `archive` unpacks a download safely,
`collect` turns files into submissions with their students, `export` matches them against the
gradebook and fills it, `grades` picks and scales each student's grade, `csvtext` edits a CSV
cell by cell, `run` is what `grade` calls (before grading and after). docs/lms.md.
"""
from __future__ import annotations

from pathlib import Path

from . import canvas, moodle
from .platform import LmsError, Platform, Roster, WrongFile

PLATFORMS: dict[str, Platform] = {p.name: p for p in (canvas.PLATFORM, moodle.PLATFORM)}


def platform(name: str) -> Platform:
    """The adapter `--lms NAME` means, or LmsError listing the known ones."""
    try:
        return PLATFORMS[name.lower()]
    except KeyError:
        raise LmsError(f"--lms {name}: unknown platform; known: {', '.join(PLATFORMS)}") from None


def read_gradebook(wanted: Platform, path: Path, assignment: str | None) -> Roster:
    """`wanted`'s gradebook file, or LmsError; a file of another platform says whose it is."""
    try:
        return wanted.read_gradebook(path, assignment)
    except WrongFile as wrong:
        raise LmsError(not_this_platform(wanted, path, wrong.header)) from None


def not_this_platform(wanted: Platform, path: Path, header: list[str]) -> str:
    """Why `path` is not `wanted`'s gradebook file, naming the platform whose file it is."""
    for other in PLATFORMS.values():
        if other is not wanted and other.recognises(header):
            return (f"{path.name} is a {other.title} file ({other.gradebook.split(' (')[0]}), not "
                    f"{wanted.title}'s {wanted.gradebook}: pass --lms {other.name}, or the "
                    f"{wanted.title} file")
    shown = ", ".join(repr(c.strip()) for c in header[:8]) or "none"
    return (f"{path.name} is not {wanted.title}'s {wanted.gradebook} (its first columns: "
            f"{shown}): download that file from {wanted.title} and pass it unchanged")
