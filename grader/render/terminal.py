"""The student's self-check report: a table of checks, then what to fix, then one verdict line.

Colour and box drawing only on a terminal; plain text otherwise (CI logs, pipes).
"""
from __future__ import annotations

import sys

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..results.model import ERROR, FAILED, PASSED, SKIPPED, SubmissionResult

_STYLE = {PASSED: "green", FAILED: "red", ERROR: "red", SKIPPED: "dim"}
_MARK = {PASSED: "PASS", FAILED: "FAIL", ERROR: "ERROR", SKIPPED: "skip"}


def print_report(sub: SubmissionResult, file=None) -> None:
    file = file or sys.stdout
    console = Console(file=file, highlight=False, soft_wrap=False,
                      no_color=not file.isatty(), width=None if file.isatty() else 100)
    console.print(Text(f"Self-check of {sub.submission}", style="bold"))
    if sub.error:
        console.print(Text(f"The notebook could not be graded: {sub.error}", style="red"))
    table = Table(show_header=True, header_style="bold", box=None)
    table.add_column("check")
    table.add_column("result")
    table.add_column("points", justify="right")
    for check in sub.checks:
        table.add_row(check.id, Text(_MARK[check.status], style=_STYLE[check.status]),
                      f"{check.score:g}/{check.max_score:g}")
    console.print(table)
    for check in sub.checks:
        if check.status in (FAILED, ERROR):
            console.print(Text(f"\n{check.id}: {_MARK[check.status]}", style=f"bold {_STYLE[check.status]}"))
            console.print(check.feedback or "(no details)")
            if check.counterexample:
                ce = check.counterexample
                console.print(f"  smallest failing input: {ce.input}\n  expected: {ce.expected}\n"
                              f"  actual:   {ce.actual}")
    failing = [c.id for c in sub.checks if c.status in (FAILED, ERROR)]
    verdict = (f"All checks passed: {sub.score:g}/{sub.max_score:g} points." if not failing and not sub.error
               else f"{len(failing)} check(s) to fix ({', '.join(failing)}): {sub.score:g}/{sub.max_score:g} points.")
    console.print(Text("\n" + verdict, style="bold green" if not failing and not sub.error else "bold red"))
