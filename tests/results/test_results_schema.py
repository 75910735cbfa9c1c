"""grades.json against the JSON Schema shipped in grader/results/: a real grading's output
conforms, hand-broken documents do not, and the model refuses versions it cannot read."""
import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.results.model import (SCHEMA_PATH, SCHEMA_VERSION, CheckResult, CheckStatus, Fault,
                                  GradingRun, Note, NoteKind, SchemaError, Student,
                                  SubmissionResult, SubmissionStatus)
from tests.helpers import schema_validator

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "fixtures" / "submissions" / "task1_seed_as_string.ipynb"


@pytest.fixture(scope="module")
def schema():
    return schema_validator(SCHEMA_PATH)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """One real notebook that loses points and one unreadable file, graded by the CLI."""
    folder = tmp_path_factory.mktemp("subs")
    shutil.copy(FIXTURE, folder / "alice.ipynb")
    (folder / "bob.ipynb").write_text("{ not json")
    out = tmp_path_factory.mktemp("out")
    done = subprocess.run([sys.executable, "-m", "grader", "grade", str(folder), "--out", str(out),
                           "--fl-round", "off", "--workers", "1"], cwd=ROOT,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 1, done.stderr[-3000:]  # bob could not be graded
    return out, json.loads((out / "grades.json").read_text())


def _errors(schema, document) -> list[str]:
    return [error.message for error in schema.iter_errors(document)]


@pytest.mark.slow
def test_a_real_grading_conforms_to_the_schema(schema, graded):
    _, document = graded
    assert _errors(schema, document) == []
    rows = {s["submission"]: s for s in document["submissions"]}
    alice, bob = rows["alice"], rows["bob"]
    assert alice["status"] == "graded" and alice["score"] < alice["max_score"]
    failed = [c for c in alice["checks"] if c["status"] == "failed"]
    assert failed and all(c["fault"] == "submission" for c in failed)
    assert any(c["counterexample"] is not None for c in failed)  # the object form is exercised
    assert bob["status"] == "error" and bob["fault"] == "submission"
    assert GradingRun.from_dict(document).to_dict() == document  # the model reads it back whole


@pytest.mark.slow
def test_gradescope_execution_time_is_the_submissions_seconds(graded):
    out, document = graded
    for row in document["submissions"]:
        if row["status"] != "graded":
            continue
        result = SubmissionResult.from_dict(row)
        gradescope = json.loads((out / "gradescope" / row["submission"] / "results.json")
                                .read_text())
        assert "student_code" in row["timings"] and "execute" in row["timings"]
        assert gradescope["execution_time"] == pytest.approx(result.seconds, abs=2e-3)
        assert result.seconds < sum(row["timings"].values())  # student_code counted once


def _sample() -> dict:
    """A grades.json built from the model (no grading): one graded row, one error row."""
    checks = [CheckResult("task1_random_seed", CheckStatus.FAILED, 0.0, 1.0, feedback="no",
                          properties=[], observed={"MY_RANDOM_SEED": 19891317}),
              CheckResult("notebook_runs", "passed", 0.0, 0.0)]
    rows = [SubmissionResult("alice", "a" * 64, checks=checks, timings={"execute": 1.0},
                             student=Student("canvas", "4711", "Müller, Änne", late=True)),
            SubmissionResult.from_error("bob", "", "not JSON", fault=Fault.SUBMISSION)]
    return GradingRun(rows, sandbox={"isolated": True, "reason": "", "interfaces": ["lo"],
                                     "read_only": False, "process_limit": True},
                      notes=[Note(NoteKind.NO_SUBMISSION, "Carol (Canvas 12) has no submission")]
                      ).to_dict()


def _broken(change):
    document = copy.deepcopy(_sample())
    change(document)
    return document


@pytest.mark.parametrize("change", [
    lambda d: d["submissions"][0]["checks"][0].update(status="passd"),
    lambda d: d["submissions"][0]["checks"][0].pop("fault"),
    lambda d: d["submissions"][0]["checks"][0].update(fault=None),  # a failure is somebody's
    lambda d: d["submissions"][0]["checks"][1].update(fault="grader"),  # a pass is nobody's
    lambda d: d["submissions"][0]["checks"][0].update(score="0"),
    lambda d: d["submissions"][0]["checks"][0].update(counterexample={"input": "x"}),
    lambda d: d["submissions"][0].update(status="error"),  # an error row says why
    lambda d: d["submissions"][0].update(grade=3),
    lambda d: d["submissions"][0]["timings"].update(execute=-1),
    lambda d: d["submissions"][1].update(sha256="not a hash"),
    lambda d: d.update(schema_version=2),
    lambda d: d.pop("stopped"),
    lambda d: d["submissions"][0]["checks"][0].update(observed={"MY_RANDOM_SEED": [1, 2]}),
    lambda d: d["submissions"][0].pop("student"),
    lambda d: d["submissions"][0].update(student={"platform": "canvas", "id": "7"}),
    lambda d: d["submissions"][0]["student"].update(late="yes"),
    lambda d: d["notes"].append({"kind": "gossip", "message": "x"}),
], ids=["status", "missing-fault", "failure-without-fault", "pass-with-fault", "string-score",
        "counterexample-fields", "error-without-fault", "unknown-key", "negative-timing",
        "sha256", "version", "missing-stopped", "observed-not-plain", "missing-student",
        "student-fields", "student-late", "note-kind"])
def test_hand_broken_documents_are_refused(schema, change):
    assert _errors(schema, _sample()) == []
    assert _errors(schema, _broken(change)), "the schema let a broken grades.json through"


def test_the_schema_names_the_models_statuses(schema):
    definitions = schema.schema["$defs"]
    assert definitions["check"]["properties"]["status"]["enum"] == [s.value for s in CheckStatus]
    assert definitions["submission"]["properties"]["status"]["enum"] == \
        [s.value for s in SubmissionStatus]
    assert definitions["fault"]["enum"] == [f.value for f in Fault] + [None]
    assert schema.schema["properties"]["schema_version"]["const"] == SCHEMA_VERSION


@pytest.mark.parametrize("version, message", [
    (4, "newer than this grader's 3"),
    (0, "older than any this grader reads"),
    (None, "no integer schema_version"),
    ("2", "no integer schema_version"),
])
def test_from_dict_refuses_versions_it_cannot_read(version, message):
    document = _sample()
    document["schema_version"] = version
    with pytest.raises(SchemaError, match=message):
        GradingRun.from_dict(document)


def test_from_dict_reads_schema_1_2_and_3():
    document = _sample()
    assert GradingRun.from_dict(document).to_dict() == document
    assert GradingRun.from_dict(document).submissions[0].student.name == "Müller, Änne"
    # schema 2: no student, no notes
    two = {"schema_version": 2, "stopped": None, "submissions": [
        {k: v for k, v in row.items() if k != "student"} for row in document["submissions"]]}
    read = GradingRun.from_dict(two)
    assert read.notes == [] and all(s.student is None for s in read.submissions)
    old = {"schema_version": 1, "submissions": [dict(document["submissions"][1], fault=None)]}
    row = GradingRun.from_dict(old).submissions[0]
    assert row.status is SubmissionStatus.ERROR and row.fault is Fault.GRADER
