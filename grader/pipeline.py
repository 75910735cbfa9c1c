"""Grade one notebook: load -> sanitize -> execute -> extract -> check -> record.

Every failure of the submission becomes part of its result (a failed or errored check, or a row
with status `error`); only a bug in the grader itself may raise, and the batch turns even that
into a row. What fails before any student code ran (a kernel that could not start, a check worker
without hand-shake) makes the row a grader fault (`fault: "grader"`, status `error`): never the
student's result, never kept, graded again by a rerun (see `results.model` and `canary`).
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import itertools
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from . import __version__
from .checks import RUBRIC_IDS, RunnerOptions, open_host, run_checks
from .checks.rubric import Rubric, load_rubric
from .course import REFERENCE
from .environment import layout
from .environment.data import resolve_data_dir
from .federated import RoundSettings, fl_round_check, should_run
from .notebook.execute import Execution, execute
from .notebook.extract import Definitions
from .notebook.load import NotebookError, load_notebook, sha256_of
from .notebook.preprocessors import sanitize
from .notebook.preprocessors.selfcheck_cells import KIT_NOTE, uses_kit
from .notebook.run_paths import restore as restore_paths
from .notebook.streams import coalesce as coalesce_streams
from .options import group, option
from .results.model import (ERROR, FAILED, PASSED, SKIPPED, CheckResult, Fault,
                            SubmissionResult, SubmissionStatus)
from .sandbox.limits import Limits


@dataclass
class Options:
    """What a grading run may vary (declared in `grader.options`); `fingerprint` covers
    everything that can change a verdict."""

    cell_timeout: float = option("cell_timeout")
    notebook_timeout: float = option("notebook_timeout")
    stall_timeout: float = option("stall_timeout")
    limits: Limits = group(Limits)
    data_dir: Path | None = option("data_dir")
    fl_round: str = option("fl_round")
    fl_round_size: str = option("fl_round_size")
    rubric_path: Path | None = option("rubric_path")

    @functools.cached_property
    def rubric(self) -> Rubric:
        return load_rubric(self.rubric_path)

    def __getstate__(self) -> dict:
        """Options travel to grading processes; the rubric (read-only views) is reloaded there."""
        state = dict(self.__dict__)
        state.pop("rubric", None)
        return state

    def fingerprint(self) -> str:
        # `auto` runs the round only where CUDA is: record what it resolved to, so a result
        # graded without the round is not reused on a machine that would run it.
        rounds = should_run(self.fl_round)
        size = str(RoundSettings(size=self.fl_round_size).round_size) if rounds else ""
        parts = [__version__, repr(sorted(self.rubric.points.items())), str(rounds), size,
                 str(self.data_dir or ""), sha256_of(REFERENCE)]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


@functools.lru_cache(maxsize=1)
def reference_definitions() -> Definitions:
    return Definitions.from_notebook(nbformat.read(REFERENCE, as_version=4))


def submission_name(path: Path) -> str:
    return path.name[:-len(".ipynb")] if path.name.endswith(".ipynb") else path.name


def error_result(name: str, sha: str, message: str, rubric: Rubric, *,
                 fault: Fault) -> SubmissionResult:
    """A row for a notebook that could not be graded: every check errored, nothing lost.
    `fault`: the file's (unreadable, missing) or the grader's (never kept, graded again)."""
    checks = [CheckResult(cid, ERROR, 0.0, rubric.points[cid], feedback=message, fault=fault)
              for cid in RUBRIC_IDS if cid != "fl_round"]
    return SubmissionResult.from_error(name, sha, message, checks, fault=fault)


def grader_fault_message(checks: list[CheckResult]) -> str:
    """The row's error when checks are grader faults: for the instructor, naming them."""
    faulty = [c for c in checks if c.fault is Fault.GRADER]
    first = faulty[0].feedback.split("\n")[0] if faulty else ""
    return (f"grader fault, not graded (grade again): {', '.join(c.id for c in faulty)} could "
            f"not be checked. {first}").strip()


