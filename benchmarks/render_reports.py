"""How big and how slow are the HTML reports? Renders a synthetic class and prints figures.

    python benchmarks/render_reports.py [--submissions 40] [--out DIR] [--keep]

Builds N synthetic results (a realistic mix: full marks, failed checks with counterexamples,
errored checks, an unreadable notebook, a timeout) with executed notebooks made from the
reference notebook plus outputs (a training log, a plot, tracebacks), then times
`grader.render.html.write_reports` and reports the size of a feedback page and of the report.
"""
from __future__ import annotations

import argparse
import base64
import io
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import nbformat  # noqa: E402
from nbformat.v4 import new_output  # noqa: E402

from grader.course import REFERENCE  # noqa: E402
from grader.results.model import (  # noqa: E402
    CheckResult,
    Counterexample,
    GradingRun,
    SubmissionResult,
    SubProperty,
)

# (check id, points, the cell that defines what it tests, typical failures)
CHECKS = [
    ("task1_seeded_choice", 2.0, "task1-parallel-seeded-choice", [
        ("parallel_seeded_choice returned {m} arrays for {a} inputs. Return one array per input array, "
         "each indexed with the same choice.", Counterexample("array_list=[{a} arrays of length 1], seed=0, n=1",
                                                              "{a} arrays", "{m} arrays")),
        ("parallel_seeded_choice drew with replacement: index 1 appears twice. Use "
         "replace=False.", Counterexample("array_list=[array([0, 1])], seed=1, n=2", "[array([1, 0])]",
                                          "[array([1, 1])]")),
    ]),
    ("task1_random_seed", 1.0, "task1-random-seed", [
        ("RANDOM_SEED is a string ('{k}'); store your birthdate as one integer YYYYMMDD.", None),
    ]),
    ("task2_partition", 2.0, "task2-partition", [
        ("The client's partition has {k} samples for a dataset of {n}; each of the 2 clients should get "
         "half.", Counterexample("len(dataset)={n}, client_id=1", "{h} samples", "{k} samples")),
    ]),
    ("task3_lr_schedule", 2.0, "task3-trainer", [
        ("The learning rate at epoch {k} is 0.01; expected 0.001 (divide by 10 every 20 epochs).",
         Counterexample("epoch={k}", "0.001", "0.01")),
    ]),
    ("task4a_load_payload", 1.5, "task4-client", [
        ("load_payload passed the whole payload to the algorithm; pass payload['weights'] only.",
         Counterexample("payload={'weights': {...}, 'round': 3}", "load_weights(weights)", "load_weights(payload)")),
    ]),
    ("task4b_extra_test", 1.5, "task4-client", [
        ("NameError: name 'testset' is not defined. The client must test the received model before it "
         "trains.", None),
    ]),
]


TRACEBACK = [
    "\x1b[0;31m" + "-" * 75 + "\x1b[0m",
    "\x1b[0;31mAssertionError\x1b[0m                            Traceback (most recent call last)",
    "Cell \x1b[0;32mIn[9], line 3\x1b[0m\n      1 eat = EdgeAiTrainer()\n----> 3 assert lrs == expected_lrs",
    "\x1b[0;31mAssertionError\x1b[0m: lr at epoch 20 is 0.01",
]


def _plot_png() -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5, 2.5), dpi=80)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.plot(range(40), [0.01] * 20 + [0.001] * 20)
    ax.set_title("learning rate")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return base64.b64encode(buffer.getvalue()).decode()


def executed_notebook(rng: random.Random, failing: set[str], png: str) -> nbformat.NotebookNode:
    nb = nbformat.read(REFERENCE, as_version=4)
    for count, cell in enumerate((c for c in nb.cells if c.cell_type == "code"), start=1):
        cell.execution_count = count
        cid = cell.get("id")
        if cid == "task1-test":
            cell.outputs = [new_output("stream", name="stdout", text="Data (seed=42): [3 7 1]\nLabels: [1 0 1]\n")]
        elif cid == "task1-coverage-experiment":
            cell.outputs = [new_output("display_data", data={"image/png": png, "text/plain": "<Figure>"})]
        elif cid == "fl-train":
            log = "\n".join(f"[INFO] round {r // 10} epoch {r % 10}: loss={2.5 - r / 100:.3f} acc={r / 150:.3f}"
                            for r in range(rng.randint(150, 400)))
            cell.outputs = [new_output("stream", name="stderr", text=log)]
        elif cid == "task3-test" and "task3_lr_schedule" in failing:
            cell.outputs = [new_output("error", ename="AssertionError", evalue="lr at epoch 20 is 0.01",
                                       traceback=TRACEBACK)]
    return nb


def _fill(text: str, values: dict[str, int]) -> str:
    for key, value in values.items():
        text = text.replace("{" + key + "}", str(value))
    return text


