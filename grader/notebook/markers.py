"""Solution markers in the reference notebook, and `strip`, which turns it into the student template.

Marker syntax (code cells only), each marker alone on its line:

    # BEGIN SOLUTION task2_partition
        ...the reference answer...
    # END SOLUTION

The label after `BEGIN SOLUTION` is required and names the region: `task<N>[letter]` optionally
followed by `_words` (the reference uses the check ids, e.g. `task4a_load_payload`). A label is
explicit, so the task a region belongs to never depends on guessing from the surrounding code, and
it must be unique in the notebook. Regions cannot nest.

`strip` replaces every region, markers included, by one line at the BEGIN marker's indentation,

    raise NotImplementedError("Task 2: implement CIFAR100Partition.__init__ (see the TODO above)")

so a template cell still compiles and an unanswered task fails loudly instead of silently
returning None. The task name comes from the label, the "what" from the enclosing `def`/`class`
(or, at top level, from the names the answer binds). Outputs and execution counts are cleared,
cell ids kept, and the bytes written are a function of the input only.
"""
from __future__ import annotations

import ast
import copy
import json
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import nbformat

_MARKER_LIKE = re.compile(r"^\s*#\s*(BEGIN|END)\s*SOLUTION", re.IGNORECASE)
_BEGIN = re.compile(r"^(?P<indent>[ \t]*)# BEGIN SOLUTION(?:[ \t]+(?P<label>\S+))?[ \t]*$")
_END = re.compile(r"^(?P<indent>[ \t]*)# END SOLUTION[ \t]*$")
_LABEL = re.compile(r"^task(?P<task>\d+[a-z]?)(?:_\w+)?$")
_SCOPE = re.compile(r"^[ \t]*(?:async[ \t]+)?(?:def|class)[ \t]+(?P<name>\w+)")


class MarkerError(ValueError):
    """The solution markers of a notebook are malformed; the message names the cell and line."""


@dataclass(frozen=True)
class SolutionRegion:
    """One answer in the reference: where it is and what replaces it in the template.

    `start` and `end` are the 1-based line numbers, within the cell source, of the BEGIN and END
    marker lines (inclusive). `cell_id` is the cell's id, or `#<index>` when it has none.
    """

    cell_index: int
    cell_id: str
    label: str
    task: str
    start: int
    end: int
    indent: str
    placeholder: str


def solution_regions(nb) -> list[SolutionRegion]:
    """Every solution region of the notebook, in notebook order; raises `MarkerError` if malformed."""
    regions: list[SolutionRegion] = []
    seen: dict[str, str] = {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for region in _cell_regions(index, cell):
            if region.label in seen:
                raise MarkerError(
                    f"cell {region.cell_id!r}, line {region.start}: label {region.label!r} is "
                    f"already used in cell {seen[region.label]!r}; give each region its own label"
                )
            seen[region.label] = region.cell_id
            regions.append(region)
    return regions


def strip_notebook(nb):
    """Return the student template of `nb` (which is left unchanged): answers out, outputs cleared."""
    regions = solution_regions(nb)
    template = copy.deepcopy(nb)
    for region in reversed(regions):  # back to front, so earlier line numbers stay valid
        cell = template.cells[region.cell_index]
        lines = cell.source.split("\n")
        lines[region.start - 1 : region.end] = [region.placeholder]
        cell.source = "\n".join(lines)
    for cell in template.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return template


def strip_file(reference: Path, template: Path) -> None:
    """Write the student template of the notebook file `reference` to `template`."""
    nb = nbformat.read(Path(reference), as_version=4)
    Path(template).write_bytes(dumps_notebook(strip_notebook(nb)).encode("utf-8"))


def dumps_notebook(nb) -> str:
    """Validated nbformat 4 JSON with a fixed layout and a trailing newline, for byte-stable files."""
    nbformat.validate(nb)
    return nbformat.writes(nb, version=4, indent=1).rstrip("\n") + "\n"


def _cell_regions(index: int, cell) -> list[SolutionRegion]:
    name = cell.get("id") or f"#{index}"
    lines = cell.source.split("\n")
    regions: list[SolutionRegion] = []
    open_at: tuple[int, re.Match] | None = None
    for number, line in enumerate(lines, start=1):
        if not _MARKER_LIKE.match(line):
            continue
        where = f"cell {name!r}, line {number}"
        begin, end = _BEGIN.match(line), _END.match(line)
        if begin:
            if open_at:
                raise MarkerError(
                    f"{where}: '# BEGIN SOLUTION' inside the region opened at line {open_at[0]}; "
                    "regions cannot nest, close it with '# END SOLUTION' first"
                )
            label = begin["label"]
            if not label or not _LABEL.match(label):
                raise MarkerError(
                    f"{where}: expected '# BEGIN SOLUTION <label>' with a label like "
                    f"'task2_partition', found {line.strip()!r}"
                )
            open_at = (number, begin)
        elif end:
            if not open_at:
                raise MarkerError(f"{where}: '# END SOLUTION' without a '# BEGIN SOLUTION' before it")
            start, begin = open_at
            regions.append(_region(index, name, lines, start, number, begin))
            open_at = None
        else:
            raise MarkerError(
                f"{where}: malformed marker {line.strip()!r}; write '# BEGIN SOLUTION <label>' "
                "or '# END SOLUTION' exactly"
            )
    if open_at:
        raise MarkerError(
            f"cell {name!r}, line {open_at[0]}: '# BEGIN SOLUTION' is never closed by '# END SOLUTION'"
        )
    return regions


def _region(index: int, name: str, lines: list[str], start: int, end: int, begin: re.Match) -> SolutionRegion:
    label, indent = begin["label"], begin["indent"]
    task = "Task " + _LABEL.match(label)["task"]
    scope = _enclosing_scope(lines[: start - 1], len(indent))
    if scope:
        what = f"implement {scope}"
    else:
        names = _bound_names(lines[start : end - 1])
        what = f"set {', '.join(names)}" if names else "write your answer here"
    message = f"{task}: {what} (see the TODO above)"
    placeholder = f"{indent}raise NotImplementedError({json.dumps(message)})"
    return SolutionRegion(index, name, label, task, start, end, indent, placeholder)


def _enclosing_scope(above: list[str], indent: int) -> str:
    """Dotted name of the `def`/`class` blocks around a line indented by `indent` ('' at top level)."""
    names: list[str] = []
    for line in reversed(above):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        width = len(line) - len(line.lstrip())
        if width < indent:
            scope = _SCOPE.match(line)
            if scope:
                names.insert(0, scope["name"])
            indent = width
            if indent == 0:
                break
    return ".".join(names)


def _bound_names(body: list[str]) -> list[str]:
    """Top-level names an answer assigns or defines, in order ([] if it does not parse)."""
    try:
        tree = ast.parse(textwrap.dedent("\n".join(body)))
    except SyntaxError:
        return []
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            targets = [node.name]
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            nodes = node.targets if isinstance(node, ast.Assign) else [node.target]
            targets = [n.id for t in nodes for n in ast.walk(t) if isinstance(n, ast.Name)]
        else:
            continue
        names.extend(t for t in targets if t not in names)
    return names
