"""The terminal mode as a student on a laptop meets it: no course inputs, a cell that hangs, a
kernel that dies. Each gives a short verdict, in the text and in the HTML table, with the right
exit status; never a traceback, never the kernel's "running over TCP" warning. Two small kernels
(no torch): the notebooks are the course's shape, cut to what each case needs."""
from __future__ import annotations

import html
import re

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from tests.kit.conftest import KIT_DIR

CHOICE = """import numpy as np
MY_RANDOM_SEED = 19891217

def parallel_seeded_choice(array_list, seed, n):
    chosen = np.random.default_rng(seed).choice(len(array_list[0]), n, replace=False)
    return [np.asarray(a)[chosen] for a in array_list]"""
LAPTOP = [
    CHOICE,
    'train = np.load("/kaggle/input/cifar100/train.npz")',  # FileNotFoundError on a laptop
    "ROUNDS = len(train)\n\nclass EdgeAiTrainer:\n    def set_learning_rate(self):\n        pass",
    "import time\ntime.sleep(120)",  # a cell that never ends within the run's --timeout
]
DYING = [CHOICE, "import os\nos._exit(3)", "print('never reached')"]


def page_text(results: dict, kit) -> str:
    page = kit.Results.from_dict(results)._repr_html_()
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def run(tmp_path, cells, monkeypatch, kit_data_file, **options):
    from edge_ai_w5_selfcheck.terminal import run_notebook

    monkeypatch.setenv("PYTHONPATH", str(KIT_DIR))
    monkeypatch.setenv("EDGE_AI_W5_SELFCHECK_EXAM", str(kit_data_file))
    path = tmp_path / "exercise.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell(c) for c in cells]), path)
    return run_notebook(path, **options)


@pytest.mark.slow
def test_a_laptop_run_without_the_inputs_says_what_it_could_not_check(
        kit, kit_data_file, tmp_path, monkeypatch, capfd):
    from edge_ai_w5_selfcheck.__main__ import exit_status

    text, results = run(tmp_path, LAPTOP, monkeypatch, kit_data_file, timeout=8,
                        ids=("task1_seeded_choice", "task3_lr_schedule"))
    printed = capfd.readouterr()
    checks = {c["id"]: c for c in results["checks"]}
    assert checks["task1_seeded_choice"]["status"] == "passed"  # checkable without the inputs
    assert checks["task3_lr_schedule"]["status"] == "not checked"
    reason = ("the cell that defines `EdgeAiTrainer` (code cell 3) failed because the course "
              "inputs are missing (NameError: name 'train' is not defined); run with --data DIR")
    for where in (text, page_text(results, kit)):
        assert reason in where
        assert "The course inputs were not found (/kaggle/input does not exist here" in where
        assert "Code cell 2 failed (and 2 more): FileNotFoundError" in where
    assert "stopped after 8 s" not in text  # only the first failed cell is in the note
    assert exit_status(results) == 1
    for stream in (text, printed.out, printed.err):
        assert "Traceback" not in stream and "running over TCP" not in stream


@pytest.mark.slow
def test_a_kernel_that_dies_is_a_verdict_with_exit_status_2(kit, kit_data_file, tmp_path,
                                                             monkeypatch, capfd):
    from edge_ai_w5_selfcheck.__main__ import exit_status

    text, results = run(tmp_path, DYING, monkeypatch, kit_data_file, timeout=60)
    printed = capfd.readouterr()
    assert text.startswith("The notebook's kernel died in code cell 2: its process ended")
    assert "kernel died in code cell 2" in page_text(results, kit)
    assert exit_status(results) == 2 and not results["passed"]
    for stream in (text, printed.out, printed.err):
        assert "Traceback" not in stream and "running over TCP" not in stream


@pytest.mark.slow
def test_a_cell_that_hangs_is_stopped_and_said(kit, kit_data_file, tmp_path, monkeypatch, capfd):
    from edge_ai_w5_selfcheck.__main__ import exit_status

    data = tmp_path / "inputs"  # the inputs are "there": only the hang is said
    data.mkdir()
    text, results = run(tmp_path, [CHOICE, "import time\ntime.sleep(300)", "AFTER = 1"],
                        monkeypatch, kit_data_file, data_dir=str(data), timeout=4,
                        ids=("task1_random_seed",))
    printed = capfd.readouterr()
    note = "Code cell 2 failed: stopped after 4 s (the time limit per cell, --timeout)."
    assert text.startswith(note) and note in page_text(results, kit)
    assert "PASS  task1_random_seed" in text and exit_status(results) == 1
    for stream in (text, printed.out, printed.err):
        assert "Traceback" not in stream and "running over TCP" not in stream


def test_exit_statuses_as_documented(kit):  # the kit importable, whatever ran before
    from edge_ai_w5_selfcheck.__main__ import exit_status

    assert exit_status({"passed": True, "note": ""}) == 0
    assert exit_status({"passed": True, "note": "Code cell 4 failed: ..."}) == 1
    assert exit_status({"passed": False}) == 1
    assert exit_status({"passed": False, "stopped": "The notebook's kernel died ..."}) == 2
