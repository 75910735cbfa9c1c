"""The student's self-check report: a table of checks, then what to fix, then one verdict line.

On a terminal: colours, a ruled table and marks. Anywhere else (CI logs, pipes, files): plain
ASCII text without escape codes, 100 columns wide. Rich decides what counts as a terminal, so
FORCE_COLOR / NO_COLOR / TTY_COMPATIBLE behave as usual. Student text (feedback quotes their
code and errors) is printed literally: no rich markup, no emoji codes, no escape sequences.
"""
from __future__ import annotations

import sys

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..results.model import ERROR, FAILED, PASSED, SKIPPED, SubmissionResult
from .text import clean_text, first_sentence, submission_title

_STYLE = {PASSED: "green", FAILED: "red", ERROR: "dark_orange", SKIPPED: "dim"}
_MARK = {PASSED: "PASS", FAILED: "FAIL", ERROR: "ERROR", SKIPPED: "skip"}
_PLAIN_WIDTH = 100


def _console(file) -> Console:
    console = Console(file=file, highlight=False, markup=False, emoji=False, soft_wrap=False, safe_box=True)
    if not console.is_terminal:
        console = Console(file=file, highlight=False, markup=False, emoji=False, soft_wrap=False,
                          safe_box=True, force_terminal=False, color_system=None, width=_PLAIN_WIDTH)
    return console


def _points(value: float) -> str:
    return f"{value:g}"


def _indented(label: str, value: str, indent: str = "    ") -> Text:
    """`label value`, with continuation lines of a multi-line value aligned under the value."""
    pad = " " * len(label)
    lines = clean_text(value).split("\n") or [""]
    text = Text(indent)
    text.append(label, style="bold")
    text.append(lines[0])
    for line in lines[1:]:
        text.append(f"\n{indent}{pad}{line}")
    return text


def print_report(sub: SubmissionResult, file=None) -> None:
    console = _console(file or sys.stdout)
    fancy = console.is_terminal
    failing = [c for c in sub.checks if c.status in (FAILED, ERROR)]
    error = clean_text(sub.error).strip() if sub.error else ""

    title = Text(f"Self-check of {submission_title(sub)}", style="bold")
    title.append(f"   {_points(sub.score)}/{_points(sub.max_score)} points", style="bold cyan" if fancy else "")
    console.print(title)
    if error:
        what = "The grader failed" if sub.grader_fault else "The notebook could not be graded"
        console.print(Text(f"{what}: {error}", style="bold red"))

    table = Table(show_header=True, header_style="bold", box=box.SIMPLE_HEAD if fancy else None,
                  pad_edge=False, expand=False, show_edge=False)
    table.add_column("check", no_wrap=True)
    table.add_column("result", no_wrap=True)
    table.add_column("points", justify="right", no_wrap=True)
    table.add_column("what happened", overflow="fold", style="dim" if fancy else "")
    for check in sub.checks:
        summary = "not graded (see above)" if error and clean_text(check.feedback).strip() == error \
            else first_sentence(check.feedback, limit=120)
        table.add_row(Text(check.id, style="bold" if check.status in (FAILED, ERROR) else ""),
                      Text(_MARK[check.status], style=f"bold {_STYLE[check.status]}"),
                      f"{_points(check.score)}/{_points(check.max_score)}", summary)
    console.print(table)

    for check in failing:
        feedback = clean_text(check.feedback).strip()
        if error and feedback == error:
            continue  # said once above
        head = Text("\n")
        head.append(f"{_MARK[check.status]} ", style=f"bold {_STYLE[check.status]}")
        head.append(check.id, style="bold")
        head.append(f"  ({_points(check.score)}/{_points(check.max_score)} points)", style="dim" if fancy else "")
        console.print(head)
        for paragraph in (feedback or "(no details were recorded)").split("\n"):
            console.print(Text("  " + paragraph))
        if check.counterexample:
            ce = check.counterexample
            console.print(Text("  Smallest failing input:", style="bold"))
            console.print(_indented("input:    ", ce.input))
            console.print(_indented("expected: ", ce.expected), style="green" if fancy else "")
            console.print(_indented("actual:   ", ce.actual), style="red" if fancy else "")
        for prop in check.properties:
            mark = ("[ok] " if prop.passed else "[x]  ") if not fancy else ("\u2713 " if prop.passed else "\u2717 ")
            line = Text("  ")
            line.append(mark, style="green" if prop.passed else "red")
            line.append(clean_text(prop.name))
            message = clean_text(prop.message).strip() if prop.message else ""
            if message and message not in feedback:  # not again what the feedback just said
                line.append(f": {message}")
            console.print(line)
        if check.cell_id:
            console.print(Text(f"  Look at notebook cell {clean_text(check.cell_id)}.", style="dim" if fancy else ""))

    score = f"{_points(sub.score)}/{_points(sub.max_score)} points"
    if sub.grader_fault:
        verdict = ("Not graded: the GRADER failed, not your notebook (see above). Tell your "
                   "instructor; your notebook was not judged.")
        style = "bold red"
    elif error:
        verdict, style = f"Not graded: fix the notebook so it can be read and run ({score}).", "bold red"
    elif not failing:
        verdict, style = f"All checks passed: {score}.", "bold green"
    else:
        names = ", ".join(c.id for c in failing)
        verdict = f"{len(failing)} check{'s' if len(failing) != 1 else ''} to fix ({names}): {score}."
        style = "bold red"
    console.print(Text("\n" + verdict, style=style))
