"""Resource limits of sandboxed processes: memory, CPU time, file size, processes, environment,
and killing a sandbox with everything it started."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from grader.sandbox import namespaces
from grader.sandbox.process import (GiB, MEMORY_LIMIT_EXCEEDED, Limits, describe_error, kill_group,
                                    kill_strays, sandbox_members, spawn)

from tests.sandbox.helpers import ISOLATED, needs_isolation, processes_under, run_snippet, student_env


def test_default_limits():
    limits = Limits()
    assert limits.memory_bytes == 4 * GiB and limits.address_space_bytes is None
    assert limits.max_processes and limits.cpu_seconds and limits.file_size_bytes
    with pytest.raises(ValueError):
        Limits(isolation="sometimes")


def test_a_6_gib_allocation_is_a_memory_error_not_a_crash(tmp_path):
    code = ("import numpy as np, resource\n"
            "print(resource.getrlimit(resource.RLIMIT_DATA)[0])\n"
            "try:\n    np.ones(6 * 2**30 // 8)\nexcept MemoryError as e:\n    print('MemoryError', e)\n"
            "print(np.ones(10**7).sum())")  # 80 MB still fine afterwards
    status, out = run_snippet(code, tmp_path / "w")
    assert status == 0, out
    assert out.splitlines()[0] == str(4 * GiB)
    assert "MemoryError Unable to allocate 6.00 GiB" in out and "10000000.0" in out


def test_memory_errors_are_named_as_the_limit():
    assert describe_error("MemoryError", "Unable to allocate 6.00 GiB").startswith(MEMORY_LIMIT_EXCEEDED)
    assert describe_error("RuntimeError", "DefaultCPUAllocator: can't allocate memory: you tried "
                          "to allocate 6442450944 bytes").startswith(MEMORY_LIMIT_EXCEEDED)
    assert describe_error("ValueError", "bad") == "ValueError: bad"


def test_memory_limit_is_configurable(tmp_path):
    code = "b = bytearray(600 * 2**20); print('600 MiB ok')"
    assert run_snippet(code, tmp_path / "a", Limits(memory_bytes=2 * GiB))[1].strip() == "600 MiB ok"
    assert "MemoryError" in run_snippet(code, tmp_path / "b", Limits(memory_bytes=512 * 2**20))[1]


@pytest.mark.serial  # a wall-clock bound
def test_cpu_time_limit_kills_a_busy_loop(tmp_path):
    began = time.monotonic()
    status, _ = run_snippet("while True: pass", tmp_path / "w", Limits(cpu_seconds=1), timeout=60)
    assert status in (-9, -24)  # SIGKILL at the hard limit (soft == hard), or SIGXCPU
    assert time.monotonic() - began < 30


def test_file_size_limit(tmp_path):
    status, out = run_snippet("open('big', 'wb').write(b'x' * (3 * 2**20))", tmp_path / "w",
                              Limits(file_size_bytes=2**20))
    assert status != 0 and "File too large" in out
    assert (tmp_path / "w" / "big").stat().st_size <= 2**20


@pytest.mark.serial  # a wall-clock bound
@needs_isolation
def test_process_limit_holds_a_fork_bomb_per_sandbox(tmp_path):
    code = ("import os, time\nn = 0\n"
            "while True:\n"
            "    try:\n        pid = os.fork()\n    except OSError as e:\n"
            "        print('stopped after', n, e.errno); break\n"
            "    if pid == 0:\n        os.close(1); os.close(2); time.sleep(60); os._exit(0)\n"
            "    n += 1\n")
    began = time.monotonic()
    status, out = run_snippet(code, tmp_path / "w", Limits(max_processes=40), timeout=20)
    assert "stopped after" in out, out
    assert 30 <= int(out.split()[2]) < 40 and out.split()[3] == "11"  # EAGAIN
    assert time.monotonic() - began < 20
    # ...and a second sandbox is not starved by the first one's processes
    _, out2 = run_snippet("import os\nif os.fork() == 0: os._exit(0)\nprint('forked')",
                          tmp_path / "w2", Limits(max_processes=40))
    assert "forked" in out2
    assert processes_under(tmp_path) == []


def test_environment_and_working_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_SECRET_TOKEN", "do-not-leak")
    code = "import os, sys; print(os.getcwd()); print(sorted(os.environ)); print(sys.argv)"
    _, out = run_snippet(code, tmp_path / "w")
    cwd, names, argv = out.splitlines()[:3]
    assert cwd == str(tmp_path / "w")
    assert set(eval(names)) <= set(student_env(tmp_path)) | {"LC_CTYPE"}  # Python may add LC_CTYPE
    assert "do-not-leak" not in out and str(tmp_path / "w") not in argv


def spawn_until_ready(tmp_path, code: str) -> subprocess.Popen:
    """Start `code` sandboxed in tmp_path/w and wait for it to print 'ready'."""
    work = tmp_path / "w"
    work.mkdir()
    proc = spawn([sys.executable, "-c", code], cwd=work, env=student_env(work), limits=Limits(),
                 stdout=subprocess.PIPE)
    assert proc.stdout.readline().strip() == b"ready"
    return proc


def test_kill_group_also_kills_children_that_left_the_group(tmp_path):
    code = ("import os, time\n"
            "for _ in range(3):\n"
            "    if os.fork() == 0:\n        os.setsid(); time.sleep(300)\n"
            "print('ready', flush=True); time.sleep(300)")
    proc = spawn_until_ready(tmp_path, code)
    if ISOLATED:
        assert len(sandbox_members(proc.pid)) == 4
    kill_group(proc.pid)
    proc.wait(timeout=10)
    deadline = time.monotonic() + 5
    while processes_under(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = processes_under(tmp_path)
    if ISOLATED:
        assert left == []
    else:  # without namespaces only the process group dies: the setsid children survive
        for pid in left:
            os.kill(pid, 9)


@needs_isolation
def test_kill_strays_keeps_the_launcher(tmp_path):
    code = ("import os, time\n"
            "if os.fork() == 0:\n    os.setsid(); time.sleep(300)\n"
            "print('ready', flush=True); time.sleep(300)")
    proc = spawn_until_ready(tmp_path, code)
    assert kill_strays(proc.pid) == 1
    time.sleep(0.2)
    assert proc.poll() is None and processes_under(tmp_path) == [proc.pid]
    kill_group(proc.pid)
    proc.wait(timeout=10)


@needs_isolation
def test_sandbox_runs_as_an_unprivileged_kernel_uid(tmp_path):
    code = "import os; print(os.getuid(), open('/proc/self/uid_map').read().split())"
    work = tmp_path / "w"
    work.mkdir()
    proc = spawn([sys.executable, "-c", code + "; import time; time.sleep(2)"], cwd=work,
                 env=student_env(work), limits=Limits(), stdout=subprocess.PIPE)
    inside = proc.stdout.readline().decode()
    with open(f"/proc/{proc.pid}/status") as handle:
        outside = next(int(line.split()[1]) for line in handle if line.startswith("Uid:"))
    kill_group(proc.pid)
    proc.wait()
    assert inside.startswith("0 ")  # root inside its namespace...
    if os.geteuid() == 0:
        assert outside == namespaces.UID_BASE + proc.pid  # ...a uid of its own outside
    else:
        assert outside == os.geteuid()


def test_isolation_off_still_applies_the_limits(tmp_path):
    code = ("import resource\n"
            "print(resource.getrlimit(resource.RLIMIT_DATA)[0],"
            " resource.getrlimit(resource.RLIMIT_FSIZE)[0])")
    _, out = run_snippet(code, tmp_path / "w", Limits(isolation="off", memory_bytes=GiB,
                                                      file_size_bytes=2**20))
    assert out.splitlines()[0] == f"{GiB} {2**20}"
