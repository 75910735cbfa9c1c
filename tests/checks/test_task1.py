"""Task 1 checks against the reference and against typical wrong answers (real workers)."""
import time

import nbformat
import numpy as np
import pytest

from grader.checks import TASK_CHECK_IDS, RunnerOptions
from grader.checks.reference import reference_function
from grader.checks.runner import run_check, run_specs
from grader.checks.rubric import load_rubric
from grader.checks.task1 import SEEDED_CHOICE
from grader.checks.task1_seed import RANDOM_SEED
from grader.environment.layout import SITE_DIR
from grader.notebook.extract import Definitions
from grader.results.model import CheckResult
from grader.sandbox.hosts import FreshHost
from grader.sandbox.process import Limits

from tests.helpers import ROOT, definitions

REFERENCE = Definitions.from_notebook(nbformat.read(ROOT / "reference" / "exercise.ipynb", 4))
OPTIONS = RunnerOptions(call_timeout=3.0, max_examples=12, fork_server=False,
                        limits=Limits(cpu_seconds=300, file_size_bytes=16 * 1024 ** 2))
ALL = {p.name for p in SEEDED_CHOICE.properties}



@pytest.fixture(scope="module")
def grade(run_dirs):
    host = FreshHost(SITE_DIR, OPTIONS.limits)

    def grade(spec, *sources, options=OPTIONS, reference=REFERENCE):
        return run_check(spec, definitions(*sources), reference, points=3.0, host=host,
                         run_dir_factory=run_dirs, options=options)

    grade.factory = run_dirs
    grade.host = host
    return grade


def choice(selection: str, returned: str = "[np.asarray(a)[idx] for a in array_list]",
           before: str = "") -> str:
    return f"""import numpy as np

def parallel_seeded_choice(array_list, seed, n):
    {before or 'pass'}
    rng = np.random.default_rng(seed)
    idx = {selection}
    return {returned}
"""


CORRECT = choice("rng.choice(len(array_list[0]), n, replace=False)")


def failed_properties(result) -> set[str]:
    return {p.name for p in result.properties if not p.passed}


def test_reference_vectors_are_the_course_vectors():
    choose = reference_function(REFERENCE, "parallel_seeded_choice")
    ten = np.arange(10)
    for arrays in ([ten, ten], [ten, ten, ten]):
        assert all(list(a) == [8, 9, 7, 4, 6, 2, 0, 3] for a in choose(arrays, 42, 8))
    thirty = choose([np.arange(30), list(range(30))], 42, 15)
    assert [list(a) for a in thirty] == [[1, 2, 11, 22, 4, 29, 21, 20, 8, 18, 19, 25, 13, 16, 26]] * 2


@pytest.mark.parametrize("source", [
    CORRECT,
    choice("rng.choice(np.arange(len(array_list[0])), size=n, replace=False)",
           returned="tuple(np.take(np.asarray(a), idx, axis=0) for a in array_list)"),
    choice("rng.choice(list(range(len(array_list[0]))), n, False)",
           returned="[np.array([a[i] for i in idx]).reshape((len(idx),) + np.shape(a)[1:]) "
                    "for a in array_list]"),
])
def test_correct_answers_pass_with_full_points(grade, source):
    result = grade(SEEDED_CHOICE, source)
    assert result.status == "passed", result.feedback
    assert result.score == result.max_score == 3.0
    assert {p.name for p in result.properties} == ALL
    assert result.cell_id == "cell0" and result.counterexample is None


WRONG = {
    "two_arrays_only": (choice("rng.choice(np.arange(array_list[0].shape[0]), size=n, replace=False)",
                               returned="[np.array(array_list[0])[idx], np.array(array_list[1])[idx]]"),
                        {"course_example", "any_number_of_arrays"}),
    "separate_draws": (choice("None", returned="[np.asarray(a)[rng.choice(len(a), n, replace=False)] "
                                               "for a in array_list]"),
                       {"course_example", "matches_reference", "same_indices", "lists_accepted", "notebook_sizes"}),
    "permutation": (choice("rng.permutation(len(array_list[0]))[:n]"),
                    {"course_example", "matches_reference", "notebook_sizes"}),
    "legacy_randomstate": (choice("np.random.RandomState(seed).choice(len(array_list[0]), n, replace=False)"),
                           {"course_example", "matches_reference", "notebook_sizes"}),
    "global_seed": (choice("rng.choice(len(array_list[0]), n, replace=False)",
                           before="np.random.seed(seed)"), {"global_state_untouched"}),
    "with_replacement": (choice("rng.choice(len(array_list[0]), n)"),
                         {"course_example", "matches_reference", "no_duplicates", "notebook_sizes"}),
    "hard_coded_seed": (choice("np.random.default_rng(42).choice(len(array_list[0]), n, replace=False)"),
                        {"matches_reference", "notebook_sizes"}),
    "returns_indices": (choice("rng.choice(len(array_list[0]), n, replace=False)",
                               returned="[idx for a in array_list]"),
                        {"matches_reference", "lists_accepted", "notebook_sizes"}),
    "lists_not_accepted": (choice("rng.choice(len(array_list[0]), n, replace=False)",
                                  returned="[a[idx] for a in array_list]"), {"lists_accepted", "notebook_sizes"}),
    "unseeded_global_choice": (choice("np.random.choice(len(array_list[0]), n, replace=False)"),
                               {"course_example", "matches_reference", "deterministic",
                                "global_state_untouched", "notebook_sizes"}),
}


