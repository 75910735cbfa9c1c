"""The grader's modules import each other without a cycle (the import graph read from the source),
and none is over 400 lines (small modules with one job)."""
from __future__ import annotations

import ast
from pathlib import Path

GRADER = Path(__file__).resolve().parent.parent / "grader"


def modules(root: Path) -> dict[str, tuple[Path, bool]]:
    """Dotted name -> (file, is a package) for every module of the package at `root`, the course
    library under environment/site aside (its own top-level packages, never imported as grader.*)."""
    found = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[1:3] == ["environment", "site"]:
            continue
        package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if package else parts)] = (path, package)
    return found


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports anywhere: at the top, inside
    functions, under `if TYPE_CHECKING:` (a cycle there is still a cycle of the design)."""
    known = modules(root)
    top = root.name

    def owner(name: str) -> str | None:  # the module that defines `name` (a module or a name in one)
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, (path, package) in known.items():
        here = name if package else name.rpartition(".")[0]
        edges = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                edges |= {owner(a.name) for a in node.names if a.name.split(".")[0] == top}
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = here.rsplit(".", node.level - 1)[0] if node.level > 1 else here
                    target = f"{base}.{node.module}" if node.module else base
                elif (node.module or "").split(".")[0] == top:
                    target = node.module
                else:
                    continue
                edges |= {owner(f"{target}.{a.name}") for a in node.names}
        graph[name] = edges - {None, name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            child = next(edges, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_grader_has_no_import_cycle():
    graph = import_graph(GRADER)
    assert {"grader.pipeline", "grader.options", "grader.federated", "grader.sandbox.namespaces"} <= set(graph)
    assert "grader.course" in graph["grader.federated.round"]  # REFERENCE, declared once
    assert cycles(graph) == []


def test_a_cycle_is_found(tmp_path):
    """The check above sees a cycle through a package, a relative import and TYPE_CHECKING."""
    root = tmp_path / "pkg"
    (root / "sub").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "a.py").write_text("from .sub import thing\n")
    (root / "sub" / "__init__.py").write_text("from .b import thing\n")
    (root / "sub" / "b.py").write_text("from typing import TYPE_CHECKING\nthing = 1\n"
                                       "if TYPE_CHECKING:\n    from ..a import other\n")
    (root / "c.py").write_text("import pkg.a\n")
    graph = import_graph(root)
    assert graph["pkg.c"] == {"pkg.a"} and graph["pkg.sub"] == {"pkg.sub.b"}
    assert cycles(graph) == [["pkg.a", "pkg.sub", "pkg.sub.b"]]


def test_no_module_over_400_lines():
    sizes = {str(path.relative_to(GRADER)): len(path.read_text().splitlines())
             for path, _ in modules(GRADER).values()}
    assert len(sizes) > 50
    assert {name: lines for name, lines in sizes.items() if lines > 400} == {}
