"""`grade --cluster local:2` against the process pool (`--workers 2`) on the same notebooks.

Makes N copies (default 40) of the bundled samples (distinct bytes: none is graded as another's
twin), grades them with `python -m grader grade --fl-round off` twice into fresh output folders,
once with the process pool and once on a LocalCluster of as many workers, and prints both wall
times, the cluster's time relative to the pool's, and the scheduler's overhead per submission:
(cluster seconds - pool seconds) / N, the cost of starting the cluster, sending each notebook as
bytes and its results back, and the client writing the files the pool's processes write
themselves. Each side starts cold (its processes, their fork servers, their canaries), as a real
run does. The last line is `ratio=<cluster seconds / pool seconds>`.

    python benchmarks/cluster.py [N] [--workers W]

The figures mean something only on a quiet machine: the load average is printed with them.
"""
from __future__ import annotations

import argparse
import os
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("n", type=int, nargs="?", default=40)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as scratch:
        folder = Path(scratch) / "subs"
        folder.mkdir()
        make_copies(args.n, folder)
        load = os.getloadavg()
        pool = grade(folder, Path(scratch) / "pool", "--workers", str(args.workers))
        cluster = grade(folder, Path(scratch) / "cluster", "--cluster", f"local:{args.workers}")
        load = max(load[0], os.getloadavg()[0])
    print(f"{args.n} notebooks, {args.workers} workers, {os.cpu_count()} cores, "
          f"load average up to {load:.1f}")
    print(f"process pool (--workers {args.workers}):    {pool:7.1f} s  "
          f"{60 * args.n / pool:5.1f} submissions/min")
    print(f"LocalCluster (--cluster local:{args.workers}): {cluster:7.1f} s  "
          f"{60 * args.n / cluster:5.1f} submissions/min")
    print(f"cluster vs pool: {100 * (cluster / pool - 1):+.1f} %; overhead per submission "
          f"{(cluster - pool) / args.n:+.2f} s")
    print(f"ratio={cluster / pool:.3f}")


if __name__ == "__main__":
    main()
