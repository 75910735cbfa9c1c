"""Extract the graded definitions of a notebook from its source, independent of cell positions.

Checks never rely on cell order or metadata: a notebook with cells added, removed or reordered is
graded on the definitions it contains. Only top-level *binding* statements are kept (imports,
`def`, `class`, assignments to plain names); the last binding of a name wins, as in a
top-to-bottom run. Calls, prints, test code and training are dropped, so a check worker can load a
student's functions without running the rest of the notebook.

The rule is what a top-to-bottom run would bind at the top level of the kernel's namespace, however
the cell is written:
- IPython syntax is read as IPython runs it: a cell magic that runs its body in the user's
  namespace (`%%time`, `%%capture`, `%%prun`, `%%debug`, nested too) contributes the body's
  bindings; one that runs it elsewhere (`%%timeit`'s function, `%%bash`, `%%writefile`, `%%html`)
  contributes none. Likewise a line magic running a statement in the namespace (`%time x = f()`).
- A top-level `if`, `try`, `with` or `match` statement binds what its blocks bind (a definition
  inside `try:` or `with warnings.catch_warnings():` counts); the whole statement is the snippet,
  so the worker runs it as the kernel did. Loops (`for`, `while`) are not followed: they are test
  or training code, and running them to define names could cost minutes.
"""
from __future__ import annotations

import ast
import builtins
import symtable
from dataclasses import dataclass, field
from typing import Iterable

import nbformat

_BUILTINS = frozenset(dir(builtins)) | {"__name__", "__file__", "get_ipython", "display"}
# Magics that run their code in the user's namespace, so what the code binds is bound at the top
# level (IPython's `time`, `capture`, `prun` and `debug`; `timeit` runs it inside a function).
NAMESPACE_CELL_MAGICS = frozenset({"time", "capture", "prun", "debug"})
NAMESPACE_LINE_MAGICS = frozenset({"time", "prun", "debug"})
# Top-level statements whose blocks run once, in order, in the module's namespace.
_BLOCKS = (ast.If, ast.Try, ast.TryStar, ast.With, ast.AsyncWith, ast.Match)


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
                defs.statements.extend(_cell_statements(index, cell_id, cell.source))
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


def _cell_statements(index: int, cell_id: str, raw: str, first_line: int = 1) -> list[Statement]:
    """The binding statements of a cell's (or a magic's) code whose first line is `first_line`."""
    source = _python_source(raw)
    # IPython drops leading blank lines before it transforms; count them back for line numbers.
    offset = first_line - 1 + _leading_blank_lines(raw)
    tree = ast.parse(source)
    lines = source.splitlines()
    found = []
    shared_lines = _lines_shared_by_statements(tree.body)
    for node in tree.body:
        magic = _namespace_magic(node)
        if magic is not None:
            code, lines_before = magic
            found.extend(_cell_statements(index, cell_id, code,
                                          offset + node.lineno + lines_before))
            continue
        binds, star = _bound_names(node)
        if not binds and not star:
            continue
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        if first in shared_lines or node.end_lineno in shared_lines:
            text = ast.unparse(node)
        else:
            text = "\n".join(lines[first - 1:node.end_lineno])
        found.append(Statement((index, offset + first), cell_id, text, frozenset(binds),
                               frozenset(_free_names(text)), star))
    return found


def _leading_blank_lines(raw: str) -> int:
    count = 0
    for line in raw.splitlines():
        if line.strip():
            break
        count += 1
    return count


def _namespace_magic(node: ast.stmt) -> tuple[str, int] | None:
    """For `get_ipython().run_cell_magic(name, line, body)` (a `%%name` cell) or
    `get_ipython().run_line_magic(name, code)` (a `%name code` line) whose magic runs the code in
    the user's namespace: (the code, lines between the magic's line and the code's first line)."""
    call = node.value if isinstance(node, ast.Expr) else None
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
            and isinstance(call.func.value, ast.Call)
            and isinstance(call.func.value.func, ast.Name)
            and call.func.value.func.id == "get_ipython"
            and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in call.args)):
        return None
    args = [a.value for a in call.args]
    if call.func.attr == "run_cell_magic" and len(args) == 3:
        name, _line, body = args
        return (body, 1) if name in NAMESPACE_CELL_MAGICS else ("", 0)
    if call.func.attr == "run_line_magic" and len(args) == 2:
        name, code = args
        return (code, 0) if name in NAMESPACE_LINE_MAGICS else None
    return None


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
    if isinstance(node, _BLOCKS):
        names, star = set(), False
        for child in _block_statements(node):
            child_names, child_star = _bound_names(child)
            names |= child_names
            star = star or child_star
        for item in getattr(node, "items", ()):  # with ... as name
            if item.optional_vars is not None:
                names.update(_target_names(item.optional_vars))
        return names, star
    return set(), False


def _block_statements(node: ast.stmt) -> list[ast.stmt]:
    """The statements of every block of an if/try/with/match statement."""
    blocks = [node.body] if hasattr(node, "body") else []
    blocks += [getattr(node, "orelse", []), getattr(node, "finalbody", [])]
    blocks += [handler.body for handler in getattr(node, "handlers", [])]
    blocks += [case.body for case in getattr(node, "cases", [])]
    return [child for block in blocks for child in block]


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
