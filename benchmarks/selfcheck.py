"""What the student kit costs: the wheel's size, `check()` of every task in a warm kernel, and
`python -m edge_ai_w5_selfcheck NOTEBOOK` (a fresh kernel, the notebook's own run included).

The wheel is built from kit/ with a fresh data file (pip wheel, offline) and installed into a
temporary folder the kernels import it from; the notebook is the reference, COPIED into a
temporary folder (it writes checkpoints/ and models/ where it runs); its /kaggle/input is the
grader's run folder (synthetic CIFAR-100, the course library). Prints the load average too: on a
shared machine the figures move with it.

Usage: python benchmarks/selfcheck.py [RUNS]
"""
from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.course import REFERENCE  # noqa: E402
from grader.environment.data import resolve_data_dir  # noqa: E402
from grader.environment.layout import build_run_dir  # noqa: E402
from grader.release.exam import write_kit_data  # noqa: E402

PACKAGE = "edge_ai_w5_selfcheck"


def build_wheel(tmp: Path) -> Path:
    from grader.release.wheel import build_wheel as release_wheel

    return release_wheel(ROOT / "kit", tmp / "dist", write_kit_data)


def warm_check(site: Path, kaggle: Path, runs: int) -> list[float]:
    sys.path.insert(0, str(site))
    from edge_ai_w5_selfcheck.terminal import federated_names, kernel_manager, prepared_source

    env = {**os.environ, "PYTHONPATH": str(site), "MPLBACKEND": "Agg"}
    work = Path(tempfile.mkdtemp(prefix="bench-kit-"))
    manager = kernel_manager(str(work), asynchronous=False)  # IPC: no TCP warning
    manager.start_kernel(env=env, cwd=str(work))
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=120)
    try:
        import nbformat

        cells = [c.source for c in nbformat.read(str(REFERENCE), as_version=4).cells
                 if c.cell_type == "code"]
        names = federated_names(cells)
        for cell in cells:
            source = prepared_source(cell, str(kaggle), names)
            if source:
                client.execute_interactive(source, timeout=600, output_hook=lambda m: None)
        client.execute_interactive("from edge_ai_w5_selfcheck import check\n"
                                   "check(show=False)", timeout=600, output_hook=lambda m: None)
        times: list[float] = []
        for _ in range(runs):
            out: list[str] = []
            client.execute_interactive(
                "import time as _t\n_b = _t.perf_counter()\n_r = check(show=False)\n"
                "print(_r.passed, _t.perf_counter() - _b)", timeout=600,
                output_hook=lambda m: out.append(m["content"].get("text", "")))
            passed, seconds = "".join(out).split()
            assert passed == "True", "the reference did not pass the kit"
            times.append(float(seconds))
        return times
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
        shutil.rmtree(work, ignore_errors=True)


def terminal(site: Path, kaggle: Path, tmp: Path) -> float:
    copy = Path(shutil.copy(REFERENCE, tmp / "exercise.ipynb"))
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", PACKAGE, str(copy), "--data", str(kaggle)],
                          cwd=tmp, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(site), "MPLBACKEND": "Agg"})
    seconds = time.perf_counter() - began
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "running over TCP" not in done.stderr and "Traceback" not in done.stderr, done.stderr
    return seconds


def main(runs: int = 3) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-selfcheck-") as name:
        tmp = Path(name)
        wheel = build_wheel(tmp)
        site = tmp / "site"
        subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index",
                        "--quiet", "--target", str(site), str(wheel)], check=True)
        kaggle = build_run_dir(tmp / "run", resolve_data_dir()).data_dir.parent
        print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        print(f"wheel: {wheel.name}, {wheel.stat().st_size / 1024:.0f} KiB (limit 1 MB)")
        times = warm_check(site, kaggle, runs)
        print(f"check() of all tasks, warm kernel: median {statistics.median(times):.2f} s, "
              f"min {min(times):.2f} s over {runs} runs (limit 5 s)")
        seconds = terminal(site, kaggle, tmp)
        print(f"python -m {PACKAGE} NOTEBOOK (reference copy, full data): {seconds:.1f} s "
              "(limit 60 s)")
        print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