class Grader:
    """Grades notebooks one after another in this process, with one warm fork server.

    The server imports the course stack (numpy, torch, torchvision, imgaug, Plato, ipykernel) once;
    every submission's kernel and every check worker is a fresh fork of it, so the imports are
    paid once per process instead of once per notebook and check, and nothing one submission
    does can leak into the next. Close it (or use `with`) to stop the server.
    """

    def __init__(self, options: Options) -> None:
        self.options = options
        self._root = Path(tempfile.mkdtemp(prefix="grader-"))
        counter = itertools.count()

        def server_run() -> tuple[Path, dict[str, str]]:
            run = _student_run(self._root / f"server-{next(counter)}", options)
            return run.root, run.env()

        self._server_run = server_run
        # The last `grade` met a kernel or worker that could not start (nothing of the
        # student's ran): what the canary counts (`canary.Canary.observe`).
        self.launch_failed = False
        self.runner_options = RunnerOptions(limits=options.limits)
        self.host = open_host(server_run, self.runner_options)

    def __enter__(self) -> Grader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.host.close()
        shutil.rmtree(self._root, ignore_errors=True)

    def grade(self, path: Path, *, name: str | None = None, executed_dir: Path | None = None,
              fl_round: bool = True, retry: bool = True) -> SubmissionResult:
        """The result for one notebook file; writes the executed notebook into `executed_dir`.
        `fl_round=False` skips the federated round whatever the options say (the canary).

        A grading whose kernel or check worker could not start (`launch_failed`: nothing of the
        student's ran) is done again once, with a fresh fork server (`restart`), before it is
        reported as a grader fault (with `retry`); the result's timing `retry` is the time the
        first attempt took (`retried` counts them)."""
        began = time.monotonic()
        result = self._grade_once(path, name, executed_dir, fl_round)
        if retry and result.grader_fault and self.launch_failed:
            first = time.monotonic() - began
            self.restart()
            result = self._grade_once(path, name, executed_dir, fl_round)
            result.timings[RETRY] = first
        return result

    def _grade_once(self, path: Path, name: str | None, executed_dir: Path | None,
                    fl_round: bool) -> SubmissionResult:
        options = self.options
        self.launch_failed = False
        name, sha = name or submission_name(path), sha256_of(path)
        try:
            nb = load_notebook(path)
        except NotebookError as exc:
            return error_result(name, sha, str(exc), options.rubric, fault=Fault.SUBMISSION)
        timings: dict[str, float] = {}
        work = Path(tempfile.mkdtemp(prefix="grade-", dir=self._root))
        try:
            run = _student_run(work / "notebook", options)
            waited = self.host.warm_up()
            if waited:  # the first submission of a process waits for the server's imports
                timings["warm_up"] = waited
            began = time.monotonic()
            execution = execute(sanitize(nb, run.root), run_dir=run.work_dir, env=run.env(),
                                limits=options.limits, cell_timeout=options.cell_timeout,
                                total_timeout=options.notebook_timeout, host=self.host,
                                stall_timeout=options.stall_timeout)
            timings["execute"] = time.monotonic() - began
            restore_paths(execution, run.root)  # as on Kaggle, and the same at every grading
            coalesce_streams(execution.notebook)  # a print in pieces, as Jupyter shows it
            timings["student_code"] = sum(cell.seconds for cell in execution.cells)
            if execution.launch_error is not None:  # no student code ran: not theirs to carry
                self.launch_failed = True
                return _kernel_fault(name, sha, "could not start", execution.launch_error,
                                     options, timings)
            if execution.stalls > 1:  # stopped answering twice: the machine's, not the student's
                return _kernel_fault(name, sha, "stopped answering twice",
                                     execution.stalled, options, timings)
            if executed_dir is not None:
                executed_dir.mkdir(parents=True, exist_ok=True)
                nbformat.write(execution.notebook, executed_dir / f"{name}.ipynb")

            began = time.monotonic()
            counter = itertools.count()

            def check_run() -> tuple[Path, dict[str, str]]:
                run = _student_run(work / f"check-{next(counter)}", options)
                return run.root, run.env()

            launch_failures = self.host.launch_failures
            checks = run_checks(Definitions.from_notebook(nb), reference_definitions(),
                                run_dir_factory=check_run, rubric=options.rubric,
                                options=self.runner_options, host=self.host)
            self.launch_failed = self.host.launch_failures > launch_failures
            timings["checks"] = time.monotonic() - began
        finally:
            shutil.rmtree(work, ignore_errors=True)
            self.host.kill_strays()  # nothing of this submission may see the next one
        checks.append(notebook_runs(execution, options.rubric, kit_used=uses_kit(nb)))
        checks.append(fl_round_check(nb, options if fl_round else dataclasses.replace(
            options, fl_round="off")))
        if checks[-1].status != SKIPPED:
            timings["fl_round"] = checks[-1].seconds
        if any(c.fault is Fault.GRADER for c in checks):
            return SubmissionResult(name, sha, status=SubmissionStatus.ERROR,
                                    error=grader_fault_message(checks),
                                    checks=checks, timings=timings, fault=Fault.GRADER)
        return SubmissionResult(name, sha, checks=checks, timings=timings)

    def restart(self) -> None:
        """A fresh worker host (fork server), e.g. after processes stopped starting."""
        self.host.close()
        self.host = open_host(self._server_run, self.runner_options)


RETRY = "retry"
"""The timing of a result graded twice: the seconds of its first attempt, a grader fault."""


def retried(results: list[SubmissionResult]) -> int:
    """How many of `results` were graded again after a grader fault (`Grader.grade`)."""
    return sum(1 for result in results if RETRY in result.timings)


def grade_notebook(path: Path, options: Options, *, name: str | None = None,
                   executed_dir: Path | None = None) -> SubmissionResult:
    """Grade one notebook with a grader of its own (the self-check); batches reuse a `Grader`."""
    with Grader(options) as grader:
        return grader.grade(path, name=name, executed_dir=executed_dir)


def _kernel_fault(name: str, sha: str, what: str, why: str, options: Options,
                  timings: dict[str, float]) -> SubmissionResult:
    result = error_result(name, sha, f"grader fault, not graded (grade again): the notebook's "
                          f"kernel {what}: {why}", options.rubric, fault=Fault.GRADER)
    result.timings = timings
    return result


def _student_run(run_dir: Path, options: Options) -> layout.RunLayout:
    return layout.build_run_dir(run_dir, resolve_data_dir(options.data_dir))


def notebook_runs(execution: Execution, rubric: Rubric, kit_used: bool = False) -> CheckResult:
    """Did every cell run? Names the first failing cell (cells count from 1, as in Jupyter), and
    says so where the self-check kit's cells ran on its stand-in (`kit_used`)."""
    points = rubric.points["notebook_runs"]
    failure = execution.first_failure
    kit = f" {KIT_NOTE}" if kit_used else ""
    if failure is None:
        return CheckResult("notebook_runs", PASSED, points, points,
                           feedback=f"All {len(execution.cells)} code cells ran without error.{kit}")
    failed = [c for c in execution.cells if c.status != "ok"]
    return CheckResult(
        "notebook_runs", FAILED, 0.0, points, cell_id=failure.cell_id,
        feedback=(f"Cell {failure.index + 1} failed first ({failure.error}); "
                  f"{len(failed)} of {len(execution.cells)} code cells did not run cleanly. "
                  f"Run the notebook top to bottom (Restart & Run All) and fix the first error.{kit}"))
