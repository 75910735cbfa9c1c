"""Rewrite the reference's solutions in an unusual style, so the leak test is not tuned to today's text.

`restyle_reference(src, dst)` writes a copy of the reference notebook whose every solution region
says the same thing differently: the variables it binds renamed (those it does not share with the
rest of its cell), re-printed by `ast.unparse` (other quotes, spacing, parentheses), spaces
around every attribute dot, a backslash line continuation after every comma and division, and
comment lines between statements.
"""
from __future__ import annotations

import ast
import re
import textwrap
from pathlib import Path

import nbformat

from grader.notebook.markers import solution_regions


_ATTRIBUTE = re.compile(r"(?<=[A-Za-z_0-9)\]])\.(?=[A-Za-z_])")


class _Rename(ast.NodeTransformer):
    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    def visit_Name(self, node: ast.Name) -> ast.AST:
        node.id = self.names.get(node.id, node.id)
        return node


def _bound_here(tree: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def restyle(code: str, indent: str, rest_of_cell: str) -> str:
    """`code` (a region's lines, markers excluded) in the unusual style, at `indent`."""
    tree = ast.parse(textwrap.dedent(code))
    outside = set(re.findall(r"\w+", rest_of_cell))
    names = {name: f"q_{name[::-1]}_{i}" for i, name in enumerate(sorted(_bound_here(tree) - outside))}
    tree = _Rename(names).visit(tree)
    lines = []
    for stmt in tree.body:
        lines.append("# (a comment the reference does not have)")
        text = _ATTRIBUTE.sub(" . ", ast.unparse(stmt))
        text = text.replace(", ", " , \\\n        ").replace(" / ", " / \\\n        ")
        lines.extend(text.splitlines())
        lines.append("")
    return "\n".join(indent + line if line else "" for line in lines)


def restyle_reference(src: Path, dst: Path) -> list[tuple[str, str, str]]:
    """Write the restyled reference to `dst`; returns (label, original code, restyled code)."""
    nb = nbformat.read(Path(src), as_version=4)
    changed = []
    for region in reversed(solution_regions(nb)):
        cell = nb.cells[region.cell_index]
        lines = cell.source.split("\n")
        original = "\n".join(lines[region.start:region.end - 1])
        rest = "\n".join(lines[:region.start - 1] + lines[region.end:])
        new = restyle(original, region.indent, rest)
        lines[region.start:region.end - 1] = new.split("\n")
        cell.source = "\n".join(lines)
        changed.append((region.label, original, new))
    nbformat.write(nb, Path(dst))
    return changed[::-1]
