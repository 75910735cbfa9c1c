"""The registry of checks is the one place a check is declared: rubric ids, default points,
report order and the probe table derive from it, and agree with the worker's probes."""
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from grader.checks import TASK_SPECS, select
from grader.checks.registry import (REGISTRY, RUBRIC_IDS, TASK_CHECK_IDS, Check, Registry,
                                    RegistryError, Source)
from grader.checks.rubric import load_rubric, rubric_from_dict
from grader.checks.spec import CheckSpec, Failure, Observation, Property
from grader.federated.verdict import CHECK_ID as FL_ROUND_ID
from grader.results.model import Fault
from grader.sandbox.probes import table

SANDBOX = Path(__file__).resolve().parents[2] / "grader" / "sandbox"


def test_every_graded_id_comes_from_the_registry_in_report_order():
    assert RUBRIC_IDS == tuple(check.id for check in REGISTRY)
    assert RUBRIC_IDS == ("task1_seeded_choice", "task1_random_seed", "task2_partition",
                          "task3_lr_schedule", "task4a_load_payload", "task4b_extra_test",
                          "notebook_runs", "fl_round")
    assert TASK_CHECK_IDS == tuple(c.id for c in REGISTRY if c.source is Source.WORKER)
    assert [s.id for s in TASK_SPECS] == list(TASK_CHECK_IDS) == [s.id for s in select()]
    assert REGISTRY["notebook_runs"].source is Source.EXECUTION
    assert REGISTRY[FL_ROUND_ID].source is Source.FEDERATED_ROUND


def test_the_shipped_rubric_keeps_the_registry_points():
    rubric = load_rubric()
    assert dict(rubric.points) == dict(REGISTRY.default_points())
    assert tuple(rubric.points) == RUBRIC_IDS
    assert rubric.total == 12.0


def test_a_result_lists_its_checks_in_registry_order():
    from grader.pipeline import error_result

    row = error_result("nb", "0" * 64, "unreadable", load_rubric(), fault=Fault.SUBMISSION)
    assert [c.id for c in row.checks] == [i for i in RUBRIC_IDS if i != FL_ROUND_ID]
    assert [c.max_score for c in row.checks] == [REGISTRY[c.id].points for c in row.checks]


def _worker_probe_table() -> set[str]:
    """The probe table as the worker builds it: the package loaded by path, under its private
    name, nothing of `grader` imported."""
    sys.path.insert(0, str(SANDBOX))
    try:
        import worker

        names = set(worker._load_helper("probes").PROBES)
    finally:
        sys.path.remove(str(SANDBOX))
        for name in [m for m in sys.modules if m == "worker" or m.startswith("_check_worker_")]:
            del sys.modules[name]
    return names


def test_the_probe_table_is_the_workers():
    from grader.sandbox.probes import PROBES

    declared = REGISTRY.probe_table()
    assert set(declared) == set(PROBES) == _worker_probe_table()
    assert declared["seeded_choice_at_size"] == "task1_seeded_choice"
    assert declared["value"] == "task1_random_seed"


class _Anything:
    """Whatever a request reads from a check's prepared data (a path, a table of files)."""

    def __getitem__(self, key):
        return self

    def __str__(self):
        return "/nowhere"


class _Context:
    data = _Anything()
    run_dir = Path("/nowhere")


@pytest.mark.parametrize("check", [c for c in REGISTRY if c.source is Source.WORKER],
                         ids=lambda c: c.id)
def test_each_check_calls_only_the_probes_it_declares(check):
    called = set()
    for prop in check.spec.properties:
        for case in prop.examples:
            probe, args = check.spec.request(_Context(), case)
            assert isinstance(args, dict)
            called.add(probe)
    assert called and called <= set(check.probes), (check.id, called)


def _demo_spec() -> CheckSpec:
    def holds(case, obs):
        return None if obs.actual == case else Failure("the answer is not the input")

    return CheckSpec(id="task5_echo", title="echo", needs=("echo",),
                     observe=lambda context, case: Observation(actual=context.probe(case).value),
                     properties=(Property("echoes", holds, examples=(1, 2)),),
                     describe=lambda case: f"for {case}",
                     request=lambda context, case: ("echo", {"value": case}))


def test_a_new_check_is_one_probe_and_one_registry_line(monkeypatch):
    monkeypatch.setattr(table, "PROBES", dict(table.PROBES))

    @table.probe
    def echo(ns, value):
        return ns["echo"](value)

    registry = REGISTRY.with_check(Check("task5_echo", "Task 5", 1.5, "echo returns its input",
                                         spec=_demo_spec(), probes=("echo",)))
    assert registry.rubric_ids == RUBRIC_IDS + ("task5_echo",)
    assert registry.task_check_ids == TASK_CHECK_IDS + ("task5_echo",)
    assert registry.probe_table()["echo"] == "task5_echo"
    assert set(registry.probe_table()) == set(table.PROBES)
    assert registry["task5_echo"].properties == ("echoes",)
    rubric = rubric_from_dict({"schema_version": 1}, registry=registry)
    assert rubric.points_for("task5_echo") == 1.5 and tuple(rubric.points) == registry.rubric_ids
    overridden = rubric_from_dict({"checks": {"task5_echo": {"points": 4}}}, registry=registry)
    assert overridden.points_for("task5_echo") == 4.0
    with pytest.raises(ValueError, match="unknown check ids"):
        rubric_from_dict({"checks": {"task5_echo": {"points": 4}}})  # not in the real registry


def test_a_probe_registered_twice_is_refused(monkeypatch):
    monkeypatch.setattr(table, "PROBES", dict(table.PROBES))

    def value(ns, name):
        return name

    with pytest.raises(ValueError, match="registered twice"):
        table.probe(value)


@pytest.mark.parametrize("change, message", [
    (lambda checks: checks + (checks[0],), "declared twice"),
    (lambda checks: checks + (replace(checks[1], id="task9", spec=checks[1].spec,
                                      probes=("partition",)),), "needs a spec with its id"),
    (lambda checks: checks + (Check("task9", "Task 9", 1.0, "x", spec=replace(
        checks[0].spec, id="task9"), probes=("partition",)),), "declared by"),
    (lambda checks: checks + (Check("task9", "Task 9", 1.0, "x"),), "needs a spec"),
    (lambda checks: checks + (Check("task9", "Task 9", -1.0, "x",
                                    source=Source.EXECUTION),), ">= 0"),
    (lambda checks: checks + (Check("task9", "Task 9", 1.0, "x", source=Source.EXECUTION,
                                    probes=("value",)),), "only worker checks"),
])
def test_a_contradictory_registry_is_refused(change, message):
    with pytest.raises(RegistryError, match=message):
        Registry(change(REGISTRY.checks))
