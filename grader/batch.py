"""Grade a batch of notebooks into an output folder, resumably.

Each finished submission is committed to the gradebook at once; a rerun (after a crash, a kill,
or with new files) reuses every result whose notebook and grading options are unchanged. The
exports (grades.json, grades.csv, Gradescope results) are rewritten atomically at the end from the
gradebook, in a deterministic order.

Each grading process runs its canary (`grader.canary`) before its first student. When a canary
fails, the batch stops: what was graded stays, every submission not graded yet becomes a grader
fault row ("not graded"), and `GradingRun.stopped` holds the reason; when nothing of this run was
graded at all, `grade_batch` raises `GraderBroken` and writes no student row. Grader faults are
never kept in the gradebook. A submission that was being graded when a previous run died (its
gradebook mark is still there) is graded after all the others, alone, or, where student code
could have killed the grader, becomes an error row (`grader.resume`). Exit statuses
(`exit_status`): 0 all graded, 1 some files could not be graded (their fault), 2 the grader could
not grade (a canary failed, or grader faults).
"""
from __future__ import annotations

import atexit
import dataclasses
import multiprocessing
import os
import shutil
import signal
import time
from concurrent.futures import CancelledError, ProcessPoolExecutor, as_completed
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Protocol

from .canary import Canary, GraderBroken
from .checks import RUBRIC_IDS
from .notebook.load import discover, sha256_of
from .pipeline import Grader, Options, error_result, submission_name
from .render.files import write_atomic
from .render.gradescope import gradescope_results
from .render.html import write_feedback_page, write_reports
from .render.text import feedback_filename
from .render.tables import grades_csv, grades_json
from .results.gradebook import Gradebook
from .results.model import ERROR, Fault, GradingRun, Note, NoteKind, Student, SubmissionResult
from .resume import Resume, resume
from .sandbox.process import batch_hidden, isolation_status

GRADEBOOK = "gradebook.sqlite"


@dataclass(frozen=True)
class Job:
    path: Path
    name: str
    sha256: str
    student: Student | None = None  # who submitted it, where a platform's download says so


class Named(Protocol):
    """A file whose submission name (and student) the intake chose (`grader.lms.collect`);
    `root`: the folder it was found in (hidden from student code, as `paths` are)."""
    path: Path
    name: str
    student: Student | None
    root: Path


def plan(paths: list[Path], named: Iterable[Named] = ()) -> tuple[list[Job], list[Path]]:
    """Jobs with unique submission names (two `alice.ipynb` in different folders stay apart)."""
    found, missing = discover(paths)
    entries = [(path, submission_name(path), None) for path in found]
    entries += [(n.path, n.name, n.student) for n in named]
    names = [name for _, name, _ in entries]
    jobs = []
    for path, name, student in entries:
        if names.count(name) > 1:
            name = f"{path.parent.name}__{name}"
        jobs.append(Job(path, name, sha256_of(path), student))
    return jobs, missing


@dataclass(frozen=True)
class Mark:
    """Where `grade_one` marks a job in flight: the batch's gradebook (`Gradebook.started`), and
    whether it is the only submission being graded (`alone`: graded one at a time)."""
    book: Path
    fingerprint: str
    alone: bool

    def started(self, job: Job) -> None:
        if job.sha256:
            with Gradebook(self.book) as book:
                book.started(job.name, job.sha256, self.fingerprint, self.alone)


@dataclass(frozen=True)
class Died:
    """The grading process of a job died while grading it (its mark stays: `grader.resume`)."""
    result: SubmissionResult


Outcome = tuple[Job, "SubmissionResult | Died | GraderBroken | None"]


def grade_one(canary: Canary, job: Job, out_dir: Path, mark: Mark | None = None) -> SubmissionResult:
    """Grade one job and write its executed notebook and feedback page into `out_dir`; `mark`:
    mark it in flight in the batch's gradebook first.

    Raises GraderBroken when this process's canary fails (before the job is graded); anything
    else, even a grader bug, becomes an `error` row (a grader fault) for this submission alone.
    """
    canary.ensure()
    grader = canary.grader
    if mark is not None:
        mark.started(job)
    try:
        result = grader.grade(job.path, name=job.name, executed_dir=out_dir / "executed")
    except Exception as exc:  # noqa: BLE001 - the batch must go on
        result = error_result(job.name, job.sha256, f"internal grader error: {type(exc).__name__}: {exc}",
                              grader.options.rubric, fault=Fault.GRADER)
    result.sha256 = job.sha256
    result.student = job.student
    canary.observe(result)
    canary.charge_first(result)
    write_feedback_page(result, out_dir)
    return result


def not_graded(job: Job, why: GraderBroken | None, options: Options) -> SubmissionResult:
    """The row of a job a stopped batch did not grade: a grader fault, graded by a rerun."""
    reason = why.message.split("\n")[0] if why is not None else "the batch stopped"
    return error_result(job.name, job.sha256, f"grader fault, not graded (grade again): {reason}",
                        options.rubric, fault=Fault.GRADER)


