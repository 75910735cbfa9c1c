"""The grader grades a released notebook as the template it came from: its self-check cells run
on the kit's stand-in (the kit is not installed where student code runs), so a solved one that
keeps them and uses their results as the students' README documents gets full marks."""
from __future__ import annotations

import nbformat
import pytest

from grader.notebook.preprocessors.selfcheck_cells import KIT_NOTE
from grader.release.student_readme import DOCUMENTED_USES
from tests.release.helpers import solved_release


@pytest.mark.slow
def test_a_solved_released_notebook_gets_full_marks(release, tmp_path, warm_grader):
    path = solved_release(release.notebook, tmp_path / "solved.ipynb", DOCUMENTED_USES)
    nb = nbformat.read(path, as_version=4)
    kit_cells = [c for c in nb.cells if c.cell_type == "code" and c.get("id", "").startswith("selfcheck-")]
    assert len(kit_cells) == 7  # the install cell and the six check cells stay
    result = warm_grader.grade(path)
    assert result.status == "graded"
    assert {c.id: c.status for c in result.checks if c.status != "skipped"} == {
        c.id: "passed" for c in result.checks if c.status != "skipped"}
    assert result.check("notebook_runs").status == "passed"
    assert KIT_NOTE in result.check("notebook_runs").feedback
    assert result.score == result.max_score
