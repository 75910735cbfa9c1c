"""Runs each check of the kit's data file against a namespace (the student's kernel).

A needed name that is missing fails the check with the grader's sentence, unless the caller
knows why it is missing (the terminal mode knows which cell failed and whether the course inputs
were there): then the check is "not checked" with the reason (`why_missing`: the inputs were
missing) or fails with it (`cell_failed`: the student's cell failed). Each check runs under a
wall-clock backstop (`WALL_LIMIT` s): a call that sleeps or waits is stopped and said."""
from __future__ import annotations

from typing import Callable, Optional

from edge_ai_w5_selfcheck import (rules_task1, rules_task1_sizes, rules_task2, rules_task3,
                                  rules_task4)
from edge_ai_w5_selfcheck.observe import Raised
from edge_ai_w5_selfcheck.results import (FAILED, NOT_CHECKED, PASSED, CheckResult,
                                          PropertyResult)
from edge_ai_w5_selfcheck.runtime import Stopped, deadline, preserved

WALL_LIMIT = 60.0  # seconds of wall-clock time per check in the student's kernel


def _failed(name: str, problem: tuple, where: str = "") -> PropertyResult:
    message, actual, expected = problem
    return PropertyResult(name, False, message, where, actual, expected)


def seeded_choice(ns: dict, meta: dict, data: dict) -> list[PropertyResult]:
    exam, key = data["exams"][meta["id"]], data["key"]
    function = ns["parallel_seeded_choice"]
    results = []
    for name in meta["properties"]:
        entries = exam["properties"].get(name, [])
        problem = None
        for entry in entries:
            if entry.get("size"):
                problem = rules_task1_sizes.notebook_sizes(function, entry, key)
                where = ""
            else:
                case = rules_task1.Case(entry, key)
                first, second, changed = case.observe(function)
                where = case.describe()
                if isinstance(first, Raised):
                    problem = (f"{rules_task1.TITLE} raised {first.text} {where}.", first.text, "")
                else:
                    rule = rules_task1.PROPERTIES[name]
                    problem = rule(case, rules_task1.selection(first), second, changed,
                                   exam["algorithm"])
            if problem:
                break
        results.append(_failed(name, problem, where) if problem else PropertyResult(name, True))
    return results


def random_seed(ns: dict, meta: dict, data: dict) -> list[PropertyResult]:
    year_now = data["exams"][meta["id"]]["year_now"]
    value = ns["MY_RANDOM_SEED"]
    results = []
    for name in meta["properties"]:
        problem = rules_task1_sizes.SEED_PROPERTIES[name](value, year_now)
        results.append(_failed(name, problem) if problem else PropertyResult(name, True))
    return results


def _per_case(meta: dict, exam: dict, judge) -> list[PropertyResult]:
    """Each property on its exam cases, in order, up to the first problem `judge(name, case)`
    finds."""
    results = []
    for name in meta["properties"]:
        problem = next(filter(None, (judge(name, case)
                                     for case in exam["properties"].get(name, []))), None)
        results.append(_failed(name, problem) if problem else PropertyResult(name, True))
    return results


def lr_schedule(ns: dict, meta: dict, data: dict) -> list[PropertyResult]:
    exam, cls = data["exams"][meta["id"]], ns["EdgeAiTrainer"]
    return _per_case(meta, exam, lambda name, case: rules_task3.PROPERTIES[name](cls, case, exam))


def partition(ns: dict, meta: dict, data: dict) -> list[PropertyResult]:
    found = rules_task2.run(ns, ns["CIFAR100Partition"], data["exams"][meta["id"]],
                            meta["properties"])
    return [_failed(name, found[name]) if found[name] else PropertyResult(name, True)
            for name in meta["properties"]]


def _client_check(rule):
    def run(ns: dict, meta: dict, data: dict) -> list[PropertyResult]:
        cls = ns["EdgeAiClient"]
        return _per_case(meta, data["exams"][meta["id"]],
                         lambda name, case: rule(cls, case).get(name))
    return run


RUNNERS: dict[str, Callable[[dict, dict, dict], list[PropertyResult]]] = {
    "task1_seeded_choice": seeded_choice,
    "task1_random_seed": random_seed,
    "task2_partition": partition,
    "task3_lr_schedule": lr_schedule,
    "task4a_load_payload": _client_check(rules_task4.load_payload),
    "task4b_extra_test": _client_check(rules_task4.extra_test),
}
MISSING_PACKAGES: dict[str, Callable[[], list]] = {
    "task2_partition": rules_task2.missing_packages,
    "task3_lr_schedule": rules_task3.missing_packages,
    "task4a_load_payload": rules_task4.missing_packages,
    "task4b_extra_test": rules_task4.missing_packages,
}


def run_check(ns: dict, meta: dict, data: dict, why_missing: Optional[dict] = None,
              wall_limit: float = WALL_LIMIT, cell_failed: Optional[dict] = None) -> CheckResult:
    def result(status: str, properties=(), message: str = "") -> CheckResult:
        return CheckResult(meta["id"], meta["task"], meta["title"], status, tuple(properties),
                           message)

    runner = RUNNERS.get(meta["id"])
    if runner is None or meta["id"] not in data["exams"]:
        return result(NOT_CHECKED, message="not checked by this version of the kit (the grader "
                                           "checks it)")
    missing = [name for name in meta["needs"] if name not in ns]
    reasons = list(dict.fromkeys((why_missing or {}).get(name) for name in missing))
    if missing and None not in reasons:
        return result(NOT_CHECKED, message="not checked: " + "; ".join(reasons))
    failed_cells = list(dict.fromkeys((cell_failed or {}).get(name) for name in missing))
    if missing and None not in failed_cells:
        return result(FAILED, message=" ".join(failed_cells))
    if missing:
        names = ", ".join(f"`{n}`" for n in missing)
        return result(FAILED, message=data["missing"].format(names=names))
    packages = MISSING_PACKAGES.get(meta["id"], lambda: [])()
    if packages:
        return result(NOT_CHECKED, message=f"not checked here: this environment lacks "
                                           f"{', '.join(packages)} (the notebook needs it)")
    with preserved():
        try:
            with deadline(wall_limit):
                properties = runner(ns, meta, data)
        except Stopped as stop:
            return result(FAILED, message=(
                f"stopped after {stop.seconds:g} s: a call of `{meta['title']}` did not finish "
                "(a sleep, a wait or an endless loop?). The grader stops each call after a few "
                "seconds and fails the check; the notebook itself would hang there too."))
        except Exception as exc:  # noqa: BLE001 - a kit fault, never the student's
            return result(NOT_CHECKED, message=f"the self-check itself failed ({type(exc).__name__}: "
                                               f"{exc}); please report it")
    status = PASSED if all(p.passed for p in properties) else FAILED
    return result(status, properties)


def run_checks(ns: dict, data: dict, only: Optional[set] = None,
               why_missing: Optional[dict] = None, wall_limit: float = WALL_LIMIT,
               cell_failed: Optional[dict] = None) -> list[CheckResult]:
    known = [c["id"] for c in data["checks"]]
    unknown = sorted(set(only or ()) - set(known))
    if unknown:
        raise ValueError(f"unknown check ids {unknown}; known: {known}")
    return [run_check(ns, meta, data, why_missing, wall_limit, cell_failed)
            for meta in data["checks"] if only is None or meta["id"] in only]
