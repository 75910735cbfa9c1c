"""The grader grades a released notebook as the template it came from: its self-check cells run
on the kit's stand-in (the kit is not installed where student code runs), so a solved one that
keeps them and uses their results as the students' README documents gets full marks."""
from __future__ import annotations

import nbformat
import pytest

from grader.notebook.preprocessors.selfcheck_cells import KIT_NOTE
from grader.pipeline import REFERENCE, Options, grade_notebook
from grader.release.student_readme import DOCUMENTED_USES


@pytest.mark.slow
def test_a_solved_released_notebook_gets_full_marks(release, tmp_path):
    nb = nbformat.read(release.notebook, as_version=4)
    answers = {c.id: c.source for c in nbformat.read(REFERENCE, as_version=4).cells}
    for cell in nb.cells:
        cell.source = answers.get(cell.get("id"), cell.source)
    assert sum(c.source.startswith("check(") for c in nb.cells) == 6  # the check cells stay
    for use in DOCUMENTED_USES:  # each documented use of the kit's result, a cell each
        nb.cells.append(nbformat.v4.new_code_cell(use))
    path = tmp_path / "solved.ipynb"
    nbformat.write(nb, path)
    result = grade_notebook(path, Options(fl_round="off"))
    assert result.status == "graded"
    assert {c.id: c.status for c in result.checks if c.status != "skipped"} == {
        c.id: "passed" for c in result.checks if c.status != "skipped"}
    assert result.check("notebook_runs").status == "passed"
    assert KIT_NOTE in result.check("notebook_runs").feedback
    assert result.score == result.max_score
