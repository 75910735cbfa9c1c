import csv
import io
import json

from grader.render.files import write_atomic
from grader.render.gradescope import gradescope_results
from grader.render.tables import grades_csv, grades_json
from grader.results.model import CheckResult, Counterexample, GradingRun, SubmissionResult

IDS = ["task1_seeded_choice", "fl_round"]


def run():
    good = SubmissionResult("zoe", "z" * 64, checks=[CheckResult("task1_seeded_choice", "passed", 3, 3),
                                                     CheckResult("fl_round", "skipped", 0, 0)])
    bad = SubmissionResult("adam", "a" * 64, checks=[
        CheckResult("task1_seeded_choice", "failed", 1.5, 3, feedback="returned 2 arrays for 3 inputs",
                    counterexample=Counterexample("seed=0", "3 arrays", "2 arrays"))])
    broken = SubmissionResult.from_error("eve", "", "eve.ipynb is empty")
    return GradingRun([good, bad, broken])


def test_grades_json_is_versioned_sorted_and_complete():
    data = json.loads(grades_json(run()))
    assert data["schema_version"] == 3
    assert [s["submission"] for s in data["submissions"]] == ["adam", "eve", "zoe"]
    adam = data["submissions"][0]
    assert adam["score"] == 1.5 and adam["max_score"] == 3 and adam["status"] == "graded"
    assert adam["checks"][0]["counterexample"] == {"input": "seed=0", "expected": "3 arrays", "actual": "2 arrays"}
    assert data["submissions"][1]["status"] == "error" and data["submissions"][1]["error"] == "eve.ipynb is empty"


def test_grades_csv_has_a_column_per_check():
    rows = list(csv.reader(io.StringIO(grades_csv(run(), IDS))))
    assert rows[0] == ["submission", "sha256", "status", *IDS, "score", "max_score", "error", "fault",
                       "platform", "student_id", "student", "late"]
    assert rows[1][:5] == ["adam", "a" * 64, "graded", "1.5", ""]
    assert rows[3][3:5] == ["3", ""]  # a skipped check is an empty cell, not a zero


def test_gradescope_schema():
    data = json.loads(gradescope_results(run().submissions[1]))
    assert data["score"] == 1.5
    test = data["tests"][0]
    assert set(test) == {"name", "score", "max_score", "status", "output", "visibility"}
    assert test["status"] == "failed" and "Input: seed=0" in test["output"]


def test_gradescopes_top_level_output_says_the_score_and_what_to_fix():
    good, bad, broken = run().submissions
    assert json.loads(gradescope_results(bad))["output"] == (
        "Autograder: 1.5/3 points (50%). Checks to fix: task1_seeded_choice. Each test below says "
        "what failed and on which smallest input.")
    assert json.loads(gradescope_results(good))["output"] == ("Autograder: 3/3 points (100%). "
                                                              "Every check passed.")
    output = json.loads(gradescope_results(broken))["output"]
    assert output.startswith("Autograder: 0/") and output.endswith("\n\neve.ipynb is empty")


def test_write_atomic_replaces_and_leaves_no_temp_files(tmp_path):
    write_atomic(tmp_path / "sub" / "f.txt", "one")
    write_atomic(tmp_path / "sub" / "f.txt", "two")
    assert (tmp_path / "sub" / "f.txt").read_text() == "two"
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["f.txt"]


def test_gradescope_execution_time_counts_each_phase_once():
    """student_code is a share of execute: Gradescope's time is the submission's own seconds."""
    sub = SubmissionResult("zoe", "z" * 64, checks=[CheckResult("task1_seeded_choice", "passed", 3, 3)],
                           timings={"execute": 2.0, "student_code": 1.5, "checks": 1.0, "warm_up": 4.0})
    data = json.loads(gradescope_results(sub))
    assert data["execution_time"] == sub.seconds == 7.0
