"""`check()` in a student's own Jupyter kernel, without the terminal mode: a missing definition is
explained from the kernel's input history (`In`): never run, run and failed, or run without the
course inputs ("not checked", with what to do), as the terminal mode explains it."""
from __future__ import annotations

import json

from tests.kit.conftest import kernel_env
from tests.kit.kernel import SharedKernel

TASK3 = "task3_lr_schedule"
# The course's cell that defines the trainer reads the course library first: without the
# inputs it raises before the class is bound.
NEEDS_INPUTS = ("import sys\n"
                "sys.path.append('/kaggle/input/kubeedge-sedna/lib')\n"
                "open('/kaggle/input/kubeedge-sedna/lib/README')\n"
                "class EdgeAiTrainer:\n"
                "    pass\n")


def check(kit, kit_data_file, namespace: dict, *ids: str):
    return kit.check(*ids, namespace=namespace, show=False, data_file=kit_data_file)


def test_a_definition_never_run_says_to_run_the_notebook_first(kit, kit_data_file):
    results = check(kit, kit_data_file, {"In": ["", "x = 1"], "x": 1}, TASK3)
    (task3,) = results.checks
    assert task3.status == "failed"
    assert "`EdgeAiTrainer` is not defined in this kernel: no cell run so far defines it" in str(results)
    assert "Run All" in task3.message


def test_a_definition_run_without_the_course_inputs_is_not_checked_and_says_what_to_do(
        kit, kit_data_file, monkeypatch):
    monkeypatch.setattr(kit.history, "inputs_here", lambda: False)
    results = check(kit, kit_data_file, {"In": ["", "x = 1", NEEDS_INPUTS, "y = 2"]}, TASK3)
    (task3,) = results.checks
    assert task3.status == "not checked"
    assert "(the cell run as [2]) ran but did not define it" in task3.message
    assert "course inputs are not here" in task3.message and "--data DIR" in task3.message
    assert results.note.startswith("The course inputs were not found")
    assert "not checked" in str(results) and "course inputs were not found" in results._repr_html_()


def test_a_definition_run_with_the_inputs_there_fails_and_names_its_cell(kit, kit_data_file,
                                                                         monkeypatch):
    monkeypatch.setattr(kit.history, "inputs_here", lambda: True)
    results = check(kit, kit_data_file, {"In": ["", NEEDS_INPUTS, "x = 1", NEEDS_INPUTS]}, TASK3)
    (task3,) = results.checks
    assert task3.status == "failed"
    assert "the cell that defines it (the cell run as [3]) ran but stopped before" in task3.message
    assert results.note == ""


def test_only_the_missing_names_of_the_checks_asked_for_are_explained(kit, kit_data_file,
                                                                      monkeypatch):
    monkeypatch.setattr(kit.history, "inputs_here", lambda: False)
    ns = {"In": ["", NEEDS_INPUTS], "MY_RANDOM_SEED": 20000229}
    results = check(kit, kit_data_file, ns, "task1_random_seed")
    assert results.note == "" and [c.status for c in results.checks] == ["passed"]


def test_a_namespace_without_history_keeps_the_graders_sentence(kit, kit_data_file):
    results = check(kit, kit_data_file, {"x": 1}, TASK3)
    (task3,) = results.checks
    assert task3.status == "failed" and "this kernel" not in task3.message
    assert "`EdgeAiTrainer`" in task3.message


def test_in_a_real_kernel_without_the_inputs_check_says_not_checked(kit_data_file, tmp_path):
    """A laptop's Jupyter kernel: the trainer's cell failed for want of /kaggle/input (pointed at
    a folder that does not exist, whatever this machine has), then `check()` as the students'
    README shows it."""
    kernel = SharedKernel(kernel_env(kit_data_file), cell_timeout=120)
    try:
        kernel.run(f"import edge_ai_w5_selfcheck.terminal as _t\n"
                   f"_t.KAGGLE_INPUT = {str(tmp_path / 'kaggle' / 'input')!r}")
        kernel.run("MY_RANDOM_SEED = 20010917")
        kernel.run(NEEDS_INPUTS)
        out = kernel.run("import json\n"
                         "from edge_ai_w5_selfcheck import check\n"
                         "results = check(show=False)\n"
                         "print(json.dumps(results.to_dict()))")
    finally:
        kernel.close()
    found = json.loads(out.strip().splitlines()[-1])
    statuses = {c["id"]: (c["status"], c.get("message", "")) for c in found["checks"]}
    status, message = statuses[TASK3]
    assert status == "not checked", statuses
    assert "(the cell run as [3]) ran but did not define it" in message
    assert statuses["task1_random_seed"][0] == "passed"
    assert statuses["task1_seeded_choice"][0] == "failed"  # never defined: the student's to do
    assert "no cell run so far defines it" in statuses["task1_seeded_choice"][1]
    assert found["note"].startswith("The course inputs were not found")
