"""How starting or talking to a student process can fail, as typed exceptions.

* `WorkerLost(reason, detail)`: a worker stopped answering while student code ran; `reason` is a
  `LostReason`, `detail` a sentence for the student. It costs the input it happened on (see
  `grader.checks.trial`), never the batch.
* `HarnessError`: the grader's own machinery failed (not the student's code): the check's status
  is `error`.
* `LaunchError(message, log)`: a process could not start or hand-shake before any student code
  ran, a grader fault; `log` holds the first lines of its log.
"""
from __future__ import annotations

from enum import StrEnum


class LostReason(StrEnum):
    TIMEOUT = "timeout"  # no reply within the request's time limit: the worker was stopped
    DIED = "died"  # the process ended (exit, signal, memory limit)
    PROTOCOL = "protocol"  # it sent something that is not a reply to the request
    GAVE_UP = "gave_up"  # it was lost too often: the remaining inputs are not tried


class WorkerLost(Exception):
    """The worker stopped answering: it timed out, died, or sent something that is not a reply."""

    def __init__(self, reason: LostReason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = LostReason(reason)
        self.detail = detail

    def again(self) -> WorkerLost:
        """A new exception with the same reason and detail (a remembered loss, raised again)."""
        return WorkerLost(self.reason, self.detail)


class HarnessError(Exception):
    """The grader's own machinery failed (not the student's code): the check's status is error."""


class LaunchError(HarnessError):
    """A worker could not start or hand-shake (before any student code ran): a grader fault.
    `log` holds the first lines of the worker's log (what the launcher or Python said)."""

    def __init__(self, message: str, log: str = "") -> None:
        super().__init__(message + (f"; its log begins: {log}" if log else ""))
        self.log = log