@pytest.mark.parametrize("name", sorted(WRONG))
def test_wrong_answers_lose_exactly_the_broken_properties(grade, name):
    source, broken = WRONG[name]
    result = grade(SEEDED_CHOICE, source)
    assert result.status == "failed"
    assert failed_properties(result) == broken, result.feedback
    assert result.score == pytest.approx(3.0 * (len(ALL) - len(broken)) / len(ALL), abs=1e-4)
    assert result.counterexample is not None and result.counterexample.input
    assert "AssertionError" not in result.feedback


def test_two_arrays_only_feedback_quotes_the_course_input(grade):
    result = grade(SEEDED_CHOICE, WRONG["two_arrays_only"][0])
    assert ("parallel_seeded_choice returned 2 arrays for 3 inputs: with seed=42, n=8 and 3 "
            "arrays np.arange(10) (passed as a tuple)") in result.feedback
    assert result.counterexample.expected.startswith("3 arrays, the first [8 9 7 4 6 2 0 3]")
    assert result.counterexample.actual == "2 arrays"


def test_monkeypatching_numpy_in_the_student_function_does_not_change_the_verdict(grade):
    patch = ("state = np.random.get_state(); np.random.get_state = lambda: state; "
             "np.array_equal = lambda *a, **k: True; np.asarray = lambda a, *x, **k: a; "
             "np.random.seed(seed)")
    source = choice("rng.permutation(len(array_list[0]))[:n]", before=patch,
                    returned="[np.array(a)[idx] for a in array_list]")
    result = grade(SEEDED_CHOICE, source)
    assert failed_properties(result) == {"course_example", "matches_reference",
                                         "global_state_untouched", "notebook_sizes"}


@pytest.mark.serial  # a wall-clock bound
def test_an_endless_loop_on_some_inputs_fails_the_check_within_bounded_time(grade):
    source = choice("rng.choice(len(array_list[0]), n, replace=False)",
                    before="while n == 0: pass")
    options = RunnerOptions(call_timeout=1.0, max_examples=25, fork_server=False,
                            limits=OPTIONS.limits)
    started = time.monotonic()
    result = grade(SEEDED_CHOICE, source, options=options)
    assert time.monotonic() - started < 30
    assert result.status == "failed" and "course_example" not in failed_properties(result)
    assert "did not finish within 1 s with seed=" in result.feedback
    assert "n=0" in result.counterexample.input


def test_a_worker_that_dies_mid_search_fails_the_check_without_crashing_the_grader(grade):
    source = choice("rng.choice(len(array_list[0]), n, replace=False)",
                    before="if n == 7: __import__('os')._exit(0)")
    result = grade(SEEDED_CHOICE, source)
    assert result.status == "failed"
    assert "ended the worker process" in result.feedback
    assert "exited with code 0" in result.feedback


# --- at the notebook's size --------------------------------------------------------------------

SIZE_OPTIONS = RunnerOptions(call_timeout=15.0, max_examples=12, fork_server=False,
                             limits=OPTIONS.limits)


@pytest.mark.parametrize("source, says", [
    # Quadratic: checks every index with list.count (~7 s of CPU for 25,000 here).
    (choice("rng.choice(len(array_list[0]), n, replace=False)",
            returned="[np.asarray(a)[idx] for a in array_list] "
                     "if all(idx.tolist().count(i) == 1 for i in idx.tolist()) else None"),
     "needed more than 2 s of CPU time with seed=19891217, n=25,000 and 50,000 CIFAR-sized images"),
    # An index dtype that is right below 32,768 rows only.
    (choice("rng.choice(len(array_list[0]), n, replace=False).astype(np.int16)"),
     "chose the wrong elements with seed=19891217, n=25,000"),
    # Recursion that works for the small tests and not for n = 25,000.
    ("import numpy as np\n\ndef pick(rng, population, k):\n"
     "    return [] if k == 0 else pick(rng, population, k - 1)\n\n"
     "def parallel_seeded_choice(array_list, seed, n):\n"
     "    rng = np.random.default_rng(seed)\n    pick(rng, len(array_list[0]), n)\n"
     "    idx = rng.choice(len(array_list[0]), n, replace=False)\n"
     "    return [np.asarray(a)[idx] for a in array_list]\n",
     "raised RecursionError"),
])
def test_size_dependent_failures_lose_only_notebook_sizes(grade, source, says):
    result = grade(SEEDED_CHOICE, source, options=SIZE_OPTIONS)
    assert failed_properties(result) == {"notebook_sizes"}, result.feedback
    assert says in result.feedback
    assert "50,000 CIFAR-sized images" in result.counterexample.input


