"""What the properties added for real sizes and call patterns cost: CPU seconds per check.

For each check that gained a property (Task 1's notebook_sizes, Task 3's depends_on_round_only,
Task 4's same_for_every_payload and same_on_every_call), grade the reference's definitions with
and without that property and measure CPU time, the grader's and its worker processes' together
(RUSAGE_CHILDREN: fresh workers are reaped children), so a busy machine does not distort it.
Every run starts fresh workers, so each figure includes one worker's imports; the difference
between the two columns is the property's own cost. Usage: python benchmarks/exam_cost.py [RUNS]
"""
from __future__ import annotations

import dataclasses
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import nbformat  # noqa: E402

from grader.checks.rundirs import temporary_run_dirs  # noqa: E402
from grader.course import REFERENCE  # noqa: E402
from grader.checks.runner import RunnerOptions, run_check  # noqa: E402
from grader.environment.layout import SITE_DIR  # noqa: E402
from grader.sandbox.hosts import FreshHost  # noqa: E402
from grader.checks.task1 import SEEDED_CHOICE  # noqa: E402
from grader.checks.task3 import LR_SCHEDULE  # noqa: E402
from grader.checks.task4 import EXTRA_TEST, LOAD_PAYLOAD  # noqa: E402
from grader.environment import data as cifar  # noqa: E402
from grader.notebook.extract import Definitions  # noqa: E402

NEW = {SEEDED_CHOICE.id: "notebook_sizes", LR_SCHEDULE.id: "depends_on_round_only",
       LOAD_PAYLOAD.id: "same_for_every_payload", EXTRA_TEST.id: "same_on_every_call"}


def cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure(spec, reference, factory, options) -> float:
    host = FreshHost(SITE_DIR, options.limits)
    began = cpu_seconds()
    result = run_check(spec, reference, reference, points=1.0, host=host, run_dir_factory=factory,
                       options=options)
    spent = cpu_seconds() - began
    assert result.status == "passed", result.feedback
    return spent


def main(runs: int = 3) -> None:
    reference = Definitions.from_notebook(nbformat.read(REFERENCE, 4))
    options = RunnerOptions(fork_server=False)
    data_dir = cifar.synthetic_dir(8, 4)
    print(f"CPU seconds per check on the reference (min of {runs} runs, fresh workers)")
    print(f"{'check':22} {'new property':24} {'without':>8} {'with':>8} {'added':>8}")
    with temporary_run_dirs(data_dir=data_dir) as factory:
        for spec in (SEEDED_CHOICE, LR_SCHEDULE, LOAD_PAYLOAD, EXTRA_TEST):
            without = dataclasses.replace(
                spec, properties=tuple(p for p in spec.properties if p.name != NEW[spec.id]))
            measure(spec, reference, factory, options)  # exams recorded, caches warm
            low = min(measure(without, reference, factory, options) for _ in range(runs))
            high = min(measure(spec, reference, factory, options) for _ in range(runs))
            print(f"{spec.id:22} {NEW[spec.id]:24} {low:8.2f} {high:8.2f} {high - low:8.2f}")


if __name__ == "__main__":
    started = time.monotonic()
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
    print(f"({time.monotonic() - started:.0f} s)")
