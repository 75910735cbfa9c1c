"""`grade --cluster local:2` against the process pool (`--workers 2`) on the same notebooks.

Makes N copies (default 40) of the bundled samples (distinct bytes: none is graded as another's
twin), grades them with `python -m grader grade --fl-round off` twice into fresh output folders,
once with the process pool and once on a LocalCluster of as many workers, and prints both wall
times, the cluster's time relative to the pool's, and the scheduler's overhead per submission:
(cluster seconds - pool seconds) / N, the cost of starting the cluster, sending each notebook as
bytes and its results back, and the client writing the files the pool's processes write
themselves. Each side starts cold (its processes, their fork servers, their canaries), as a real
run does. The last line is `ratio=<cluster seconds / pool seconds>`.

    python benchmarks/cluster.py [N] [--workers W] [--repeat R]

The two sides take turns, R times each in the order pool, cluster, cluster, pool, ... (so a
machine that grows slower or faster in the meantime favours neither), and the median of each
side is compared: on the 2-core machine of docs/cluster.md one side's runs differ by up to 10 %
from each other. The figures mean something only on a quiet machine: the load average is printed
with them.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from throughput import make_copies  # noqa: E402


def grade(paths: Path, out: Path, *how: str) -> float:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    began = time.monotonic()
    subprocess.run([sys.executable, "-m", "grader", "grade", str(paths), "--out", str(out),
                    "--fl-round", "off", *how], cwd=ROOT, env=env, check=False,
                   stdout=subprocess.DEVNULL)
    return time.monotonic() - began


def _runs(seconds: list[float]) -> str:
    return ", ".join(f"{s:.1f} s" for s in seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("n", type=int, nargs="?", default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=2, help="runs of each side (default 2)")
    args = parser.parse_args()
    sides = {"pool": ("--workers", str(args.workers)), "cluster": ("--cluster", f"local:{args.workers}")}
    order = [side for turn in range(args.repeat)
             for side in (("pool", "cluster") if turn % 2 == 0 else ("cluster", "pool"))]
    times: dict[str, list[float]] = {"pool": [], "cluster": []}
    load = 0.0
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as scratch:
        folder = Path(scratch) / "subs"
        folder.mkdir()
        make_copies(args.n, folder)
        for run, side in enumerate(order):  # each run into a fresh folder: nothing reused
            load = max(load, os.getloadavg()[0])
            times[side].append(grade(folder, Path(scratch) / f"{side}-{run}", *sides[side]))
            load = max(load, os.getloadavg()[0])
    pool, cluster = statistics.median(times["pool"]), statistics.median(times["cluster"])
    print(f"{args.n} notebooks, {args.workers} workers, {os.cpu_count()} cores, "
          f"load average up to {load:.1f}, {args.repeat} run(s) per side")
    print(f"process pool (--workers {args.workers}):    {pool:7.1f} s  "
          f"{60 * args.n / pool:5.1f} submissions/min  (runs: {_runs(times['pool'])})")
    print(f"LocalCluster (--cluster local:{args.workers}): {cluster:7.1f} s  "
          f"{60 * args.n / cluster:5.1f} submissions/min  (runs: {_runs(times['cluster'])})")
    print(f"cluster vs pool: {100 * (cluster / pool - 1):+.1f} %; overhead per submission "
          f"{(cluster - pool) / args.n:+.2f} s")
    print(f"ratio={cluster / pool:.3f}")


if __name__ == "__main__":
    main()
