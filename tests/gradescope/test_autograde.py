"""`gradescope-run`'s decisions in-process: where the tree is, which file is the notebook, and a
grader that fails (its canary, a bug) reported as NOT GRADED without its details (a canary's log
may quote the reference) for the student. No notebook runs."""
from __future__ import annotations

import json

import nbformat
import pytest

from grader.canary import GraderBroken
from grader.gradescope import autograde
from grader.gradescope.autograde import AutograderTree, one_notebook, run
from grader.pipeline import Options
from grader.render.gradescope import GRADER_FAULT_NOTE
from grader.results.model import Fault, SubmissionResult
from tests.helpers import notebook


@pytest.fixture
def root(tmp_path):
    (tmp_path / "submission").mkdir()
    nbformat.write(notebook("x = 1"), tmp_path / "submission" / "exercise.ipynb")
    return tmp_path


def test_the_root_comes_from_the_flag_else_the_environment_else_gradescopes(monkeypatch, tmp_path):
    monkeypatch.delenv(autograde.ROOT_ENV, raising=False)
    assert AutograderTree.locate().root == autograde.DEFAULT_ROOT
    monkeypatch.setenv(autograde.ROOT_ENV, str(tmp_path))
    assert AutograderTree.locate().results == tmp_path / "results" / "results.json"
    assert AutograderTree.locate(tmp_path / "x").submission == tmp_path / "x" / "submission"


def test_the_one_notebook_may_sit_in_a_folder(tmp_path):
    (tmp_path / "hw5" / ".ipynb_checkpoints").mkdir(parents=True)
    (tmp_path / "hw5" / "Exercise.IPYNB").write_text("{}")
    (tmp_path / "hw5" / ".ipynb_checkpoints" / "Exercise-checkpoint.ipynb").write_text("{}")
    (tmp_path / "README.md").write_text("hi")
    assert one_notebook(tmp_path) == tmp_path / "hw5" / "Exercise.IPYNB"


def test_many_files_are_named_briefly(tmp_path):
    for i in range(8):
        (tmp_path / f"part{i}.py").write_text("")
    result = one_notebook(tmp_path)
    assert isinstance(result, SubmissionResult) and result.fault is Fault.SUBMISSION
    assert "part0.py, part1.py, part2.py, part3.py, part4.py and 3 more" in result.error


@pytest.mark.parametrize("failure", [
    GraderBroken("the reference failed: def parallel_seeded_choice(seed, population): ...",
                 "kernel log"),
    RuntimeError("a grader bug: def parallel_seeded_choice(seed, population): ..."),
])
def test_a_failing_grader_is_not_graded_and_keeps_its_details_for_the_staff(
        root, monkeypatch, capsys, failure):
    def fail(*args):
        raise failure

    monkeypatch.setattr(autograde, "graded", fail)
    assert run(root, Options()) == 2
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["output"].startswith(GRADER_FAULT_NOTE) and results["score"] == 0
    assert "parallel_seeded_choice" not in json.dumps(results)  # the student reads only the note
    out = capsys.readouterr().out
    assert "GRADER FAULT" in out and "def parallel_seeded_choice" in out  # stdout: staff only


def test_a_graded_submission_is_reported_as_the_grader_rendered_it(root, monkeypatch):
    from grader.render.gradescope import gradescope_results
    from grader.results.model import CheckResult

    result = SubmissionResult("exercise", "s" * 64, checks=[
        CheckResult("task1_seeded_choice", "failed", 1.0, 3.0, feedback="seeded wrong")])
    seen = []
    monkeypatch.setattr(autograde, "graded", lambda path, tree, options: seen.append(path) or result)
    assert run(root, Options()) == 0
    assert seen == [root / "submission" / "exercise.ipynb"]
    assert (root / "results" / "results.json").read_text() == gradescope_results(result)
