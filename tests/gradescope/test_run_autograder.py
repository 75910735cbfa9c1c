"""The bundle's `run_autograder` in a simulated /autograder tree (AUTOGRADER_ROOT), with this
interpreter as the course stack's (AUTOGRADER_PYTHON): every outcome leaves a results.json that
Gradescope's format accepts and that says what happened. Only the correct notebook is graded for
real (slow); the others are settled before any grader starts."""
from __future__ import annotations

import json

import nbformat
import pytest

from grader.release.leaks import find_leaks
from grader.render.gradescope import GRADER_FAULT_NOTE
from tests.helpers import ROOT, notebook

REFERENCE = ROOT / "reference" / "exercise.ipynb"


def finished(tree, results_schema, status: int) -> dict:
    """The results of a run whose grader exited with `status` (run_autograder itself exits 0
    whenever results.json is written)."""
    done = tree.run()
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert f"the grader exited with status {status} " in done.stdout, done.stdout[-2000:]
    results = tree.results_json()
    results_schema.validate(results)
    return results


@pytest.mark.slow
def test_a_correct_notebook_gets_full_marks(tree, results_schema):
    tree.submit("exercise.ipynb", REFERENCE.read_bytes())
    results = finished(tree, results_schema, 0)
    tests = {t["name"]: t for t in results["tests"]}
    assert results["score"] == sum(t["max_score"] for t in tests.values()) == 10
    assert {"task1_seeded_choice", "task4b_extra_test", "notebook_runs", "fl_round"} <= set(tests)
    assert all(t["status"] == "passed" and t["score"] == t["max_score"] for t in tests.values())
    assert "all 9 properties held" in tests["task1_seeded_choice"]["output"]
    assert "no CUDA device" in tests["fl_round"]["output"]  # --fl-round auto: skipped on the CPU
    assert results["output"] == "Autograder: 10/10 points (100%). Every check passed."
    assert results["execution_time"] > 0
    assert find_leaks(tree.results.parent) == []  # feedback never quotes the reference's code


def test_no_notebook_says_what_was_found(tree, results_schema):
    tree.submit("exercise.py", "print(1)\n")
    tree.submit("__MACOSX/._exercise.ipynb", "resource fork")
    results = finished(tree, results_schema, 1)
    assert results["score"] == 0 and results["tests"] == []
    assert "no notebook (.ipynb file): it holds exercise.py." in results["output"]
    assert "Submit again with your exercise notebook" in results["output"]
    assert not results["output"].startswith("NOT GRADED")  # the submission's doing


def test_an_empty_submission(tree, results_schema):
    results = finished(tree, results_schema, 1)
    assert "it is empty" in results["output"] and results["score"] == 0


def test_two_notebooks_are_not_guessed_between(tree, results_schema):
    nb = nbformat.writes(notebook("x = 1"))
    tree.submit("exercise.ipynb", nb)
    tree.submit("old/exercise (1).ipynb", nb)
    tree.submit(".ipynb_checkpoints/exercise-checkpoint.ipynb", nb)  # not the student's: ignored
    results = finished(tree, results_schema, 1)
    assert results["score"] == 0
    assert ("holds 2 notebooks (exercise.ipynb, old/exercise (1).ipynb), and the autograder "
            "grades exactly one") in results["output"]


def test_an_unreadable_notebook_is_the_files_fault(tree, results_schema):
    tree.submit("exercise.ipynb", "{ not json")
    results = finished(tree, results_schema, 1)
    assert results["score"] == 0 and "is not a Jupyter notebook" in results["output"]
    assert "File > Download (.ipynb)" in results["output"]
    assert {t["status"] for t in results["tests"]} == {"failed"}
    assert not results["output"].startswith("NOT GRADED")


def test_a_python_that_cannot_start_is_the_graders_fault(tree, results_schema):
    tree.submit("exercise.ipynb", REFERENCE.read_bytes())
    done = tree.run(python=str(tree.root / "no-such-python"))
    assert done.returncode == 0 and "wrote no results: GRADER FAULT" in done.stderr
    results = tree.results_json()
    results_schema.validate(results)
    assert results["output"].startswith(GRADER_FAULT_NOTE) and results["score"] == 0


def test_a_tree_without_a_submission_folder_is_the_graders_fault(tree, results_schema):
    tree.submission.rmdir()
    results = finished(tree, results_schema, 2)
    assert results["output"].startswith(GRADER_FAULT_NOTE)
    assert "course staff" in results["output"]


def test_results_that_cannot_be_written_fail_the_run(tree):
    tree.results.parent.write_text("a file where the results folder should be")
    done = tree.run()
    assert done.returncode == 2 and "GRADER FAULT" in done.stderr
    assert "could not write" in done.stderr and "Traceback" not in done.stderr


def test_stale_results_are_never_reported(tree, results_schema):
    tree.results.parent.mkdir(parents=True)
    tree.results.write_text(json.dumps({"score": 10, "tests": []}))
    tree.submit("notes.txt", "no notebook")
    assert finished(tree, results_schema, 1)["score"] == 0
