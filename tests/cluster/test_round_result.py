"""The federated round, run as its own task on a cluster, joins its submission's result the way
the pipeline would have put it there: in place of the skipped check, its time counted, and a
round that fails on the grader's side makes the row a grader fault."""
from __future__ import annotations

from grader.cluster.tasks import with_round
from grader.results.model import ERROR, FAILED, GRADED, PASSED, SKIPPED, CheckResult, Fault, \
    SubmissionResult


def graded() -> SubmissionResult:
    checks = [CheckResult("task1_seeded_choice", PASSED, 3.0, 3.0),
              CheckResult("fl_round", SKIPPED, 0.0, 0.0, feedback="not run")]
    return SubmissionResult("alice", "abc", checks=checks, timings={"execute": 2.0})


def test_a_round_replaces_the_skipped_check_and_counts_its_time():
    result = with_round(graded(), CheckResult("fl_round", FAILED, 1.0, 2.0, seconds=42.0))
    assert [c.id for c in result.checks] == ["task1_seeded_choice", "fl_round"]
    assert result.check("fl_round").status == FAILED and result.score == 4.0
    assert result.timings == {"execute": 2.0, "fl_round": 42.0}
    assert result.status == GRADED and result.fault is None


def test_a_round_the_grader_could_not_run_makes_a_grader_fault_row():
    result = with_round(graded(), CheckResult("fl_round", ERROR, 0.0, 2.0, feedback="aggregator died"))
    assert result.status == ERROR and result.fault is Fault.GRADER and result.grader_fault
    assert "fl_round could not be checked" in result.error


def test_a_row_without_a_round_check_is_left_as_it_is():
    row = SubmissionResult.from_error("bob", "def", "not a notebook")
    assert with_round(row, CheckResult("fl_round", PASSED, 2.0, 2.0)) is row
