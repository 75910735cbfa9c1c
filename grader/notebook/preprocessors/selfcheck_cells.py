"""Skip the student self-check kit's statements: the grader checks the notebook itself.

The released notebook (`grader release`) has an install cell at the top (import the kit, else
`%pip install` its wheel) and a `check("<check id>")` cell after each task. Under the grader the
kit is not installed (and must not be: student processes are offline), so these statements would
fail and cost the student `notebook_runs`. This preprocessor runs FIRST in the sanitize chain and
replaces, in every code cell, each statement that belongs to the kit by `pass`:

- an import of the kit (`import edge_ai_w5_selfcheck`, `from edge_ai_w5_selfcheck import check`);
- a `try` statement that imports the kit (the install cell's whole try/except);
- a simple statement that calls the kit: a name imported from it anywhere in the notebook, an
  attribute of the imported module, or `check(...)` with no argument or a check id as its first
  argument (the released cells' own spelling, also when the student deleted the install cell).

Statements are found with the AST of the cell as IPython runs it, also inside `if`/`for`/`with`/
`try` blocks, so a student's own code in the same cell still runs. The cell keeps its line count
(a replaced statement becomes `pass` plus comment lines), so tracebacks keep their line numbers.
A cell that does not parse is left alone (the kernel reports it as it would anyway).
"""
from __future__ import annotations

import ast
import re
from typing import Iterable, Iterator

from .base import GRADER_TAG, SourcePreprocessor

KIT_PACKAGE = "edge_ai_w5_selfcheck"
_CHECK_ID = re.compile(r"^(task\d+[a-z]?_\w+|notebook_runs|fl_round)$")
_BLOCK_FIELDS = ("body", "orelse", "finalbody", "handlers")


def _python(source: str) -> str:
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def _parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(_python(source))
    except (SyntaxError, ValueError):
        return None


def _is_kit_module(name: str | None) -> bool:
    return bool(name) and (name == KIT_PACKAGE or name.startswith(KIT_PACKAGE + "."))


def _imports_kit(node: ast.AST) -> bool:
    if isinstance(node, ast.ImportFrom):
        return _is_kit_module(node.module)
    return isinstance(node, ast.Import) and any(_is_kit_module(a.name) for a in node.names)


def kit_names(sources: Iterable[str]) -> frozenset[str]:
    """The names the notebook's cells bind by importing the kit (anywhere in a cell)."""
    names: set[str] = set()
    for source in sources:
        tree = _parse(source)
        for node in ast.walk(tree) if tree else ():
            if isinstance(node, ast.ImportFrom) and _is_kit_module(node.module):
                names.update(a.asname or a.name for a in node.names)
            elif isinstance(node, ast.Import):
                names.update((a.asname or a.name).split(".")[0] for a in node.names
                             if _is_kit_module(a.name))
    return frozenset(names)


def _calls_kit(node: ast.AST, names: frozenset[str]) -> bool:
    for call in ast.walk(node):
        if not isinstance(call, ast.Call):
            continue
        func = call.func
        while isinstance(func, ast.Attribute):
            func = func.value
        if isinstance(func, ast.Name) and func.id in names:
            return True
        if isinstance(call.func, ast.Name) and call.func.id == "check":  # the released spelling
            first = call.args[0] if call.args else None
            if first is None or (isinstance(first, ast.Constant) and isinstance(first.value, str)
                                 and _CHECK_ID.match(first.value)):
                return True
    return False


def _header_calls_kit(stmt: ast.stmt, names: frozenset[str]) -> bool:
    """Does the statement's own header (an `if`'s test, a `for`'s iterable, ...) call the kit?"""
    return any(_calls_kit(value, names) for field, value in ast.iter_fields(stmt)
               if field not in _BLOCK_FIELDS and isinstance(value, ast.AST))


def _kit_statements(body: list[ast.stmt], names: frozenset[str]) -> Iterator[ast.stmt]:
    for stmt in body:
        blocks = [getattr(stmt, f) for f in _BLOCK_FIELDS if isinstance(getattr(stmt, f, None), list)]
        if _imports_kit(stmt) or (isinstance(stmt, (ast.Try, ast.TryStar))
                                  and any(_imports_kit(n) for n in ast.walk(stmt))):
            yield stmt
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue  # a definition runs nothing; calling it is a statement found elsewhere
        elif blocks and not _header_calls_kit(stmt, names):
            for block in blocks:
                for child in block:
                    yield from _kit_statements(child.body if isinstance(child, ast.ExceptHandler)
                                               else [child], names)
        elif _calls_kit(stmt, names):
            yield stmt


def skip_kit_statements(source: str, names: frozenset[str] = frozenset()) -> str:
    """`source` with every statement of the self-check kit replaced by `pass` (see the module)."""
    if "check" not in source and KIT_PACKAGE not in source and not any(n in source for n in names):
        return source
    tree = _parse(source)
    if tree is None:
        return source
    lines, python = source.split("\n"), _python(source).split("\n")
    found = sorted(_kit_statements(tree.body, names), key=lambda s: (s.lineno, s.col_offset),
                   reverse=True)
    for stmt in found:
        first, last = stmt.lineno - 1, (stmt.end_lineno or stmt.lineno) - 1
        if last >= len(lines):  # the transformed cell has more lines than the source: leave it
            continue
        original = lines[first]
        segment = slice(stmt.col_offset, stmt.end_col_offset)
        if (first == last and original.isascii() and first < len(python)
                and original[segment] == python[first][segment]):
            rest = original[stmt.end_col_offset:]  # `x = 1; check("task1_...")` keeps `x = 1`
            lines[first] = original[:stmt.col_offset] + "pass" + rest
            if not rest.strip():
                lines[first] += f"  # {GRADER_TAG} self-check skipped: {original[segment]}"
            continue
        indent = original[: len(original) - len(original.lstrip())]
        lines[first:last + 1] = ([f"{indent}pass  # {GRADER_TAG} self-check skipped: {original.strip()}"]
                                 + [f"{indent}# {GRADER_TAG} (skipped)"] * (last - first))
    return "\n".join(lines)


class SkipSelfCheck(SourcePreprocessor):
    def preprocess(self, nb, resources):
        self._names = kit_names(c.source for c in nb.cells if c.cell_type == "code")
        return super().preprocess(nb, resources)

    def rewrite(self, source: str) -> str:
        return skip_kit_statements(source, getattr(self, "_names", frozenset()))
