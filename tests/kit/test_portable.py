"""`grader/portable/`: the rules the grader and the kit share are one source, importable by both
(stdlib, numpy and each other only), and the kit from source reads them through its link."""
from __future__ import annotations

import ast
from pathlib import Path

from tests.kit.conftest import KIT_DIR, ROOT

PORTABLE = ROOT / "grader" / "portable"
ALLOWED = {"__future__", "ast", "datetime", "hashlib", "hmac", "math", "numbers", "numpy", "sys",
           "types", "typing"}


def test_the_shared_modules_import_nothing_of_the_grader():
    files = sorted(PORTABLE.glob("*.py"))
    assert {f.stem for f in files} >= {"seal", "dates", "phrases", "schedule"}
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                roots = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                roots = set() if node.level else {(node.module or "").split(".")[0]}
            else:
                continue
            assert roots <= ALLOWED, f"{path.name} imports {roots - ALLOWED}"


def test_the_kit_from_source_reads_the_graders_files():
    link = KIT_DIR / "edge_ai_w5_selfcheck" / "portable"
    assert link.is_symlink() and link.resolve() == PORTABLE.resolve()


def test_no_solution_in_the_shared_modules():
    """The kit carries them to students: the schedule's expected rates come from the exam."""
    text = (PORTABLE / "schedule.py").read_text(encoding="utf-8")
    assert "10 **" not in text and "// 20" not in text


def test_the_kit_does_not_import_the_grader(kit):
    for path in (KIT_DIR / "edge_ai_w5_selfcheck").glob("*.py"):
        assert "import grader" not in path.read_text() and "from grader" not in path.read_text()
