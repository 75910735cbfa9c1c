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