def synthetic_run(out_dir: Path, count: int, seed: int = 5) -> GradingRun:
    """`count` results and their executed notebooks under `out_dir/executed`."""
    rng = random.Random(seed)
    png = _plot_png()
    executed = out_dir / "executed"
    executed.mkdir(parents=True, exist_ok=True)
    run = GradingRun()
    for index in range(count):
        name = f"student_{index:03d}"
        timings = {"execute": rng.uniform(20, 70), "checks": rng.uniform(5, 25)}
        if index == 7:
            run.submissions.append(SubmissionResult.from_error(
                name, "0" * 64, f"{name}.ipynb is not valid JSON (line 1, column 1): the file is empty.",
                [CheckResult(cid, "error", 0.0, pts, feedback=f"{name}.ipynb is not valid JSON (line 1, column 1): "
                             "the file is empty.") for cid, pts, _, _ in CHECKS]))
            continue
        failing = {cid for cid, _, _, _ in CHECKS if rng.random() < 0.25}
        checks = []
        for cid, pts, cell, failures in CHECKS:
            if cid in failing:
                message, ce = rng.choice(failures)
                k, n = rng.randint(2, 60), rng.randint(4, 200)
                arrays = rng.randint(2, 6)
                fmt = {"k": k, "n": n, "h": n // 2, "a": arrays, "m": arrays - 1}
                if ce:
                    ce = Counterexample(_fill(ce.input, fmt), _fill(ce.expected, fmt), _fill(ce.actual, fmt))
                status = "error" if message.startswith("NameError") else "failed"
                props = []
                if cid == "task1_seeded_choice":
                    counted, unique = "arrays for" not in message, "replacement" not in message
                    props = [
                        SubProperty("returns one array per input", counted, "" if counted else "an array is missing"),
                        SubProperty("draws without replacement", unique, "" if unique else "an index was drawn twice"),
                        SubProperty("same indices in every array", True)]
                score = pts / 2 if props else 0.0
                checks.append(CheckResult(cid, status, score, pts, feedback=_fill(message, fmt), counterexample=ce,
                                          properties=props, cell_id=cell, seconds=rng.uniform(0.5, 4)))
            else:
                checks.append(CheckResult(cid, "passed", pts, pts, feedback="All examples hold.", cell_id=cell,
                                          seconds=rng.uniform(0.5, 4)))
        if index == 11:
            checks.append(CheckResult("notebook_runs", "failed", 0.0, 1.0, cell_id="fl-train",
                                      feedback="Cell 16 failed first (timed out after 120 s); 1 of 16 code cells "
                                               "did not run cleanly. Run the notebook top to bottom."))
            timings["execute"] = 121.0
        elif "task3_lr_schedule" in failing:
            checks.append(CheckResult("notebook_runs", "failed", 0.0, 1.0, cell_id="task3-test",
                                      feedback="Cell 9 failed first (AssertionError: lr at epoch 20 is 0.01); 1 of 16 "
                                               "code cells did not run cleanly. Run the notebook top to bottom."))
        else:
            checks.append(CheckResult("notebook_runs", "passed", 1.0, 1.0,
                                      feedback="All 16 code cells ran without error."))
        checks.append(CheckResult("fl_round", "skipped", 0.0, 0.0,
                                  feedback="The federated round is not run by this grader yet."))
        nbformat.write(executed_notebook(rng, failing, png), executed / f"{name}.ipynb")
        run.submissions.append(SubmissionResult(name, f"{index:064x}", checks=checks, timings=timings))
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=40)
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary output folder")
    args = parser.parse_args(argv)

    out = args.out or Path(tempfile.mkdtemp(prefix="render-bench-"))
    try:
        run = synthetic_run(out, args.submissions)
        began = time.perf_counter()
        from grader.render import html  # imports nbconvert, matplotlib, jinja2

        imported = time.perf_counter()
        html.write_reports(run, out)
        done = time.perf_counter()
        pages = sorted((out / "feedback").glob("*.html"))
        sizes = [p.stat().st_size for p in pages]
        report, summary = out / "report.html", out / "summary.json"
        print(f"submissions:            {len(run.submissions)}")
        print(f"import grader.render.html: {imported - began:6.2f} s")
        print(f"write_reports:          {done - imported:6.2f} s  "
              f"({(done - imported) / max(1, len(pages)) * 1000:.0f} ms per submission, all included)")
        print(f"feedback page size:     median {statistics.median(sizes) / 1024:.0f} KiB, "
              f"max {max(sizes) / 1024:.0f} KiB, total {sum(sizes) / 1024 / 1024:.1f} MiB")
        print(f"report.html:            {report.stat().st_size / 1024:.0f} KiB")
        print(f"summary.json:           {summary.stat().st_size / 1024:.0f} KiB")
        print(f"output:                 {out}" + ("" if args.keep or args.out else " (removed)"))
    finally:
        if args.out is None and not args.keep:
            shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
