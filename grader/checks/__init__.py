"""The checks of Tasks 1-4: each runs the student's definitions in a sandboxed worker and
compares what they do with the reference.

    results = run_checks(student_defs, reference_defs, run_dir_factory=factory)

`student_defs` and `reference_defs` are `grader.notebook.extract.Definitions`; `run_dir_factory()`
returns a fresh `(run_dir, env)` for a student process (see `rundirs.temporary_run_dirs`). The
result is one `CheckResult` per task check, in report order (only those in `only`, if given).
Every check, its default points and its probes are declared once in `registry.py`: `RUBRIC_IDS`
(every graded id, in report order) and `TASK_CHECK_IDS` / `TASK_SPECS` (the checks run here;
`notebook_runs` and `fl_round` are produced elsewhere) derive from it.
"""
from __future__ import annotations

from typing import Iterable

from grader.checks.registry import REGISTRY, RUBRIC_IDS, TASK_CHECK_IDS, TASK_SPECS
from grader.checks.rubric import Rubric, RubricError, load_rubric
from grader.checks.runner import RunnerOptions, make_host, run_specs
from grader.sandbox.hosts import Host, RunDirFactory
from grader.checks.spec import CheckSpec
from grader.results.model import CheckResult

__all__ = ["REGISTRY", "RUBRIC_IDS", "TASK_CHECK_IDS", "TASK_SPECS", "Rubric", "RubricError",
           "RunnerOptions", "load_rubric", "open_host", "run_checks", "select"]


def select(only: Iterable[str] | None = None) -> list[CheckSpec]:
    """The checks to run, in their fixed order. Ids of the rubric that are not task checks
    (`notebook_runs`, `fl_round`) are ignored; any other unknown id is a ValueError."""
    if only is None:
        return list(TASK_SPECS)
    wanted = set(only)
    unknown = sorted(wanted - set(RUBRIC_IDS))
    if unknown:
        raise ValueError(f"unknown check ids {unknown}; known: {list(RUBRIC_IDS)}")
    return [spec for spec in TASK_SPECS if spec.id in wanted]


def run_checks(student, reference, *, run_dir_factory: RunDirFactory | None = None,
               rubric: Rubric | None = None, only: set[str] | None = None,
               options: RunnerOptions | None = None,
               host: Host | None = None) -> list[CheckResult]:
    """Run the task checks on `student` against `reference`.

    `options` tunes timeouts and bounds (defaults: 10 s per call, fork server on); `host` lets
    a batch share one worker host (e.g. one fork server) across submissions. Without a
    `run_dir_factory`, temporary run directories are used and removed afterwards.
    """
    specs = select(only)
    rubric = rubric or load_rubric()
    if run_dir_factory is None:
        from grader.checks.rundirs import temporary_run_dirs

        with temporary_run_dirs() as factory:
            return run_specs(specs, student, reference, rubric=rubric, run_dir_factory=factory,
                             options=options, host=host)
    return run_specs(specs, student, reference, rubric=rubric, run_dir_factory=run_dir_factory,
                     options=options, host=host)


def open_host(run_dir_factory: RunDirFactory, options: RunnerOptions | None = None) -> Host:
    """A worker host to share across many `run_checks(..., host=host)` calls (a batch): the
    fork server imports the course stack once for all submissions instead of once per call.
    Its own run directory comes from `run_dir_factory` (keep that directory for the batch).
    Close it when done (`with open_host(...) as host:`). One host per grading thread/process.
    """
    host = make_host(TASK_SPECS, run_dir_factory, options or RunnerOptions())
    host.begin()
    return host
