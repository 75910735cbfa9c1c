"""The class report's failure groups (by property) and seed lists, from hand-built results."""
from __future__ import annotations

from grader.course import EXAMPLE_SEEDS
from grader.render.class_report import summarize
from grader.render.common_failures import failure_groups, property_rates
from grader.render.seeds import seed_summary
from grader.results.model import NOT_RUN, CheckResult, GradingRun, SubmissionResult, SubProperty

PROPS = ("same_indices", "no_duplicates", "deterministic")


def choice(name: str, failed: dict[str, str] | None = None, missing: bool = False,
           seed: object = None) -> SubmissionResult:
    """A submission whose task1_seeded_choice failed the properties in `failed` (name -> message),
    or could not run (`missing`); `seed`: the MY_RANDOM_SEED it set."""
    failed = failed or {}
    if missing:
        props = [SubProperty(p, False, NOT_RUN) for p in PROPS]
        feedback = "Your notebook does not define `parallel_seeded_choice` at the top level of a code cell."
    else:
        props = [SubProperty(p, p not in failed, failed.get(p, "")) for p in PROPS]
        feedback = f"parallel_seeded_choice: {3 - len(failed)} of 3 properties held."
    status = "failed" if failed or missing else "passed"
    checks = [CheckResult("task1_seeded_choice", status, 3.0 if status == "passed" else 1.0, 3.0,
                          feedback=feedback, properties=props)]
    if seed is not None:
        checks.append(CheckResult("task1_random_seed", "passed", 1.0, 1.0, observed={"MY_RANDOM_SEED": seed}))
    return SubmissionResult(name, name[0] * 64, checks=checks)


def test_groups_are_properties_most_frequent_first_with_masked_sentences_and_students():
    subs = [
        choice("ann", {"same_indices": "chose positions [3 1] for array 2 with seed=4, n=2."}),
        choice("ben", {"same_indices": "chose positions [9 8 7] for array 2 with seed=0, n=3.",
                       "no_duplicates": "chose 5 twice with seed=1, n=6."}),
        choice("cat", {"no_duplicates": "chose 2 twice with seed=3, n=4.", "deterministic": "differs."}),
        choice("dan", missing=True), choice("eve", missing=True), choice("fay", missing=True),
        choice("gus"),
        SubmissionResult.from_error("hal", "", "not a notebook"),
    ]
    groups = failure_groups("task1_seeded_choice", subs)
    assert [(g["property"], g["kind"], g["count"], g["submissions"]) for g in groups] == [
        ("could not run", "not_run", 3, ["dan", "eve", "fay"]),
        ("no_duplicates", "property", 2, ["ben", "cat"]),  # ben counts under both of his
        ("same_indices", "property", 2, ["ann", "ben"]),
        ("deterministic", "property", 1, ["cat"]),
    ]
    same = groups[2]["sentences"]
    assert same == [{"pattern": "chose positions [N N N] for array N with seed=N, n=N.",
                     "message": "chose positions [9 8 7] for array 2 with seed=0, n=3.", "variants": 1,
                     "count": 1, "submissions": ["ben"]},
                    {"pattern": "chose positions [N N] for array N with seed=N, n=N.",
                     "message": "chose positions [3 1] for array 2 with seed=4, n=2.", "variants": 1,
                     "count": 1, "submissions": ["ann"]}]  # a tie: in the patterns' order
    assert groups[1]["sentences"][0]["pattern"] == "chose N twice with seed=N, n=N."
    assert groups[1]["sentences"][0]["variants"] == 2
    # The name that is missing is the point: not masked.
    assert groups[0]["sentences"][0]["message"].startswith("Your notebook does not define `parallel_seeded_choice`")
    # Pass rates per property count the checks that ran: dan, eve and fay do not, hal not at all.
    assert property_rates("task1_seeded_choice", subs) == [
        {"name": "same_indices", "held": 2, "failed": 2, "pass_rate": 0.5},
        {"name": "no_duplicates", "held": 2, "failed": 2, "pass_rate": 0.5},
        {"name": "deterministic", "held": 3, "failed": 1, "pass_rate": 0.75}]


def test_seeds_shared_or_copied_from_the_course_are_listed():
    subs = [choice("ann", seed=19891217), choice("ben", seed="'19891217'"), choice("cat", seed=42),
            choice("dan", seed=20010101), choice("eve", seed=20010101), choice("fay", seed=19990615),
            choice("gus")]
    seeds = seed_summary(subs)
    assert seeds["recorded"] == 6 and seeds["distinct"] == 4
    assert seeds["shared"] == [
        {"seed": 19891217, "count": 2, "submissions": ["ann", "ben"], "example": EXAMPLE_SEEDS[19891217]},
        {"seed": 20010101, "count": 2, "submissions": ["dan", "eve"], "example": None}]
    assert seeds["examples"] == [
        {"seed": 42, "why": EXAMPLE_SEEDS[42], "count": 1, "submissions": ["cat"]},
        {"seed": 19891217, "why": EXAMPLE_SEEDS[19891217], "count": 2, "submissions": ["ann", "ben"]}]
    assert summarize(GradingRun(subs))["seeds"] == seeds


def test_every_example_seed_is_in_the_course_material():
    from tests.helpers import ROOT

    material = (ROOT / "reference" / "exercise.ipynb").read_text() + \
        (ROOT / "student_template" / "exercise.ipynb").read_text()
    assert "MY_RANDOM_SEED = 19891217" in material and "TEST_SEED = 42" in material
    assert "seed = 42" in material and "dataset_for_seed(i, num_elements" in material
    assert set(EXAMPLE_SEEDS) == {42, 19891217, 0, 1}
