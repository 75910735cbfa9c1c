"""The kit's data file comes from the grader's own check declarations and carries no answers in
clear, except the course's published ones."""
from __future__ import annotations

import json

from grader.checks import feedback
from grader.checks.registry import REGISTRY, TASK_SPECS
from grader.checks.trial import EXAM_SEED
from grader.release import exam


def test_checks_properties_and_sentences_are_the_graders(kit_data_file):
    data = json.loads(kit_data_file.read_text())
    assert [c["id"] for c in data["checks"]] == [spec.id for spec in TASK_SPECS]
    for view, spec in zip(data["checks"], TASK_SPECS):
        assert view["properties"] == [p.name for p in spec.properties]
        assert view["title"] == spec.title and view["needs"] == list(spec.needs)
        assert view["summary"] == REGISTRY[spec.id].summary
    assert set(data["not_in_kit"]) == set(REGISTRY.rubric_ids) - {s.id for s in TASK_SPECS}
    assert data["missing"].format(names="`x`") == feedback.missing(["x"])


def test_the_public_exam_has_its_own_seed_and_sealed_answers(kit_data_file):
    data = json.loads(kit_data_file.read_text())
    assert data["public_seed"] == exam.PUBLIC_SEED != EXAM_SEED
    entries = [e for cases in data["exams"]["task1_seeded_choice"]["properties"].values()
               for e in cases]
    assert len(entries) > 30
    for entry in entries:
        assert len(entry["sealed"]) == 64
        # positions in clear only for the course's own vectors (published in the notebook)
        assert ("expected_positions" in entry) == bool(entry.get("course"))


def test_each_release_gets_its_own_key(tmp_path):
    one = exam.kit_data()
    two = exam.kit_data()
    assert one["key"] != two["key"]
    first = one["exams"]["task1_seeded_choice"]["properties"]["matches_reference"][3]
    second = two["exams"]["task1_seeded_choice"]["properties"]["matches_reference"][3]
    assert first["arrays"] == second["arrays"] and first["sealed"] != second["sealed"]
