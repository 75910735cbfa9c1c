"""The Host protocol: a FreshHost and a ForkServerHost both start real check workers and notebook
kernels, callers never ask which one they hold, and a lost worker says why as a typed reason."""
import os
import sys
import time
from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell, new_notebook

from grader.notebook.execute import OK, execute
from grader.sandbox import codec
from grader.sandbox.errors import LostReason, WorkerLost
from grader.sandbox.hosts import ForkServerHost, FreshHost, Host
from grader.sandbox.process import Limits
from tests.helpers import stdout
from tests.sandbox.helpers import alive

# Isolation off: what is tested here is starting and forking processes, not the sandbox (the
# course site below lives in a temporary folder a sandbox would hide).
LIMITS = Limits(isolation="off", cpu_seconds=120)
HOOKED = """\
import os

def configure():
    os.environ["HOOKED"] = "configured for " + os.environ.get("WHO", "?")
"""
PRELOAD = ("colorsys", "hooked")  # colorsys: a module neither a worker nor a kernel imports


def _env(home: Path, who: str = "") -> dict[str, str]:
    env = {"PATH": os.path.dirname(sys.executable) + ":/usr/bin:/bin", "HOME": str(home),
           "TMPDIR": str(home), "LC_ALL": "C.UTF-8"}
    return env | ({"WHO": who} if who else {})


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("site")
    (folder / "hooked.py").write_text(HOOKED)
    return folder


@pytest.fixture(scope="module")
def fork_server(tmp_path_factory, site):
    def server_run():
        run_dir = tmp_path_factory.mktemp("server")
        return run_dir, _env(run_dir)

    with ForkServerHost(site, LIMITS, server_run, PRELOAD, startup_timeout=120,
                        after_fork=("hooked:configure",)) as host:
        host.begin()
        yield host


@pytest.fixture(params=["fresh", "fork_server"])
def host(request, site) -> Host:
    if request.param == "fork_server":
        return request.getfixturevalue("fork_server")
    return FreshHost(site, LIMITS)


def _program(source: str) -> list[dict]:
    return [{"cell_id": "c0", "line": 1, "source": source}]


def _replies(worker, program: list[dict], *calls: dict, timeout: float = 60.0):
    """The hand-shake's reply (waited for as long as a loaded machine needs), then an iterator
    over the replies to loading `program` and to `calls`, each within `timeout`."""
    hello = worker.request({"op": "hello", "preload": []}, 120.0)
    bodies = [codec.encode({"op": "load", "program": program})]
    bodies += [codec.encode({"op": "call", **call}) for call in calls]
    return hello, worker.exchange(bodies, timeout)


def test_both_hosts_run_a_worker_and_only_a_fork_has_the_preload_and_its_hook(host, tmp_path):
    worker = host.start(tmp_path, _env(tmp_path, who="worker-1"), tmp_path / "worker.log")
    source = "import os, sys\nPRELOADED = 'colorsys' in sys.modules\nHOOK = os.environ.get('HOOKED')\n"
    try:
        hello, replies = _replies(
            worker, _program(source), {"probe": "value", "args": {"name": "PRELOADED"}},
            {"probe": "value", "args": {"name": "HOOK"}})
        loaded, preloaded, hook = replies
    finally:
        worker.kill()
    assert hello["ok"]["pid"] == worker.pid and loaded["ok"]["errors"] == []
    forked = isinstance(host, ForkServerHost)
    assert preloaded["ok"]["repr"] == repr(forked)
    assert hook["ok"]["text"] == ("configured for worker-1" if forked else None)


def test_both_hosts_run_a_notebook_kernel(host, tmp_path):
    nb = new_notebook(cells=[new_code_cell("import sys\nprint('colorsys' in sys.modules)")])
    run = execute(nb, run_dir=tmp_path, env=_env(tmp_path), limits=LIMITS, cell_timeout=60,
                  total_timeout=120, host=host)
    assert run.launch_error is None and [c.status for c in run.cells] == [OK]
    forked = isinstance(host, ForkServerHost)
    assert stdout(run.notebook.cells[0]) == f"{forked}\n"


def test_a_worker_that_exits_is_lost_with_the_reason_died(host, tmp_path):
    worker = host.start(tmp_path, _env(tmp_path), tmp_path / "worker.log")
    hello, replies = _replies(worker, _program("import os\nprint('bye', flush=True)\nos._exit(3)"))
    assert "pid" in hello["ok"]
    with pytest.raises(WorkerLost) as lost:
        next(replies)
    assert lost.value.reason is LostReason.DIED
    assert "(last output: bye)" in lost.value.detail
    if isinstance(host, FreshHost):  # its own child: the exit status is known
        assert "exited with code 3" in lost.value.detail


def test_a_worker_that_hangs_is_lost_with_the_reason_timeout_and_killed(host, tmp_path):
    worker = host.start(tmp_path, _env(tmp_path), tmp_path / "worker.log")
    _, replies = _replies(worker, _program("while True:\n    pass"), timeout=2.0)
    with pytest.raises(WorkerLost) as lost:
        next(replies)
    assert lost.value.reason is LostReason.TIMEOUT and isinstance(lost.value, Exception)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and alive(worker.pid):
        time.sleep(0.05)
    assert not alive(worker.pid)


def test_a_fork_server_that_cannot_start_says_why_and_kernels_start_the_usual_way(tmp_path, site):
    def server_run():
        return tmp_path, _env(tmp_path)

    with ForkServerHost(site, LIMITS, server_run, ("no_such_module_here",),
                        startup_timeout=60) as host:
        assert host.warm_up() > 0 and "no_such_module_here" in host.failure
        assert host.fork_kernel(tmp_path, {}, tmp_path / "k.json", tmp_path / "k.log") is None
        nb = new_notebook(cells=[new_code_cell("print(6 * 7)")])
        run = execute(nb, run_dir=tmp_path, env=_env(tmp_path), limits=LIMITS, cell_timeout=60,
                      host=host)
    assert run.launch_error is None and stdout(run.notebook.cells[0]) == "42\n"


def test_a_fresh_host_has_nothing_to_warm_up_kill_or_fork(tmp_path, site):
    host = FreshHost(site, LIMITS)
    assert host.warm_up() == 0.0 and host.failure is None and host.launch_failures == 0
    host.kill_strays()
    assert host.fork_kernel(tmp_path, {}, tmp_path / "k.json", tmp_path / "k.log") is None
    host.close()


def test_a_remembered_loss_raises_again_with_the_same_reason():
    lost = WorkerLost(LostReason.GAVE_UP, "too many times")
    again = lost.again()
    assert again is not lost and (again.reason, again.detail) == (lost.reason, lost.detail)
    assert str(again) == "gave_up: too many times"
    with pytest.raises(ValueError):
        WorkerLost("crashed", "not a reason")
