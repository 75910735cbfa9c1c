"""Run the course material INSIDE one stack (pinned or next) and print plain JSON.

Runs with that stack's python and imports nothing of the grader (which may not import there):

    python tools/next_stack_run.py versions DIST...        {"python": .., "versions": {dist: v|null},
                                                             "plato_dir": ..}
    python tools/next_stack_run.py cells NOTEBOOK [--timeout S]
        each code cell of NOTEBOOK (already prepared on the pinned side, tools/next_stack_prepare.py)
        in one fresh kernel of this python, top to bottom, whatever fails:
        {"cells": [{"index": i, "status": "ran"|"failed"|"timeout"|"not run", "error": line|null}]}
    python tools/next_stack_run.py grader NOTEBOOK      (the project root on PYTHONPATH)
        the grader's checks on NOTEBOOK graded in THIS stack, without the canary (which would stop
        at the first broken check) and without the federated round:
        {"status": .., "error": .., "checks": [{"id": .., "status": .., "summary": what it checks,
                                                 "error": line|null}]};
        when the grader does not import here, the process fails and the caller records why
    python tools/next_stack_run.py kit NOTEBOOK KAGGLE_INPUT [--timeout S]
        the self-check kit's terminal mode (edge_ai_w5_selfcheck on PYTHONPATH) on NOTEBOOK:
        {"passed": bool, "checks": [...]} as the kit reports them

The kernel inherits this process's environment and working directory (the caller sets the
student environment of the run). The JSON is the last line of stdout.
"""
from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import re
import sys
from pathlib import Path

GOOD = ("passed", "skipped")


def versions(dists: list[str]) -> dict:
    found = {}
    for dist in dists:
        try:
            found[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            found[dist] = None
    spec = importlib.util.find_spec("plato")  # finds the folder without importing Plato
    plato = list(spec.submodule_search_locations)[0] if spec and spec.submodule_search_locations else None
    return {"python": sys.version.split()[0], "versions": found, "plato_dir": plato}


def error_line(output: dict) -> str:
    """`Name: message` of an nbformat error output (the message's first line)."""
    message = str(output.get("evalue", "")).strip().splitlines()
    return f"{output.get('ename', 'Error')}: {message[0] if message else ''}".rstrip(": ")


_FRAME = re.compile(r"Cell In\[(\d+)\], line \d+")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def raised_in(output: dict, counts: dict[int, int]) -> int | None:
    """The index of the cell whose code raised: the innermost notebook frame of the traceback
    (a helper defined in an earlier cell raises there), mapped by execution count."""
    frames = _FRAME.findall(_ANSI.sub("", "\n".join(output.get("traceback", ()))))
    return counts.get(int(frames[-1])) if frames else None


def run_cells(path: str, timeout: int) -> dict:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, allow_errors=True, kernel_name="python3")
    cells: list[dict] = []
    counts: dict[int, int] = {}  # execution count -> cell index
    stopped = None
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            if stopped:
                cells.append({"index": index, "status": "not run", "error": stopped})
                continue
            try:
                client.execute_cell(cell, index)
            except CellTimeoutError:
                stopped = f"cell {index + 1} timed out"  # cells named from 1, as in the report
                cells.append({"index": index, "status": "timeout",
                              "error": f"TimeoutError: the cell ran past {timeout} s"})
                continue
            except DeadKernelError as exc:
                stopped = f"the kernel died in cell {index + 1}"
                cells.append({"index": index, "status": "failed",
                              "error": f"DeadKernelError: {str(exc).strip().splitlines()[0]}"})
                continue
            if cell.get("execution_count"):
                counts[cell["execution_count"]] = index
            errors = [o for o in cell.get("outputs", ()) if o.get("output_type") == "error"]
            cells.append({"index": index, "status": "failed" if errors else "ran",
                          "error": error_line(errors[0]) if errors else None})
            origin = raised_in(errors[0], counts) if errors else None
            if origin is not None and origin != index:
                cells[-1]["raised_in"] = origin
    return {"cells": cells}


def run_grader(path: str) -> dict:
    from grader.checks.registry import REGISTRY
    from grader.pipeline import Grader, Options

    summaries = {check.id: check.summary for check in REGISTRY}
    with Grader(Options(fl_round="off")) as grader:
        result = grader.grade(Path(path)).to_dict()
    return {"status": result["status"], "error": result["error"],
            "checks": [{"id": c["id"], "status": c["status"], "summary": summaries.get(c["id"], ""),
                        "error": None if c["status"] in GOOD else _first_problem(c, c["feedback"])}
                       for c in result["checks"]]}


def run_kit(path: str, kaggle_input: str, timeout: int) -> dict:
    from edge_ai_w5_selfcheck.terminal import run_notebook

    text, results = run_notebook(path, kaggle_input, timeout)
    checks = results.get("checks", [])
    return {"passed": results.get("passed"),
            "checks": [{"id": c["id"], "status": c["status"],
                        "error": None if c["status"] in GOOD else _first_problem(c, c.get("message"))}
                       for c in checks],
            "error": None if checks else (text.strip().splitlines() or ["no check reported"])[0]}


def _first_problem(check: dict, message: str | None) -> str:
    """A failed check's first failed property (`name: message`), else its message's first line."""
    failed = [f"{p['name']}: {p['message']}" for p in check.get("properties", ()) if not p["passed"]]
    text = failed[0] if failed else str(message or "").strip() or check["status"]
    return text.strip().splitlines()[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("versions").add_argument("dists", nargs="*")
    cells = sub.add_parser("cells")
    cells.add_argument("notebook")
    cells.add_argument("--timeout", type=int, default=600)
    sub.add_parser("grader").add_argument("notebook")
    kit = sub.add_parser("kit")
    kit.add_argument("notebook")
    kit.add_argument("kaggle_input")
    kit.add_argument("--timeout", type=int, default=600)
    args = parser.parse_args(argv)
    if args.command == "versions":
        result = versions(args.dists)
    elif args.command == "cells":
        result = run_cells(args.notebook, args.timeout)
    elif args.command == "grader":
        result = run_grader(args.notebook)
    else:
        result = run_kit(args.notebook, args.kaggle_input, args.timeout)
    print("\n" + json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
