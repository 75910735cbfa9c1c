"""The two clients' programs: the submission's notebook (A) and the reference notebook (B).

Both are sanitized for the round (`federated=True` keeps `fl.train()`), cut after the last cell
that joins the federation, and get one grader cell just before it that waits until the round's
aggregator accepts connections: socket.io's first connection attempt is not retried, and the
aggregator's imports may take longer than a client's on a busy machine.
"""
from __future__ import annotations

import copy
from pathlib import Path

import nbformat

from ..notebook.markers import solution_regions
from ..notebook.preprocessors import sanitize
from ..notebook.preprocessors.base import GRADER_TAG
from ..notebook.preprocessors.federated_cell import federated_names, is_federated_cell

SEED_REGION = "task1_random_seed"
WAIT_SECONDS = 120

WAIT_FOR_AGGREGATOR = f"""\
# {GRADER_TAG} not part of the course: wait until the round's aggregator accepts connections
import os as _grader_os, socket as _grader_socket, time as _grader_time
_grader_until = _grader_time.monotonic() + {WAIT_SECONDS}
while True:
    try:
        _grader_socket.create_connection((_grader_os.environ["GRADER_AGG_IP"],
                                          int(_grader_os.environ["GRADER_AGG_PORT"])), timeout=2).close()
        break
    except OSError:
        if _grader_time.monotonic() > _grader_until:
            raise
        _grader_time.sleep(0.2)
del _grader_os, _grader_socket, _grader_time, _grader_until
"""


class NoFederatedCell(ValueError):
    """The notebook has no cell that builds `FederatedLearningV2(...)` and calls `.train()`."""


def federated_cell_index(nb: nbformat.NotebookNode) -> int:
    """Index of the last code cell that joins the federation (raises `NoFederatedCell`)."""
    names = federated_names(cell.source for cell in nb.cells if cell.cell_type == "code")
    found = [i for i, cell in enumerate(nb.cells)
             if cell.cell_type == "code" and is_federated_cell(cell.source, names)]
    if not found:
        raise NoFederatedCell("no cell builds FederatedLearningV2(...) and calls .train() on it, "
                              "so the notebook never joins the federation")
    return found[-1]


def round_notebook(nb: nbformat.NotebookNode, run_root: Path) -> tuple[nbformat.NotebookNode, int]:
    """Client A's notebook: sanitized, cut after the federated cell, with the wait cell before it.

    Returns the notebook and the index of the federated cell in it.
    """
    clean = sanitize(nb, run_root, federated=True)
    last = federated_cell_index(clean)
    cells = clean.cells[:last]
    wait = nbformat.v4.new_code_cell(WAIT_FOR_AGGREGATOR)
    wait.metadata["tags"] = ["grader"]
    wait.id = "grader-wait-for-aggregator"
    clean.cells = [*cells, wait, clean.cells[last]]
    return clean, len(cells) + 1


def with_seed(reference: nbformat.NotebookNode, seed: int) -> nbformat.NotebookNode:
    """The reference notebook with its `MY_RANDOM_SEED` answer replaced by `seed`."""
    nb = copy.deepcopy(reference)
    region = next((r for r in solution_regions(nb) if r.label == SEED_REGION), None)
    if region is None:
        raise ValueError(f"the reference notebook has no solution region {SEED_REGION!r}")
    cell = nb.cells[region.cell_index]
    lines = cell.source.split("\n")
    lines[region.start - 1:region.end] = [f"{region.indent}MY_RANDOM_SEED = {int(seed)}"]
    cell.source = "\n".join(lines)
    return nb


def reference_cells(reference: nbformat.NotebookNode, run_root: Path, seed: int) -> list[dict[str, str]]:
    """Client B's program: the reference's cells as plain Python for `sidecar/run_cells.py`."""
    from IPython.core.inputtransformer2 import TransformerManager

    nb, _ = round_notebook(with_seed(reference, seed), run_root)
    transform = TransformerManager().transform_cell
    return [{"id": cell.get("id") or f"cell-{index}", "source": transform(cell.source)}
            for index, cell in enumerate(nb.cells) if cell.cell_type == "code"]
