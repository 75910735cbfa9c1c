"""Done-when of the kit: installed from its wheel ALONE into a fresh virtualenv, it checks a
solved notebook from a kernel (all pass) and a notebook with one mistake per task (exactly that
task fails); in a virtualenv with numpy alone, Task 1 is checked and Tasks 2-4 say what is missing.

The course stack is a virtualenv itself, so `--system-site-packages` alone would show the base
interpreter's packages; a `.pth` file adds the stack's site-packages (torch, Plato, nbclient), as
a student's Jupyter or Kaggle environment has them. The wheel is built by the release's own
`build_wheel` from `kit/` and the session's data file (offline, no build isolation).
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import nbformat
import pytest

from tests.kit.conftest import KIT_DIR, ROOT

STACK_SITE = Path(sysconfig.get_paths()["purelib"])
PACKAGE = "edge_ai_w5_selfcheck"
MARK = "@@verdicts@@"
# One mistake per task, in the reference's own solution text: (cell text, mistaken text, check).
MISTAKES = (
    ("replace=False", "replace=True", "task1_seeded_choice"),
    ("MY_RANDOM_SEED = 19891217", "MY_RANDOM_SEED = 1989121", "task1_random_seed"),
    ("MY_RANDOM_SEED, len(self.images) // 2)", "42, len(self.images) // 2)", "task2_partition"),
    ("// 20)", "// 21)", "task3_lr_schedule"),
    ('self.trainer.current_round = server_payload["current_round"]',
     'self.current_round = server_payload["current_round"]', "task4a_load_payload"),
    ("accuracy = self.trainer.test(self.testset)", "accuracy = 0.5", "task4b_extra_test"),
)


def run(command, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True,
                          timeout=900, **kwargs)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


@pytest.fixture(scope="module")
def wheel(kit_data_file, tmp_path_factory) -> Path:
    """The release's own wheel build (grader.release.wheel), with the session's data file."""
    from grader.release.wheel import build_wheel

    return build_wheel(KIT_DIR, tmp_path_factory.mktemp("wheel"),
                       lambda package: shutil.copy(kit_data_file, package / "exam.json"))


def make_venv(folder: Path, wheel: Path, sees: list[Path]) -> Path:
    venv.EnvBuilder(with_pip=False, system_site_packages=True).create(folder)
    python = folder / "bin" / "python"
    site = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
                .stdout.strip())
    (site / "course_stack.pth").write_text("".join(f"{p}\n" for p in sees))
    # install the wheel with the stack's pip into this venv's site-packages, nothing else
    run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet",
         "--target", site, wheel])
    return python


def solved_notebook() -> nbformat.NotebookNode:
    """The template with the reference's solution regions pasted in (cell by cell)."""
    template = nbformat.read(ROOT / "student_template" / "exercise.ipynb", as_version=4)
    reference = {c.get("id"): c for c in nbformat.read(ROOT / "reference" / "exercise.ipynb",
                                                       as_version=4).cells}
    for cell in template.cells:
        if cell.cell_type == "code" and cell.get("id") in reference:
            cell.source = reference[cell["id"]].source
    return template


def checked_notebook(kaggle_input: Path) -> nbformat.NotebookNode:
    """The solved notebook as the kit's terminal mode prepares it; then check(); then, per task,
    the mistaken cell, check(), and the right cell again."""
    from edge_ai_w5_selfcheck.terminal import federated_names, prepared_source

    cells = [c.source for c in solved_notebook().cells if c.cell_type == "code"]
    names = federated_names(cells)
    prepared = [prepared_source(s, str(kaggle_input), names) for s in cells]
    run_cells = [s for s in prepared if s is not None]
    check = ("import json\nfrom edge_ai_w5_selfcheck import check\n"
             f"print({MARK!r} + json.dumps(check(show=False).to_dict()))")
    out = run_cells + [check]
    for right, wrong, _ in MISTAKES:
        (cell,) = [s for s in run_cells if right in s]
        out += [cell.replace(right, wrong), check, cell]
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in out])


