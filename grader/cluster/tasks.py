"""What runs on a Dask worker: grade one submission sent as bytes, and (its own task, on a GPU
worker when there is one) its federated round.

No shared filesystem is assumed: a task gets the notebook's bytes and its name, grades it in a
temporary folder of the worker (hidden from student code, as every temporary folder is) and
returns a `Payload` of plain data: the result as `SubmissionResult.to_dict()`, the executed
notebook and the feedback page as bytes. The client alone writes files (`dispatch`).

`grade_task` grades everything but the round (the workers' options say `--fl-round off`: the
check it returns is `skipped`); when the client runs rounds, `round_task` runs the round for a
payload whose notebook was graded, puts its check in place of the skipped one, and renders the
feedback page again. Both raise `GraderBroken` when the worker's canary failed.
"""
from __future__ import annotations

import dataclasses
import shutil
import tempfile
from pathlib import Path
from typing import TypedDict

from ..batch import Job
from ..notebook.load import NotebookError, load_notebook
from ..pipeline import grader_fault_message
from ..render.html import write_feedback_page
from ..render.text import feedback_filename
from ..results.model import ERROR, SKIPPED, CheckResult, Fault, Student, SubmissionResult
from .plugin import worker_plugin


class Payload(TypedDict):
    result: dict
    executed: bytes | None
    page: bytes | None


def _read(path: Path) -> bytes | None:
    return path.read_bytes() if path.is_file() else None


def _payload(result: SubmissionResult, folder: Path) -> Payload:
    return Payload(result=result.to_dict(),
                   executed=_read(folder / "executed" / f"{result.submission}.ipynb"),
                   page=_read(folder / "feedback" / feedback_filename(result.submission)))


def grade_task(name: str, sha256: str, notebook: bytes, student: Student | None = None) -> Payload:
    """Grade one submission with this worker's warm grader (its options never run the round);
    `student`: who submitted it (for its feedback page), where the platform's download says so."""
    plugin = worker_plugin()
    folder = Path(tempfile.mkdtemp(prefix="cluster-"))
    try:
        path = folder / "in" / f"{name}.ipynb"
        path.parent.mkdir()
        path.write_bytes(notebook)
        return _payload(plugin.grade(Job(path, name, sha256, student), folder), folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def round_task(graded: Payload, notebook: bytes, mode: str) -> Payload:
    """Run the federated round of a graded submission (`mode`: `--fl-round` as resolved by the
    client); its check replaces the skipped one."""
    from ..federated import CHECK_ID, fl_round_check

    result = SubmissionResult.from_dict(graded["result"])
    if result.check(CHECK_ID) is None:  # not graded (unreadable, no kernel): no round to run
        return graded
    plugin = worker_plugin()
    folder = Path(tempfile.mkdtemp(prefix="cluster-round-"))
    try:
        path = folder / "in.ipynb"
        path.write_bytes(notebook)
        try:
            nb = load_notebook(path)
        except NotebookError:
            return graded
        plugin.ensure()  # this worker's canary passed: its sandbox and course site work
        result = with_round(result, fl_round_check(nb, dataclasses.replace(plugin.options,
                                                                           fl_round=mode)))
        if graded["executed"] is not None:
            (folder / "executed").mkdir()
            (folder / "executed" / f"{result.submission}.ipynb").write_bytes(graded["executed"])
        write_feedback_page(result, folder)
        return _payload(result, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def with_round(result: SubmissionResult, check: CheckResult) -> SubmissionResult:
    """`result` with the round's `check` in place of its skipped one, as `Grader.grade` would
    have put it there (its time counted; a round the grader could not run: a grader fault row).
    A result without a round check (not graded) is returned as it is."""
    index = next((i for i, c in enumerate(result.checks) if c.id == check.id), None)
    if index is None:
        return result
    checks = list(result.checks)
    checks[index] = check
    timings = dict(result.timings)
    if check.status != SKIPPED:
        timings[check.id] = check.seconds
    if any(c.fault is Fault.GRADER for c in checks):
        return SubmissionResult(result.submission, result.sha256, status=ERROR,
                                error=grader_fault_message(checks), checks=checks,
                                timings=timings, fault=Fault.GRADER)
    return dataclasses.replace(result, checks=checks, timings=timings)
