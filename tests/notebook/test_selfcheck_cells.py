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


def test_the_install_cell_and_check_calls_are_skipped_and_keep_their_line_numbers():
    install, task1, task4 = sanitized(INSTALL, 'check("task1_seeded_choice")',
                                      'check("task4a_load_payload")\ncheck("task4b_extra_test")')
    assert install.splitlines()[0] == "pass  # [grader] self-check skipped: try:"
    assert all(line.startswith("# [grader]") for line in install.splitlines()[1:])
    assert len(install.splitlines()) == len(INSTALL.splitlines())  # first, not half-done by the pip step
    assert task1 == 'pass  # [grader] self-check skipped: check("task1_seeded_choice")'
    assert [line.split("  #")[0] for line in task4.splitlines()] == ["pass", "pass"]
    assert all(runnable(s) for s in (install, task1, task4))


def test_the_students_own_code_in_a_check_cell_still_runs():
    cell = ('MY_RANDOM_SEED = 20000101\nresult = check("task1_random_seed")\n'
            'if MY_RANDOM_SEED:\n    check()\nx = 1; check("task3_lr_schedule")\nprint(MY_RANDOM_SEED)')
    [out] = sanitized(cell)
    lines = out.splitlines()
    assert lines[0] == "MY_RANDOM_SEED = 20000101" and lines[-1] == "print(MY_RANDOM_SEED)"
    assert lines[1].startswith("pass  #") and lines[2] == "if MY_RANDOM_SEED:"
    assert lines[3].startswith("    pass  #") and lines[4] == 'x = 1; pass  # [grader] self-check skipped: check("task3_lr_schedule")'
    assert runnable(out)


def test_aliases_and_module_calls_are_recognised_across_cells():
    imports = "import edge_ai_w5_selfcheck as kit\nfrom edge_ai_w5_selfcheck import check as verify"
    out = sanitized(imports, "kit.check()", 'report = verify("task2_partition")\nprint(report)',
                    "for cid in ['task1_seeded_choice']:\n    kit.check(cid)")
    assert all(line.startswith("pass  #") for line in out[0].splitlines())
    assert out[1].startswith("pass  #") and out[2].splitlines()[0].startswith("pass  #")
    assert out[2].splitlines()[1] == "print(report)"  # not a kit call (a NameError, as in Jupyter)
    assert out[3].splitlines() == ["for cid in ['task1_seeded_choice']:",
                                   "    pass  # [grader] self-check skipped: kit.check(cid)"]


def test_a_students_own_check_function_and_unrelated_code_are_untouched():
    own = 'def check(x):\n    return x > 0\n\nassert check(3)\nok = check(-1)\ncheck("weights")'
    federated = "fl = FederatedLearningV2(data=d)\nfl.train()"
    assert skip_kit_statements(own) == own
    assert sanitized(own)[0] == own
    assert skip_kit_statements("x = (1 +") == "x = (1 +"  # does not parse: left to the kernel
    assert sanitized(federated)[0].splitlines()[1].startswith("pass  # [grader] federated round")  # chain goes on


def test_a_kit_call_in_a_header_skips_the_whole_statement():
    cell = 'if check("task3_lr_schedule").passed:\n    print("well done")\nprint("next")'
    [out] = sanitized(cell)
    assert out.splitlines() == ['pass  # [grader] self-check skipped: if check("task3_lr_schedule").passed:',
                                "# [grader] (skipped)", 'print("next")']