def test_slow_feedback_gives_the_limit_and_the_reference_time(grade):
    source = choice("rng.choice(len(array_list[0]), n, replace=False)",
                    before="[0 for _ in range(10 ** 9)] if n > 1000 else None")
    result = grade(SEEDED_CHOICE, source, options=SIZE_OPTIONS)
    assert "and was stopped; the reference needs under 0.2 s" in result.feedback
    assert result.counterexample.actual == "needed more than 2 s of CPU time"
    assert result.counterexample.expected == "a result within 2 s (the reference: under 0.2 s)"


def test_the_size_bound_counts_cpu_time_not_a_busy_machine(grade):
    """Waiting is not computing: 2.5 s of sleep per call at size (as a loaded machine would add
    to the wall clock) leaves a correct answer passing."""
    source = choice("rng.choice(len(array_list[0]), n, replace=False)",
                    before="import time; time.sleep(2.5 if n > 1000 else 0)")
    result = grade(SEEDED_CHOICE, source, options=SIZE_OPTIONS)
    assert result.status == "passed", result.feedback


def test_one_broken_check_does_not_cost_another(grade):
    source = choice("rng.choice(len(array_list[0]), n, replace=False)", before="while True: pass")
    options = RunnerOptions(call_timeout=1.0, max_restarts=0, fork_server=False,
                            limits=OPTIONS.limits)
    results = run_specs([SEEDED_CHOICE, RANDOM_SEED], definitions(source, "MY_RANDOM_SEED = 20000229"),
                        REFERENCE, rubric=load_rubric(), run_dir_factory=grade.factory,
                        options=options, host=grade.host)
    assert [r.status for r in results] == ["failed", "passed"]
    assert results[0].score == 0 and results[1].score == 1.0
    assert "too many times" in results[0].feedback


@pytest.mark.serial  # a wall-clock bound
def test_missing_definition_fails_without_starting_a_worker(grade):
    result = grade(SEEDED_CHOICE, "import numpy as np\n")
    assert result.status == "failed" and result.score == 0
    assert "does not define `parallel_seeded_choice`" in result.feedback
    assert result.seconds < 1


def test_a_reference_without_the_function_is_a_grader_error_not_a_student_fault(grade):
    result = grade(SEEDED_CHOICE, CORRECT, reference=definitions("x = 1"))
    assert result.status == "error" and result.score == 0
    assert "problem of the grader" in result.feedback


@pytest.mark.parametrize("value, broken, observed", [
    ("19891217", set(), 19891217),
    ("np.int64(20000229)", set(), 20000229),
    ("'19891217'", {"is_integer"}, "'19891217'"),
    ("19891217.0", {"is_integer", "is_calendar_date"}, "19891217.0"),
    ("True", {"is_integer", "is_calendar_date"}, "True"),
    ("19891317", {"is_calendar_date"}, 19891317),
    ("18991231", {"is_calendar_date"}, 18991231),
    ("20190229", {"is_calendar_date"}, 20190229),
    ("1989121", {"is_calendar_date"}, 1989121),
])
def test_random_seed_must_be_an_int_that_reads_as_a_birthdate(grade, value, broken, observed):
    result = grade(RANDOM_SEED, f"import numpy as np\nMY_RANDOM_SEED = {value}\n")
    assert failed_properties(result) == broken, result.feedback
    assert result.status == ("failed" if broken else "passed")
    # The seed is kept as data, for the class report's shared and example seeds.
    assert result.observed == {"MY_RANDOM_SEED": observed}
    assert CheckResult.from_dict(result.to_dict()).observed == {"MY_RANDOM_SEED": observed}


def test_check_ids_are_the_fixed_ones():
    assert TASK_CHECK_IDS == ("task1_seeded_choice", "task1_random_seed", "task2_partition",
                              "task3_lr_schedule", "task4a_load_payload", "task4b_extra_test")


def test_terminal_says_a_repeated_error_once(grade):
    """An exception on every input (but the course's) is reported once with the properties it
    failed, not once per property with its input."""
    import io

    from grader.render.terminal import print_report
    from grader.results.model import SubmissionResult

    source = choice("rng.choice(len(array_list[0]), n, replace=False)",
                    returned="[np.asarray(a)[idx] for a in array_list] if n in (8, 15) "
                             "else [np.asarray(a)[idx + len(a)] for a in array_list]")
    result = grade(SEEDED_CHOICE, source)
    out = io.StringIO()
    print_report(SubmissionResult("mine", "0" * 64, checks=[result]), file=out)
    text = " ".join(out.getvalue().split())  # as read, whatever the console's width
    assert text.count("raised IndexError") == 1, text  # the feedback's line
    assert text.count("IndexError: index") == 2, text  # ... and the counterexample's actual
    failed = sorted(failed_properties(result))
    assert len(failed) >= 5
    summary = text.split("The same error made every property that failed fail: ")[1].split(".")[0]
    assert sorted(summary.split(", ")) == failed
    assert text.count("raised the same IndexError with seed=") == len(failed) - 1
