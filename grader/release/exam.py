"""The kit's PUBLIC exam, with sealed answers.

    write_kit_data(dest_dir)  # writes dest_dir/exam.json, the kit's only data file

Inputs are drawn from the grader's own strategies and examples, with PUBLIC_SEED instead of the
grading exam's seed (`trial.EXAM_SEED`), and fewer of them. For each input the REFERENCE's output
is computed in the grader process (Task 1's reference is numpy-only, see `checks/reference.py`)
and only a keyed hash of its canonical encoding is kept (`seal.py`); expected values are written
out only where they give nothing away (the course's own published vectors, Task 3's schedule,
which the exercise states). Each release gets a fresh key unless one is given.
"""
from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import given, seed

from grader.checks.registry import REGISTRY
from grader.checks.cases import ChoiceCase, ClientRounds, SizeCase
from grader.checks.reference import reference_function
from grader.checks.task1_choice import positions_in
from grader.checks.task1_sizes import SIZE_TIME_LIMIT
from grader.checks.task2 import MEAN, STD
from grader.checks.task3 import REL_TOL, ROUNDS, scheduled_rate
from grader.checks.trial import EXAM_SEED, hypothesis_settings
from grader.notebook.extract import Definitions
from grader.notebook.load import load_notebook
from grader.release import seal
from grader.release.registry_view import registry_view

PUBLIC_SEED = 20260105
assert PUBLIC_SEED != EXAM_SEED
SCHEMA_VERSION = 1
DRAWN = 6  # drawn inputs per property, after the grader's explicit examples
REFERENCE = Path(__file__).resolve().parents[2] / "reference" / "exercise.ipynb"
# The kit ships its inputs as data, so drawn CIFAR-like image rows (3072 bytes each) are kept
# only for small populations; the grader's exam has larger ones.
MAX_IMAGE_ROWS = 12


def public_cases(prop, drawn: int = DRAWN) -> list[Any]:
    """The property's explicit examples, then `drawn` inputs Hypothesis draws with PUBLIC_SEED."""
    cases: list[Any] = list(prop.examples)
    if prop.strategy is None:
        return cases
    found: list[Any] = []

    def test(case: Any) -> None:
        found.append(case)

    seed(PUBLIC_SEED)(hypothesis_settings(drawn)(given(case=prop.strategy())(test)))()
    return cases + found[:drawn]


# --- encoding inputs ------------------------------------------------------------------------


def encode_array(value: Any) -> dict[str, Any]:
    if isinstance(value, list):
        return {"list": value}
    array = np.asarray(value)
    if array.dtype.kind == "U":
        return {"str": array.tolist()}
    return {"dtype": array.dtype.str, "shape": list(array.shape),
            "hex": np.ascontiguousarray(array).tobytes().hex()}


def _fits(case: ChoiceCase) -> bool:
    rows = sum(1 for a in case.arrays if isinstance(a, np.ndarray) and a.ndim == 2
               and a.shape[1] == 3072)
    return case.course or rows == 0 or case.population <= MAX_IMAGE_ROWS


# --- Task 1 ---------------------------------------------------------------------------------


