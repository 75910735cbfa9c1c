"""What a rerun does with the submissions a dead batch left in flight.

The gradebook marks each submission while it is graded (`Gradebook.started`); a mark that is still
there when a batch starts means the previous run died while grading it: killed from outside (a
time limit, the OOM killer) or, where sandboxes have no PID namespace, by a cell of that notebook
that signals processes it does not own (`os.kill`, `os.killpg`, `pkill`), which the machine cannot
prevent. The rule (docs/sandbox.md):

- such a submission is a *suspect*: graded after every other submission of the batch, alone,
  in the batch's own process, so that everything else is graded and recorded before it runs again;
- a suspect whose grader was killed at least twice, the last time while it was graded alone, on a
  machine whose sandboxes have no PID namespace, is the *culprit*: an `error` row, its own fault
  (kept: later reruns skip it), with a sentence that says what happened and what to do;
- with PID namespaces a student's process can signal nothing outside its sandbox: a suspect is
  never blamed there, only graded alone, last (a grader bug then costs that notebook alone).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TypeVar

from .results.gradebook import InFlight


class _Job(Protocol):
    name: str
    sha256: str


J = TypeVar("J", bound=_Job)


def pid_namespace_missing(sandbox: dict) -> str | None:
    """Why student processes of this run could signal the grader's (None: they could not: every
    notebook and check ran in a PID namespace of its own)."""
    if not sandbox.get("isolated"):
        return sandbox.get("reason") or "no namespaces"
    if sandbox.get("pid_namespace") is not True:
        return sandbox.get("pid_namespace_reason") or "no PID namespaces"
    return None


def culprit_message(attempts: int, why: str) -> str:
    times = "twice" if attempts == 2 else f"{attempts} times"
    return (f"Not graded: the grader was killed {times} while it graded this notebook, the last time "
            "with no other notebook being graded. A cell probably signals processes it does not own "
            "(os.kill, os.killpg, pkill), which this machine cannot prevent: its sandboxes have no "
            f"PID namespaces ({why}). Look at the notebook; grade it on a machine with user "
            "namespaces (docs/sandbox.md) to contain it.")


def suspect_note(name: str, mark: InFlight) -> str:
    return (f"{name} was being graded when the previous run died (attempt {mark.attempts}): it is "
            "graded alone, after every other submission")


@dataclass
class Resume:
    """The batch's jobs in the order a rerun grades them: `first` as usual, then `suspects`
    one at a time; `culprits` (job, message) are not graded again: `message` is their error
    row's. `notes`: one sentence for the instructor per suspect and culprit."""

    first: list
    suspects: list
    culprits: list
    notes: list[str]


def resume(jobs: list[J], marks: dict[str, InFlight], sandbox: dict) -> Resume:
    """Split `jobs` (still to grade) by what the previous run left in flight (`marks`, by
    content hash; `Gradebook.left_in_flight`) and by what this run's sandbox isolates."""
    why = pid_namespace_missing(sandbox)
    first, suspects, culprits = [], [], []
    for job in jobs:
        mark = marks.get(job.sha256) if job.sha256 else None
        if mark is None:
            first.append(job)
        elif why is not None and mark.alone and mark.attempts >= 2:
            culprits.append((job, culprit_message(mark.attempts, why)))
        else:
            suspects.append(job)
    # fewest failed attempts first: a notebook that was merely graded beside the culprit gets
    # its turn before the culprit's, which may end the batch again
    suspects.sort(key=lambda job: marks[job.sha256].attempts)
    notes = [suspect_note(job.name, marks[job.sha256]) for job in suspects]
    notes += [f"{job.name}: {message}" for job, message in culprits]
    return Resume(first, suspects, culprits, notes)
