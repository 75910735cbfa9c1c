"""The watchdog: a kernel that stops answering while a cell runs is stopped within the stall
bound, the notebook runs again once on a fresh kernel, and a second stall is reported as such
(a grader fault, `pipeline`); a long computation is no stall. The bound is a few seconds here."""
import os
import sys
import time
from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell, new_notebook

from grader.notebook.execute import DIED, NOT_RUN, OK, execute
from grader.sandbox.hosts import ForkServerHost
from grader.sandbox.process import GRADER_PACKAGE, Limits
from tests.helpers import stdout

BOUND = 2.0
LIMITS = Limits(cpu_seconds=120)
FREEZE = "import os, signal\nos.kill(os.getpid(), signal.SIGSTOP)"  # the whole kernel stops
FREEZE_ONCE = ("import os, signal\nif not os.path.exists('froze'):\n    open('froze', 'w').close()\n"
               "    os.kill(os.getpid(), signal.SIGSTOP)\nprint('ran')")
SILENT_IOPUB = ("import time\nget_ipython().kernel.iopub_thread.io_loop.add_callback(time.sleep, 600)\n"
                "time.sleep(60)")  # its output thread stuck: nothing it prints would arrive
BUSY = f"import time\nend = time.time() + {BOUND + 3}\nwhile time.time() < end:\n    pass\nprint('done')"
# one C call that holds the interpreter's lock for seconds: the control thread cannot answer
BUSY_HOLDING_THE_LOCK = "print(sum(range(6 * 10 ** 8)) > 0)"


def _env(home: Path) -> dict[str, str]:
    return {"PATH": os.path.dirname(sys.executable) + ":/usr/bin:/bin", "HOME": str(home),
            "TMPDIR": str(home)}


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    base = tmp_path_factory.mktemp("watchdog")

    def run_dir():
        folder = Path(os.path.join(base, f"run-{time.monotonic_ns()}"))
        folder.mkdir()
        return folder, _env(folder)

    with ForkServerHost(GRADER_PACKAGE, LIMITS, run_dir, (), startup_timeout=120) as server:
        server.begin()
        yield server, run_dir


def _run(host, *cells: str):
    server, run_dir = host
    folder, env = run_dir()
    began = time.monotonic()
    run = execute(new_notebook(cells=[new_code_cell(c) for c in cells]), run_dir=folder, env=env,
                  limits=LIMITS, cell_timeout=120, total_timeout=240, host=server,
                  stall_timeout=BOUND)
    return run, time.monotonic() - began


@pytest.mark.parametrize("freeze", [FREEZE, SILENT_IOPUB], ids=["sigstop", "silent-iopub"])
def test_a_kernel_that_stalls_twice_is_stopped_in_seconds_and_reported(host, freeze):
    run, seconds = _run(host, freeze, "print('next')")
    assert run.stalls == 2 and "stopped" in run.stalled
    assert [c.status for c in run.cells] == [DIED, NOT_RUN]
    assert seconds < 60  # not the cell's 120 s, nor the notebook's 240 s


def test_a_kernel_that_stalls_once_is_run_again_on_a_fresh_one(host):
    run, _ = _run(host, FREEZE_ONCE, "print('next')")
    assert run.stalls == 1 and [c.status for c in run.cells] == [OK, OK]
    assert stdout(run.notebook.cells[0]) == "ran\n"


@pytest.mark.parametrize("busy", [BUSY, BUSY_HOLDING_THE_LOCK], ids=["loop", "holding-the-lock"])
def test_a_long_computation_is_no_stall(host, busy):
    run, seconds = _run(host, busy)
    assert run.stalls == 0 and run.stalled is None and [c.status for c in run.cells] == [OK]
    assert seconds > BOUND * 1.5  # the bound passed while it computed
