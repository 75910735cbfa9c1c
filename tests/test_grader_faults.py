"""Whose fault: the `fault` field through the model, the gradebook and every export, and the
worker hand-shake that tells a process that could not start from student code that ended it."""
from __future__ import annotations

import csv
import io
import json
import sqlite3

import pytest

from grader.batch import exit_status
from grader.checks.runner import RunnerOptions, run_check
from grader.sandbox.hosts import FreshHost
from grader.checks.spec import CheckSpec, Failure, Observation, Property
from grader.render.class_report import summarize
from grader.render.gradescope import gradescope_results
from grader.render.tables import grades_csv, grades_json
from grader.results.gradebook import Gradebook
from grader.results.model import (CheckResult, Fault, GradingRun, SchemaError, SubmissionResult)
from grader.sandbox import process
from grader.sandbox.process import Limits

from tests.helpers import definitions


def graded(name="alice") -> SubmissionResult:
    return SubmissionResult(name, "sha-" + name, checks=[
        CheckResult("task1_seeded_choice", "passed", 3.0, 3.0),
        CheckResult("task3_lr_schedule", "failed", 1.0, 2.0, feedback="lr wrong")])


def grader_fault(name="bob") -> SubmissionResult:
    checks = [CheckResult("task1_seeded_choice", "error", 0.0, 3.0, feedback="worker did not start",
                          fault=Fault.GRADER)]
    return SubmissionResult(name, "sha-" + name, status="error", error="grader fault: ...",
                            checks=checks, fault=Fault.GRADER)


def unreadable(name="carol") -> SubmissionResult:
    return SubmissionResult.from_error(name, "sha-" + name, f"{name}.ipynb is empty", [
        CheckResult("task1_seeded_choice", "error", 0.0, 3.0, feedback="empty",
                    fault=Fault.SUBMISSION)])


def test_faults_follow_the_status_unless_said():
    sub = graded()
    assert [c.fault for c in sub.checks] == [None, Fault.SUBMISSION] and sub.fault is None
    assert CheckResult("x", "error", 0, 1).fault is Fault.GRADER  # the runner's own errors
    assert CheckResult("x", "passed", 1, 1, fault=Fault.GRADER).fault is None
    assert unreadable().fault is Fault.SUBMISSION and not unreadable().grader_fault
    assert grader_fault().grader_fault
    # a graded row with a check the grader could not judge is the grader's
    assert SubmissionResult("x", "s", checks=grader_fault().checks).grader_fault


def test_round_trip_and_schema_1_rows():
    for sub in (graded(), grader_fault(), unreadable()):
        assert SubmissionResult.from_dict(sub.to_dict()).to_dict() == sub.to_dict()
    data = json.loads(grades_json(GradingRun([graded(), grader_fault()])))
    assert data["schema_version"] == 3 and data["stopped"] is None
    assert [s["fault"] for s in data["submissions"]] == [None, "grader"]
    assert data["submissions"][0]["checks"][1]["fault"] == "submission"
    # schema 1 (no fault): failed checks are the student's, an error row is graded again
    old = {"schema_version": 1, "submissions": [
        {"submission": "a", "sha256": "1", "status": "graded",
         "checks": [{"id": "t", "status": "failed", "score": 0, "max_score": 1}]},
        {"submission": "b", "sha256": "2", "status": "error", "error": "kernel could not start"}]}
    run = GradingRun.from_dict(old)
    assert run.submissions[0].checks[0].fault is Fault.SUBMISSION
    assert run.submissions[1].grader_fault
    with pytest.raises(SchemaError, match="schema_version 99"):
        GradingRun.from_dict({"schema_version": 99, "submissions": []})


def test_grader_faults_are_never_kept(tmp_path):
    with Gradebook(tmp_path / "g.sqlite") as book:
        assert book.record(graded(), "fp") is True
        assert book.record(grader_fault(), "fp") is False
        assert book.lookup("bob", "sha-bob", "fp") is None  # graded again next time
        # a result an older grader kept (schema 1: an error row without `fault`) is not reused
        book._db.execute("INSERT INTO results VALUES ('dan', 'sha-dan', 'fp', ?, 0)", (json.dumps(
            {"submission": "dan", "sha256": "sha-dan", "status": "error", "error": "x"}),))
        assert book.lookup("dan", "sha-dan", "fp") is None
        assert book.lookup("alice", "sha-alice", "fp") is not None
    rows = sqlite3.connect(tmp_path / "g.sqlite").execute("SELECT submission FROM results").fetchall()
    assert sorted(rows) == [("alice",), ("dan",)]


