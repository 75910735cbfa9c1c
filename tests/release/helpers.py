"""Helpers of the release tests."""
from __future__ import annotations

from pathlib import Path

from grader.release.build import Release


def release_copy(release: Release, dest: Path) -> Release:
    """A copy of the release folder to tamper with."""
    import shutil

    shutil.copytree(release.out, dest)
    return Release(dest, dest / release.notebook.name, dest / release.wheel.name, dest / release.readme.name)


def solved_release(released: Path, dest: Path, uses=()) -> Path:
    """The released notebook `released` with the reference's answers put in (by cell id), its
    self-check cells kept, and one cell per snippet of `uses` appended: what a student hands in."""
    import nbformat

    from grader.pipeline import REFERENCE

    nb = nbformat.read(released, as_version=4)
    answers = {c.id: c.source for c in nbformat.read(REFERENCE, as_version=4).cells}
    for cell in nb.cells:
        cell.source = answers.get(cell.get("id"), cell.source)
    nb.cells.extend(nbformat.v4.new_code_cell(use) for use in uses)
    nbformat.write(nb, dest)
    return dest
