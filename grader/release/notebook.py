"""The released notebook: the student template plus the self-check kit's cells.

`released_notebook(template, checks, wheel_name)` returns a copy of the template (which is left
untouched) with
- an install cell after the title: it imports the kit and, only where that fails, `%pip install`s
  the wheel shipped next to the notebook (or attached as a Kaggle dataset);
- after each task, a markdown cell saying what the self-check does and a code cell
  `check("<check id>")`, one pair per check of the registry, in the registry's order.

A check's cells go after the cell holding its solution region (the region's label is the check
id), or after the course's own test cell when that is the next code cell (it prints "Test
passed."), and after the markdown cells right below that show the expected output (no heading,
a fenced block). Every added cell has a fixed id (`selfcheck-...`) and metadata
`{"selfcheck": {"role": "install" | "check", "check": <id>}}`, so the result is a function of
the template and the registry only. Under the grader these cells run on the kit's
stand-in (`SkipSelfCheck`); it never relies on the metadata, which students' editors may drop.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

from nbformat.v4 import new_code_cell, new_markdown_cell

from grader.notebook.preprocessors.selfcheck_cells import KIT_PACKAGE

TEST_PASSED = 'print("Test passed.")'
INSTALL_ID = "selfcheck-install"


@dataclass(frozen=True)
class SelfCheck:
    """What the notebook says about one check (from the check registry)."""

    id: str
    title: str  # the graded definition as students know it
    summary: str  # what passing means, one sentence from the registry
    properties: tuple[str, ...]


def install_source(wheel_name: str) -> str:
    return f'''# Self-check kit ({KIT_PACKAGE}): does nothing where the kit is installed already; else it
# installs the wheel that came with this notebook (next to it, or attached as a Kaggle dataset).
# The grader does not run the kit (it grades with its own checks): there check(...) is a stand-in.
try:
    from {KIT_PACKAGE} import check
except ImportError:
    import glob
    import importlib
    _kit_wheels = glob.glob("{wheel_name}") + glob.glob("/kaggle/input/*/{wheel_name}")
    if _kit_wheels:
        %pip install --quiet {{_kit_wheels[0]}}
        importlib.invalidate_caches()
        from {KIT_PACKAGE} import check
    else:
        def check(*check_ids):
            print("The self-check kit is not installed: put {wheel_name} next to this "
                  "notebook (on Kaggle: attach it as a dataset) and run this cell again.")

        check()'''


def _install_cells(wheel_name: str) -> list:
    text = ("**Self-check.** The next cell installs the course's self-check kit, if needed. After "
            "each task a `check(...)` cell runs the grader's checks of that task in this kernel "
            "on public inputs and shows which property failed on which smallest input. It never "
            "shows the solutions; passing it does not guarantee full marks (the grader uses its "
            "own inputs and also runs the whole notebook). Details: README.md next to this notebook.")
    return [_cell(new_markdown_cell(text, id=f"{INSTALL_ID}-md"), "install"),
            _cell(new_code_cell(install_source(wheel_name), id=INSTALL_ID), "install")]


def _check_cells(check: SelfCheck) -> list:
    properties = ", ".join(p.replace("_", " ") for p in check.properties)
    text = (f"**Self-check `{check.id}`**: passes when {check.summary}. The next cell runs the "
            f"grader's check of `{check.title}` in this kernel, on the kit's public inputs, and "
            f"names each property that fails ({properties}) with the smallest input it fails on.")
    return [_cell(new_markdown_cell(text, id=f"selfcheck-{check.id}-md"), "check", check.id),
            _cell(new_code_cell(f'check("{check.id}")', id=f"selfcheck-{check.id}"), "check", check.id)]


def _cell(cell, role: str, check_id: str | None = None):
    cell.metadata["selfcheck"] = {"role": role, **({"check": check_id} if check_id else {})}
    return cell


def anchor(nb, index: int) -> int:
    """The index after which a task's self-check goes, its answer being in cell `index`."""
    cells = nb.cells
    following = next((i for i in range(index + 1, len(cells)) if cells[i].cell_type == "code"), None)
    if following is not None and TEST_PASSED in cells[following].source:
        index = following
    while (index + 1 < len(cells) and cells[index + 1].cell_type == "markdown"
           and not cells[index + 1].source.lstrip().startswith("#") and "```" in cells[index + 1].source):
        index += 1
    return index


def released_notebook(template, checks: list[SelfCheck], wheel_name: str, regions: dict[str, int]):
    """The template with the install cell and one self-check pair per check (see the module).
    `regions`: check id -> index of the cell that held its solution region (the template keeps
    the reference's cells, so the reference's indices)."""
    nb = copy.deepcopy(template)
    missing = [c.id for c in checks if c.id not in regions]
    if missing:
        raise ValueError(f"no solution region is labelled {missing} in the reference: the "
                         "self-check cells go after the task's answer")
    after: dict[int, list] = {}
    for check in checks:
        after.setdefault(anchor(nb, regions[check.id]), []).extend(_check_cells(check))
    cells = []
    for index, cell in enumerate(nb.cells):
        cells.append(cell)
        if index == 0:
            cells.extend(_install_cells(wheel_name))
        cells.extend(after.get(index, []))
    nb.cells = cells
    return nb
