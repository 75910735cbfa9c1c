"""`python -m grader fl-round NOTEBOOK`: one round with live progress, for students who want to
watch the federation (who connected, the round starting, uploads, the aggregate), then the verdict.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from ..checks.rubric import load_rubric
from ..notebook.load import NotebookError, load_notebook
from ..results.model import PASSED, Fault
from .round import run_round
from .settings import RoundSettings
from .verdict import CHECK_ID, verdict


def watch(notebook: Path, settings: RoundSettings, *, rubric_path: Path | None = None,
          out: TextIO | None = None) -> int:
    """Run the round, printing progress as it happens; 0 when the check passed, 1 when it
    failed, 2 when the round failed on the grader's side (a grader fault)."""
    out = out or sys.stdout
    try:
        nb = load_notebook(notebook)
    except NotebookError as exc:
        print(f"fl-round: {exc}", file=out)
        return 2
    where = f"{'GPU' if settings.on_cuda else 'CPU'} ({settings.round_size} size)"
    print(f"Federated round {settings.start_round} for {notebook} on {where}: your notebook is "
          f"client A, the reference notebook is client B.", file=out, flush=True)

    def progress(seconds: float, message: str) -> None:
        print(f"[{seconds:6.1f} s] {message}", file=out, flush=True)

    outcome = run_round(nb, settings, on_progress=progress)
    rubric = load_rubric(rubric_path)
    result = verdict(outcome, rubric.points_for(CHECK_ID), rubric.allows_partial_credit(CHECK_ID))
    print(f"\nfl_round: {result.status.upper()}, {result.score:g}/{result.max_score:g} points "
          f"({outcome.seconds:.1f} s)", file=out)
    for part in result.properties:
        mark = "ok  " if part.passed else "FAIL"
        print(f"  {mark} {part.name}{': ' + part.message if part.message else ''}", file=out)
    print(f"\n{result.feedback}", file=out)
    timings = ", ".join(f"{k} {v:.1f} s" for k, v in outcome.timings.items())
    print(f"\nTimings: {timings}", file=out, flush=True)
    if result.fault is Fault.GRADER:  # the round failed on the grader's side (client B, aggregator)
        return 2
    return 0 if result.status == PASSED else 1
