"""The runner's logic (no worker processes), the rubric, strategies and feedback helpers."""
import datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nbformat.v4 import new_code_cell, new_notebook

from grader.checks import feedback
from grader.checks.cases import ChoiceCase
from grader.checks.registry import RUBRIC_IDS
from grader.checks.rubric import RubricError, load_rubric, rubric_from_dict
from grader.checks.runner import RunnerOptions, run_check
from grader.checks.trial import hypothesis_settings
from grader.checks.spec import CheckSpec, Failure, Observation, Property
from grader.checks.strategies import ARRAY_KINDS, LIST_KINDS, choice_problems, encoded_rows
from grader.checks.task1 import describe
from grader.checks.task1_choice import positions_in, same_values
from grader.notebook.extract import Definitions
from grader.portable.dates import date_problem
from grader.sandbox.errors import LostReason, WorkerLost
from grader.sandbox.hosts import FreshHost
from grader.sandbox.process import Limits

STUDENT = Definitions.from_notebook(new_notebook(cells=[new_code_cell("def f(x):\n    return x",
                                                                      id="the-cell")]))


def fake_spec(observe=None, properties=None, **extra) -> CheckSpec:
    """A check whose observations are computed in-process (the session is never asked)."""
    def small(x, obs):
        return None if obs.actual < 100 else Failure(f"{x} is not below 100", "< 100", str(x))

    return CheckSpec(id="fake", title="f", needs=("f",),
                     observe=observe or (lambda context, x: Observation(actual=x)),
                     describe=lambda x: f"with x={x}",
                     properties=properties or (
                         Property("small", small, strategy=lambda: st.integers(0, 10_000),
                                  examples=(3,)),
                         Property("even", lambda x, obs: None if x % 2 == 0 else Failure("odd"),
                                  examples=(2, 4)),
                     ), **extra)


def run(spec, tmp_path, **options):
    host = FreshHost("/nonexistent", Limits())
    return run_check(spec, STUDENT, STUDENT, points=4.0, host=host,
                     run_dir_factory=lambda: (tmp_path, {}),
                     options=RunnerOptions(**options), **({}))


def test_counterexample_is_shrunk_and_the_exam_is_the_same_every_time(tmp_path):
    first, second = run(fake_spec(), tmp_path), run(fake_spec(), tmp_path)
    assert first.status == "failed" and first.score == 2.0 and first.max_score == 4.0
    assert first.counterexample.input == "with x=100"
    assert (first.counterexample.expected, first.counterexample.actual) == ("< 100", "100")
    assert [(p.name, p.passed) for p in first.properties] == [("small", False), ("even", True)]
    assert first.cell_id == "the-cell"
    assert first.to_dict() | {"seconds": 0} == second.to_dict() | {"seconds": 0}


def test_no_partial_credit_when_the_rubric_says_so(tmp_path):
    host = FreshHost("/nonexistent", Limits())
    result = run_check(fake_spec(), STUDENT, STUDENT, points=4.0, host=host,
                       run_dir_factory=lambda: (tmp_path, {}), options=RunnerOptions(),
                       partial_credit=False)
    assert result.status == "failed" and result.score == 0


def test_a_lost_worker_fails_the_property_with_a_sentence(tmp_path):
    def observe(context, x):
        if x == 3:
            raise WorkerLost(LostReason.TIMEOUT, "it did not finish in time")
        return Observation(actual=x)

    result = run(fake_spec(observe=observe), tmp_path, call_timeout=2.0)
    assert [p.passed for p in result.properties] == [False, True]
    assert "f did not finish within 2 s with x=3" in result.feedback
    assert result.counterexample.actual == "no result (stopped after the time limit)"


def test_a_grader_bug_is_status_error_for_this_check_only(tmp_path):
    def observe(context, x):
        raise KeyError("grader bug")

    result = run(fake_spec(observe=observe), tmp_path)
    assert result.status == "error" and result.score == 0
    assert "not of your notebook" in result.feedback


def test_a_spent_time_budget_fails_the_remaining_properties(tmp_path):
    result = run(fake_spec(), tmp_path, check_budget=0.0)
    assert result.status == "failed"
    assert all(not p.passed for p in result.properties)
    assert "time budget" in result.feedback


def test_the_same_student_exception_is_reported_once(tmp_path):
    from grader.checks.session import StudentError

    error = StudentError("ValueError", "nope", ("cell c, line 2, in f",))
    result = run(fake_spec(observe=lambda context, x: Observation(error=error)), tmp_path)
    assert result.feedback.count("raised ValueError: nope (cell c, line 2, in f)") == 1
    assert result.score == 0


