"""Extract the graded definitions of a notebook from its source, independent of cell positions.

Checks never rely on cell order or metadata: a notebook with cells added, removed or reordered is
graded on the definitions it contains. Only top-level *binding* statements are kept (imports,
`def`, `class`, assignments to plain names); the last binding of a name wins, as in a
top-to-bottom run. Calls, prints, test code and training are dropped, so a check worker can load a
student's functions without running the rest of the notebook.
"""
from __future__ import annotations

import ast
import builtins
import symtable
from dataclasses import dataclass, field
from typing import Iterable

import nbformat

_BUILTINS = frozenset(dir(builtins)) | {"__name__", "__file__", "get_ipython", "display"}


@dataclass(frozen=True)
class Snippet:
    """One statement of a program: source plus where it came from, for readable tracebacks."""

    cell_id: str
    line: int
    source: str

    def to_dict(self) -> dict:
        return {"cell_id": self.cell_id, "line": self.line, "source": self.source}


@dataclass(frozen=True)
class Statement:
    position: tuple[int, int]  # (cell index, first line), for notebook order
    cell_id: str
    source: str
    binds: frozenset[str]
    uses: frozenset[str]
    star_import: bool = False

    @property
    def snippet(self) -> Snippet:
        return Snippet(self.cell_id, self.position[1], self.source)


@dataclass(frozen=True)
class CellError:
    cell_index: int
    cell_id: str
    message: str


@dataclass
class Definitions:
    """The top-level bindings of a notebook and the cells that could not be parsed."""

    statements: list[Statement] = field(default_factory=list)
    errors: list[CellError] = field(default_factory=list)

    @classmethod
    def from_notebook(cls, nb: nbformat.NotebookNode) -> Definitions:
        defs = cls()
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            cell_id = cell.get("id") or f"cell-{index}"
            try:
                defs.statements.extend(_statements(index, cell_id, _python_source(cell.source)))
            except SyntaxError as exc:
                defs.errors.append(CellError(index, cell_id, f"{exc.msg} (line {exc.lineno})"))
        return defs

    def binding(self, name: str) -> Statement | None:
        """The statement that binds `name` last, as a top-to-bottom run would see it."""
        for stmt in reversed(self.statements):
            if name in stmt.binds:
                return stmt
        return None

    def __contains__(self, name: str) -> bool:
        return self.binding(name) is not None

    def program(self, names: Iterable[str], reference: Definitions | None = None,
                substituted: Iterable[str] = ()) -> list[Snippet]:
        """The dependency closure of `names`, dependencies first.

        Every name in `substituted` is taken from `reference` (with the reference's own
        dependencies) instead of from this notebook: a later task's check uses the reference
        for earlier tasks' definitions, so one fault costs one check.
        """
        substituted = set(substituted)
        if substituted and reference is None:
            raise ValueError("substituted names need reference definitions")
        order: list[Statement] = []
        seen: set[int] = set()

        def visit(name: str, source: Definitions) -> None:
            if name in substituted and reference is not None:
                source = reference
            stmt = source.binding(name)
            stmts = [stmt] if stmt is not None else source._star_imports()
            for stmt in stmts:
                if id(stmt) in seen:
                    continue
                seen.add(id(stmt))
                for dep in sorted(stmt.uses - stmt.binds):
                    visit(dep, source)
                order.append(stmt)

        for name in names:
            visit(name, self)
        return [stmt.snippet for stmt in order]

    def _star_imports(self) -> list[Statement]:
        return [stmt for stmt in self.statements if stmt.star_import]


def _python_source(source: str) -> str:
    """Turn IPython syntax (`!pip`, `%magic`) into plain Python so `ast` can read the cell."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def _statements(index: int, cell_id: str, source: str) -> list[Statement]:
    tree = ast.parse(source)
    lines = source.splitlines()
    found = []
    shared_lines = _lines_shared_by_statements(tree.body)
    for node in tree.body:
        binds, star = _bound_names(node)
        if not binds and not star:
            continue
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        if first in shared_lines or node.end_lineno in shared_lines:
            text = ast.unparse(node)
        else:
            text = "\n".join(lines[first - 1:node.end_lineno])
        found.append(Statement((index, first), cell_id, text, frozenset(binds),
                               frozenset(_free_names(text)), star))
    return found


def _lines_shared_by_statements(body: list[ast.stmt]) -> set[int]:
    """Lines holding more than one statement (`a = 1; b = 2`): such statements are unparsed."""
    counts: dict[int, int] = {}
    for node in body:
        for line in {node.lineno, node.end_lineno}:
            counts[line] = counts.get(line, 0) + 1
    return {line for line, count in counts.items() if count > 1}


def _bound_names(node: ast.stmt) -> tuple[set[str], bool]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}, False
    if isinstance(node, ast.Import):
        return {(a.asname or a.name).split(".")[0] for a in node.names}, False
    if isinstance(node, ast.ImportFrom):
        star = any(a.name == "*" for a in node.names)
        return {a.asname or a.name for a in node.names if a.name != "*"}, star
    if isinstance(node, ast.Assign):
        return {n for target in node.targets for n in _target_names(target)}, False
    if isinstance(node, ast.AnnAssign) and node.value is not None:
        return set(_target_names(node.target)), False
    return set(), False


def _target_names(target: ast.expr) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for elt in target.elts for n in _target_names(elt)]
    if isinstance(target, ast.Starred):
        return _target_names(target.value)
    return []


def _free_names(source: str) -> set[str]:
    """Global names a statement reads, at definition time or later inside function bodies."""
    free: set[str] = set()

    def walk(table: symtable.SymbolTable) -> None:
        module = table.get_type() == "module"
        for sym in table.get_symbols():
            if sym.is_referenced() and (module or sym.is_global()):
                free.add(sym.get_name())
        for child in table.get_children():
            walk(child)

    walk(symtable.symtable(source, "<statement>", "exec"))
    return free - _BUILTINS
