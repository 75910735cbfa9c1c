"""Warm kernels are forked from one server per grading process: prove that nothing one
submission does at module level can be seen by the next one."""
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from grader.pipeline import Grader, Options
from grader.sandbox.hosts import ForkServerHost

from tests.helpers import ROOT, notebook, stdout

ATTACK = """
import builtins, os, sys
import numpy as np
import torch
np.allclose = lambda *a, **k: True
builtins.LEAKED = True
torch.LEAKED = "from the previous student"
os.environ["LEAKED"] = "1"
sys.modules["leaked_module"] = object()
open("leak.txt", "w").write("x")
print("attacked")
"""

PROBE = """
import builtins, os, sys
import numpy as np
import torch
print(np.allclose([1], [2]), hasattr(builtins, "LEAKED"), hasattr(torch, "LEAKED"),
      "LEAKED" in os.environ, "leaked_module" in sys.modules, os.path.exists("leak.txt"))
"""


@pytest.mark.slow
def test_module_level_monkeypatching_does_not_reach_the_next_submission(tmp_path):
    for name, source in (("a_attacker", ATTACK), ("b_victim", PROBE)):
        nbformat.write(notebook(source), tmp_path / f"{name}.ipynb")
    executed = tmp_path / "executed"
    with Grader(Options(fl_round="off")) as grader:
        assert isinstance(grader.host, ForkServerHost) and grader.host.failure is None, \
            "the warm fork server should be in use"
        results = [grader.grade(tmp_path / f"{name}.ipynb", executed_dir=executed)
                   for name in ("a_attacker", "b_victim")]
        held = _threads_and_descriptors()
        for _ in range(2):
            grader.grade(tmp_path / "b_victim.ipynb")
        assert _threads_and_descriptors() == held, "each submission must release what it used"
    # only the first submission waited for the server's imports, and its timings say so
    assert results[0].timings["warm_up"] > 1 and "warm_up" not in results[1].timings
    attacked = nbformat.read(executed / "a_attacker.ipynb", as_version=4).cells[0]
    assert "attacked" in stdout(attacked)
    probe = nbformat.read(executed / "b_victim.ipynb", as_version=4).cells[0]
    assert stdout(probe) == "False False False False False False\n"


def _threads_and_descriptors() -> tuple[int, int]:
    return len(os.listdir("/proc/self/task")), len(os.listdir("/proc/self/fd"))


def _processes_under(root: str) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and os.readlink(proc / "cwd").startswith(root):
                pids.append(int(proc.name))
        except OSError:
            pass
    return pids


@pytest.mark.slow
def test_a_killed_grader_leaves_no_fork_server_or_kernel_behind(tmp_path):
    script = ("import sys, time\n"
              "from pathlib import Path\n"
              "from grader.pipeline import Grader, Options\n"
              "g = Grader(Options(fl_round='off'))\n"
              "g.host._start_server()\n"
              "g.host.fork_kernel(g._root, {'PATH': '/usr/bin'}, g._root / 'k.json', g._root / 'k.log')\n"
              "print(g._root, flush=True)\n"
              "time.sleep(600)\n")
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                            cwd=ROOT)
    try:
        root = proc.stdout.readline().strip()
        assert root and len(_processes_under(root)) >= 2  # the server and the forked kernel
    finally:
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + 15
    while _processes_under(root) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _processes_under(root) == []
