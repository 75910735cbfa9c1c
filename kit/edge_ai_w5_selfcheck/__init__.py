"""Self-check for week 5 of "Applied Edge AI" (federated learning), in your own kernel.

    from edge_ai_w5_selfcheck import check
    check()                        # every task, against what your kernel defines
    check("task3_lr_schedule")     # one check

The checks, their properties and inputs come from the course's grader (a public exam with sealed
answers: no solution is inside). Grading uses its own, larger exam.
"""
from __future__ import annotations

import sys
from typing import Any, Optional

from edge_ai_w5_selfcheck import exam, history
from edge_ai_w5_selfcheck.checking import WALL_LIMIT, run_checks
from edge_ai_w5_selfcheck.results import CheckResult, PropertyResult, Results

__all__ = ["check", "Results", "CheckResult", "PropertyResult"]
__version__ = "0.1.0"


def _kernel_namespace() -> dict:
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:
        shell = None
    if shell is not None:
        return shell.user_ns
    return vars(sys.modules["__main__"])


def _display(results: Results) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import display

        shell = get_ipython()
        if shell is not None and "IPKernelApp" in shell.config:
            display(results)
            # the same cell's `check()` as its last expression would show the table again
            results.mark_shown(shell.execution_count)
            return
    except ImportError:
        pass
    print(results)


def check(*ids: str, namespace: Optional[dict] = None, show: bool = True,
          data_file: Optional[Any] = None, wall_limit: float = WALL_LIMIT,
          why_missing: Optional[dict] = None, note: str = "",
          cell_failed: Optional[dict] = None) -> Results:
    """Check the tasks (all, or the check ids given) against `namespace` (default: the running
    kernel's). Shows a table (HTML in Jupyter) and returns the Results (`.passed`). A check
    whose calls take more than `wall_limit` seconds is stopped and fails. `why_missing` and
    `cell_failed` (name -> reason) and `note` are the terminal mode's: why a definition is
    missing (not checked, or failed), what it could not use; without them, in a Jupyter kernel,
    they come from the kernel's input history (`history.py`)."""
    data = exam.load(data_file)
    ns = _kernel_namespace() if namespace is None else namespace
    if why_missing is None and cell_failed is None:  # in the student's kernel: from its history
        needed = (name for meta in data["checks"] if not ids or meta["id"] in ids
                  for name in meta["needs"])
        why_missing, cell_failed, found = history.reasons(ns, needed, history.inputs_here())
        note = "\n".join(filter(None, (note, found)))
    results = Results(tuple(run_checks(ns, data, set(ids) if ids else None, why_missing,
                                       wall_limit, cell_failed)), tuple(data["differences"]), note)
    if show:
        _display(results)
    return results
