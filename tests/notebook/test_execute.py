"""Execution through nbclient in a sandboxed kernel (no course stack needed: plain Python cells)."""
import os
import sys

import pytest

from grader.notebook.execute import DIED, ERROR, NOT_RUN, OK, TIMEOUT, execute
from grader.sandbox.process import Limits

from tests.helpers import notebook, stdout


@pytest.fixture
def run(tmp_path):
    env = {"PATH": os.path.dirname(sys.executable) + ":/usr/bin:/bin", "HOME": str(tmp_path)}

    def go(*cells, **kw):
        kw.setdefault("cell_timeout", 5)
        return execute(notebook(*cells), run_dir=tmp_path, env=env, limits=Limits(), **kw)
    return go


def test_errors_do_not_stop_later_cells(run):
    result = run("x = 1", "1/0", "print(x + 1)")
    assert [c.status for c in result.cells] == [OK, ERROR, OK]
    assert result.cells[1].error == "ZeroDivisionError: division by zero"
    assert result.first_failure.index == 1
    assert stdout(result.notebook.cells[2]) == "2\n"


def test_cell_timeout_interrupts_only_that_cell(run):
    result = run("import time\ntime.sleep(30)", "print('after')", cell_timeout=1)
    assert [c.status for c in result.cells] == [TIMEOUT, OK]
    assert "timed out after 1" in result.cells[0].error


def test_dead_kernel_is_recorded_and_later_cells_not_run(run):
    result = run("import os\nos._exit(3)", "print('never')")
    assert [c.status for c in result.cells] == [DIED, NOT_RUN]
    assert "kernel died" in result.cells[0].error


@pytest.mark.serial  # a wall-clock bound
def test_notebook_deadline(run):
    result = run("import time\ntime.sleep(30)", "time.sleep(30)", "print(1)", cell_timeout=60, total_timeout=6)
    assert result.deadline_exceeded and result.seconds < 20
    assert [c.status for c in result.cells] == [TIMEOUT] * 3
    assert all("exceeded its 6 s limit" in c.error for c in result.cells)


def test_output_is_capped_per_cell(run):
    result = run("print('x' * 1_000_000)", "print('small')", max_output_bytes=10_000)
    texts = [o.get("text", "") for o in result.notebook.cells[0].outputs]
    assert sum(map(len, texts)) < 11_000 and "output truncated" in texts[-1]
    assert stdout(result.notebook.cells[1]) == "small\n"


def test_kernel_gets_only_the_given_environment_and_cwd(run, tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_SECRET_TOKEN", "do-not-leak")
    result = run("import os\nprint(os.getcwd())\nprint('GRADER_SECRET_TOKEN' in os.environ)")
    assert stdout(result.notebook.cells[0]) == f"{tmp_path}\nFalse\n"


def test_limits_apply_inside_the_kernel(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    result = execute(notebook("import resource\nprint(resource.getrlimit(resource.RLIMIT_FSIZE)[0])",
                              "open('big', 'wb').write(b'x' * 2_000_000)"),
                     run_dir=tmp_path, env=env, limits=Limits(file_size_bytes=1_000_000), cell_timeout=10)
    assert stdout(result.notebook.cells[0]) == "1000000\n"
    assert result.cells[1].status in (ERROR, DIED)
