"""A broken grading environment stops the command with exit status 2, a message naming what
failed, and no student row: the canary (the reference graded first) and grader faults mid-batch."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from grader import cli
from grader.batch import grade_batch
from grader.notebook import execute
from grader.pipeline import Grader, Options
from grader.results.model import Fault
from grader.sandbox import process
from grader.sandbox.process import kill_group

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "fixtures" / "submissions"
BROKEN = "/nonexistent/python"


def rows(out: Path) -> int:
    book = out / "gradebook.sqlite"
    if not book.exists():
        return 0
    return sqlite3.connect(book).execute("SELECT COUNT(*) FROM results").fetchone()[0]


def break_exec(monkeypatch) -> None:
    """Every sandboxed command (fork server, kernel, worker) names an interpreter that cannot
    be exec'd, as when the stack is reached through a link the sandbox hides."""
    original = process.sandboxed_command

    def broken(argv, limits):
        return original([BROKEN, *argv[1:]], limits)

    monkeypatch.setattr(process, "sandboxed_command", broken)
    monkeypatch.setattr(execute, "sandboxed_command", broken)


def test_a_command_that_cannot_exec_stops_grade_before_any_student(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "subs"
    folder.mkdir()
    shutil.copy(SAMPLES / "task3_off_by_one.ipynb", folder / "bob.ipynb")
    break_exec(monkeypatch)
    status = cli.main(["grade", str(folder), "--out", str(tmp_path / "out"), "--workers", "1",
                       "--fl-round", "off"])
    err = capsys.readouterr().err
    assert status == 2, err
    assert "canary" in err and f"cannot exec {BROKEN}" in err  # what failed, from the process's log
    assert not (tmp_path / "out" / "grades.json").exists() and rows(tmp_path / "out") == 0


@pytest.mark.parametrize("command", [["check", str(SAMPLES / "task3_off_by_one.ipynb")],
                                     ["validate", "--workers", "1"],
                                     ["fl-round", str(SAMPLES / "task3_off_by_one.ipynb")]])
def test_every_grading_command_checks_itself_first(command, monkeypatch, capsys):
    break_exec(monkeypatch)
    status = cli.main(command + (["--fl-round", "off"] if command[0] != "fl-round" else []))
    out, err = capsys.readouterr()
    assert status == 2, out + err
    assert "canary" in err and f"cannot exec {BROKEN}" in err
    assert "Self-check" not in out and "Federated round" not in out  # no student judged


def project_copy(where: Path) -> Path:
    """The project (what grading needs) copied to `where`, to be broken there."""
    for name in ("grader", "reference", "student_template"):
        shutil.copytree(ROOT / name, where / name, ignore=shutil.ignore_patterns("__pycache__"))
    return where


def run_cli(project: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(project))
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=project, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_a_course_site_without_sedna_stops_grade(tmp_path):
    project = project_copy(tmp_path / "project")
    shutil.rmtree(project / "grader" / "environment" / "site" / "sedna")
    folder = tmp_path / "subs"
    folder.mkdir()
    shutil.copy(SAMPLES / "reference.ipynb", folder / "alice.ipynb")
    shutil.copy(SAMPLES / "task3_off_by_one.ipynb", folder / "bob.ipynb")
    # two grading processes: each checks itself, and the pool's failure stops the batch as well
    done = run_cli(project, "grade", str(folder), "--out", str(tmp_path / "out"),
                   "--workers", "2", "--fl-round", "off")
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    assert "canary" in done.stderr and "No module named 'sedna'" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out" / "grades.json").exists() and rows(tmp_path / "out") == 0


@pytest.mark.slow
def test_data_the_notebook_cannot_read_stops_check(tmp_path):
    """A data folder whose files cannot be loaded (root reads any file, so they are garbage
    rather than unreadable here; `chmod 000` does the same for another user)."""
    data = tmp_path / "cifar-100-python"
    data.mkdir()
    for split in ("train", "test"):
        (data / split).write_bytes(b"not a pickle")
        if os.geteuid() != 0:
            (data / split).chmod(0)
    done = run_cli(ROOT, "check", str(SAMPLES / "reference.ipynb"), "--data", str(data),
                   "--fl-round", "off")
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    assert "canary" in done.stderr and "notebook_runs: failed" in done.stderr
    assert "Self-check" not in done.stdout  # the student's notebook was not judged


@pytest.mark.slow
def test_a_launcher_that_fails_mid_batch_leaves_grader_faults_a_rerun_completes(
        tmp_path, monkeypatch):
    names = ["reference", "correct_if_elif", "correct_tuple_arange", "task3_off_by_one",
             "task1_permutation", "task4b_no_testset"]
    folder = tmp_path / "subs"
    folder.mkdir()
    for name in names:
        shutil.copy(SAMPLES / f"{name}.ipynb", folder / f"{name}.ipynb")
    graded: list[str] = []
    original_grade = Grader.grade

    def grade(self, path, **kwargs):
        if kwargs.get("name") != "canary":
            graded.append(path.name)
            if len(graded) == 4:  # from the 4th submission on, nothing can start any more
                kill_group(self.host._server.pid)  # the fork server dies ...
                break_exec(monkeypatch)  # ... and the launcher cannot start a new one
        return original_grade(self, path, **kwargs)

    monkeypatch.setattr(Grader, "grade", grade)
    options = Options(cell_timeout=60, fl_round="off")
    out = tmp_path / "out"
    run = grade_batch([folder], out, options, workers=1)
    by_name = {s.submission: s for s in run.submissions}
    ok = [name[:-len(".ipynb")] for name in graded[:3]]
    assert all(by_name[n].status == "graded" and by_name[n].fault is None for n in ok)
    faulty = [s for s in run.submissions if s.submission not in ok]
    assert faulty and all(s.grader_fault and s.status == "error" for s in faulty)
    assert all(c.status != "failed" and c.fault in (None, Fault.GRADER)
               for s in faulty for c in s.checks)  # nothing charged to a student
    assert run.stopped and "canary" in run.stopped  # two in a row: the canary ran again, failed
    assert rows(out) == 3  # grader faults are not kept
    data = json.loads((out / "grades.json").read_text())
    assert {s["submission"]: s["fault"] for s in data["submissions"]} == \
        {n: (None if n in ok else "grader") for n in names}

    monkeypatch.undo()  # the environment is fixed: a rerun grades what is missing
    again = grade_batch([folder], out, options, workers=1)
    assert all(s.status == "graded" and s.fault is None for s in again.submissions)
    assert again.stopped is None and rows(out) == len(names)


@pytest.mark.slow
def test_a_fork_server_that_died_between_submissions_is_restarted(warm_grader, write_notebook):
    """A submission's process may kill the fork server (it shares its sandbox): the next kernel
    comes from a restarted server, so the next student is graded normally, not a grader fault."""
    first, second = write_notebook("a.ipynb", "print(1)"), write_notebook("b.ipynb", "print(2)")
    assert warm_grader.grade(first).check("notebook_runs").status == "passed"
    kill_group(warm_grader.host._server.pid)
    result = warm_grader.grade(second)
    assert result.status == "graded" and result.fault is None
    assert result.check("notebook_runs").status == "passed"


def test_a_grader_bug_in_the_canary_stops_cleanly():
    from grader.canary import Canary, GraderBroken

    class Exploding:
        options = Options(fl_round="off")
        host = None

        def grade(self, path, **kwargs):
            raise KeyError("boom")

    with pytest.raises(GraderBroken, match="failed inside the grader: KeyError"):
        Canary(Exploding()).ensure()


def test_only_processes_that_could_not_start_make_the_canary_run_again():
    from grader.canary import Canary
    from grader.results.model import SubmissionResult

    class Fake:
        launch_failed = False

    canary = Canary(Fake())
    canary.passed = True
    fault = SubmissionResult.from_error("x", "s", "internal grader error: boom", fault=Fault.GRADER)
    for _ in range(3):  # a grader bug on some notebooks says nothing about the environment
        canary.observe(fault)
    assert canary.passed
    Fake.launch_failed = True
    canary.observe(fault)
    assert canary.passed  # one could be chance
    canary.observe(fault)
    assert not canary.passed  # two in a row: check the environment again before the next
