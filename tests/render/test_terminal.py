"""`grader check` output: plain ASCII when not a terminal, colours on one; student text literal."""
from __future__ import annotations

import io
import re

import pytest

from grader.render.terminal import print_report
from grader.results.model import CheckResult, Counterexample, SubmissionResult, SubProperty

ANSI = re.compile(r"\x1b\[")


@pytest.fixture(autouse=True)
def no_colour_overrides(monkeypatch):
    for name in ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS"):
        monkeypatch.delenv(name, raising=False)


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def failing() -> SubmissionResult:
    return SubmissionResult("alice", "a" * 64, checks=[
        CheckResult("task1_seeded_choice", "failed", 1.0, 2.0,
                    feedback="parallel_seeded_choice returned 2 arrays for 3 inputs. Return [bold]one[/] array "
                             "per input.\nSecond line \x1b[31mred\x1b[0m.",
                    counterexample=Counterexample("array_list=[array([0]), array([1])]\nseed=0, n=1",
                                                  "3 arrays", "2 arrays"),
                    properties=[SubProperty("one array per input", False, "2 for 3"),
                                SubProperty("same order", True)],
                    cell_id="task1-parallel-seeded-choice"),
        CheckResult("task1_random_seed", "passed", 1.0, 1.0, feedback="All examples hold."),
        CheckResult("task2_partition", "error", 0.0, 2.0, feedback="NameError: name 'testset' is not defined.",
                    fault="submission"),  # a graded row: not a grader fault
        CheckResult("fl_round", "skipped", 0.0, 0.0, feedback="The federated round was not run: --fl-round off."),
    ])


def render(sub: SubmissionResult, file=None) -> str:
    file = file or io.StringIO()
    print_report(sub, file=file)
    return file.getvalue()


def test_plain_text_when_not_a_terminal():
    text = render(failing())
    assert not ANSI.search(text)
    assert text.isascii()  # no box drawing or marks a CI log might mangle
    lines = text.splitlines()
    assert lines[0] == "Self-check of alice   2/5 points"
    table = "\n".join(lines[1:6])
    assert re.search(r"task1_seeded_choice\s+FAIL\s+1/2\s+parallel_seeded_choice returned 2 arrays", table)
    assert re.search(r"task1_random_seed\s+PASS\s+1/1", table)
    assert re.search(r"task2_partition\s+ERROR\s+0/2\s+NameError", table)
    assert re.search(r"fl_round\s+skip\s+0/0", table)
    assert max(len(line) for line in lines) <= 100


def test_failing_checks_show_feedback_counterexample_and_cell():
    text = render(failing())
    details = text[text.index("FAIL task1_seeded_choice"):]
    assert "Return [bold]one[/] array per input." in details  # student text is not rich markup
    assert "Second line red." in details  # escape codes from student output are dropped
    assert "    input:    array_list=[array([0]), array([1])]\n              seed=0, n=1" in details
    assert "    expected: 3 arrays" in details and "    actual:   2 arrays" in details
    assert "[x]  one array per input: 2 for 3" in details and "[ok] same order" in details
    assert "Look at notebook cell task1-parallel-seeded-choice." in details
    assert "ERROR task2_partition  (0/2 points)" in text
    assert "task1_random_seed  (" not in text  # passing checks get no details


def test_one_verdict_line_at_the_end():
    assert render(failing()).rstrip().splitlines()[-1] == \
        "2 checks to fix (task1_seeded_choice, task2_partition): 2/5 points."
    passed = SubmissionResult("bob", "b" * 64, checks=[CheckResult("task1_random_seed", "passed", 1.0, 1.0),
                                                       CheckResult("fl_round", "skipped", 0.0, 0.0)])
    assert render(passed).rstrip().splitlines()[-1] == "All checks passed: 1/1 points."


def test_a_notebook_that_could_not_be_graded_says_so_once():
    sub = SubmissionResult.from_error("eve", "", "eve.ipynb is empty.", [
        CheckResult("task1_seeded_choice", "error", 0.0, 2.0, feedback="eve.ipynb is empty."),
        CheckResult("task2_partition", "error", 0.0, 2.0, feedback="eve.ipynb is empty.")])
    text = render(sub)
    assert text.count("eve.ipynb is empty.") == 1
    assert "not graded (see above)" in text
    assert text.rstrip().splitlines()[-1] == "Not graded: fix the notebook so it can be read and run (0/4 points)."


def test_colours_on_a_terminal():
    text = render(failing(), FakeTerminal())
    assert ANSI.search(text)
    plain = re.sub(r"\x1b\[[0-9;]*m", "", text)
    assert "\u2717 one array per input" in plain and "\u2713 same order" in plain
    assert plain.rstrip().splitlines()[-1] == "2 checks to fix (task1_seeded_choice, task2_partition): 2/5 points."


def test_no_colour_respected_on_a_terminal(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    text = render(failing(), FakeTerminal())
    assert not re.search(r"\x1b\[[0-9;]*3[0-9]m", text)  # no foreground colours (bold may stay)


def test_default_file_is_stdout(capsys):
    print_report(failing())
    assert "Self-check of alice" in capsys.readouterr().out
