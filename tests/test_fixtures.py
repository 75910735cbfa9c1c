"""The sample submissions: reproducible from their generator, and fully described by the manifest."""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import nbformat
import pytest

from grader.checks.registry import TASK_CHECK_IDS
from grader.notebook.markers import solution_regions

ROOT = Path(__file__).resolve().parents[1]
SUBMISSIONS = ROOT / "fixtures" / "submissions"
STATUSES = {"passed", "failed", "skipped"}


def _load_generator():
    """fixtures/ is not a package: load the generator script by path."""
    spec = importlib.util.spec_from_file_location("make_submissions", ROOT / "fixtures" / "make_submissions.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


make_submissions = _load_generator()
MANIFEST = json.loads((SUBMISSIONS / "manifest.json").read_text())
ENTRIES = MANIFEST["submissions"]


def test_generator_reproduces_the_committed_files_byte_for_byte():
    rendered = make_submissions.render_all()
    assert sorted(p.name for p in SUBMISSIONS.iterdir()) == sorted(rendered)
    for name, data in rendered.items():
        assert (SUBMISSIONS / name).read_bytes() == data, f"{name} is stale: run fixtures/make_submissions.py"


def test_manifest_names_every_file_and_every_check():
    notebooks = {p.name for p in SUBMISSIONS.glob("*.ipynb")}
    assert set(ENTRIES) == notebooks
    assert MANIFEST["schema_version"] == 1
    assert MANIFEST["check_ids"] == [
        "task1_seeded_choice",
        "task1_random_seed",
        "task2_partition",
        "task3_lr_schedule",
        "task4a_load_payload",
        "task4b_extra_test",
        "notebook_runs",
        "fl_round",
    ]
    for name, entry in ENTRIES.items():
        assert list(entry["expected"]) == MANIFEST["check_ids"], name
        assert set(entry["expected"].values()) <= STATUSES, name
        assert entry["expected"]["fl_round"] == "skipped", name


def test_every_check_is_failed_by_some_fixture_other_than_the_template():
    failed = {
        check
        for name, entry in ENTRIES.items()
        if name != "template.ipynb"
        for check, status in entry["expected"].items()
        if status == "failed"
    }
    assert failed == set(MANIFEST["check_ids"]) - {"fl_round"}


def test_template_fails_every_task_and_the_run():
    expected = ENTRIES["template.ipynb"]["expected"]
    assert {c for c, s in expected.items() if s == "failed"} == set(MANIFEST["check_ids"]) - {"fl_round"}


@pytest.mark.parametrize("name", sorted(set(ENTRIES) - {"template.ipynb"}))
def test_one_fault_one_lost_task_check(name):
    """A mistake loses its own task check only (plus notebook_runs if it raises); correct ones lose none."""
    entry = ENTRIES[name]
    lost = [c for c in TASK_CHECK_IDS if entry["expected"][c] == "failed"]
    if name == "reference.ipynb":
        assert lost == [] and entry["changed_regions"] == []
    elif name.startswith("correct_"):
        assert lost == [] and entry["changed_regions"], "a correct variant answers in another style"
    else:
        assert entry["changed_regions"] == lost, "a mistake changes one region and fails its check"


@pytest.mark.parametrize("name", sorted(set(ENTRIES) - {"template.ipynb"}))
def test_submissions_differ_from_the_reference_only_in_their_changed_regions(name):
    """Outside the answers a fixture is the reference verbatim, so no unplanned fault slips in."""
    reference = nbformat.read(ROOT / "reference" / "exercise.ipynb", as_version=4)
    submission = nbformat.read(SUBMISSIONS / name, as_version=4)
    assert solution_regions(submission) == [], "submissions carry no solution markers"
    expected = make_submissions.apply_answers(reference, {})
    changed_cells = {r.cell_id for r in solution_regions(reference) if r.label in ENTRIES[name]["changed_regions"]}
    inserted = {f"{cell_id}-next" for cell_id in changed_cells}  # a cell added after a changed one
    kept = [c for c in submission.cells if c.id not in inserted]
    assert [c.id for c in kept] == [c.id for c in expected.cells]
    for got, want in zip(kept, expected.cells):
        if got.id not in changed_cells:
            assert got.source == want.source, got.id