def verdicts(executed: nbformat.NotebookNode) -> list[dict]:
    found = []
    for cell in executed.cells:
        for output in cell.get("outputs", ()):
            for line in output.get("text", "").splitlines():
                if line.startswith(MARK):
                    found.append({c["id"]: c["status"] for c in
                                  json.loads(line[len(MARK):])["checks"]})
    return found


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_the_wheel_alone_checks_a_solved_notebook_and_one_mistake_per_task(
        kit, wheel, kaggle_input, tmp_path):
    python = make_venv(tmp_path / "venv", wheel, [STACK_SITE])
    where = run([python, "-c", f"import {PACKAGE}; print({PACKAGE}.__file__)"],
                cwd=tmp_path).stdout
    assert str(tmp_path / "venv") in where  # the wheel's copy, not the source tree's
    notebook = tmp_path / "checked.ipynb"
    nbformat.write(checked_notebook(kaggle_input), notebook)
    driver = ("import sys, nbformat\nfrom nbclient import NotebookClient\n"
              f"from {PACKAGE}.terminal import kernel_manager\n"
              "nb = nbformat.read(sys.argv[1], as_version=4)\n"
              "NotebookClient(nb, km=kernel_manager(sys.argv[2]), timeout=600, allow_errors=True,\n"
              "               kernel_name='python3',\n"
              "               resources={'metadata': {'path': sys.argv[2]}}).execute()\n"
              "nbformat.write(nb, sys.argv[1])\n")
    run([python, "-c", driver, notebook, tmp_path], cwd=tmp_path,
        env={"PATH": f"{python.parent}:/usr/bin:/bin", "MPLBACKEND": "Agg",
             "PYTHONDONTWRITEBYTECODE": "1", "HOME": str(tmp_path)})
    found = verdicts(nbformat.read(notebook, as_version=4))
    assert len(found) == 1 + len(MISTAKES), found
    assert set(found[0].values()) == {"passed"}, found[0]
    for (_, _, check_id), statuses in zip(MISTAKES, found[1:]):
        assert {k for k, v in statuses.items() if v != "passed"} == {check_id}, (check_id,
                                                                                   statuses)


@pytest.mark.slow
def test_with_numpy_alone_task1_is_checked_and_the_others_say_what_is_missing(
        kit, wheel, tmp_path):
    numpy_only = tmp_path / "numpy-only"
    numpy_only.mkdir()
    for name in ("numpy", "numpy.libs"):
        if (STACK_SITE / name).exists():
            (numpy_only / name).symlink_to(STACK_SITE / name)
    python = make_venv(tmp_path / "venv", wheel, [numpy_only])
    script = (
        "import json, numpy as np\n"
        "def parallel_seeded_choice(array_list, seed, n):\n"
        "    chosen = np.random.default_rng(seed).choice(len(array_list[0]), n, replace=False)\n"
        "    return [np.asarray(a)[chosen] for a in array_list]\n"
        "MY_RANDOM_SEED = 19891217\n"
        "class CIFAR100Partition: pass\nclass EdgeAiTrainer: pass\nclass EdgeAiClient: pass\n"
        "import sys\nassert 'torch' not in sys.modules\n"
        "from edge_ai_w5_selfcheck import check\n"
        "results = check(show=False)\n"
        "print(json.dumps({c.id: [c.status, c.message] for c in results.checks}))\n")
    done = run([python, "-c", script], cwd=tmp_path, env={"PATH": "/usr/bin:/bin"})
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["task1_seeded_choice"][0] == found["task1_random_seed"][0] == "passed"
    for check_id in ("task2_partition", "task3_lr_schedule", "task4a_load_payload",
                     "task4b_extra_test"):
        status, message = found[check_id]
        assert status == "not checked" and "this environment lacks" in message, (check_id, status,
                                                                                 message)
