"""Agreement: on every notebook of fixtures/submissions the kit's verdict per task check equals
the grader's (the manifest says what the grader gives each; `tests/test_fixtures.py` holds the
grader to it). The kit runs in the course stack, in two kernels side by side, each running half
of the notebooks one after another.

fixtures/adversarial is left out by design: those notebooks attack the grader's sandbox (fork
bombs, memory, killing the kernel, reading other files), and the kit has no sandbox: it runs in
the student's own kernel.
"""
from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.helpers import SUBMISSIONS as FIXTURES
from tests.kit.conftest import kernel_env
from tests.kit.kernel import SharedKernel

KERNELS = 2
"""Kernels that run the notebooks side by side (one per core of the CI machine)."""


def kit_results(names: list[str], env: dict, data_dir: str) -> dict[str, dict]:
    """The kit's results for each of `names`, all in one shared kernel."""
    kernel = SharedKernel(env)
    try:
        found = {}
        for name in names:
            began = time.monotonic()
            found[name] = kernel.check_notebook(FIXTURES / name, data_dir)
            print(f"{name}: {time.monotonic() - began:.1f} s")
        return found
    finally:
        kernel.close()


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_the_kit_agrees_with_the_grader_on_every_fixture(kit, kit_data_file, kaggle_input):
    manifest = json.loads((FIXTURES / "manifest.json").read_text())["submissions"]
    names = sorted(manifest)
    with ThreadPoolExecutor(KERNELS) as pool:
        shards = pool.map(kit_results, [names[i::KERNELS] for i in range(KERNELS)],
                          [kernel_env(kit_data_file)] * KERNELS, [str(kaggle_input)] * KERNELS)
        found = {name: results for shard in shards for name, results in shard.items()}
    assert sorted(found) == names
    disagreements, table = [], {}
    for name, results in sorted(found.items()):
        assert results["checks"], f"{name}: the kit did not run"
        for check in results["checks"]:
            if check["status"] == "not checked":
                continue
            kit_passed = check["status"] == "passed"
            grader_passed = manifest[name]["expected"][check["id"]] == "passed"
            table.setdefault(check["id"], [0, 0])[kit_passed == grader_passed] += 1
            if kit_passed != grader_passed:
                disagreements.append((name, check["id"], check["status"],
                                      manifest[name]["expected"][check["id"]]))
    print("agreement per check (disagree, agree):", table)
    assert not disagreements
    assert {"task1_seeded_choice", "task1_random_seed", "task2_partition", "task3_lr_schedule",
            "task4a_load_payload", "task4b_extra_test"} <= set(table)
