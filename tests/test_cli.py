"""The command line as instructors, students and CI use it (real subprocesses, real notebooks)."""
import csv
import json
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "fixtures" / "submissions"


def grader(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "grader", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def graded_batch(tmp_path_factory):
    """A batch with two real notebooks and every kind of bad input, graded twice."""
    folder = tmp_path_factory.mktemp("subs")
    shutil.copy(SAMPLES / "reference.ipynb", folder / "alice.ipynb")
    shutil.copy(SAMPLES / "task3_off_by_one.ipynb", folder / "bob.ipynb")
    (folder / "carol.ipynb").write_text("{ this is not json")
    (folder / "dave.ipynb").write_text("")
    (folder / "erin.ipynb").write_text('{"hello": "world"}')
    out = tmp_path_factory.mktemp("out")
    first = grader("grade", folder, folder / "missing-folder", "--out", out, "--fl-round", "off",
                   "--workers", "1")
    first_grades = json.loads((out / "grades.json").read_text())
    second = grader("grade", folder, "--out", out, "--fl-round", "off", "--workers", "1")
    return out, first, second, first_grades


@pytest.mark.slow
def test_bad_inputs_become_error_rows_and_the_batch_goes_on(graded_batch):
    out, first, _, first_grades = graded_batch
    assert first.returncode == 1, first.stderr  # something could not be graded
    rows = {s["submission"]: s for s in first_grades["submissions"]}
    assert set(rows) == {"alice", "bob", "carol", "dave", "erin", "missing-folder"}
    assert rows["alice"]["status"] == "graded" and rows["alice"]["score"] == rows["alice"]["max_score"]
    assert rows["bob"]["status"] == "graded"
    assert {c["id"]: c["status"] for c in rows["bob"]["checks"]}["task3_lr_schedule"] == "failed"
    assert "not valid JSON" in rows["carol"]["error"]
    assert "is empty" in rows["dave"]["error"]
    assert "not a Jupyter notebook" in rows["erin"]["error"]
    assert "does not exist" in rows["missing-folder"]["error"]
    assert all(rows[n]["status"] == "error" for n in ("carol", "dave", "erin", "missing-folder"))
    sandbox = first_grades["sandbox"]  # the instructor sees what was isolated
    assert isinstance(sandbox["isolated"], bool) and ("warning" in first.stderr) != sandbox["isolated"]


@pytest.mark.slow
def test_every_export_is_written(graded_batch):
    out = graded_batch[0]
    table = list(csv.DictReader((out / "grades.csv").open()))
    assert [r["submission"] for r in table] == ["alice", "bob", "carol", "dave", "erin"]
    assert table[0]["task1_seeded_choice"] == "3.0" and table[0]["fl_round"] == ""
    gradescope = json.loads((out / "gradescope" / "bob" / "results.json").read_text())
    assert {t["name"] for t in gradescope["tests"]} >= {"task3_lr_schedule", "notebook_runs"}
    assert (out / "executed" / "alice.ipynb").is_file() and (out / "report.html").is_file()
    assert (out / "feedback" / "bob.html").is_file() and (out / "feedback" / "carol.html").is_file()


@pytest.mark.slow
def test_a_rerun_keeps_unchanged_results(graded_batch):
    out, _, second, first_grades = graded_batch
    assert second.stdout.count("unchanged, kept") == 5, second.stdout  # unreadable files too
    again = {s["submission"]: s for s in json.loads((out / "grades.json").read_text())["submissions"]}
    first = {s["submission"]: s for s in first_grades["submissions"]}
    assert again["alice"] == first["alice"] and again["bob"] == first["bob"]  # not recomputed


@pytest.mark.slow
def test_check_exit_status_and_report():
    with ThreadPoolExecutor(2) as pool:  # two commands side by side: each waits on its warm-up
        ok, bad = pool.map(lambda name: grader("check", SAMPLES / f"{name}.ipynb", "--fl-round", "off"),
                           ("reference", "task1_two_arrays_only"))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "All checks passed" in ok.stdout
    assert bad.returncode == 1
    assert "task1_seeded_choice" in bad.stdout and "\x1b[" not in bad.stdout  # plain text in a pipe


def test_strip_reproduces_the_committed_template(tmp_path):
    result = grader("strip", ROOT / "reference" / "exercise.ipynb", "-o", tmp_path / "t.ipynb")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "t.ipynb").read_bytes() == (ROOT / "student_template" / "exercise.ipynb").read_bytes()


def test_clear_errors_for_bad_options(tmp_path):
    result = grader("grade", SAMPLES, "--data", tmp_path / "nope")
    assert result.returncode == 2 and "does not exist" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_killing_the_batch_ends_its_whole_process_tree(tmp_path):
    """`kill -9` of the batch's process (a scheduler's time limit) leaves nothing running: not its
    grading processes, not their fork servers, not the kernels forked from them."""
    import os
    import signal
    import time

    import psutil

    folder = tmp_path / "subs"
    folder.mkdir()
    for name in ("reference", "correct_if_elif", "task3_off_by_one", "task1_permutation"):
        shutil.copy(SAMPLES / f"{name}.ipynb", folder)  # distinct: copies are graded once
    batch = subprocess.Popen([sys.executable, "-m", "grader", "grade", folder, "--out",
                              tmp_path / "out", "--fl-round", "off", "--workers", "2"],
                             cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def command(process: psutil.Process) -> str:
        try:  # a short-lived child may end (or be a zombie) between listing and reading it
            return " ".join(process.cmdline())
        except psutil.Error:
            return ""

    deadline = time.monotonic() + 120
    tree: list[psutil.Process] = []
    while time.monotonic() < deadline:  # both grading processes and their fork servers
        if batch.poll() is not None:
            pytest.fail("the batch ended before it could be killed")
        tree = psutil.Process(batch.pid).children(recursive=True)
        if sum("worker.py" in command(p) for p in tree) >= 2:
            break
        time.sleep(0.5)
    else:
        pytest.fail("the batch never started two fork servers")
    os.kill(batch.pid, signal.SIGKILL)
    batch.wait()
    _, alive = psutil.wait_procs(tree, timeout=10)  # not after their current notebooks
    assert alive == [], [command(p)[:120] for p in alive]
