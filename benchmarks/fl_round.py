"""How long does the `fl_round` check take, and where does the time go?

    python benchmarks/fl_round.py [--runs 3] [--notebook reference/exercise.ipynb] [--gpu|--cpu]

Runs the reference (or any notebook) as client A in N real rounds and prints, per round and as the
median, the wall time split into:

    startup              spawn -> first client connected: imports of all three processes, client
                         A's notebook cells, the wait for the aggregator, Plato's 5 s connect sleep
      aggregator_ready   (part of startup) spawn -> the aggregator's imports are done
    waiting_for_clients  first -> second client connected (the round starts)
    training             round start -> last upload (both clients: test, train, test, upload)
    aggregation          last upload -> aggregate recorded
    shutdown             aggregate -> every process of the round gone
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import nbformat  # noqa: E402

from grader.course import REFERENCE  # noqa: E402
from grader.federated import RoundSettings, run_round, verdict  # noqa: E402
from grader.options import add_arguments, from_arguments  # noqa: E402

PHASES = ("startup", "aggregator_ready", "waiting_for_clients", "training", "aggregation", "shutdown",
          "total")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--notebook", type=Path, default=REFERENCE)
    add_arguments(parser, ("start_round", "data_dir"))
    device = parser.add_mutually_exclusive_group()
    device.add_argument("--gpu", dest="cuda", action="store_true", default=None,
                        help="full data sizes (default: detect CUDA)")
    device.add_argument("--cpu", dest="cuda", action="store_false", help="small synthetic data")
    args = parser.parse_args(argv)

    nb = nbformat.read(args.notebook, as_version=4)
    settings = from_arguments(args, RoundSettings, cuda=args.cuda)
    rows = []
    print(f"{args.runs} round(s) of {args.notebook.name} on {'GPU' if settings.on_cuda else 'CPU'}, "
          f"round {settings.start_round}")
    print(f"{'run':>4}  {'status':<8}" + "".join(f"{p:>21}" for p in PHASES))
    for run in range(1, args.runs + 1):
        outcome = run_round(nb, settings)
        status = verdict(outcome, 1.0).status
        rows.append(outcome.timings)
        print(f"{run:>4}  {status:<8}" + "".join(_cell(outcome.timings.get(p)) for p in PHASES), flush=True)
    medians = {p: statistics.median(r[p] for r in rows if p in r) for p in PHASES if any(p in r for r in rows)}
    print(f"{'med':>4}  {'':<8}" + "".join(_cell(medians.get(p)) for p in PHASES))
    return 0


def _cell(value: float | None) -> str:
    return f"{'-' if value is None else f'{value:.1f} s':>21}"


if __name__ == "__main__":
    sys.exit(main())
