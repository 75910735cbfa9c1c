"""The sanitize step that skips the self-check kit's cells (`grader release` adds them)."""
from __future__ import annotations

import ast
from pathlib import Path

from nbformat.v4 import new_code_cell, new_notebook

from grader.notebook.preprocessors import sanitize
from grader.notebook.preprocessors.selfcheck_cells import skip_kit_statements

INSTALL = '''try:
    from edge_ai_w5_selfcheck import check
except ImportError:
    import glob
    wheels = glob.glob("edge_ai_w5_selfcheck-*.whl")
    %pip install --quiet {wheels[0]}
    from edge_ai_w5_selfcheck import check'''


def sanitized(*sources: str) -> list[str]:
    nb = new_notebook(cells=[new_code_cell(s) for s in sources])
    return [c.source for c in sanitize(nb, Path("/run/x")).cells]


def runnable(source: str) -> bool:
    from IPython.core.inputtransformer2 import TransformerManager

    ast.parse(TransformerManager().transform_cell(source))
    return True


STANDIN = "self-check stand-in"


def test_the_install_cell_binds_the_stand_in_and_keeps_its_line_numbers():
    install, task1, task4 = sanitized(INSTALL, 'check("task1_seeded_choice")',
                                      'check("task4a_load_payload")\ncheck("task4b_extra_test")')
    first = install.splitlines()[0]
    assert first.endswith(f"; from edge_ai_w5_selfcheck import check  # [grader] {STANDIN}: try:")
    assert first.startswith("(lambda s: exec(") and "%pip" not in install
    assert all(line.startswith("# [grader]") for line in install.splitlines()[1:])
    assert len(install.splitlines()) == len(INSTALL.splitlines())  # first, not half-done by the pip step
    assert task1 == 'check("task1_seeded_choice")'  # runs on the stand-in
    assert task4 == 'check("task4a_load_payload")\ncheck("task4b_extra_test")'
    assert all(runnable(s) for s in (install, task1, task4))


def test_released_check_calls_without_the_kit_imported_are_skipped():
    cell = ('MY_RANDOM_SEED = 20000101\nresult = check("task1_random_seed")\n'
            'if MY_RANDOM_SEED:\n    check()\nx = 1; check("task3_lr_schedule")\nprint(MY_RANDOM_SEED)')
    [out] = sanitized(cell)
    lines = out.splitlines()
    assert lines[0] == "MY_RANDOM_SEED = 20000101" and lines[-1] == "print(MY_RANDOM_SEED)"
    assert lines[1].startswith("pass  #") and lines[2] == "if MY_RANDOM_SEED:"
    assert lines[3].startswith("    pass  #") and lines[4] == 'x = 1; pass  # [grader] self-check skipped: check("task3_lr_schedule")'
    assert runnable(out)


def test_aliases_and_module_imports_bind_the_stand_in_and_calls_stay():
    imports = "import edge_ai_w5_selfcheck as kit\nfrom edge_ai_w5_selfcheck import check as verify"
    later = ["kit.check()", 'report = verify("task2_partition")\nprint(report)',
             "for cid in ['task1_seeded_choice']:\n    kit.check(cid)"]
    out = sanitized(imports, *later)
    first, second = out[0].splitlines()
    assert first.endswith(f"; import edge_ai_w5_selfcheck as kit  # [grader] {STANDIN}: "
                          "import edge_ai_w5_selfcheck as kit")
    assert second.endswith("; from edge_ai_w5_selfcheck import check as verify  # [grader] "
                           f"{STANDIN}: from edge_ai_w5_selfcheck import check as verify")
    assert out[1:] == later


def test_an_import_inside_a_block_keeps_its_indentation():
    cell = "if True:\n    from edge_ai_w5_selfcheck import check\n    r = check()\nprint(r.passed)"
    [out] = sanitized(cell)
    assert out.splitlines()[1].startswith("    (lambda s: exec(") and runnable(out)
    assert out.splitlines()[2:] == ["    r = check()", "print(r.passed)"]


def test_a_students_own_check_function_and_unrelated_code_are_untouched():
    own = 'def check(x):\n    return x > 0\n\nassert check(3)\nok = check(-1)\ncheck("weights")'
    federated = "fl = FederatedLearningV2(data=d)\nfl.train()"
    assert skip_kit_statements(own) == own
    assert sanitized(own)[0] == own
    assert skip_kit_statements("x = (1 +") == "x = (1 +"  # does not parse: left to the kernel
    assert sanitized(federated)[0].splitlines()[1].startswith("pass  # [grader] federated round")  # chain goes on


def test_a_released_check_in_a_header_without_the_kit_skips_the_whole_statement():
    cell = 'if check("task3_lr_schedule").passed:\n    print("well done")\nprint("next")'
    [out] = sanitized(cell)
    assert out.splitlines() == ['pass  # [grader] self-check skipped: if check("task3_lr_schedule").passed:',
                                "# [grader] (skipped)", 'print("next")']
    [kept] = sanitized("from edge_ai_w5_selfcheck import check\n" + cell)
    assert kept.splitlines()[1:] == cell.splitlines()  # with the kit imported it runs on the stand-in
