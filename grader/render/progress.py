"""Live progress of a batch: a bar with ETA and pass/fail/error counts on a terminal, one plain
line per submission elsewhere (CI logs, pipes), so both stay readable."""
from __future__ import annotations

import sys

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from ..results.model import ERROR, PASSED, SKIPPED, SubmissionResult
from .text import submission_title


class BatchProgress:
    def __init__(self, file=None) -> None:
        self.file = file or sys.stdout
        self.counts = {"full marks": 0, "lost points": 0, "error": 0, "grader fault": 0}
        self._bar: Progress | None = None
        self._task = None

    def start(self, total: int) -> None:
        if self.file.isatty():
            self._bar = Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[counts]}"), TimeRemainingColumn(),
                                 console=Console(file=self.file), transient=False)
            self._bar.start()
            self._task = self._bar.add_task("grading", total=total, counts=self._counts_text())
        else:
            print(f"{total} submission(s) to grade", file=self.file, flush=True)

    def update(self, result: SubmissionResult, reused: bool) -> None:
        if result.grader_fault:
            self.counts["grader fault"] += 1
        elif result.status == ERROR:
            self.counts["error"] += 1
        elif all(c.status in (PASSED, SKIPPED) for c in result.checks):
            self.counts["full marks"] += 1
        else:
            self.counts["lost points"] += 1
        how = "unchanged, kept" if reused else f"{result.seconds:.1f} s"
        status = "GRADER FAULT (not graded; grade again)" if result.grader_fault else result.status
        line = f"  {submission_title(result)}: {status}, {result.score:g}/{result.max_score:g} ({how})"
        if self._bar is not None:
            self._bar.console.print(line, highlight=False)
            self._bar.update(self._task, advance=1, counts=self._counts_text())
        else:
            print(line, file=self.file, flush=True)

    def note(self, message: str) -> None:
        """A sentence for the instructor before the results (a rerun's in-flight submissions)."""
        if self._bar is not None:
            self._bar.console.print(f"note: {message}", highlight=False)
        else:
            print(f"note: {message}", file=self.file, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()

    def _counts_text(self) -> str:
        return ", ".join(f"{n} {label}" for label, n in self.counts.items())
