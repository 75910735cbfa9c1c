"""A notebook that hard-codes the kit's public answers passes the kit and fails the grader: the
kit's exam is public, grading uses its own (another seed, more and larger inputs)."""
from __future__ import annotations

import json

import numpy as np

from grader.checks import run_checks
from grader.checks.reference import reference_function
from grader.notebook.extract import Definitions
from grader.notebook.load import load_notebook
from tests.helpers import definitions
from tests.kit.conftest import ROOT


def hardcoded_source(kit_data_file) -> str:
    """A parallel_seeded_choice that knows the answer to every input of the kit's exam (here
    computed with the reference, as a student could by reading the kit's inputs and trying)
    and returns the first n elements otherwise."""
    reference = Definitions.from_notebook(load_notebook(ROOT / "reference" / "exercise.ipynb"))
    choose = reference_function(reference, "parallel_seeded_choice")
    data = json.loads(kit_data_file.read_text())
    table = {}
    for entries in data["exams"]["task1_seeded_choice"]["properties"].values():
        for entry in entries:
            size = entry["population"] if entry.get("size") else _length(entry["arrays"][0])
            chosen = choose([np.arange(size)], entry["seed"], entry["n"])[0]
            table[(entry["seed"], entry["n"], size)] = [int(i) for i in chosen]
    return (
        "import numpy as np\n"
        f"ANSWERS = {table!r}\n"
        "def parallel_seeded_choice(array_list, seed, n):\n"
        "    key = (seed, n, len(array_list[0]))\n"
        "    chosen = ANSWERS[key] if key in ANSWERS else list(range(n))\n"
        "    return [np.asarray(a)[np.asarray(chosen, dtype=np.int64)] for a in array_list]\n")


def _length(encoded: dict) -> int:
    if "list" in encoded:
        return len(encoded["list"])
    if "str" in encoded:
        return len(encoded["str"])
    return encoded["shape"][0]


def test_hardcoded_public_answers_pass_the_kit_and_fail_the_grader(kit, kit_data_file):
    source = hardcoded_source(kit_data_file)
    namespace: dict = {}
    exec(source, namespace)  # noqa: S102 - test code
    kit_result = kit.check("task1_seeded_choice", namespace=namespace, show=False,
                           data_file=kit_data_file)
    assert kit_result.passed, str(kit_result)

    reference = Definitions.from_notebook(load_notebook(ROOT / "reference" / "exercise.ipynb"))
    graded = run_checks(definitions(source), reference, only={"task1_seeded_choice"})
    assert [r.status for r in graded] == ["failed"]
    failed = {p.name for p in graded[0].properties if not p.passed}
    assert "matches_reference" in failed, graded[0].feedback
