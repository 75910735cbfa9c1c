import json
import sqlite3
import time

import pytest

from grader.results.gradebook import Gradebook, GradebookError
from grader.results.model import CheckResult, Counterexample, Fault, SubmissionResult


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


def test_a_submission_is_in_flight_from_its_start_to_its_result(tmp_path):
    with Gradebook(tmp_path / "g.sqlite") as book:
        book.started("alice", "abc", "fp", alone=False)
        book.started("bob", "def", "fp", alone=True)
        book.started("alice", "abc", "fp", alone=True)  # graded again: one more attempt
        left = book.left_in_flight("fp")
        assert (left["abc"].submission, left["abc"].attempts, left["abc"].alone) == ("alice", 2, True)
        assert (left["def"].attempts, left["def"].alone) == (1, True)
        assert book.left_in_flight("other options") == {}
        book.record(result(), "fp")  # its result: no longer in flight
        book.settled("def", "fp")  # ended without a kept result
        assert book.left_in_flight("fp") == {}


def test_a_grader_fault_ends_the_flight_though_it_is_not_kept(tmp_path):
    fault = SubmissionResult.from_error("alice", "abc", "kernel did not start", [], fault=Fault.GRADER)
    with Gradebook(tmp_path / "g.sqlite") as book:
        book.started("alice", "abc", "fp", alone=False)
        assert book.record(fault, "fp") is False
        assert book.left_in_flight("fp") == {}


def test_marks_survive_a_death_and_a_clean_end_drops_only_its_own(tmp_path):
    with Gradebook(tmp_path / "g.sqlite") as book:
        book.started("alice", "abc", "fp", alone=True)  # the run that died
    with Gradebook(tmp_path / "g.sqlite") as book:  # the rerun
        assert book.left_in_flight("fp")["abc"].attempts == 1
        since = time.time()
        book.started("bob", "def", "fp", alone=False)
        book.settle_since("fp", since)  # the rerun interrupted with Ctrl-C
        assert list(book.left_in_flight("fp")) == ["abc"]


def test_a_gradebook_of_schema_1_without_the_in_flight_table_opens(tmp_path):
    path = tmp_path / "g.sqlite"
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE results (submission TEXT NOT NULL, sha256 TEXT NOT NULL,
            fingerprint TEXT NOT NULL, result TEXT NOT NULL, graded_at REAL NOT NULL,
            PRIMARY KEY (submission, sha256, fingerprint));
        INSERT INTO meta VALUES ('schema_version', '1');""")
    db.execute("INSERT INTO results VALUES ('alice', 'abc', 'fp', ?, 1.0)", (json.dumps(result().to_dict()),))
    db.commit()
    db.close()
    with Gradebook(path) as book:
        assert book.lookup("alice", "abc", "fp").score == 1.0
        assert book.left_in_flight("fp") == {}
        book.started("alice", "abc", "fp", alone=False)
        assert book.left_in_flight("fp")["abc"].attempts == 1
