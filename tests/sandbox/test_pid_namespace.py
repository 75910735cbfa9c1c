"""A submission sees and signals only its own processes: each kernel and check worker a fork
server forks runs in a PID namespace of its own, with a /proc of its own; tried as a hostile
student would, with the grader run by an unprivileged user (an instructor's laptop), where the
student's processes run as the grader's own uid outside their namespaces."""
import json
import os
import subprocess
import sys

import nbformat
import pytest

from grader.sandbox.process import isolation_status
from tests.helpers import ROOT, grader_command, grader_env, stdout
from tests.sandbox import unprivileged

needs_pid_namespaces = pytest.mark.skipif(
    not isolation_status()["pid_namespace"],
    reason=f"no PID namespaces here: {isolation_status().get('pid_namespace_reason') or isolation_status().get('reason')}")

# What a hostile cell does: list the processes it can see, find the grader's by their command
# lines, then send SIGKILL to every pid there is (but its own threads).
KILLER = r"""
import json, os, signal
mine = set(os.listdir("/proc/self/task"))
seen = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
graders = []
for p in seen:
    try:
        if b"grader" in open(f"/proc/{p}/cmdline", "rb").read() and str(p) not in mine:
            graders.append(p)
    except OSError:
        pass
signalled = 0
for p in range(1, 1 << 22):
    if str(p) not in mine:
        try:
            os.kill(p, signal.SIGKILL)
            signalled += 1
        except OSError:
            pass
print(json.dumps({"seen": seen, "graders": graders, "signalled": signalled}))
"""

SCRIPT = r"""
import json, sys, tempfile
from pathlib import Path
from nbformat.v4 import new_code_cell, new_notebook
from grader.notebook.execute import execute
from grader.sandbox.hosts import ForkServerHost
from grader.sandbox.process import GRADER_PACKAGE, Limits

base = Path(sys.argv[1]) / "runs"  # below the hidden temporary folder: seen by the server
base.mkdir()
limits = Limits(cpu_seconds=120)
hello = {"op": "hello", "preload": []}

def run_dir():
    folder = Path(tempfile.mkdtemp(dir=base))
    return folder, {"PATH": "/usr/bin:/bin", "HOME": str(folder), "TMPDIR": str(folder)}

out = {}
with ForkServerHost(GRADER_PACKAGE, limits, run_dir, (), startup_timeout=120) as host:
    folder, env = run_dir()
    neighbour = host.start(folder, env, folder / "worker.log")
    out["neighbour_before"] = neighbour.request(hello, 120)["ok"]["pid"]
    folder, env = run_dir()
    run = execute(new_notebook(cells=[new_code_cell(sys.argv[2])]), run_dir=folder, env=env,
                  limits=limits, cell_timeout=120, total_timeout=240, host=host)
    out["launch_error"] = run.launch_error
    out["statuses"] = [cell.status for cell in run.cells]
    out["printed"] = "".join(o.get("text", "") for o in run.notebook.cells[0].outputs
                             if o.get("name") == "stdout")  # one print may come in parts
    out["neighbour_after"] = neighbour.request(hello, 60)["ok"]["pid"]
    neighbour.kill()
    folder, env = run_dir()
    later = host.start(folder, env, folder / "worker.log")
    out["next_worker"] = later.request(hello, 120)["ok"]["pid"]
    later.kill()
print(json.dumps(out))
"""


@needs_pid_namespaces
def test_a_kernel_sees_and_signals_only_its_own_processes(unprivileged_home):
    done = subprocess.run(unprivileged.command([sys.executable, "-c", SCRIPT, str(unprivileged_home),
                                                KILLER]),
                          cwd=ROOT, env=grader_env(unprivileged_home) | {"HOME": str(unprivileged_home)},
                          capture_output=True, text=True, timeout=300)
    # the grading process survived (a kernel running as its uid could have killed it) ...
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["launch_error"] is None and out["statuses"] == ["ok"]
    report = json.loads(out["printed"])
    # ... because the kernel saw only its namespace: its init (1) and itself (2)
    assert report["seen"] == [1, 2]
    assert report["graders"] in ([], [1])  # the init is a fork of the server: harmless
    # a check worker forked before it (a neighbour) and the fork server are unharmed
    assert out["neighbour_after"] == out["neighbour_before"] == 2
    assert out["next_worker"] == 2


@pytest.mark.slow
@needs_pid_namespaces
def test_a_notebook_that_kills_every_process_it_finds_is_graded_and_the_batch_goes_on(
        unprivileged_home):
    """The attack of issue 25, as a normal user: before, it ended the batch (exit 137)."""
    submissions = unprivileged_home / "in"
    submissions.mkdir()
    correct = nbformat.read(ROOT / "fixtures" / "submissions" / "correct_if_elif.ipynb", as_version=4)
    nbformat.write(correct, submissions / "b_correct.ipynb")
    correct.cells.insert(1, nbformat.v4.new_code_cell(KILLER))
    nbformat.write(correct, submissions / "a_killer.ipynb")
    os.chmod(submissions, 0o777)
    out = unprivileged_home / "out"
    done = subprocess.run(
        unprivileged.command(grader_command(str(submissions), "--out", str(out), "--workers", "1")),
        cwd=ROOT, env=grader_env(unprivileged_home) | {"HOME": str(unprivileged_home)},
        capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    grades = {row["submission"]: row for row in json.loads((out / "grades.json").read_text())["submissions"]}
    assert set(grades) == {"a_killer", "b_correct"}
    assert grades["a_killer"]["score"] == grades["b_correct"]["score"] == grades["b_correct"]["max_score"]
    executed = nbformat.read(out / "executed" / "a_killer.ipynb", as_version=4)
    assert json.loads(stdout(executed.cells[1]))["seen"] == [1, 2]