_POOL_CANARY: Canary | None = None


def _start_pool_grader(options: Options, batch_pid: int) -> None:
    """Pool initializer: each grading process keeps one warm grader for all its submissions."""
    global _POOL_CANARY
    _end_with(batch_pid)
    grader = Grader(options)
    atexit.register(grader.close)
    _POOL_CANARY = Canary(grader)


def _end_with(batch_pid: int) -> None:
    """Have Linux end this grading process when the batch's process ends. A batch killed from
    outside (`kill`, a scheduler's time limit) would otherwise leave its pool running for ever,
    each process holding a warm fork server of ~1 GB (it holds both ends of the pool's queues:
    no end of file tells it); the fork server and everything it forked already end with their
    parent. SIGKILL, not SIGTERM: while a notebook runs, nbclient handles SIGTERM (it shuts the
    kernel down and goes on), and a pool process whose batch died then waited for ever."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the pool's own shutdown is all there is
        return
    if os.getppid() != batch_pid:  # the batch died before prctl took effect
        os._exit(1)


def _grade_in_pool(job: Job, out_dir: Path, mark: Mark) -> SubmissionResult:
    assert _POOL_CANARY is not None
    return grade_one(_POOL_CANARY, job, out_dir, mark)


def _serially(jobs: list[Job], options: Options, out_dir: Path, mark: Mark) -> Iterator[Outcome]:
    """Grade `jobs` one after another in this process, on one warm grader."""
    if not jobs:
        return
    with Grader(options) as grader:
        canary = Canary(grader)
        broken: GraderBroken | None = None  # this process's canary failed: the rest is not graded
        for job in jobs:
            if broken is not None:
                yield job, None
                continue
            try:
                result = grade_one(canary, job, out_dir, mark)
            except GraderBroken as exc:
                broken = exc
                yield job, broken
                continue
            yield job, result


def _in_pool(jobs: list[Job], options: Options, out_dir: Path, workers: int,
             mark: Mark) -> Iterator[Outcome]:
    """Grade `jobs` in `workers` processes, each with its warm grader."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=context,
                             initializer=_start_pool_grader,
                             initargs=(options, os.getpid())) as pool:
        futures = {pool.submit(_grade_in_pool, job, out_dir, mark): job for job in jobs}
        for future in as_completed(futures):
            job = futures[future]
            try:
                result = future.result()
            except GraderBroken as broken:  # that process's canary failed: stop
                for other in futures:
                    other.cancel()
                yield job, broken
                continue
            except CancelledError:
                yield job, None
                continue
            except Exception as exc:  # noqa: BLE001 - a grading process died (e.g. killed)
                yield job, Died(error_result(job.name, job.sha256, "grader fault: the grading "
                                             f"process stopped unexpectedly ({type(exc).__name__}); "
                                             "grade again", options.rubric, fault=Fault.GRADER))
                continue
            yield job, result


class Progress(Protocol):
    def start(self, total: int) -> None: ...
    def update(self, result: SubmissionResult, reused: bool) -> None: ...
    def note(self, message: str) -> None: ...


class Dispatch(Protocol):
    """Grades the jobs elsewhere (a Dask cluster: `grader.cluster`) and writes each one's executed
    notebook and feedback page into `out_dir`; yields each job once with its result, the
    `GraderBroken` that stopped it, or None (not graded because the batch stopped)."""
    def sandbox(self, options: Options) -> dict: ...
    def grade(self, jobs: list[Job], out_dir: Path,
              options: Options) -> Iterator[tuple[Job, SubmissionResult | GraderBroken | None]]: ...


