"""Why a name the checks need is missing from a live Jupyter kernel, read from the kernel's own
input history (IPython's `In`), as the terminal mode says it from the cells it ran:

* no cell run so far binds the name: it failed, and the sentence says to run the notebook first;
* the latest cell that binds it ran but the name is not there, so that cell stopped before it:
  - where the course inputs are not here (no `/kaggle/input`), "not checked", with what to do,
    as the terminal mode says it (the kernel keeps no record of which cell raised what, so the
    sentence also says what to do if the cell failed for another reason);
  - else it failed, naming that cell.

Standard library only; `bound_names` parses each cell as IPython transformed it."""
from __future__ import annotations

from typing import Iterable

from edge_ai_w5_selfcheck.terminal import KAGGLE_INPUT, LAYOUT, bound_names, inputs_missing

WHAT_TO_DO = ("attach the course datasets (on Kaggle), or check from a terminal with "
              f"`python -m edge_ai_w5_selfcheck NOTEBOOK.ipynb --data DIR` (DIR: {LAYOUT})")


def inputs_here() -> bool:
    return not inputs_missing(None)


def history(ns: dict) -> list[str]:
    """The kernel's input history, `In[n]` being the cell Jupyter shows as `[n]`; empty outside
    IPython."""
    cells = ns.get("In")
    if not isinstance(cells, list) or not all(isinstance(c, str) for c in cells):
        return []
    return cells


def _last_binding(bindings: list[set], name: str) -> int:
    """The execution count of the latest cell that binds `name` (`bindings`: the names each
    cell of the history binds), or 0."""
    return next((count for count in range(len(bindings) - 1, 0, -1) if name in bindings[count]),
                0)


def reasons(ns: dict, needed: Iterable[str], inputs: bool) -> tuple[dict, dict, str]:
    """(name -> why it is not checked, name -> why it failed, a note for the top) for the names
    in `needed` that `ns` lacks; all empty where `ns` has no input history."""
    cells = history(ns)
    unchecked: dict = {}
    failed: dict = {}
    if not cells:
        return unchecked, failed, ""
    missing = list(dict.fromkeys(n for n in needed if n not in ns))
    bindings = [bound_names(cell) for cell in cells] if missing else []  # each cell parsed once
    for name in missing:
        count = _last_binding(bindings, name)
        if not count:
            failed[name] = (f"`{name}` is not defined in this kernel: no cell run so far defines "
                            "it. Run the notebook from the top (Run All), then check() again; "
                            "the grader fails this check if the notebook does not define it.")
        elif not inputs:
            unchecked[name] = (f"the cell that defines `{name}` (the cell run as [{count}]) ran "
                               f"but did not define it, most likely because the course inputs "
                               f"are not here ({KAGGLE_INPUT} does not exist): {WHAT_TO_DO}. If that "
                               "cell failed for another reason, fix it: the grader runs it too")
        else:
            failed[name] = (f"`{name}` is not defined: the cell that defines it (the cell run as "
                            f"[{count}]) ran but stopped before defining it. Fix that cell "
                            "first (see its error); the grader runs it too.")
    note = ""
    if unchecked:
        note = (f"The course inputs were not found ({KAGGLE_INPUT} does not exist here): what "
                f"needs them is not checked: {WHAT_TO_DO}.")
    return unchecked, failed, note
