"""Isolation between submissions and load-independent verdicts, measured (issue 25).

    python benchmarks/isolation.py repeat [N]       grade fixtures/adversarial N times in a row
                                                    (default 10): each run's exit status, whether
                                                    the grades are identical to the first run's,
                                                    and `exit0=<count>/N identical=<count>/N`
    python benchmarks/isolation.py neighbours [N]   N passes (default 10) of: each hostile fixture
                                                    that leaves something behind, then a correct
                                                    notebook, on one warm grader; prints
                                                    `neighbours_graded=<count>/<total>`
    python benchmarks/isolation.py load [HOGS] [--only GLOB]
                                                    grade fixtures/submissions on a quiet machine,
                                                    then with HOGS (default 16) busy CPU processes;
                                                    prints both runs' status and score per
                                                    submission, the differences (feedback
                                                    sentences too), and `same=<yes|no>`

Runs the grader as the stack's Python from the project root (`python -m grader grade ... --fl-round
off`), into temporary folders. The machine's load average is printed next to every figure.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ADVERSARIAL = ROOT / "fixtures" / "adversarial"
SUBMISSIONS = ROOT / "fixtures" / "submissions"
CELL_TIMEOUT = json.loads((ADVERSARIAL / "manifest.json").read_text())["cell_timeout"]
NEIGHBOURS = ("fork_storm", "allocate_6gib", "infinite_loop", "print_100mb", "os_exit")


def load() -> str:
    return "load %.1f %.1f %.1f" % os.getloadavg()


def feedback(out: Path) -> dict[str, dict[str, str]]:
    """{submission: {check: its feedback}} of a finished run (the sentences a student reads)."""
    try:
        rows = json.loads((out / "grades.json").read_text())["submissions"]
    except (OSError, ValueError, KeyError):
        return {}
    return {r["submission"]: {c["id"]: c.get("feedback", "") for c in r["checks"]} for r in rows}


def grade(folder: Path, out: Path, *extra: str) -> tuple[int, dict[str, tuple[str, float]]]:
    """Exit status and {submission: (status, score)} of one `grader grade` run."""
    done = subprocess.run([sys.executable, "-m", "grader", "grade", str(folder), "--out", str(out),
                           "--fl-round", "off", *extra], cwd=ROOT, capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    try:
        rows = json.loads((out / "grades.json").read_text())["submissions"]
    except (OSError, ValueError, KeyError):
        rows = []
    if done.returncode not in (0, 1):
        print(done.stdout[-1500:], done.stderr[-1500:], sep="\n", flush=True)
    return done.returncode, {r["submission"]: (r["status"], r["score"]) for r in rows}


def repeat(runs: int) -> None:
    first, exit0, identical = None, 0, 0
    with tempfile.TemporaryDirectory(prefix="isolation-bench-") as tmp:
        for run in range(runs):
            began = time.monotonic()
            status, grades = grade(ADVERSARIAL, Path(tmp) / f"out-{run}", "--cell-timeout",
                                   str(CELL_TIMEOUT))
            first = grades if first is None else first
            exit0 += status == 0
            identical += grades == first
            faults = [name for name, (state, _) in grades.items() if state == "error"]
            print(f"run {run + 1}: exit {status}, identical={grades == first}, "
                  f"errors={faults}, {time.monotonic() - began:.0f} s, {load()}", flush=True)
    print(f"exit0={exit0}/{runs} identical={identical}/{runs}")


def neighbours(passes: int) -> None:
    from grader.pipeline import Grader, Options

    graded = total = 0
    with Grader(Options(fl_round="off", cell_timeout=CELL_TIMEOUT)) as grader:
        for run in range(passes):
            for name in NEIGHBOURS:
                grader.grade(ADVERSARIAL / f"{name}.ipynb")
                result = grader.grade(SUBMISSIONS / "correct_if_elif.ipynb", name=f"after_{name}")
                total += 1
                ok = result.status == "graded" and result.score == result.max_score
                graded += ok
                if not ok:
                    print(f"pass {run + 1}, after {name}: {result.status} {result.error}", flush=True)
            print(f"pass {run + 1}: {graded}/{total} neighbours graded, {load()}", flush=True)
    print(f"neighbours_graded={graded}/{total}")


def _hog(stop) -> None:
    while not stop.is_set():
        sum(range(10_000))


def under_load(hogs: int, only: str) -> None:
    with tempfile.TemporaryDirectory(prefix="isolation-bench-") as tmp:
        folder = Path(tmp) / "submissions"
        folder.mkdir()
        for path in sorted(SUBMISSIONS.glob(only)):
            (folder / path.name).write_bytes(path.read_bytes())
        print(f"quiet: {load()}", flush=True)
        quiet_status, quiet = grade(folder, Path(tmp) / "quiet")
        stop = multiprocessing.Event()
        workers = [multiprocessing.Process(target=_hog, args=(stop,), daemon=True)
                   for _ in range(hogs)]
        for worker in workers:
            worker.start()
        try:
            time.sleep(5)
            print(f"with {hogs} hogs: {load()}", flush=True)
            busy_status, busy = grade(folder, Path(tmp) / "busy")
            print(f"with {hogs} hogs, at the end: {load()}", flush=True)
            said, busy_said = feedback(Path(tmp) / "quiet"), feedback(Path(tmp) / "busy")
        finally:
            stop.set()
            for worker in workers:
                worker.join(5)
                if worker.is_alive():
                    worker.kill()
    print(f"exit status: quiet {quiet_status}, with {hogs} hogs {busy_status}")
    print(f"{'submission':40} {'quiet':>18} {'with hogs':>18}")
    for name in sorted(set(quiet) | set(busy)):
        a, b = quiet.get(name), busy.get(name)
        mark = "" if a == b else "   <-- differs"
        print(f"{name:40} {str(a):>18} {str(b):>18}{mark}")
    differ = sorted(f"{name}/{check}" for name in said for check in said[name]
                    if busy_said.get(name, {}).get(check) != said[name][check])
    print(f"feedback that differs: {differ or 'none'}")
    same = quiet == busy and quiet_status == busy_status and not differ
    print(f"same={'yes' if same else 'no'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=("repeat", "neighbours", "load"))
    parser.add_argument("n", nargs="?", type=int)
    parser.add_argument("--only", default="*.ipynb", help="load: the samples to grade (a glob)")
    args = parser.parse_args()
    if args.what == "repeat":
        repeat(args.n or 10)
    elif args.what == "neighbours":
        neighbours(args.n or 10)
    else:
        under_load(args.n or 16, args.only)


if __name__ == "__main__":
    main()
