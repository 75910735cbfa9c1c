"""The class report over fixtures/submissions names each mistake's property with the right count.

No grading of its own: the samples' results come from the session's pool batch (`pool_batches`,
tests/conftest.py), which the sandbox and cluster tests grade anyway. The manifest says which
task checks each sample must fail (its mistakes); the report must list every one of those
students under a failing property (or "could not run") of exactly those checks, with counts that
add up, and the seeds the samples copied from the course's example answer.
"""
from __future__ import annotations

import json
from collections import defaultdict

import pytest

from grader.course import EXAMPLE_SEEDS
from grader.render.class_report import summarize
from grader.render.html import class_report
from grader.results.model import GradingRun, SubmissionResult

from tests.helpers import SUBMISSIONS

pytestmark = pytest.mark.slow  # needs the session's pool batch


@pytest.fixture(scope="module")
def samples(pool_batches):
    (out, _), _, _ = pool_batches
    manifest = json.loads((SUBMISSIONS / "manifest.json").read_text())["submissions"]
    rows = json.loads((out / "grades.json").read_text())["submissions"]
    run = GradingRun([SubmissionResult.from_dict(row) for row in rows
                      if row["submission"] + ".ipynb" in manifest])
    assert len(run.submissions) == len(manifest)
    return run, {name.removesuffix(".ipynb"): entry["expected"] for name, entry in manifest.items()}


def test_failure_groups_name_exactly_the_manifests_mistakes(samples):
    run, expected = samples
    summary = summarize(run)
    failing = defaultdict(set)
    for name, statuses in expected.items():
        for check_id, status in statuses.items():
            if status in ("failed", "error"):
                failing[check_id].add(name)
    for check in summary["checks"]:
        groups = check["failure_groups"]
        listed = {name for group in groups for name in group["submissions"]}
        graded = {s.submission for s in run.submissions
                  if s.check(check["id"]) is not None and s.check(check["id"]).status in ("failed", "error")}
        assert listed == graded and check["not_passed_graded"] == len(graded), check["id"]
        if check["id"].startswith("task"):  # the mistakes (notebook_runs also depends on time limits)
            assert listed == failing[check["id"]], check["id"]
        counts = [group["count"] for group in groups]
        assert counts == sorted(counts, reverse=True)  # most frequent first
        for group in groups:
            assert group["count"] == len(group["submissions"]) == sum(s["count"] for s in group["sentences"]) \
                or group["more_sentences"]
            if group["kind"] == "property":  # a property the check really has, failed by each one listed
                for name in group["submissions"]:
                    result = run.submissions[[s.submission for s in run.submissions].index(name)]
                    props = {p.name: p.passed for p in result.check(check["id"]).properties}
                    assert props[group["property"]] is False, (name, group["property"])


def test_the_template_is_its_own_group_where_it_defines_nothing(samples):
    run, _ = samples
    groups = {c["id"]: c["failure_groups"] for c in summarize(run)["checks"]}
    for check_id, check_groups in groups.items():
        for group in check_groups:
            if group["kind"] == "not_run":
                assert group["property"] == "could not run"
                assert all(s["message"].startswith("Your notebook does not define") for s in group["sentences"])


def test_report_lists_each_property_with_its_count_and_the_copied_seeds(samples):
    run, _ = samples
    html, summary_json = class_report(run)
    summary = json.loads(summary_json)
    failures = html[html.index('id="gr-failures"'):html.index('id="gr-seeds"')]
    for check in summary["checks"]:
        for group in check["failure_groups"]:
            label = group["property"] if group["kind"] == "property" else \
                {"not_run": "could not run", "check": "the check as a whole"}[group["kind"]]
            row = f'<td class="gr-num"><strong>{group["count"]}</strong></td>'
            assert row in failures and label in failures, (check["id"], label)
    # Most samples keep the reference's seed: the course's example answer, shared by all of them.
    seeds = summary["seeds"]
    copied = [row for row in seeds["shared"] if row["seed"] == 19891217]
    assert copied and copied[0]["example"] == EXAMPLE_SEEDS[19891217] and copied[0]["count"] > 10
    seeds_html = html[html.index('id="gr-seeds"'):html.index('id="gr-problems"')]
    assert "19891217" in seeds_html and "course example" in seeds_html
