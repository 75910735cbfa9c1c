"""Terminal mode: run a notebook in a fresh kernel of this environment, then check it there.

The notebook runs as the grader runs it: `/kaggle/input` paths point at `--data DIR` (a folder
laid out like Kaggle's inputs: `cifar100/`, `kubeedge-sedna/lib/`; default: `/kaggle/input`
itself), `!pip`/`%pip` lines are skipped (the environment is what it is), the federated round
(`fl.train()`) is not started, and the kit's own install and check cells are skipped. A cell that
fails does not stop the run (its definitions are what the check then reports missing).
Needs the `[run]` extra (nbclient, nbformat, ipykernel).
"""
from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Optional

KAGGLE_INPUT = "/kaggle/input"
MARK = "@@edge_ai_w5_selfcheck@@"
_SHELL = re.compile(r"^\s*[!%]{1,2}\s*pip\b.*$", re.MULTILINE)
_ROUND = re.compile(r"^(\s*)((\w+)\.train\(\s*\)\s*)$", re.MULTILINE)
# As the grader decides: a `.train()` in a cell that builds a FederatedLearningV2, or on a name
# some cell binds to one, starts the federated round.
_BUILDS_FL = re.compile(r"\bFederatedLearningV2\s*\(")
_FL_NAME = re.compile(r"^\s*(\w+)\s*=\s*(?:\w+\.)*FederatedLearningV2\s*\(", re.MULTILINE)
_KIT = re.compile(r"edge_ai_w5_selfcheck")


def federated_names(sources) -> frozenset:
    return frozenset(name for source in sources for name in _FL_NAME.findall(source))


def prepared_source(source: str, data_dir: Optional[str],
                    fl_names: frozenset = frozenset()) -> Optional[str]:
    """The cell as the kit runs it, or None to skip it."""
    if _KIT.search(source):
        return None
    if data_dir:
        source = source.replace(KAGGLE_INPUT, str(data_dir).rstrip("/"))
    source = _SHELL.sub(lambda m: "# (skipped by the self-check) " + m.group(0).strip(), source)
    builds = bool(_BUILDS_FL.search(source))

    def skip(match) -> str:
        if not (builds or match.group(3) in fl_names):
            return match.group(0)
        return (f"{match.group(1)}pass  # (the self-check does not start the federated round) "
                f"{match.group(2).strip()}")

    return _ROUND.sub(skip, source)


def check_source(ids=()) -> str:
    args = ", ".join(repr(i) for i in ids)
    return ("import json as _kit_json\nfrom edge_ai_w5_selfcheck import check as _kit_check\n"
            f"_kit_results = _kit_check({args}{', ' if args else ''}show=False)\n"
            f"print(str(_kit_results))\n"
            f"print({MARK!r} + _kit_json.dumps(_kit_results.to_dict()))\n")


def _outputs_text(cell) -> str:
    return "".join(out.get("text", "") for out in cell.get("outputs", ())
                   if out.get("output_type") == "stream")


def run_notebook(path: Path, data_dir: Optional[str] = None, timeout: int = 600,
                 ids=(), kernel_name: str = "python3") -> tuple[str, dict]:
    """(the check's text, its results as a dict) after running `path` in a fresh kernel, in a
    temporary working directory (what the notebook writes stays out of the student's folder)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(str(path), as_version=4)
    cells = []
    names = federated_names(c.source for c in nb.cells if c.cell_type == "code")
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        source = prepared_source(cell.source, data_dir, names)
        if source is not None:
            cells.append(nbformat.v4.new_code_cell(source))
    cells.append(nbformat.v4.new_code_cell(check_source(ids)))
    run = nbformat.v4.new_notebook(cells=cells, metadata=nb.metadata)
    with tempfile.TemporaryDirectory(prefix="selfcheck-") as work:
        client = NotebookClient(run, timeout=timeout, allow_errors=True, kernel_name=kernel_name,
                                resources={"metadata": {"path": work}})
        client.execute()
    return parse(_outputs_text(run.cells[-1]), run.cells[-1])


def parse(text: str, cell=None) -> tuple[str, dict]:
    for line in text.splitlines():
        if line.startswith(MARK):
            return text.replace(line, "").rstrip(), json.loads(line[len(MARK):])
    errors = [out for out in (cell or {}).get("outputs", ()) if out.get("output_type") == "error"]
    reason = (f"{errors[0]['ename']}: {errors[0]['evalue']}" if errors
              else "the check printed nothing")
    return f"The self-check could not run in the notebook's kernel ({reason}).", {"passed": False,
                                                                                  "checks": []}