def test_exports_say_whose_fault():
    run = GradingRun([graded(), grader_fault(), unreadable()])
    table = {r["submission"]: r for r in csv.DictReader(io.StringIO(
        grades_csv(run, ["task1_seeded_choice", "task3_lr_schedule"])))}
    assert (table["alice"]["fault"], table["bob"]["fault"], table["carol"]["fault"]) == \
        ("", "grader", "submission")
    scope = json.loads(gradescope_results(grader_fault()))
    assert scope["output"].startswith("NOT GRADED: the grader failed")
    assert scope["tests"][0]["output"].startswith("NOT GRADED")
    assert not json.loads(gradescope_results(unreadable()))["output"].startswith("NOT GRADED")
    problems = {p["submission"]: p["kind"] for p in summarize(run)["problems"]}
    assert problems == {"bob": "grader", "carol": "error"}
    assert summarize(run)["grader_faults"] == 1


def test_exit_statuses():
    assert exit_status(GradingRun([graded()])) == 0
    assert exit_status(GradingRun([graded(), unreadable()])) == 1
    assert exit_status(GradingRun([graded(), unreadable(), grader_fault()])) == 2
    assert exit_status(GradingRun([graded()], stopped="the canary failed")) == 2


# --- the worker hand-shake ------------------------------------------------------------------------

def calls_f(context, x):
    reply = context.session.call("value", name="f")
    return Observation(actual=reply.value)


SPEC = CheckSpec(id="fake", title="f", needs=("f",), observe=calls_f, describe=lambda x: f"x={x}",
                 properties=(Property("answers", lambda x, obs: Failure("no"), examples=(1,)),))


def check(tmp_path, source: str):
    student = definitions(source)
    return run_check(SPEC, student, student, points=1.0,
                     host=FreshHost(RunnerOptions().site_dir, Limits(isolation="off")),
                     run_dir_factory=lambda: (tmp_path, {"PATH": "/usr/bin:/bin"}),
                     options=RunnerOptions(load_timeout=30))


def test_a_worker_that_cannot_start_is_the_graders_fault(tmp_path, monkeypatch):
    original = process.sandboxed_command
    monkeypatch.setattr(process, "sandboxed_command",
                        lambda argv, limits: original(["/nonexistent/python", *argv[1:]], limits))
    result = check(tmp_path, "def f(x):\n    return x")
    assert (result.status, result.fault) == ("error", Fault.GRADER)
    assert "could not start" in result.feedback and "cannot exec /nonexistent/python" in result.feedback
    assert "your code" not in result.feedback


def test_student_code_that_ends_its_worker_stays_the_students_fault(tmp_path):
    # the top-level statement f needs ends the worker while it loads the student's program
    result = check(tmp_path, "import os\nLIMIT = os._exit(3)\ndef f(x):\n    return LIMIT")
    assert (result.status, result.fault) == ("failed", Fault.SUBMISSION)
    assert "exited with code 3" in result.feedback


def test_a_kernel_that_could_not_start_is_graded_again_once_on_a_fresh_server(monkeypatch, tmp_path):
    """The retry of `Grader.grade` (issue 25): a launch failure is graded again after a restart;
    only a second one is reported, and the summary counts the submissions graded again."""
    from grader.pipeline import RETRY, Grader, retried

    attempts: list[str] = []
    outcomes: list[SubmissionResult] = []

    def grade_once(self, path, name, executed_dir, fl_round):
        attempts.append(name)
        result = outcomes.pop(0)
        self.launch_failed = result.grader_fault
        return result

    grader = object.__new__(Grader)  # no fork server: what is tested is the retry around it
    restarts = []
    monkeypatch.setattr(Grader, "_grade_once", grade_once)
    monkeypatch.setattr(Grader, "restart", lambda self: restarts.append(1))
    outcomes[:] = [grader_fault("bob"), graded("bob")]
    first = grader.grade(tmp_path / "bob.ipynb", name="bob")
    assert first.status == "graded" and RETRY in first.timings and len(restarts) == 1
    outcomes[:] = [grader_fault("eve"), grader_fault("eve")]
    second = grader.grade(tmp_path / "eve.ipynb", name="eve")
    assert second.grader_fault and len(restarts) == 2 and attempts == ["bob"] * 2 + ["eve"] * 2
    outcomes[:] = [grader_fault("canary")]
    assert grader.grade(tmp_path / "c.ipynb", name="canary", retry=False).grader_fault
    outcomes[:] = [graded("ann")]
    plain = grader.grade(tmp_path / "ann.ipynb", name="ann")
    assert RETRY not in plain.timings and len(restarts) == 2
    assert retried([first, second, plain]) == 2
    assert summarize(GradingRun(submissions=[first, second, plain]))["retried"] == 2
