"""Throughput of `grader grade` against executing the same notebooks the usual way.

Makes N copies (default 40) of the bundled sample submissions (each copy's bytes differ, so none
is deduplicated), then in ONE run times
  (a) the baseline: each notebook executed one after another with plain nbclient, the way
      nbgrader/papermill do it (a fresh kernel per notebook, all cells; the notebook is sanitized
      into a course run directory first, or it could not run at all), and
  (b) `python -m grader grade --fl-round off` on the same files, every check included,
and prints both times, submissions per minute, the fork server's warm-up, the grader's overhead per
submission beyond the student's own code and the checks, the peak memory (PSS, summed over the
grading process tree, from a second grading run: sampling it would slow the timed one), and as its
last line `ratio=<baseline seconds / grader seconds>`.

    python benchmarks/throughput.py [N] [--workers W] [--baseline-sample K]

`--baseline-sample K` times only K notebooks for the baseline and extrapolates to N (the
baseline is slow: ~20 s a notebook); by default all N are executed.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import psutil
from jupyter_client import AsyncKernelManager
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.environment import layout  # noqa: E402
from grader.environment.data import resolve_data_dir  # noqa: E402
from grader.notebook.preprocessors import sanitize  # noqa: E402

SAMPLES = ROOT / "fixtures" / "submissions"


def make_copies(n: int, into: Path) -> list[Path]:
    samples = sorted(SAMPLES.glob("*.ipynb"))
    copies = []
    for i in range(n):
        nb = nbformat.read(samples[i % len(samples)], as_version=4)
        nb.metadata["benchmark_copy"] = i  # distinct bytes: no copy is graded as another's twin
        path = into / f"{i:03d}_{samples[i % len(samples)].stem}.ipynb"
        nbformat.write(nb, path)
        copies.append(path)
    return copies


def baseline(paths: list[Path], scratch: Path) -> float:
    """Plain nbclient, one fresh kernel per notebook, one notebook after another."""
    data = resolve_data_dir(None)
    began = time.monotonic()
    for index, path in enumerate(paths):
        run = layout.build_run_dir(scratch / f"baseline-{index}", data)
        nb = sanitize(nbformat.read(path, as_version=4), run.root)
        km = AsyncKernelManager(kernel_name="python3", transport="ipc",  # no TCP warning
                                ip=str(run.root / "kernel"))
        NotebookClient(nb, km=km, timeout=120, kernel_name="python3", allow_errors=True,
                       resources={"metadata": {"path": str(run.work_dir)}}).execute(env=run.env())
    return time.monotonic() - began


class PeakMemory(threading.Thread):
    """Samples the summed PSS of a process and its descendants (shared pages counted once)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self._done = pid, 0, threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.5):
            try:
                root = psutil.Process(self.pid)
                procs = [root, *root.children(recursive=True)]
            except psutil.Error:
                continue
            total = 0
            for proc in procs:
                try:
                    total += proc.memory_full_info().pss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)

    def stop(self) -> int:
        self._done.set()
        self.join()
        return self.peak


def grader(folder: Path, out: Path, workers: int, *, sample_memory: bool = False) -> tuple[float, int]:
    """Seconds of `grader grade` and, when sampled, its peak PSS (else 0)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    began = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "grader", "grade", str(folder), "--out", str(out),
                             "--fl-round", "off", "--workers", str(workers)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    sampler = PeakMemory(proc.pid) if sample_memory else None
    if sampler is not None:
        sampler.start()
    _, err = proc.communicate()
    seconds = time.monotonic() - began
    peak = sampler.stop() if sampler is not None else 0
    if proc.returncode not in (0, 1):
        raise SystemExit(f"grader failed ({proc.returncode}):\n{err[-2000:]}")
    return seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=40)
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--baseline-sample", type=int, default=None)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        tmp = Path(tmp)
        (tmp / "in").mkdir()
        paths = make_copies(args.n, tmp / "in")
        resolve_data_dir(None)  # the synthetic data is generated once, outside both timings
        print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
              f"{psutil.virtual_memory().total / 2**30:.0f} GiB; {args.n} submissions; "
              f"grader with {args.workers} workers", flush=True)

        sample = paths[: args.baseline_sample] if args.baseline_sample else paths
        base = baseline(sample, tmp) * len(paths) / len(sample)
        how = "" if sample is paths else f" (extrapolated from {len(sample)})"
        print(f"baseline (plain nbclient, fresh kernel, serial): {base:.1f} s{how}, "
              f"{60 * len(paths) / base:.1f} submissions/min", flush=True)

        seconds, _ = grader(tmp / "in", tmp / "out", args.workers)
        grades = json.loads((tmp / "out" / "grades.json").read_text())["submissions"]
        print(f"grader (all checks, --fl-round off): {seconds:.1f} s, "
              f"{60 * len(paths) / seconds:.1f} submissions/min", flush=True)
        # Sampling PSS reads every process's smaps (~25 ms of CPU each, twice a second): on 2
        # cores that slowed the grader by a quarter, so memory comes from a second, untimed run.
        _, peak = grader(tmp / "in", tmp / "out-memory", args.workers, sample_memory=True)
        print(f"peak memory of the grading run: {peak / 2**30:.2f} GiB (PSS summed over the process "
              "tree, sampled every 0.5 s in a second run)", flush=True)
        timings = [s["timings"] for s in grades if s["timings"]]
        warm = [t["warm_up"] for t in timings if "warm_up" in t]
        per_sub = (seconds * args.workers - sum(warm)) / len(paths)
        own = statistics.mean(t.get("student_code", 0) + t.get("checks", 0) for t in timings)
        print(f"fork-server warm-up (imports, once per grading process): "
              f"{statistics.mean(warm) if warm else 0:.1f} s", flush=True)
        print(f"per submission (worker time, warm-up excluded): {per_sub:.2f} s, of which student "
              f"code + checks {own:.2f} s: overhead {per_sub - own:.2f} s (kernel fork and "
              "start-up, extraction, executed notebook, feedback page)", flush=True)
        print(f"ratio={base / seconds:.2f}")


if __name__ == "__main__":
    main()
