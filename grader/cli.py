"""`python -m grader grade|check|validate|fl-round|strip|release|gradescope-bundle|gradescope-run`:
every entry point of the grader.

Exit statuses of `grade`: 0 every submission graded; 1 some submissions could not be graded (bad
files: their own fault); 2 the grader could not grade (its canary failed, or grader faults: grade
again once the environment is fixed). `check`, `validate` and `fl-round` use 0 (all good), 1 (the
notebook or course material has problems) and 2 (the grader could not grade, or bad options).
`release` uses 0 (written, no solution code in it), 1 (solution code found: do not hand it out)
and 2 (the kit's wheel could not be built). `gradescope-run` uses `grade`'s; `gradescope-bundle`
0 (written) and 2 (not written).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .options import (GRADESCOPE_BUNDLE, GRADESCOPE_RUN, GRADING, LMS, RELEASE, ROUND,
                      add_arguments, from_arguments)


def _options(args: argparse.Namespace, **overrides):
    """The grading run's `pipeline.Options` from the command line (declared in `grader.options`)."""
    from .pipeline import Options

    return from_arguments(args, Options, **overrides)


def _grade_with_progress(args: argparse.Namespace, options, lms, **how):
    from .batch import grade_batch
    from .render.progress import BatchProgress

    progress = BatchProgress()
    try:
        return grade_batch(lms.intake.paths, args.out_dir, options, progress=progress,
                           named=lms.intake.named, notes=lms.intake.notes, **how)
    finally:
        progress.close()


def cmd_grade(args: argparse.Namespace) -> int:
    from .batch import default_workers, exit_status
    from .results.model import SubmissionStatus

    from .lms.run import LmsOptions, finish, prepare

    options = _options(args)
    out = args.out_dir
    lms = prepare(args.paths, out, from_arguments(args, LmsOptions))  # bad input: LmsError, exit 2
    if lms.summary():
        print(lms.summary(), flush=True)
    if args.cluster:
        from .cluster import connect, open_dispatch

        with connect(args.cluster) as connection:
            dispatch = open_dispatch(connection)
            options = dispatch.resolve(options)
            workers = len(connection.workers())
            print(f"Grading {', '.join(map(str, args.paths))} into {out} on the Dask cluster "
                  f"{connection.address} ({workers} worker(s), federated round "
                  f"{options.fl_round}{' on GPU workers' if dispatch.rounds_on_gpu else ''})",
                  flush=True)
            if connection.dashboard:
                print(f"Dashboard: {connection.dashboard}", flush=True)
            run = _grade_with_progress(args, options, lms, dispatch=dispatch)
    else:
        workers = args.workers or default_workers()
        print(f"Grading {', '.join(map(str, args.paths))} into {out} with {workers} worker(s)",
              flush=True)
        run = _grade_with_progress(args, options, lms, workers=workers)
    if not run.sandbox.get("isolated"):
        print(f"warning: student code ran WITHOUT namespace isolation (network, files, process "
              f"limit): {run.sandbox.get('reason')}", file=sys.stderr)
    elif run.sandbox.get("pid_namespace") is False:
        print("warning: student code could list the machine's processes and, run by the same "
              "user, signal the grader's: no PID namespaces here "
              f"({run.sandbox.get('pid_namespace_reason') or 'unknown reason'})", file=sys.stderr)
    errors = sum(1 for s in run.submissions if s.status is SubmissionStatus.ERROR)
    from .pipeline import retried

    faults = sum(1 for s in run.submissions if s.grader_fault)
    again = retried(run.submissions)
    print(f"{len(run.submissions)} submission(s), {errors} could not be graded"
          f"{f' ({faults} by a GRADER FAULT: not charged, not kept; grade again)' if faults else ''}"
          f"{f', {again} graded again after a grader fault' if again else ''}. "
          f"Wrote {out / 'grades.json'}, {out / 'grades.csv'}, {out / 'gradescope'}/, "
          f"{out / 'feedback'}/ and {out / 'report.html'}")
    for line in finish(lms, run, out):
        print(line)
    if run.stopped:
        print(f"error: the batch stopped early.\n{run.stopped}", file=sys.stderr)
    return exit_status(run)


def cmd_check(args: argparse.Namespace) -> int:
    from .canary import Canary
    from .pipeline import Grader
    from .render.terminal import print_report
    from .results.model import GRADED, PASSED, SKIPPED

    with Grader(_options(args)) as grader:
        Canary(grader).ensure()  # GraderBroken: exit 2, the notebook is not judged
        result = grader.grade(args.notebook)
    print_report(result)
    if result.grader_fault:
        return 2
    ok = result.status is GRADED and all(c.status in (PASSED, SKIPPED) for c in result.checks)
    return 0 if ok else 1


def cmd_validate(args: argparse.Namespace) -> int:
    from .validate import validate

    return 0 if validate(_options(args), workers=args.workers) else 1