def task1_exam(reference: Definitions, key: str) -> dict[str, Any]:
    spec = REGISTRY["task1_seeded_choice"].spec
    choose = reference_function(reference, "parallel_seeded_choice")
    properties: dict[str, list[dict[str, Any]]] = {}
    for prop in spec.properties:
        entries = []
        for index, case in enumerate(public_cases(prop)):
            label = f"task1_seeded_choice/{prop.name}/{index}"
            if isinstance(case, SizeCase):
                chosen = np.asarray(choose([np.arange(case.population)], case.seed, case.n)[0])
                entries.append({"label": label, "size": True, "population": case.population,
                                "seed": case.seed, "n": case.n, "labels": case.labels,
                                "container": case.container, "time_limit": SIZE_TIME_LIMIT,
                                "sealed": seal.seal(key, label, chosen.astype(np.int64))})
                continue
            if not _fits(case):
                continue
            copies = [a.copy() if isinstance(a, np.ndarray) else list(a) for a in case.arrays]
            first = np.asarray(choose(copies, case.seed, case.n)[0])
            found = positions_in(first, case.arrays[0])
            positions = np.asarray([-1 if p is None else p for p in (found or ())], np.int64)
            entry = {"label": label, "seed": case.seed, "n": case.n,
                     "container": case.container, "course": case.course,
                     "arrays": [encode_array(a) for a in case.arrays],
                     "sealed": seal.seal(key, label, positions)}
            if case.course:  # the course publishes these answers in the notebook itself
                entry["expected_positions"] = positions.tolist()
            entries.append(entry)
        properties[prop.name] = entries
    return {"properties": properties,
            "algorithm": "np.random.default_rng(seed).choice(len(array_list[0]), n, "
                         "replace=False)"}


def random_seed_exam() -> dict[str, Any]:
    return {"year_now": datetime.date.today().year}


# --- Task 3 ---------------------------------------------------------------------------------


def task3_exam() -> dict[str, Any]:
    """The schedule is stated by the exercise, so its values are shown, not sealed."""
    spec = REGISTRY["task3_lr_schedule"].spec
    properties = {}
    for prop in spec.properties:
        cases = []
        for case in public_cases(prop):
            if isinstance(case, float):
                cases.append({"initial": case,
                              "expected": [scheduled_rate(case, r) for r in ROUNDS]})
            else:
                cases.append({"initial": case.initial,
                              "trainers": [list(calls) for calls in case.trainers]})
        properties[prop.name] = cases
    return {"properties": properties, "rounds": list(ROUNDS), "rel_tol": REL_TOL}


# --- Task 2 ---------------------------------------------------------------------------------


def task2_exam() -> dict[str, Any]:
    """Seeds and file sizes; the kit writes its own tiny files and checks the half its stand-in
    for parallel_seeded_choice picks (see the kit's rules_task2), so nothing is sealed."""
    spec = REGISTRY["task2_partition"].spec
    return {"mean": list(MEAN), "std": list(STD), "properties": {
        prop.name: [{"seed": case.seed, "size": case.size, "train": case.train}
                    for case in public_cases(prop)] for prop in spec.properties}}


# --- Task 4 ---------------------------------------------------------------------------------


def task4_exam(check_id: str) -> dict[str, Any]:
    """Rounds and accuracies; what is expected is the behaviour the exercise states."""
    spec = REGISTRY[check_id].spec
    single, many = ("round", "rounds") if check_id == "task4a_load_payload" \
        else ("accuracy", "accuracies")
    return {"properties": {
        prop.name: [{many: list(case.values)} if isinstance(case, ClientRounds)
                    else {single: case} for case in public_cases(prop)]
        for prop in spec.properties}}


# --- the data file --------------------------------------------------------------------------


def kit_data(key: str | None = None, reference_path: Path = REFERENCE) -> dict[str, Any]:
    key = key or seal.new_key()
    reference = Definitions.from_notebook(load_notebook(reference_path))
    return {"schema_version": SCHEMA_VERSION, "public_seed": PUBLIC_SEED, "key": key,
            **registry_view(),
            "exams": {"task1_seeded_choice": task1_exam(reference, key),
                      "task1_random_seed": random_seed_exam(),
                      "task2_partition": task2_exam(),
                      "task3_lr_schedule": task3_exam(),
                      "task4a_load_payload": task4_exam("task4a_load_payload"),
                      "task4b_extra_test": task4_exam("task4b_extra_test")}}


def write_kit_data(dest_dir: Path | str, key: str | None = None) -> Path:
    """Write the kit's data file into `dest_dir` (the package folder of a kit being built)."""
    path = Path(dest_dir) / "exam.json"
    path.write_text(seal.dumps(kit_data(key)), encoding="utf-8")
    return path
