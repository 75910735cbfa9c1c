"""What a student reads: every failed or unchecked check says why, a repeated error is said once,
a call that blocks is stopped and said; in the text and in the HTML table alike."""
from __future__ import annotations

import html
import re

TASK1 = ("task1_seeded_choice", "task1_random_seed")
UNSOLVED = """
def parallel_seeded_choice(array_list, seed, n):
    raise NotImplementedError("Task 1: write parallel_seeded_choice")
MY_RANDOM_SEED = 19891217
"""
BLOCKING = """
import time
import numpy as np
def parallel_seeded_choice(array_list, seed, n):
    time.sleep(3600)
MY_RANDOM_SEED = 19891217
"""


def check(kit, kit_data_file, source: str, *ids: str, **options):
    namespace: dict = {}
    exec(source, namespace)  # noqa: S102 - test code
    return kit.check(*ids, namespace=namespace, show=False, data_file=kit_data_file, **options)


def page_text(results) -> str:
    """The HTML table as a student reads it: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", " ", results._repr_html_()))


def test_a_missing_name_shows_its_sentence_not_zero_of_zero(kit, kit_data_file):
    results = check(kit, kit_data_file, "x = 1", "task3_lr_schedule", "task1_random_seed")
    text = str(results)
    assert "0 of 0" not in text and "0 of 0" not in page_text(results)
    for where in (text, page_text(results)):
        assert "`EdgeAiTrainer`" in where and "`MY_RANDOM_SEED`" in where


def test_a_name_missing_for_a_known_reason_is_not_checked_with_that_reason(kit, kit_data_file):
    reason = "the cell that defines `EdgeAiTrainer` (code cell 9) failed because the course inputs are missing"
    results = check(kit, kit_data_file, "x = 1", "task3_lr_schedule",
                    why_missing={"EdgeAiTrainer": reason}, note="The course inputs were not found.")
    [task3] = results.checks
    assert task3.status == "not checked" and task3.message == f"not checked: {reason}"
    for where in (str(results), page_text(results)):
        assert reason in where and where.lstrip().startswith("The course inputs were not found.")
    assert not results.passed


def test_the_unsolved_notebooks_error_is_said_once_per_task(kit, kit_data_file):
    results = check(kit, kit_data_file, UNSOLVED, *TASK1)
    text = str(results)
    assert text.count("NotImplementedError") == 1, text
    [line] = [line for line in text.splitlines() if "NotImplementedError" in line]
    seeded = results["task1_seeded_choice"]
    assert all(p.name in line for p in seeded.failed_properties)  # every property named there
    assert page_text(results).count("NotImplementedError") == 1


def test_a_blocking_function_is_stopped_and_said(kit, kit_data_file):
    results = check(kit, kit_data_file, BLOCKING, *TASK1, wall_limit=1.0)
    seeded = results["task1_seeded_choice"]
    assert seeded.status == "failed" and "stopped after 1 s" in seeded.message
    assert "parallel_seeded_choice" in seeded.message
    assert results["task1_random_seed"].passed  # the other check of the task still ran
    assert "stopped after 1 s" in str(results) and "stopped after 1 s" in page_text(results)


def test_a_run_that_could_not_check_renders_its_reason(kit):
    results = kit.Results((), (), "The notebook's kernel died in code cell 3: its process ended.")
    assert str(results) == "The notebook's kernel died in code cell 3: its process ended."
    assert "kernel died in code cell 3" in page_text(results) and not results.passed
    again = kit.Results.from_dict(results.to_dict())
    assert again == results


def test_the_terminal_mode_tells_a_cell_failed_for_the_inputs_from_a_students_bug(kit):
    from edge_ai_w5_selfcheck.terminal import why_missing

    failed = [(9, "class EdgeAiTrainer:\n    pass\nx = open('/kaggle/input/a')", "FileNotFoundError: a"),
              (12, "MY_RANDOM_SEED = 1 / 0", "ZeroDivisionError: division by zero")]
    unchecked, broken = why_missing(failed, inputs_missing=True)
    assert "because the course inputs are missing" in unchecked["EdgeAiTrainer"]
    assert broken == {"MY_RANDOM_SEED": "`MY_RANDOM_SEED` is not defined: the cell that defines it "
                      "(code cell 12) failed with ZeroDivisionError: division by zero. Fix that "
                      "cell first; the grader runs it too."}
    unchecked, broken = why_missing(failed, inputs_missing=False)  # the inputs were there
    assert not unchecked and set(broken) == {"EdgeAiTrainer", "x", "MY_RANDOM_SEED"}


def test_a_name_missing_because_its_cell_failed_fails_with_that_reason(kit, kit_data_file):
    reason = "`MY_RANDOM_SEED` is not defined: the cell that defines it (code cell 12) failed"
    results = check(kit, kit_data_file, "x = 1", "task1_random_seed",
                    cell_failed={"MY_RANDOM_SEED": reason})
    assert results["task1_random_seed"].status == "failed"
    assert reason in str(results) and reason in page_text(results)
