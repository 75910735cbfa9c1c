"""Whole batches under attack: the adversarial fixtures in one batch with the sample submissions,
then graded again alone (the same grades again), and a grader killed with SIGKILL in the middle of a batch,
then run again."""
from __future__ import annotations

import csv
import importlib.util
import io
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

from tests.helpers import ADVERSARIAL, ROOT, SUBMISSIONS, grader_command, grader_env, notebook, stdout
from tests.sandbox.helpers import ISOLATED, processes_under

MANIFEST = json.loads((ADVERSARIAL / "manifest.json").read_text())


def _generator():
    spec = importlib.util.spec_from_file_location("make_adversarial", ADVERSARIAL / "make_adversarial.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def grader_tmp():
    """A short temporary folder for the grader (kernels' IPC socket paths must stay < 108 bytes):
    what its sandboxes leave behind can be found by their working directories."""
    folder = Path(tempfile.mkdtemp(prefix="sbt-", dir="/tmp"))
    yield folder
    for pid in processes_under(folder):
        os.kill(pid, signal.SIGKILL)
    shutil.rmtree(folder, ignore_errors=True)


def test_adversarial_fixtures_are_reproducible_and_described():
    rendered = _generator().render_all()
    committed = {p.name for p in ADVERSARIAL.iterdir() if p.suffix in (".ipynb", ".json")}
    assert committed == set(rendered)
    for name, data in rendered.items():
        assert (ADVERSARIAL / name).read_bytes() == data, \
            f"{name} is stale: run fixtures/adversarial/make_adversarial.py"
    for name, entry in MANIFEST["submissions"].items():
        assert list(entry["expected"]) == MANIFEST["check_ids"], name


@pytest.mark.slow
def test_adversarial_batch_completes_with_the_expected_outcomes(pool_batches):
    (out, _), (done, _), left_running = pool_batches
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    grades = json.loads((out / "grades.json").read_text())
    results = {s["submission"] + ".ipynb": s for s in grades["submissions"]
               if s["submission"] + ".ipynb" in MANIFEST["submissions"]}
    assert set(results) == set(MANIFEST["submissions"])
    assert all(s["fault"] is None for s in results.values())  # what they do is their own
    wrong = {}
    for name, entry in MANIFEST["submissions"].items():
        checks = {c["id"]: c for c in results[name]["checks"]}
        got = {cid: checks[cid]["status"] for cid in entry["expected"]}
        if got != entry["expected"] or results[name]["status"] != "graded":
            wrong[name] = {cid: (got[cid], want) for cid, want in entry["expected"].items()
                           if got[cid] != want}
        for cid, text in entry["feedback_contains"].items():
            assert text in checks[cid]["feedback"], (name, cid, checks[cid]["feedback"])
    assert not wrong, wrong

    # 100 MB of prints: the executed notebook keeps the head only
    assert (out / "executed" / "print_100mb.ipynb").stat().st_size < 1_000_000
    # the storm was stopped by the process limit and died with its kernel
    storm = nbformat.read(out / "executed" / "fork_storm.ipynb", as_version=4)
    assert any("the storm is raging" in o.get("text", "") for c in storm.cells
               for o in c.get("outputs", ()))
    # the snooper found neither the output folder nor the reference, and wrote nothing there
    snoop = nbformat.read(out / "executed" / "snoop_and_write_output.ipynb", as_version=4)
    printed = ["".join(o.get("text", "") for o in c.get("outputs", ()) if o.get("name") == "stdout")
               for c in snoop.cells]  # one print may arrive in several parts
    line = next(line for text in printed for line in text.splitlines() if line.startswith("SNOOP "))
    found = eval(line[len("SNOOP "):])  # the notebook printed a dict of lists of str
    if ISOLATED:
        assert found["read"] == [] and found["found_out_dirs"] == []
        assert all(not Path(p).resolve().is_relative_to(out.resolve()) for p in found["written"])
    assert not list(out.rglob("*ADVERSARIAL-WAS-HERE*"))
    assert "do-not-leak" not in (out / "grades.json").read_text()
    # nothing any submission started is still running
    if ISOLATED:
        assert left_running == []


@pytest.mark.slow
def test_the_sample_submissions_get_their_manifest_outcomes(pool_batches):
    (out, _), _, _ = pool_batches
    manifest = json.loads((SUBMISSIONS / "manifest.json").read_text())["submissions"]
    results = {s["submission"] + ".ipynb": s for s in json.loads((out / "grades.json").read_text())
               ["submissions"]}
    wrong = {name: {c["id"]: c["status"] for c in results[name]["checks"]}
             for name, entry in manifest.items()
             if {c["id"]: c["status"] for c in results[name]["checks"]} != entry["expected"]}
    assert not wrong, wrong


def comparable(grades: dict) -> dict:
    """grades.json without what may differ between two runs: timings."""
    grades = json.loads(json.dumps(grades))
    for sub in grades["submissions"]:
        sub.pop("timings")
        for check in sub["checks"]:
            check.pop("seconds")
    return grades


@pytest.mark.slow
def test_grading_again_gives_the_same_grades(pool_batches):
    """A fresh run over the adversarial folder again: the same rows of grades.json apart from
    timings (scores, statuses, feedback, counterexamples, faults) and the same rows of
    grades.csv, byte for byte. (The samples graded again: tests/cluster, on a cluster.)"""
    (first, second), runs, _ = pool_batches
    assert [run.returncode for run in runs] == [0, 0], runs[1].stdout[-2000:] + runs[1].stderr[-2000:]
    one, two = (comparable(json.loads((out / "grades.json").read_text())) for out in (first, second))
    again = {s["submission"] for s in two["submissions"]}
    assert again == {Path(name).stem for name in MANIFEST["submissions"]}
    assert [s for s in one["submissions"] if s["submission"] in again] == two["submissions"]
    csv_one, csv_two = (list(csv.reader(io.StringIO((out / "grades.csv").read_text(), newline="")))
                        for out in (first, second))
    assert csv_two[0] == csv_one[0]  # the header
    assert [row for row in csv_one[1:] if row[0] in again] == csv_two[1:]


def _rows(book: Path) -> dict[str, float]:
    with sqlite3.connect(f"file:{book}?mode=ro", uri=True, timeout=5) as db:
        return dict(db.execute("SELECT submission, graded_at FROM results"))


@pytest.mark.slow
def test_a_killed_batch_resumes_without_losing_or_redoing_anything(tmp_path, grader_tmp):
    subs = tmp_path / "subs"
    subs.mkdir()
    count = 8
    for i in range(count):  # plain-Python notebooks: no definitions, every task check fails fast
        nbformat.write(notebook("import time\ntime.sleep(1)", f"print('student {i}')"),
                       subs / f"student_{i}.ipynb")
    out = tmp_path / "grades"
    command = grader_command(str(subs), "--out", str(out), "--workers", "1")
    first = subprocess.Popen(command, cwd=ROOT, env=grader_env(grader_tmp), start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    book = out / "gradebook.sqlite"
    deadline = time.monotonic() + 300
    rows: dict[str, float] = {}
    while time.monotonic() < deadline and first.poll() is None:
        if book.exists():
            try:
                rows = _rows(book)
            except sqlite3.Error:
                rows = {}
            if len(rows) >= 2:
                break
        time.sleep(0.05)
    os.killpg(first.pid, signal.SIGKILL)  # the grader and its pool, as a terminal's kill would
    first.wait()
    before = _rows(book)
    assert 2 <= len(before) < count, "the batch should have been killed in the middle"
    assert not (out / "grades.json").exists()  # exports come at the end

    # sandboxes of the killed grader do not outlive it for long (their pipes and sockets closed)
    left = left_behind(grader_tmp)
    assert left == [], f"left behind by the killed grader: {left}"

    second = subprocess.run(command, cwd=ROOT, env=grader_env(grader_tmp), capture_output=True,
                            text=True, timeout=600)
    assert second.returncode == 0, second.stdout[-2000:] + second.stderr[-2000:]
    after = _rows(book)
    assert sorted(after) == sorted(f"student_{i}" for i in range(count))  # each exactly once
    assert {name: after[name] for name in before} == before  # finished results were not redone
    grades = json.loads((out / "grades.json").read_text())
    names = [s["submission"] for s in grades["submissions"]]
    assert sorted(names) == sorted(after) and len(names) == len(set(names))
    assert all(s["status"] == "graded" for s in grades["submissions"]), grades["submissions"][0]


DAEMON = """
import os, random, time
token = f"600.{random.randrange(10**9)}"  # its command line, found from outside its namespace
if os.fork() == 0:
    os.setsid()  # leaves the kernel's process group: killing the kernel does not reach it
    if os.fork() == 0:
        os.chdir("/")
        os.execv("/bin/sleep", ["sleep", token])
    os._exit(0)
time.sleep(0.5)
print("daemon", token)
"""


@pytest.mark.slow
def test_nothing_a_submission_leaves_running_sees_the_next_one(tmp_path, warm_grader):
    """One grader (one warm fork server) grades submissions one after another: a daemon that
    escaped its kernel's process group is gone before the next submission starts."""
    nbformat.write(notebook(DAEMON), tmp_path / "a.ipynb")
    warm_grader.grade(tmp_path / "a.ipynb", executed_dir=tmp_path / "executed")
    cell = nbformat.read(tmp_path / "executed" / "a.ipynb", as_version=4).cells[0]
    token = stdout(cell).split()[1]
    assert not processes_running(["sleep", token]), "the daemon outlived its submission"


def processes_running(argv: list[str]) -> list[int]:
    """Live processes (not zombies) whose command line is `argv`."""
    wanted = ("\0".join(argv) + "\0").encode()
    found = []
    for name in os.listdir("/proc"):
        try:
            with open(f"/proc/{name}/cmdline", "rb") as handle:
                if handle.read() == wanted and processes_alive([int(name)]):
                    found.append(int(name))
        except (OSError, ValueError):
            pass
    return found


def processes_alive(pids: list[int]) -> list[int]:
    alive = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                if handle.read().rsplit(")", 1)[1].split()[0] != "Z":
                    alive.append(pid)
        except OSError:
            pass
    return alive


NEIGHBOURS = ("fork_storm", "allocate_6gib", "infinite_loop", "print_100mb", "os_exit")
"""The adversarial fixtures that leave something behind in a kernel's sandbox (processes, memory,
a busy CPU, a flooded output channel, a dead kernel)."""


@pytest.mark.slow
def test_every_hostile_notebook_leaves_a_clean_state_for_its_neighbour(tmp_path):
    """Issue 25: the submission graded right after `fork_storm` on the same fork server became a
    grader fault ("Kernel died before replying to kernel_info"): the storm's zombies, reaped
    late by the machine's init, still counted against the sandbox's process limit. Each hostile
    notebook is followed by a plain correct one on the same warm grader: it must be graded, in
    full, every time (one pass here; `benchmarks/isolation.py` repeats it)."""
    from grader.pipeline import Grader, Options

    correct = SUBMISSIONS / "correct_if_elif.ipynb"
    results = []
    with Grader(Options(fl_round="off", cell_timeout=5)) as grader:
        for name in NEIGHBOURS:
            hostile = grader.grade(ADVERSARIAL / f"{name}.ipynb")
            neighbour = grader.grade(correct, name=f"after_{name}")
            results.append((name, hostile.status, hostile.grader_fault, neighbour.status,
                            neighbour.score, neighbour.max_score, neighbour.error))
    assert [r for r in results if r[2] or r[3] != "graded" or r[4] != r[5]] == [], results


KILLER = """
import os, signal
token = {token!r}  # only the processes of this test's batch: never every pid (root in CI)
for pid in os.listdir("/proc"):
    if pid.isdigit() and int(pid) != os.getpid():
        try:
            with open(f"/proc/{{pid}}/cmdline", "rb") as handle:
                command = handle.read().decode(errors="replace")
        except OSError:
            continue
        if "grader" in command and token in command:
            os.kill(int(pid), signal.SIGKILL)
"""


def batch_processes(tmp: Path) -> list[int]:
    """Live processes of the batches run with TMPDIR=`tmp`: the batch, its pool processes, fork
    servers (their environment) and sandboxes (their working directories)."""
    found = set(processes_under(tmp))
    for name in os.listdir("/proc"):
        try:
            with open(f"/proc/{name}/environ", "rb") as handle:
                if f"TMPDIR={tmp}\0".encode() in handle.read():
                    found.add(int(name))
        except (OSError, ValueError):
            pass
    return sorted(processes_alive(sorted(found - {os.getpid()})))


def left_behind(tmp: Path, seconds: float = 15) -> list[int]:
    """`batch_processes(tmp)` still alive after up to `seconds` (then killed: the test's own)."""
    settle = time.monotonic() + seconds
    while batch_processes(tmp) and time.monotonic() < settle:
        time.sleep(0.2)
    left = batch_processes(tmp)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    return left


@pytest.mark.slow
def test_a_notebook_that_kills_the_grader_is_found_on_resume(tmp_path, grader_tmp):
    """Issue 25, without namespaces (`--isolation off`): a cell that SIGKILLs the batch's
    process ends the batch, and every rerun used to die on it again. Now the run it kills leaves
    it marked in flight: the rerun grades it after the others, alone; killed again alone, the
    next rerun makes it an error row that says why, and the batch ends (exit 1) with the correct
    notebooks graded once. No process of a killed batch outlives it."""
    subs = tmp_path / "subs"
    subs.mkdir()
    out = tmp_path / "grades"
    nbformat.write(notebook(KILLER.format(token=str(out)), "print('not reached')"),
                   subs / "kills_the_grader.ipynb")
    for name in ("reference", "correct_if_elif"):
        shutil.copy(SUBMISSIONS / f"{name}.ipynb", subs)
    command = grader_command(str(subs), "--out", str(out), "--workers", "2", "--isolation", "off")
    statuses, graded_at, outputs = [], [], []
    for attempt in range(3):
        log = tmp_path / f"run{attempt}.log"  # a file, not a pipe: a leftover cannot hold it open
        with log.open("w") as handle:
            run = subprocess.run(command, cwd=ROOT, env=grader_env(grader_tmp), stdout=handle,
                                 stderr=subprocess.STDOUT, timeout=600)
        statuses.append(run.returncode)
        outputs.append(log.read_text())
        graded_at.append(_rows(out / "gradebook.sqlite"))
        left = left_behind(grader_tmp)  # a killed batch's pool, fork servers and kernels end with it
        assert left == [], f"left behind by the batch ({statuses}): {left}"
        if run.returncode != -signal.SIGKILL:
            break
    assert statuses[0] == -signal.SIGKILL, outputs[0][-2000:]  # the attack works: run 1 dies
    assert statuses[-1] == 1, (statuses, outputs[-1][-3000:])
    assert "kills_the_grader was being graded when the previous run died" in outputs[1]
    grades = {s["submission"]: s for s in json.loads((out / "grades.json").read_text())["submissions"]}
    for name in ("reference", "correct_if_elif"):
        assert grades[name]["status"] == "graded", grades[name]
        assert grades[name]["score"] == grades[name]["max_score"], grades[name]
        assert graded_at[-1][name] == next(rows[name] for rows in graded_at if name in rows)  # once
    killer = grades["kills_the_grader"]
    assert killer["status"] == "error" and killer["error"].startswith(
        "Not graded: the grader was killed twice while it graded this notebook, the last time "
        "with no other notebook being graded"), killer
    assert "(--isolation off)" in killer["error"]
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM in_flight").fetchone() == (0,)
