"""Agreement: on every notebook of fixtures/submissions the kit's verdict per task check equals
the grader's (the manifest says what the grader gives each; `tests/test_fixtures.py` holds the
grader to it). The kit runs in the course stack, in two kernels side by side, each running half
of the notebooks one after another.

It also runs released notebooks, as students hand them in: the unsolved release (the grader
fails every task check, as on the template) and a solved one with the kit's cells kept and each
documented use of `check()`'s result added (full marks: `tests/release/test_graded_release.py`).

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


TASK_CHECKS = ("task1_seeded_choice", "task1_random_seed", "task2_partition", "task3_lr_schedule",
               "task4a_load_payload", "task4b_extra_test")


def released(folder) -> dict[str, tuple]:
    """name -> (path, the grader's verdict per task check) of the released notebooks."""
    from grader.release.build import write_notebook
    from grader.release.student_readme import DOCUMENTED_USES
    from grader.release.wheel import wheel_name
    from grader.pipeline import REFERENCE
    from tests.kit.conftest import KIT_DIR
    from tests.release.helpers import solved_release

    unsolved = write_notebook(REFERENCE, folder / "release_unsolved.ipynb", wheel_name(KIT_DIR))
    solved = solved_release(unsolved, folder / "release_solved_kit_used.ipynb", DOCUMENTED_USES)
    misnamed = folder / "release_misnamed_trainer.ipynb"  # a typo: the grader finds no EdgeAiTrainer
    misnamed.write_text(solved.read_text().replace("class EdgeAiTrainer(", "class EdgeAITrainer("))
    return {unsolved.name: (unsolved, dict.fromkeys(TASK_CHECKS, "failed")),
            solved.name: (solved, dict.fromkeys(TASK_CHECKS, "passed")),
            misnamed.name: (misnamed, {**dict.fromkeys(TASK_CHECKS, "passed"),
                                       "task3_lr_schedule": "failed"})}


def kit_results(paths: list, env: dict, data_dir: str) -> dict[str, dict]:
    """The kit's results for each notebook of `paths`, all in one shared kernel."""
    kernel = SharedKernel(env)
    try:
        found = {}
        for path in paths:
            began = time.monotonic()
            name = path.name
            found[name] = kernel.check_notebook(path, data_dir)
            print(f"{name}: {time.monotonic() - began:.1f} s")
        return found
    finally:
        kernel.close()


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_the_kit_agrees_with_the_grader_on_every_fixture(kit, kit_data_file, kaggle_input,
                                                         tmp_path):
    manifest = json.loads((FIXTURES / "manifest.json").read_text())["submissions"]
    paths = {name: FIXTURES / name for name in manifest}
    for name, (path, expected) in released(tmp_path).items():
        paths[name], manifest[name] = path, {"expected": expected}
    names = sorted(manifest)
    ordered = [paths[name] for name in names]
    with ThreadPoolExecutor(KERNELS) as pool:
        shards = pool.map(kit_results, [ordered[i::KERNELS] for i in range(KERNELS)],
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
    assert set(TASK_CHECKS) <= set(table)
    assert {c["status"] for c in found["release_solved_kit_used.ipynb"]["checks"]} == {"passed"}
    assert not any(c["status"] == "not checked" for c in found["release_unsolved.ipynb"]["checks"])
    [task3] = [c for c in found["release_misnamed_trainer.ipynb"]["checks"]
               if c["id"] == "task3_lr_schedule"]
    assert "`EdgeAiTrainer`" in task3["message"] and not task3["properties"]  # the reason, shown
