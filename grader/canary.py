"""The canary: a grading process proves it can grade before it grades any student.

Whatever breaks the grading environment (a stack reached through a link the sandbox hides, a
course site without `sedna`, data the notebook cannot read, a kernel command that cannot `exec`)
would otherwise grade every student zero and blame them. So each grading process (`grade`,
`check`, `validate`, `fl-round`, each worker of a batch) first grades the reference notebook with
its own options, sandbox and warm fork server:

    canary = Canary(grader)
    canary.ensure()            # GraderBroken unless the reference scores full marks
    result = grader.grade(...)
    canary.observe(result)     # counts consecutive grader faults

Contract:
- `ensure()` runs the canary once per process (and again when `observe` asked for it) and raises
  `GraderBroken` when the fork server could not start, the reference did not run, or any check is
  not full marks. The federated round is left out: its own client B is the reference, and a round
  that fails on B's side is already a grader fault (`federated.verdict`).
- `observe(result)`: after `RECHECK_AFTER` consecutive submissions whose kernel or a check
  worker could not start at all (`Grader.launch_failed`: nothing of the student's ran), the next
  `ensure()` restarts the worker host and runs the canary again. Those submissions stay grader
  faults (never kept in the gradebook; a rerun grades them). Other grader faults (an internal
  error on one notebook) do not count: they say nothing about the environment.
- `GraderBroken(message)`: `str()` is the instructor's message: what failed, with the first lines
  of the failing process's log (a kernel's, a worker's or the fork server's, as the failure
  recorded them); it pickles, so it crosses a process pool.
- The canary's cost is `seconds` (the reference graded, the fork server's start excluded) and
  `warm_up` (the fork server's start), handed to the process's first student result by
  `charge_first` as the timings `canary` and `warm_up`.
"""
from __future__ import annotations

from pathlib import Path

from .pipeline import REFERENCE, Grader
from .results.model import GRADED, PASSED, SKIPPED, SubmissionResult
from .sandbox.hosts import Host

RECHECK_AFTER = 2
"""Consecutive submissions whose processes could not start, after which a process checks itself
again."""

MAX_LINES = 8


class GraderBroken(Exception):
    """This grading process cannot grade: stop, write no student row for what is left."""

    def __init__(self, message: str, log: str = "") -> None:
        super().__init__(message, log)
        self.message = message
        self.log = log

    def __str__(self) -> str:
        return self.message + (f"\nLog: {self.log}" if self.log else "")


class Canary:
    """The reference notebook, graded by `grader` before its first student (see the module)."""

    def __init__(self, grader: Grader, reference: Path = REFERENCE) -> None:
        self.grader = grader
        self.reference = reference
        self.passed = False
        self.runs = 0
        self.seconds = 0.0
        self.warm_up = 0.0
        self._faults_in_a_row = 0
        self._charged = False

    def ensure(self) -> None:
        """Return when this process may grade students; GraderBroken otherwise."""
        if self.passed:
            return
        if self.runs:  # a recheck: give the environment a fresh fork server first
            self.grader.restart()
        self.runs += 1
        try:
            result = self.grader.grade(self.reference, name="canary", fl_round=False,
                                       retry=False)  # a failure here says the grader is broken
        except Exception as exc:  # noqa: BLE001 - a grader bug: no student may be graded either
            raise GraderBroken("The grader cannot grade here: grading its canary (the reference "
                               f"notebook) failed inside the grader: {type(exc).__name__}: {exc}") \
                from exc
        warm_up = result.timings.get("warm_up", 0.0)
        self.warm_up += warm_up
        self.seconds += result.seconds - warm_up
        problems = verdict(result, self.grader.host)
        if problems:
            raise GraderBroken(
                "The grader cannot grade here: its canary (the reference notebook, graded before "
                "any student with the same options and sandbox) did not score full marks, so no "
                "student was graded by this process.\n" + "\n".join(problems[:MAX_LINES]))
        self.passed = True
        self._faults_in_a_row = 0

    def observe(self, result: SubmissionResult) -> None:
        """Count consecutive submissions whose processes could not start; enough of them make
        the next `ensure()` recheck."""
        failed = result.grader_fault and self.grader.launch_failed
        self._faults_in_a_row = self._faults_in_a_row + 1 if failed else 0
        if self._faults_in_a_row >= RECHECK_AFTER:
            self.passed = False

    def charge_first(self, result: SubmissionResult) -> None:
        """The process's first student result carries the canary's cost (as `warm_up` does)."""
        if self._charged or not self.runs:
            return
        self._charged = True
        if self.warm_up:
            result.timings["warm_up"] = result.timings.get("warm_up", 0.0) + self.warm_up
        result.timings["canary"] = self.seconds


def verdict(result: SubmissionResult, host: Host) -> list[str]:
    """What kept the canary from full marks, one line each ([] when it passed)."""
    problems = []
    if host.failure is not None:
        problems.append(f"- the fork server (kernels and check workers) could not start: "
                        f"{host.failure}")
    if result.status != GRADED:
        problems.append(f"- {result.error or 'the reference could not be graded'}")
    for check in result.checks:
        if check.feedback == result.error:
            continue  # an ungraded row repeats its error in every check: said once above
        if check.status not in (PASSED, SKIPPED) or check.score < check.max_score:
            line = check.feedback.strip().split("\n")[0][:400]
            problems.append(f"- {check.id}: {check.status}, {check.score:g}/{check.max_score:g}: "
                            f"{line}")
    return problems