def cmd_fl_round(args: argparse.Namespace) -> int:
    from .federated.live import watch
    from .federated.settings import RoundSettings

    from .canary import Canary
    from .pipeline import Grader

    options = _options(args, fl_round="off")
    # The round's own processes are checked by its client B (the reference: a round that fails
    # on B's side is a grader fault, exit 2); the canary checks sandbox, course site and data.
    with Grader(options) as grader:
        Canary(grader).ensure()
    settings = from_arguments(args, RoundSettings, limits=options.limits)
    return watch(args.notebook, settings, rubric_path=options.rubric_path)


def cmd_strip(args: argparse.Namespace) -> int:
    from .notebook.markers import MarkerError, strip_file

    try:
        strip_file(args.reference, args.output)
    except (MarkerError, OSError) as exc:
        print(f"strip failed: {exc}", file=sys.stderr)
        return 1
    print(f"Wrote {args.output}")
    return 0


def cmd_release(args: argparse.Namespace) -> int:
    from .release.build import build_release
    from .release.leaks import find_leaks
    from .release.wheel import WheelError

    try:
        release = build_release(args.release_dir)
    except WheelError as exc:
        print(f"release failed: {exc}", file=sys.stderr)
        return 2
    leaks = find_leaks(release.out)
    for leak in leaks:
        print(f"LEAK: {leak}", file=sys.stderr)
    if leaks:
        print(f"release failed: {len(leaks)} solution leak(s) in {release.out}; do not hand it out",
              file=sys.stderr)
        return 1
    sizes = ", ".join(f"{p.name} ({p.stat().st_size / 1024:.0f} KiB)" for p in release.files)
    print(f"Wrote {release.out}: {sizes}; no solution code found in it")
    return 0


def cmd_gradescope_bundle(args: argparse.Namespace) -> int:
    from .gradescope.bundle import BundleError, build_bundle

    try:
        bundle = build_bundle(args.bundle_path)
    except (BundleError, OSError) as exc:
        print(f"gradescope-bundle failed: {exc}", file=sys.stderr)
        return 2
    print(f"Wrote {bundle.path} ({bundle.size / 1024:.0f} KiB, {len(bundle.names)} files): upload "
          "it as the autograder of a Gradescope programming assignment (docs/lms.md, Gradescope)")
    return 0


def cmd_gradescope_run(args: argparse.Namespace) -> int:
    from .gradescope.autograde import run

    return run(args.autograder_root, _options(args))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m grader", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    grade = sub.add_parser("grade", help="grade notebooks or folders of notebooks into a gradebook")
    grade.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    add_arguments(grade, ("out_dir", "workers", "cluster") + GRADING + LMS)
    grade.set_defaults(func=cmd_grade)

    check = sub.add_parser("check", help="self-check one notebook before the quiz")
    check.add_argument("notebook", type=Path)
    add_arguments(check, GRADING)
    check.set_defaults(func=cmd_check)

    validate = sub.add_parser("validate", help="CI of the course material")
    add_arguments(validate, ("workers",) + GRADING)
    validate.set_defaults(func=cmd_validate)

    fl_round = sub.add_parser("fl-round", help="run only the federated round for one notebook, "
                                                "with live progress")
    fl_round.add_argument("notebook", type=Path)
    add_arguments(fl_round, ROUND)
    fl_round.set_defaults(func=cmd_fl_round)

    release = sub.add_parser("release", help="the student release: notebook with self-check "
                                              "cells, the self-check kit's wheel, README")
    add_arguments(release, RELEASE)
    release.set_defaults(func=cmd_release)

    bundle = sub.add_parser("gradescope-bundle", help="the autograder zip for a Gradescope "
                                                      "programming assignment")
    add_arguments(bundle, GRADESCOPE_BUNDLE)
    bundle.set_defaults(func=cmd_gradescope_bundle)

    gradescope_run = sub.add_parser("gradescope-run", help="grade the one notebook of a Gradescope "
                                    "submission into its results.json (the bundle's run_autograder)")
    add_arguments(gradescope_run, GRADESCOPE_RUN)
    gradescope_run.set_defaults(func=cmd_gradescope_run)

    strip = sub.add_parser("strip", help="make the student template from the reference")
    strip.add_argument("reference", type=Path)
    strip.add_argument("-o", "--output", type=Path, required=True)
    strip.set_defaults(func=cmd_strip)
    return parser


def main(argv: list[str] | None = None) -> int:
    from .canary import GraderBroken
    from .checks.rubric import RubricError, load_rubric
    from .cluster import ClusterError  # (Dask itself is imported only with --cluster)
    from .environment.data import DataDirError, resolve_data_dir
    from .lms import LmsError

    args = build_parser().parse_args(argv)
    try:
        if hasattr(args, "data_dir"):
            resolve_data_dir(args.data_dir)  # a wrong --data or rubric stops here, before any grading
            load_rubric(args.rubric_path)
        return args.func(args)
    except (DataDirError, RubricError, LmsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except GraderBroken as exc:  # no student was graded: the environment must be fixed first
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ClusterError as exc:  # the cluster could not be reached or started
        print(f"error: {exc}", file=sys.stderr)
        return 2
