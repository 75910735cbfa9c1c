"""The rerun's rule for what a dead batch left in flight (grader/resume.py): suspects graded
alone, last; a culprit only where student code could have killed the grader, never with PID
namespaces."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from grader.resume import culprit_message, pid_namespace_missing, resume
from grader.results.gradebook import InFlight

NO_PID = {"isolated": True, "pid_namespace": False, "pid_namespace_reason": "unshare(CLONE_NEWPID): EPERM"}
OFF = {"isolated": False, "reason": "--isolation off"}
CONTAINED = {"isolated": True, "pid_namespace": True}


@dataclass(frozen=True)
class Job:
    name: str
    sha256: str


JOBS = [Job(name, f"sha-{name}") for name in ("ann", "bob", "cid", "dan")]


def mark(attempts: int, alone: bool, name: str = "x") -> InFlight:
    return InFlight(name, attempts, alone, 0.0)


def test_nothing_left_in_flight_changes_nothing():
    order = resume(JOBS, {}, OFF)
    assert (order.first, order.suspects, order.culprits, order.notes) == (JOBS, [], [], [])


@pytest.mark.parametrize("sandbox", [OFF, NO_PID, CONTAINED])
def test_what_was_in_flight_is_graded_after_the_rest_with_fewest_attempts_first(sandbox):
    marks = {"sha-ann": mark(2, False), "sha-cid": mark(1, False), "sha-dan": mark(1, True)}
    order = resume(JOBS, marks, sandbox)
    assert order.first == [JOBS[1]]
    assert order.suspects == [JOBS[2], JOBS[3], JOBS[0]]  # the neighbours before the repeat offender
    assert order.culprits == []
    assert len(order.notes) == 3 and order.notes[0].startswith("cid was being graded when the "
                                                                 "previous run died")
    assert "graded alone, after every other submission" in order.notes[0]


@pytest.mark.parametrize("sandbox", [OFF, NO_PID])
def test_killed_again_while_alone_without_pid_namespaces_is_the_culprit(sandbox):
    marks = {"sha-bob": mark(2, True), "sha-cid": mark(3, False), "sha-dan": mark(1, True)}
    order = resume(JOBS, marks, sandbox)
    assert order.first == [JOBS[0]]
    assert [job for job, _ in order.culprits] == [JOBS[1]]
    assert order.suspects == [JOBS[3], JOBS[2]]  # once alone, or never alone: not blamed yet
    message = order.culprits[0][1]
    assert order.notes[-1] == f"bob: {message}"
    assert message.startswith("Not graded: the grader was killed twice while it graded this notebook")
    assert pid_namespace_missing(sandbox) in message


def test_with_pid_namespaces_a_student_is_never_blamed():
    marks = {job.sha256: mark(5, True) for job in JOBS}
    order = resume(JOBS, marks, CONTAINED)
    assert order.culprits == [] and order.suspects == JOBS and order.first == []


def test_which_sandboxes_let_student_code_signal_the_grader():
    assert pid_namespace_missing(OFF) == "--isolation off"
    assert pid_namespace_missing(NO_PID) == "unshare(CLONE_NEWPID): EPERM"
    assert pid_namespace_missing({"isolated": True}) == "no PID namespaces"
    assert pid_namespace_missing(CONTAINED) is None


def test_the_culprit_sentence_says_what_happened_and_what_to_do():
    message = culprit_message(3, "--isolation off")
    assert "killed 3 times" in message and "the last time with no other notebook being graded" in message
    assert "(--isolation off)" in message and "docs/sandbox.md" in message and "os.kill" in message


# The rule inside a batch: grading replaced by a stand-in that marks each job as `grade_one` does
# (no kernel, milliseconds), so what the batch orders, records and leaves marked is seen whole.

def _batch(tmp_path, monkeypatch, marks: dict[str, tuple[int, bool]], sandbox: dict | None = None,
           interrupt: str | None = None):
    import grader.batch as batch
    from grader.pipeline import Options
    from grader.results.gradebook import Gradebook
    from grader.results.model import SubmissionResult
    from grader.sandbox.process import Limits
    from tests.helpers import notebook

    import nbformat

    subs = tmp_path / "subs"
    if not subs.exists():  # a rerun: the same files
        subs.mkdir()
        for name in ("ann", "bob", "cid", "dan"):
            nbformat.write(notebook(f"print({name!r})"), subs / f"{name}.ipynb")
    graded: list[tuple[str, bool]] = []

    def serially(jobs, options, out_dir, mark):
        for job in jobs:
            mark.started(job)
            graded.append((job.name, mark.alone))
            if job.name == interrupt:
                raise KeyboardInterrupt
            yield job, SubmissionResult(job.name, job.sha256, checks=[])

    monkeypatch.setattr(batch, "_serially", serially)
    options = Options(fl_round="off", limits=Limits(isolation="auto" if sandbox else "off"))
    if sandbox:
        monkeypatch.setattr(batch, "isolation_status", lambda: sandbox)
    out = tmp_path / "out"
    jobs, _ = batch.plan([subs])
    fingerprint = batch.dataclasses.replace(options, limits=options.limits.hiding(
        *batch.batch_hidden(out, [subs]))).fingerprint()
    with Gradebook(out / batch.GRADEBOOK) as book:
        for job in jobs:
            if job.name in marks:
                attempts, alone = marks[job.name]
                for _ in range(attempts):
                    book.started(job.name, job.sha256, fingerprint, alone)
    run = None
    try:
        run = batch.grade_batch([subs], out, options, workers=1)
    except KeyboardInterrupt:
        pass
    with Gradebook(out / batch.GRADEBOOK) as book:
        left = {mark.submission: mark.attempts for mark in book.left_in_flight(fingerprint).values()}
    return run, graded, left


def test_a_batch_grades_what_was_in_flight_last_and_records_the_culprit(tmp_path, monkeypatch):
    from grader.batch import exit_status

    run, graded, left = _batch(tmp_path, monkeypatch, {"bob": (1, False), "cid": (2, True)})
    assert graded == [("ann", True), ("dan", True), ("bob", True)]  # cid is not graded again
    rows = {sub.submission: sub for sub in run.submissions}
    assert rows["cid"].status == "error" and rows["cid"].fault == "submission"
    assert rows["cid"].error.startswith("Not graded: the grader was killed twice")
    assert [note.kind for note in run.notes] == ["in_flight"] * 2 and "bob" in run.notes[0].message
    assert run.notes[1].message == f"cid: {rows['cid'].error}"
    assert left == {} and exit_status(run) == 1
    assert (tmp_path / "out" / "feedback").exists()
    again, graded, _ = _batch(tmp_path, monkeypatch, {})  # the culprit's row is kept
    assert graded == [] and exit_status(again) == 1 and again.notes == []


def test_with_pid_namespaces_the_batch_grades_it_last_and_never_blames_it(tmp_path, monkeypatch):
    run, graded, left = _batch(tmp_path, monkeypatch, {"bob": (1, False), "cid": (2, True)},
                               sandbox=CONTAINED)
    assert graded == [("ann", True), ("dan", True), ("bob", True), ("cid", True)]
    assert all(sub.status == "graded" for sub in run.submissions) and left == {}


def test_a_batch_interrupted_cleanly_drops_its_own_marks_and_keeps_a_dead_runs(tmp_path, monkeypatch):
    run, graded, left = _batch(tmp_path, monkeypatch, {"cid": (1, False)}, interrupt="bob")
    assert run is None and graded == [("ann", True), ("bob", True)]
    assert left == {"cid": 1}  # not reached: still the dead run's suspect; bob's mark is gone
