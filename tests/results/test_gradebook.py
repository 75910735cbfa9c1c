import sqlite3

import pytest

from grader.results.gradebook import Gradebook, GradebookError
from grader.results.model import CheckResult, Counterexample, SubmissionResult


def result(name="alice", sha="abc", score=1.0):
    return SubmissionResult(name, sha, checks=[
        CheckResult("task1_seeded_choice", "failed" if score < 2 else "passed", score, 2.0,
                    feedback="wrong", counterexample=Counterexample("seed=0", "[1]", "[2]"))],
        timings={"execute": 1.5})


def test_round_trip_and_lookup_by_content(tmp_path):
    with Gradebook(tmp_path / "g.sqlite") as book:
        book.record(result(), "fp1")
        assert book.lookup("alice", "abc", "fp1").to_dict() == result().to_dict()
        assert book.lookup("alice", "abc", "fp2") is None  # other options: grade again
        assert book.lookup("alice", "changed", "fp1") is None  # edited notebook: grade again
        copied = book.lookup("bob", "abc", "fp1")  # same bytes under another name
        assert copied.submission == "bob" and copied.score == 1.0


def test_results_survive_reopening_and_replace(tmp_path):
    with Gradebook(tmp_path / "g.sqlite") as book:
        book.record(result(score=1.0), "fp")
        book.record(result(score=2.0), "fp")
    with Gradebook(tmp_path / "g.sqlite") as book:
        assert book.lookup("alice", "abc", "fp").score == 2.0
    rows = sqlite3.connect(tmp_path / "g.sqlite").execute("SELECT COUNT(*) FROM results").fetchone()
    assert rows == (1,)


def test_foreign_schema_version_is_refused(tmp_path):
    Gradebook(tmp_path / "g.sqlite").close()
    db = sqlite3.connect(tmp_path / "g.sqlite")
    db.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    db.commit()
    db.close()
    with pytest.raises(GradebookError, match="schema 99"):
        Gradebook(tmp_path / "g.sqlite")
