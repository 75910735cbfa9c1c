"""Every use of the kit that the students' README documents runs under the grader's sanitizing
(the kit replaced by its stand-in), keeps the README's meaning with the real kit, and the README
shows each of them. The full grading pass of a released notebook using all of them is in
`test_graded_release.py`."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell, new_notebook

from grader.notebook.preprocessors import sanitize
from grader.notebook.preprocessors.selfcheck_cells import KIT_PACKAGE, uses_kit
from grader.release.notebook import install_source
from grader.release.student_readme import DOCUMENTED_USES, student_readme

WHEEL = f"{KIT_PACKAGE}-0.1.0-py3-none-any.whl"


@pytest.fixture
def clean_modules():
    """The stand-in registers itself in sys.modules: put back whatever was there."""
    saved = {k: v for k, v in sys.modules.items() if k.split(".")[0] == KIT_PACKAGE}
    yield
    for name in [k for k in sys.modules if k.split(".")[0] == KIT_PACKAGE]:
        del sys.modules[name]
    sys.modules.update(saved)


def run_cells(sources: list[str]) -> tuple[dict, list[str]]:
    """Run the sanitized cells as IPython would (magics transformed), in one namespace."""
    from IPython.core.inputtransformer2 import TransformerManager

    nb = new_notebook(cells=[new_code_cell(s) for s in sources])
    cells = [c.source for c in sanitize(nb, Path("/run/x")).cells]
    namespace: dict = {"__name__": "__main__"}
    for source in cells:
        exec(compile(TransformerManager().transform_cell(source), "<cell>", "exec"), namespace)
    return namespace, cells


@pytest.mark.parametrize("use", DOCUMENTED_USES, ids=lambda u: u.splitlines()[-1][:40])
def test_a_documented_use_runs_under_the_grader(use, clean_modules, capsys):
    namespace, cells = run_cells([install_source(WHEEL), use])
    assert "%pip" not in cells[0] and "self-check stand-in" in cells[0]
    assert len(cells[0].splitlines()) == len(install_source(WHEEL).splitlines())
    assert namespace["check"]().passed
    printed = capsys.readouterr().out
    assert "Traceback" not in printed and "Error" not in printed
    assert getattr(sys.modules[KIT_PACKAGE], "__grader_standin__", False)


@pytest.mark.parametrize("use", DOCUMENTED_USES, ids=lambda u: u.splitlines()[-1][:40])
def test_a_documented_use_without_the_install_cell_runs_too(use, clean_modules):
    """A student who deleted the install cell: the released `check(...)` calls are skipped; a
    use of their result would fail in the student's kernel as well, so only kit-free lines run."""
    nb = new_notebook(cells=[new_code_cell('check("task1_seeded_choice")')])
    assert uses_kit(nb)
    run_cells(['check("task1_seeded_choice")', "check()"])


def test_the_stand_in_says_what_it_is_and_is_subscriptable(clean_modules):
    namespace, _ = run_cells([install_source(WHEEL), "r = check()"])
    result = namespace["r"]
    assert result.passed and result["task3_lr_schedule"].passed
    assert result["task3_lr_schedule"].failed_properties == ()
    assert "not run here" in repr(result) and "not run here" in result._repr_html_()


def test_the_readme_shows_every_documented_use():
    readme = student_readme(WHEEL, [])
    assert all(use in readme for use in DOCUMENTED_USES)