@pytest.mark.parametrize("spec_id", ["task1_seeded_choice", "task2_partition", "task3_lr_schedule"])
def test_a_search_meets_the_exam_up_to_its_first_failure(spec_id):
    """What lets the runner judge the exam without Hypothesis: a failing search has met the
    exam's inputs, in order, up to the failing one (then it shrinks)."""
    from grader.checks import TASK_SPECS
    from grader.checks.trial import _search, exam
    from grader.sandbox import codec

    def key(case):
        return codec.encode(vars(case) if hasattr(case, "__dict__") else case)

    spec = next(s for s in TASK_SPECS if s.id == spec_id)
    for prop in [p for p in spec.properties if p.strategy is not None][:2]:
        cases = exam(prop, spec.max_examples)
        assert len(cases) > len(prop.examples) and exam(prop, spec.max_examples) is cases
        keys = [key(c) for c in cases]
        for stop in (len(prop.examples), len(cases) * 2 // 3, len(cases) - 1):
            stop = keys.index(keys[stop])  # a deterministic visit fails where the input first came
            met = []

            def visit(case):
                met.append(key(case))
                if met[-1] == keys[stop]:
                    raise AssertionError("fails here")

            with pytest.raises(AssertionError):
                _search(prop, spec.max_examples, visit)
            assert met[:stop + 1] == keys[:stop + 1]


def test_a_failure_in_the_exam_is_shrunk_by_the_search_and_a_pass_needs_no_search(tmp_path,
                                                                                 monkeypatch):
    from grader.checks import trial

    passing = fake_spec(properties=(
        Property("any", lambda x, obs: None, strategy=lambda: st.integers(0, 10_000)),))
    failing = fake_spec()
    for prop in passing.properties + failing.properties:
        trial.exam(prop, failing.max_examples)  # recorded by a search of its own, once
    searched = []
    real_search = trial._search
    monkeypatch.setattr(trial, "_search", lambda *a: searched.append(a[0].name) or real_search(*a))
    assert run(passing, tmp_path).status == "passed" and searched == []
    result = run(failing, tmp_path)
    assert searched == ["small"] and result.counterexample.input == "with x=100"


def test_hypothesis_settings_are_the_same_exam_for_everyone():
    chosen = hypothesis_settings(30)
    assert chosen.derandomize and chosen.database is None and chosen.deadline is None
    assert chosen.max_examples == 30 and not chosen.report_multiple_bugs


# --- rubric -----------------------------------------------------------------------------------


def test_default_rubric_has_points_for_all_eight_checks():
    rubric = load_rubric()
    assert tuple(rubric.points) == RUBRIC_IDS and len(RUBRIC_IDS) == 8
    assert rubric.points_for("notebook_runs") == 0 and rubric.points_for("fl_round") == 2
    assert all(rubric.points_for(c) > 0 for c in RUBRIC_IDS if c != "notebook_runs")
    assert rubric.allows_partial_credit("task1_seeded_choice")


@pytest.mark.parametrize("change, message", [
    (lambda d: d["checks"].update(fl_round=2.0), "must be a table"),
    (lambda d: d["checks"].update(task9={"points": 1}), "unknown check ids"),
    (lambda d: d["checks"]["task2_partition"].update(points=-1), "must be a number"),
    (lambda d: d["checks"]["task2_partition"].update(points="2"), "must be a number"),
    (lambda d: d["checks"]["task2_partition"].update(partial_credit="yes"), "true or false"),
    (lambda d: d.update(schema_version=2), "schema_version"),
])
def test_malformed_rubrics_are_refused_with_a_clear_message(change, message):
    data = {"schema_version": 1, "checks": {c: {"points": 1.0} for c in RUBRIC_IDS}}
    change(data)
    with pytest.raises(RubricError, match=message):
        rubric_from_dict(data)


def test_a_rubric_overrides_only_what_it_names(tmp_path):
    """Points are declared with each check (the registry); a rubric file changes some of them."""
    path = tmp_path / "rubric.toml"
    path.write_text("schema_version = 1\n[checks.task2_partition]\npoints = 5\n"
                    "partial_credit = false\n")
    rubric = load_rubric(path)
    assert rubric.points_for("task2_partition") == 5.0
    assert not rubric.allows_partial_credit("task2_partition")
    assert rubric.points_for("task1_seeded_choice") == 3.0
    assert rubric.allows_partial_credit("task1_seeded_choice")
    assert tuple(rubric.points) == RUBRIC_IDS and rubric.total == load_rubric().total + 3.0


def test_rubric_file_errors(tmp_path):
    with pytest.raises(RubricError, match="cannot read"):
        load_rubric(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[checks\n")
    with pytest.raises(RubricError, match="not valid TOML"):
        load_rubric(bad)


# --- strategies and helpers -------------------------------------------------------------------


@settings(max_examples=30, derandomize=True, database=None, deadline=None)
@given(choice_problems(1, 5, lists=True))
def test_generated_arrays_have_unique_rows_that_differ_from_their_positions(case):
    assert isinstance(case.arrays[0], np.ndarray) and 0 <= case.n <= case.population
    for array in case.arrays:
        assert len(array) == case.population
        found = positions_in(array, array)
        assert found == tuple(range(case.population))
        if np.asarray(array).ndim == 1 and np.asarray(array).dtype.kind in "iuf":
            assert not np.array_equal(np.asarray(array), np.arange(case.population))


@pytest.mark.parametrize("kind", [k for k in ARRAY_KINDS + LIST_KINDS if k != "images"])
def test_every_kind_encodes_its_order(kind):
    shuffled, ordered = encoded_rows(kind, np.array([2, 0, 1]), 5), encoded_rows(kind, np.arange(3), 5)
    assert positions_in(shuffled, ordered) == (2, 0, 1)


def test_positions_and_dtype_tolerant_equality():
    source = [200, 201, 202]
    assert positions_in(np.array([202, 200]), source) == (2, 0)
    assert positions_in(np.array([202.0, 5.0]), source) == (2, None)
    assert positions_in(np.array([202.5]), source) is None  # not representable: unknown
    assert positions_in(np.zeros((1, 2)), source) is None
    assert same_values([1, 2], np.array([1, 2], dtype=np.int8))
    assert not same_values(np.array([1, 2]), np.array([2, 1]))
    assert same_values(np.zeros((0,)), np.zeros((0, 3072), dtype=np.uint8))
    assert not same_values(np.array(["a"]), np.array([1]))


def test_input_descriptions_read_like_the_course():
    ten = np.arange(10)
    assert describe(ChoiceCase((ten, ten, ten), 42, 8, "tuple")) == \
        "with seed=42, n=8 and 3 arrays np.arange(10) (passed as a tuple)"
    small = ChoiceCase((np.array([101, 100]), [200, 201]), 0, 1)
    assert describe(small) == ("with seed=0, n=1 and 2 arrays of length 2: an int64 array "
                               "[101 100], a Python list of int [200 201]")


def test_dates():
    today = datetime.date(2025, 6, 1).year
    assert date_problem(19891217, today) is None
    assert date_problem(20000229, today) is None
    assert "not a calendar date" in date_problem(20010229, today)
    assert "between 1900 and 2025" in date_problem(20260101, today)
    assert "digits" in date_problem(891217, today)


def test_feedback_helpers():
    assert feedback.values(np.arange(20)).endswith("14 15 ...] (20 elements)")
    assert feedback.values(np.zeros((2, 3), dtype=np.uint8)) == "an array of shape (2, 3) (uint8)"
    assert feedback.positions([1, None, 3]) == "[1 ? 3]"
    assert [feedback.ordinal(i) for i in (0, 1, 2, 3, 10, 20)] == \
        ["1st", "2nd", "3rd", "4th", "11th", "21st"]
    assert feedback.plural(1, "array") == "1 array" and feedback.plural(2, "property", "properties") \
        == "2 properties"


def test_selecting_checks_by_id():
    from grader.checks import TASK_CHECK_IDS, select

    assert [s.id for s in select()] == list(TASK_CHECK_IDS)
    assert [s.id for s in select({"task3_lr_schedule", "task1_random_seed", "fl_round"})] == \
        ["task1_random_seed", "task3_lr_schedule"]
    with pytest.raises(ValueError, match="unknown check ids"):
        select({"task9"})


def test_the_exam_does_not_depend_on_which_modules_happen_to_be_loaded(tmp_path, monkeypatch):
    """Hypothesis mixes literals of "local" modules into what it draws; `grade`, `check` and the
    tests load different modules, so the runner pins that pool to empty."""
    drawn: list[list[int]] = []

    def recording_spec():
        seen: list[int] = []
        drawn.append(seen)

        def observe(context, x):
            seen.append(x)
            return Observation(actual=x)

        return fake_spec(observe=observe, properties=(
            Property("any", lambda x, obs: None, strategy=lambda: st.integers(0, 10 ** 9)),))

    run(recording_spec(), tmp_path, max_examples=100)
    module = tmp_path / "grader_test_constants_module.py"
    module.write_text("VALUES = [" + ", ".join(str(123_456_789 + i) for i in range(300)) + "]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    __import__("grader_test_constants_module")
    run(recording_spec(), tmp_path, max_examples=100)
    assert drawn[0] == drawn[1] and len(drawn[0]) > 50
