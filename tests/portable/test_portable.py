"""`grader/portable/`: the rules the grader and the kit share are one source, importable by both
(stdlib, numpy and each other only), and the kit from source reads them through its link."""
from __future__ import annotations

import ast
from pathlib import Path

from tests.kit.conftest import KIT_DIR, ROOT  # the kit whose link is checked

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


def test_the_kit_does_not_import_the_grader():
    for path in (KIT_DIR / "edge_ai_w5_selfcheck").glob("*.py"):
        assert "import grader" not in path.read_text() and "from grader" not in path.read_text()


def test_the_schedule_properties_judge_observed_rates():
    from grader.portable import schedule

    expected = {r: 0.1 / 10 ** ((r - 1) // 20) for r in range(1, 51)}  # test data, not shipped
    assert schedule.rounds_problem(21, 40, "a tenth", expected, expected, "here") is None
    stuck = {**expected, 21: 0.1}
    problem = schedule.rounds_problem(21, 40, "a tenth", stuck, expected, "here")
    assert problem.message.startswith("In round 21 the learning rate was 0.1 here")
    assert schedule.increase_problem({1: 0.01, 2: 0.1}, "here").actual == "0.1 in round 2"
    assert schedule.above_initial_problem(0.1, {1: None}, "here").actual == \
        "a NoneType (None) in round 1"
    assert schedule.order_problem([[25]], [[0.1]], expected, "here") is not None
