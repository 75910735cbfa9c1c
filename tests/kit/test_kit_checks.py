"""The kit's checks in-process, on namespaces built here (Task 1; Task 3 needs Plato's Config(),
which reads sys.argv, so it is tested in kernels: test_agreement.py, test_wheel_venv.py)."""
from __future__ import annotations

import os
import sys

import numpy as np
import pytest

REFERENCE = """
import numpy as np
def parallel_seeded_choice(array_list, seed, n):
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(array_list[0]), n, replace=False)
    return [np.asarray(a)[chosen] for a in array_list]
MY_RANDOM_SEED = 19891217
"""
TASK1 = ("task1_seeded_choice", "task1_random_seed")


def namespace(source: str) -> dict:
    ns: dict = {}
    exec(source, ns)  # noqa: S102 - test code
    return ns


def run(kit, kit_data_file, source: str):
    return kit.check(*TASK1, namespace=namespace(source), show=False, data_file=kit_data_file)


def failed(results) -> dict:
    return {c.id: [p.name for p in c.failed_properties] for c in results.checks if not c.passed}


def test_the_reference_passes_and_the_kernel_is_left_as_found(kit, kit_data_file, tmp_path):
    np.random.seed(3)
    state = np.random.get_state()
    argv, cwd = list(sys.argv), os.getcwd()
    results = run(kit, kit_data_file, REFERENCE)
    assert results.passed, str(results)
    assert all(len(c.properties) == len(c.failed_properties) + sum(p.passed for p in c.properties)
               for c in results.checks)
    after = np.random.get_state()
    assert after[0] == state[0] and np.array_equal(after[1], state[1]) and after[2:] == state[2:]
    assert sys.argv == argv and os.getcwd() == cwd


@pytest.mark.parametrize("change, properties", [
    ("replace=False", ["matches_reference", "no_duplicates"], ),
])
def test_with_replacement_fails_what_the_grader_fails(kit, kit_data_file, change, properties):
    results = run(kit, kit_data_file, REFERENCE.replace(change, "replace=True"))
    found = failed(results)
    assert set(found) == {"task1_seeded_choice"}
    assert set(properties) <= set(found["task1_seeded_choice"])
    assert "course_example" in found["task1_seeded_choice"]


def test_each_mistake_fails_its_own_property(kit, kit_data_file):
    global_seed = REFERENCE.replace("rng = np.random.default_rng(seed)",
                                    "np.random.seed(seed); rng = np.random.default_rng(seed)")
    assert failed(run(kit, kit_data_file, global_seed)) == {
        "task1_seeded_choice": ["global_state_untouched"]}
    separate = REFERENCE.replace(
        "return [np.asarray(a)[chosen] for a in array_list]",
        "return [np.asarray(a)[rng.choice(len(a), n, replace=False)] for a in array_list]")
    assert "same_indices" in failed(run(kit, kit_data_file, separate))["task1_seeded_choice"]
    two = REFERENCE.replace("for a in array_list]", "for a in array_list[:2]]")
    assert "any_number_of_arrays" in failed(run(kit, kit_data_file, two))["task1_seeded_choice"]
    seed = REFERENCE.replace("MY_RANDOM_SEED = 19891217", "MY_RANDOM_SEED = '19891217'")
    assert failed(run(kit, kit_data_file, seed)) == {"task1_random_seed": ["is_integer"]}


def test_a_missing_name_or_an_exception_is_said_in_a_sentence(kit, kit_data_file):
    results = run(kit, kit_data_file, "MY_RANDOM_SEED = 19891217")
    assert results["task1_seeded_choice"].status == "failed"
    assert "does not define `parallel_seeded_choice`" in results["task1_seeded_choice"].message
    broken = REFERENCE.replace("rng = np.random", "raise IndexError('boom')\n    rng = np.random")
    message = run(kit, kit_data_file, broken)["task1_seeded_choice"].failed_properties[0].message
    assert "raised IndexError: boom" in message and "with seed=" in message


def test_results_render_as_text_and_html_with_the_differences(kit, kit_data_file):
    results = run(kit, kit_data_file, REFERENCE.replace("replace=False", "replace=True"))
    text, page = str(results), results._repr_html_()
    assert "FAIL  task1_seeded_choice" in text and "No fl_round" in text
    assert "<table>" in page and "no_duplicates" in page or "course_example" in page
    assert "No memory limit" in page
    assert results.to_dict()["passed"] is False


def test_the_terminal_mode_prepares_cells_as_the_grader_does(kit):
    from edge_ai_w5_selfcheck.terminal import federated_names, prepared_source

    cells = ["fl = FederatedLearningV2(data=d)", "fl.train()\nmodel.train()",
             "!pip install -r /kaggle/input/kubeedge-sedna/lib/requirements.txt\n"
             "sys.path.append('/kaggle/input/kubeedge-sedna/lib')",
             "from edge_ai_w5_selfcheck import check\ncheck('task1_seeded_choice')"]
    names = federated_names(cells)
    assert names == {"fl"}
    train = prepared_source(cells[1], None, names)
    assert train.splitlines()[0].startswith("pass  #") and train.splitlines()[1] == "model.train()"
    setup = prepared_source(cells[2], "/data/in", names)
    assert setup.startswith("# (skipped by the self-check) !pip")
    assert "sys.path.append('/data/in/kubeedge-sedna/lib')" in setup
    assert prepared_source(cells[3], None, names) == cells[3]  # runs on the kit's stand-in
