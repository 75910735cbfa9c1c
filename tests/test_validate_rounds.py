"""`validate`'s federated rounds: which samples join one, and how their outcome is judged.

The rounds themselves are replaced by a function that answers from a table (a real round is
tested in tests/federated/test_round.py and tests/federated/test_round_size.py); what is tested
here is the selection by device and `--fl-round`, and the comparison with the manifest.
"""
from __future__ import annotations

import json

import nbformat

from grader.pipeline import Options
from grader.results.model import ERROR, FAILED, PASSED, CheckResult
from grader.validate import SUBMISSIONS
from grader.validate_rounds import WHEN_RUN, round_samples, validate_rounds

MANIFEST = json.loads((SUBMISSIONS / "manifest.json").read_text())
ROUND_FIXTURES = {name for name in MANIFEST["submissions"]
                  if name.startswith(("task3_", "task4"))}


class Rounds:
    """Answers `fl_round` for a sample with the status its manifest row names, or `wrong`'s."""

    def __init__(self, wrong: dict[str, str] | None = None) -> None:
        self.wrong = wrong or {}
        self.ran: list[str] = []
        self.references = 0
        # every sample differs from the others in its cells: known by its sources
        self.names = {_sources(nbformat.read(SUBMISSIONS / name, as_version=4)): name
                      for name in MANIFEST["submissions"]}

    def check(self, nb, options):
        name = self.names[_sources(nb)]
        self.ran.append(name)
        status = self.wrong.get(name, MANIFEST["submissions"][name][WHEN_RUN])
        if status == "raise":
            raise RuntimeError("the aggregator could not start")
        return CheckResult("fl_round", status, 0.0, 1.0, feedback=f"round of {name}")

    def reference(self, options):
        self.references += 1
        return True, "passed in 30 s (round 25)"


def _sources(nb) -> tuple[str, ...]:
    return tuple(cell.source for cell in nb.cells)


def _with_cuda(monkeypatch, present: bool) -> None:
    monkeypatch.setattr("grader.federated.settings.cuda_available", lambda: present)


def test_the_manifest_names_the_round_of_the_reference_and_of_tasks_3_and_4_only():
    assert set(round_samples(MANIFEST)) == ROUND_FIXTURES | {"reference.ipynb"}
    assert set(round_samples(MANIFEST).values()) == {PASSED, FAILED}


def test_on_the_cpu_only_the_reference_joins_a_round(monkeypatch):
    _with_cuda(monkeypatch, False)
    rounds = Rounds()
    findings = validate_rounds(Options(), MANIFEST, SUBMISSIONS, check=rounds.check,
                               reference=rounds.reference)
    assert [f.item for f in findings] == ["reference federated round"] and findings[0].ok
    assert rounds.ran == [] and rounds.references == 1


def test_with_cuda_the_fixtures_of_tasks_3_and_4_join_a_round_each(monkeypatch):
    _with_cuda(monkeypatch, True)
    rounds = Rounds()
    findings = validate_rounds(Options(), MANIFEST, SUBMISSIONS, check=rounds.check,
                               reference=rounds.reference)
    assert sorted(rounds.ran) == sorted(ROUND_FIXTURES)  # the reference's round once, above
    assert rounds.references == 1
    assert all(f.ok for f in findings), [f for f in findings if not f.ok]
    assert len(findings) == 1 + len(ROUND_FIXTURES)


def test_forced_on_the_cpu_they_do_too_and_off_none_does(monkeypatch):
    _with_cuda(monkeypatch, False)
    rounds = Rounds()
    validate_rounds(Options(fl_round="on"), MANIFEST, SUBMISSIONS, check=rounds.check,
                    reference=rounds.reference)
    assert sorted(rounds.ran) == sorted(ROUND_FIXTURES)
    _with_cuda(monkeypatch, True)
    rounds = Rounds()
    validate_rounds(Options(fl_round="off"), MANIFEST, SUBMISSIONS, check=rounds.check,
                    reference=rounds.reference)
    assert rounds.ran == []


def test_an_outcome_other_than_the_manifests_is_a_failed_finding_that_says_both(monkeypatch):
    _with_cuda(monkeypatch, True)
    passing = next(n for n, s in round_samples(MANIFEST).items() if s == PASSED and n in ROUND_FIXTURES)
    failing = next(n for n, s in round_samples(MANIFEST).items() if s == FAILED)
    broken = next(n for n in sorted(ROUND_FIXTURES) if n not in (passing, failing))
    rounds = Rounds(wrong={passing: FAILED, failing: ERROR, broken: "raise"})
    findings = {f.item: f for f in validate_rounds(Options(), MANIFEST, SUBMISSIONS,
                                                     check=rounds.check, reference=rounds.reference)}
    assert not findings[f"{passing} federated round"].ok
    assert "failed (expected passed)" in findings[f"{passing} federated round"].detail
    assert "error (expected failed)" in findings[f"{failing} federated round"].detail
    raised = findings[f"{broken} federated round"]
    assert not raised.ok and "the aggregator could not start" in raised.detail
    assert sum(not f.ok for f in findings.values()) == 3


def test_the_rounds_run_in_pool_processes_and_come_back_by_name():
    # `--fl-round off` makes each pool process's check answer at once (no round): what is
    # tested is the pool itself (options and notebooks go out, plain results come back).
    from grader.validate_rounds import _run

    samples = dict(sorted(round_samples(MANIFEST).items())[:3])
    results = _run(samples, Options(fl_round="off"), SUBMISSIONS, jobs=2, check=None)
    assert list(results) == list(samples)
    assert all(isinstance(r, CheckResult) and r.status == "skipped" for r in results.values())
