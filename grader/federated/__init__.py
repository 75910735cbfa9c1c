"""The `fl_round` check: a real two-client federated round against a local aggregator.

    result = fl_round_check(nb, options)            # a CheckResult("fl_round", ...)
    outcome = run_round(nb, RoundSettings(...))     # the round itself, for the CLI and benchmarks

Modules: `settings` (what a round varies: `--fl-round auto|on|off`, `--fl-round-size`), `clients`
(the two clients' programs), `round` (processes, monitor, deadline, clean-up), `record` (what the
grader reads back, as plain data), `verdict` (the six parts), `reaper` (the round's marker; kill
what is left).
`sidecar/` holds what runs inside the round's processes and never in the grader: the aggregator
script, client B's cell runner and client A's `sitecustomize` instrumentation.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ..results.model import SKIPPED, CheckResult
from .round import RoundOutcome, run_round
from .settings import GradingOptions, RoundSettings, RoundSize, cuda_available, should_run
from .verdict import CHECK_ID, verdict

if TYPE_CHECKING:
    import nbformat

__all__ = ["CHECK_ID", "GradingOptions", "RoundOutcome", "RoundSettings", "RoundSize",
           "cuda_available", "fl_round_check", "reference_round", "run_round", "settings_from",
           "should_run", "verdict"]


def settings_from(options: GradingOptions, **overrides) -> RoundSettings:
    """Round settings for a grading run's options: the memory limit, `--fl-round-size`, and
    `--data` for a full-size round (a small one always uses its small synthetic set)."""
    overrides.setdefault("size", options.fl_round_size)
    return RoundSettings(limits=options.limits, **overrides).for_grading(options.data_dir)


def fl_round_check(nb: nbformat.NotebookNode, options: GradingOptions, **overrides) -> CheckResult:
    """The `fl_round` check for one notebook: run per `options.fl_round`, else `skipped`."""
    if not should_run(options.fl_round):
        reason = ("--fl-round off" if options.fl_round == "off" else
                  "no CUDA device here (--fl-round on runs it on the CPU with a small data set)")
        return CheckResult(CHECK_ID, SKIPPED, 0.0, 0.0,
                           feedback=f"The federated round was not run: {reason}.")
    began = time.monotonic()
    outcome = run_round(nb, settings_from(options, **overrides))
    rubric = options.rubric
    result = verdict(outcome, rubric.points_for(CHECK_ID), rubric.allows_partial_credit(CHECK_ID))
    result.seconds = time.monotonic() - began
    return result


def reference_round(options: GradingOptions) -> tuple[bool, str]:
    """For `validate`: the reference notebook passes a real round (of `--fl-round-size`).

    Runs whatever `--fl-round` says except `off`: course CI proves the final cell works.
    """
    if options.fl_round == "off":
        return True, "not run (--fl-round off)"
    import nbformat

    from ..course import REFERENCE
    from ..results.model import PASSED

    outcome = run_round(nbformat.read(REFERENCE, as_version=4), settings_from(options))
    result = verdict(outcome, 1.0)
    detail = f"{result.status} in {outcome.seconds:.0f} s (round {outcome.start_round})"
    return result.status == PASSED, detail if result.status == PASSED else f"{detail}: {result.feedback}"
