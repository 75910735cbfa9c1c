"""Bind a stand-in for the student self-check kit: the grader checks the notebook itself.

The released notebook (`grader release`) has an install cell at the top (import the kit, else
`%pip install` its wheel) and a `check("<check id>")` cell after each task, and the students'
README documents using what `check` returns (`results = check()` then `assert results.passed`,
`print(r)`, `r["task3_lr_schedule"].passed`). Under the grader the kit is not installed (and
must not be: student processes are offline) and must not run, yet none of these uses may cost
the student `notebook_runs`. This preprocessor runs FIRST in the sanitize chain and, in every
code cell:

- replaces each import of the kit (`import edge_ai_w5_selfcheck as kit`, `from
  edge_ai_w5_selfcheck import check`), and each `try` statement that imports it (the install
  cell's whole try/except, `%pip` included), by ONE line that registers the kit's stand-in
  (`grader/portable/standin.py`: its `check` checks nothing and returns a result that passes and
  says it was not run) and then runs the kit's imports as written; so every later use of the
  names the kit binds runs as documented;
- replaces by `pass` a statement calling `check(...)` with no argument or a check id as its first
  argument (the released cells' own spelling) where no cell imports `check` from the kit (the
  student deleted the install cell: the call would fail in their kernel too, not only here).

Statements are found with the AST of the cell as IPython runs it, also inside `if`/`for`/`with`/
`try` blocks, so a student's own code in the same cell still runs. The cell keeps its line count
(a replaced statement becomes one line plus comment lines), so tracebacks keep their line
numbers. A cell that does not parse is left alone (the kernel reports it as it would anyway).
`uses_kit(nb)` tells the pipeline to say in the feedback that the kit's cells ran on the stand-in.
"""
from __future__ import annotations

import ast
import re
from functools import lru_cache
from typing import Iterable, Iterator

from grader.portable import standin

from .base import GRADER_TAG, SourcePreprocessor

KIT_PACKAGE = "edge_ai_w5_selfcheck"
_CHECK_ID = re.compile(r"^(task\d+[a-z]?_\w+|notebook_runs|fl_round)$")
_BLOCK_FIELDS = ("body", "orelse", "finalbody", "handlers")
_VERB = {True: "skipped", False: "stand-in"}


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


def _released_check(call: ast.Call) -> bool:
    """`check()` or `check("<check id>", ...)`: the released cells' own spelling."""
    if not (isinstance(call.func, ast.Name) and call.func.id == "check"):
        return False
    first = call.args[0] if call.args else None
    return first is None or (isinstance(first, ast.Constant) and isinstance(first.value, str)
                             and bool(_CHECK_ID.match(first.value)))


def _calls_unbound_check(node: ast.AST, names: frozenset[str]) -> bool:
    """A released-spelling `check(...)` call where no cell binds `check` from the kit."""
    if "check" in names or "*" in names:
        return False
    return any(isinstance(call, ast.Call) and _released_check(call) for call in ast.walk(node))


def _header_calls_kit(stmt: ast.stmt, names: frozenset[str]) -> bool:
    """Does the statement's own header (an `if`'s test, a `for`'s iterable, ...) call the kit?"""
    return any(_calls_unbound_check(value, names) for field, value in ast.iter_fields(stmt)
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
        elif _calls_unbound_check(stmt, names):
            yield stmt


@lru_cache(maxsize=1)
def standin_line() -> str:
    """One statement that registers the kit's stand-in (`grader/portable/standin.py`)."""
    return standin.bootstrap_line()


def _replacement(stmt: ast.stmt) -> str:
    """What a kit statement becomes: the stand-in and the kit's imports as written, or `pass`."""
    imports = [node for node in ast.walk(stmt) if _imports_kit(node)]
    if not imports:
        return "pass"
    if isinstance(stmt, (ast.Try, ast.TryStar)):  # the install cell: its main body's imports
        imports = [node for child in stmt.body for node in ast.walk(child) if _imports_kit(node)] \
            or imports
    written = list(dict.fromkeys(ast.unparse(node) for node in imports))
    return "; ".join([standin_line(), *written])


def skip_kit_statements(source: str, names: frozenset[str] = frozenset()) -> str:
    """`source` with every statement of the self-check kit replaced (see the module)."""
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
        original, replacement = lines[first], _replacement(stmt)
        segment = slice(stmt.col_offset, stmt.end_col_offset)
        if (first == last and original.isascii() and first < len(python)
                and original[segment] == python[first][segment]):
            rest = original[stmt.end_col_offset:]  # `x = 1; check("task1_...")` keeps `x = 1`
            lines[first] = original[:stmt.col_offset] + replacement + rest
            if not rest.strip():
                lines[first] += f"  # {GRADER_TAG} self-check {_VERB[replacement == 'pass']}: " \
                                f"{original[segment]}"
            continue
        indent = original[: len(original) - len(original.lstrip())]
        lines[first:last + 1] = ([f"{indent}{replacement}  # {GRADER_TAG} self-check "
                                  f"{_VERB[replacement == 'pass']}: {original.strip()}"]
                                 + [f"{indent}# {GRADER_TAG} (skipped)"] * (last - first))
    return "\n".join(lines)


def uses_kit(nb) -> bool:
    """Does any code cell import the kit or call the released `check(...)`?"""
    for cell in nb.cells:
        tree = _parse(cell.source) if cell.cell_type == "code" and (
            KIT_PACKAGE in cell.source or "check" in cell.source) else None
        if tree is not None and any(_imports_kit(node) or (isinstance(node, ast.Call)
                                                           and _released_check(node))
                                    for node in ast.walk(tree)):
            return True
    return False


KIT_NOTE = ("The self-check kit's cells ran on a stand-in that checks nothing (the grader does "
            "not run the kit; these checks are the grader's own).")


class SkipSelfCheck(SourcePreprocessor):
    def preprocess(self, nb, resources):
        self._names = kit_names(c.source for c in nb.cells if c.cell_type == "code")
        return super().preprocess(nb, resources)

    def rewrite(self, source: str) -> str:
        return skip_kit_statements(source, getattr(self, "_names", frozenset()))