def grade_batch(paths: list[Path], out_dir: Path, options: Options, workers: int = 1,
                progress: Progress | None = None, dispatch: Dispatch | None = None,
                named: Iterable[Named] = (), notes: Iterable[Note] = ()) -> GradingRun:
    """Grade `paths` into `out_dir`, telling `progress` about each submission as it finishes.
    `dispatch`: grade elsewhere instead of in this machine's processes (`workers` unused).
    `named`: files named (and identified) by the intake, graded besides `paths`; `notes`: what
    the intake said about the input, kept in the run (grades.json, class report)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    named = list(named)
    # student code must not see the output folder or the submissions (README: Running untrusted code)
    hidden = batch_hidden(out_dir, list(paths) + sorted({n.root for n in named}))
    options = dataclasses.replace(options, limits=options.limits.hiding(*hidden))
    jobs, missing = plan(paths, named)
    fingerprint = options.fingerprint()
    run = GradingRun(sandbox={"isolated": False, "reason": "--isolation off"}
                     if options.limits.isolation == "off" else
                     dispatch.sandbox(options) if dispatch is not None else isolation_status(),
                     notes=list(notes))
    if progress:
        progress.start(len(jobs) + len(missing))
    for path in missing:
        run.submissions.append(error_result(submission_name(path), "", f"{path} does not exist.",
                                            options.rubric, fault=Fault.SUBMISSION))
        if progress:
            progress.update(run.submissions[-1], False)
    executed_dir = out_dir / "executed"
    with Gradebook(out_dir / GRADEBOOK) as book:
        todo = []
        for job in jobs:
            cached = book.lookup(job.name, job.sha256, fingerprint) if job.sha256 else None
            if cached is not None:
                cached.student = job.student
                run.submissions.append(cached)
                if progress:
                    progress.update(cached, True)
            else:
                todo.append(job)

        # Identical notebooks (a copied submission) are graded once and recorded under each name.
        twins: dict[str, list[Job]] = {}
        unique = []
        for job in todo:
            if job.sha256 and job.sha256 in twins:
                twins[job.sha256].append(job)
            else:
                twins[job.sha256] = []
                unique.append(job)

        def finished(result: SubmissionResult, died: bool = False) -> None:
            """Record and report a result under each name of its content; `died`: its grading
            process died, the job stays marked in flight for the next run."""
            executed = executed_dir / f"{result.submission}.ipynb"
            students = {twin.name: twin.student for twin in twins.get(result.sha256, [])}
            for name in [result.submission] + list(students):
                copy = SubmissionResult.from_dict(result.to_dict())
                copy.submission = name
                copy.student = students.get(name, result.student)
                if name != result.submission and executed.exists():
                    shutil.copyfile(executed, executed_dir / f"{name}.ipynb")
                    (out_dir / "feedback" / feedback_filename(name)).unlink(missing_ok=True)
                if copy.sha256 and not died:
                    book.record(copy, fingerprint)
                run.submissions.append(copy)
                if progress:
                    progress.update(copy, name != result.submission)

        graded = 0  # results of this run that are not grader faults
        stopped: GraderBroken | None = None  # the canary that failed
        left: list[Job] = []  # not graded because the batch stopped

        def consume(outcomes: Iterator[Outcome]) -> None:
            nonlocal graded, stopped
            for job, outcome in outcomes:
                if isinstance(outcome, Died):
                    finished(outcome.result, died=True)
                elif isinstance(outcome, SubmissionResult):
                    graded += not outcome.grader_fault
                    finished(outcome)
                else:
                    stopped = stopped or outcome
                    left.append(job)

        order = (Resume(unique, [], [], []) if dispatch is not None else
                 resume(unique, book.left_in_flight(fingerprint), run.sandbox))
        for line in order.notes:
            run.notes.append(Note(NoteKind.IN_FLIGHT, line))
            if progress:
                progress.note(line)
        for job, message in order.culprits:
            culprit = error_result(job.name, job.sha256, message, options.rubric, fault=Fault.SUBMISSION)
            culprit.student = job.student
            write_feedback_page(culprit, out_dir)
            graded += 1
            finished(culprit)
        since = time.time()
        try:
            if dispatch is not None:
                if order.first:
                    consume(dispatch.grade(order.first, out_dir, options))
            elif workers <= 1 or len(order.first) <= 1:  # suspects after the others, on one grader
                with closing(_serially(order.first + order.suspects, options, out_dir,
                                       Mark(book.path, fingerprint, alone=True))) as outcomes:
                    consume(outcomes)
            else:
                with closing(_in_pool(order.first, options, out_dir, workers,
                                      Mark(book.path, fingerprint, alone=False))) as outcomes:
                    consume(outcomes)
                if stopped is None:  # suspects alone, in this process, once the pool has ended
                    with closing(_serially(order.suspects, options, out_dir,
                                           Mark(book.path, fingerprint, alone=True))) as outcomes:
                        consume(outcomes)
                else:
                    left += order.suspects
        except BaseException:  # a clean end (an exception, Ctrl-C): no mark of this run stays
            book.settle_since(fingerprint, since)
            raise
        if stopped is not None:
            if not graded:
                raise stopped  # nothing of this run was graded: no student row is written
            run.stopped = str(stopped)
            for job in left:
                finished(not_graded(job, stopped, options))
    export(run, out_dir)
    return run


def export(run: GradingRun, out_dir: Path) -> None:
    write_atomic(out_dir / "grades.json", grades_json(run))
    write_atomic(out_dir / "grades.csv", grades_csv(run, list(RUBRIC_IDS)))
    for sub in run.submissions:
        write_atomic(out_dir / "gradescope" / sub.submission / "results.json", gradescope_results(sub))
    write_reports(run, out_dir)


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def any_errors(run: GradingRun) -> bool:
    return any(sub.status == ERROR for sub in run.submissions)


EXIT_GRADED, EXIT_SUBMISSION_ERRORS, EXIT_GRADER_FAULT = 0, 1, 2


def exit_status(run: GradingRun) -> int:
    """0: every submission graded; 1: some could not be graded by their own fault (unreadable,
    missing); 2: the grader could not grade (a canary failed, or grader faults)."""
    if run.stopped is not None or any(sub.grader_fault for sub in run.submissions):
        return EXIT_GRADER_FAULT
    return EXIT_SUBMISSION_ERRORS if any_errors(run) else EXIT_GRADED
