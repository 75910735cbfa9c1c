"""Isolation of sandboxed processes: only loopback (its own, or one shared by a federated round),
the project tree and the grader's files hidden or read-only, no privileges outside.

No test sends traffic anywhere but 127.0.0.1: isolation is shown by the interfaces a process
sees, by a UDP `connect` (a route lookup, nothing is sent) and by loopback listeners."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

from grader.notebook.execute import ERROR, OK, execute
from grader.sandbox.process import (PROJECT_ROOT, Limits, SharedNetwork, isolation_status,
                                    network_isolation_available, spawn)

from tests.helpers import notebook, stdout
from tests.sandbox.helpers import needs_isolation, processes_under, run_snippet, student_env

NETWORK_PROBE = """
import json, os, socket
report = {"sys_class_net": sorted(os.listdir("/sys/class/net")),
          "if_nameindex": sorted(name for _, name in socket.if_nameindex()),
          "netns": os.stat("/proc/self/ns/net").st_ino}
probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    probe.connect(("192.0.2.1", 9))  # TEST-NET-1: a route lookup only, no packet is sent
    report["route_out"] = True
except OSError as exc:
    report["route_out"] = exc.strerror
print(json.dumps(report))
"""


def test_isolation_status_is_reported():
    ok, reason = network_isolation_available()
    status = isolation_status()
    assert ok == (status["isolated"] and status["interfaces"] == ["lo"])
    assert ok or reason  # never "off" without saying why
    if sys.platform.startswith("linux") and ok:
        assert status["loopback_up"] and status["read_only"] and status["workspace_writable"]


@needs_isolation
def test_only_loopback_is_visible_and_nothing_is_routable(tmp_path):
    _, out = run_snippet(NETWORK_PROBE, tmp_path / "w")
    report = json.loads(out.strip().splitlines()[-1])
    assert report["sys_class_net"] == ["lo"] and report["if_nameindex"] == ["lo"]
    assert report["route_out"] == "Network is unreachable"
    assert report["netns"] != os.stat("/proc/self/ns/net").st_ino


@needs_isolation
def test_the_graders_loopback_is_out_of_reach_but_its_own_works(tmp_path):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        code = (f"import socket\ns = socket.socket(); s.settimeout(3)\n"
                f"try:\n    s.connect(('127.0.0.1', {port})); print('reached the grader')\n"
                f"except OSError as e:\n    print('refused', e.errno)\n"
                "l = socket.socket(); l.bind(('127.0.0.1', 0)); l.listen()\n"
                "c = socket.create_connection(l.getsockname()); a, _ = l.accept()\n"
                "c.sendall(b'ping'); print(a.recv(4).decode())")
        _, out = run_snippet(code, tmp_path / "w")
    assert out.split() == ["refused", "111", "ping"]


@needs_isolation
def test_a_shared_network_joins_processes_on_one_loopback(tmp_path):
    server_code = ("import socket\nl = socket.socket(); l.bind(('127.0.0.1', 0)); l.listen()\n"
                   "print(l.getsockname()[1], flush=True)\n"
                   "a, _ = l.accept(); print(a.recv(5).decode(), flush=True)\n"
                   "import time; time.sleep(60)")
    with socket.socket() as outside:
        outside.bind(("127.0.0.1", 0))
        outside.listen()
        outside_port = outside.getsockname()[1]
        with SharedNetwork(isolation="require") as net:
            assert net.isolated and net.token
            limits = net.limits(Limits())
            (tmp_path / "a").mkdir()
            server = spawn([sys.executable, "-c", server_code], cwd=tmp_path / "a",
                           env=student_env(tmp_path / "a"), limits=limits, stdout=subprocess.PIPE)
            port = int(server.stdout.readline())
            client_code = (f"import socket\n"
                           f"socket.create_connection(('127.0.0.1', {port})).sendall(b'hello')\n"
                           f"s = socket.socket(); s.settimeout(3)\n"
                           f"try:\n    s.connect(('127.0.0.1', {outside_port})); print('outside')\n"
                           f"except OSError as e:\n    print('refused')\n" + NETWORK_PROBE)
            status, out = run_snippet(client_code, tmp_path / "b", limits)
            assert server.stdout.readline().strip() == b"hello"
            lines = out.strip().splitlines()
            assert lines[0] == "refused", out
            report = json.loads(lines[-1])
            assert report["if_nameindex"] == ["lo"] and report["route_out"] == "Network is unreachable"
            assert server.poll() is None
        # closing the namespace killed every process that joined it
        assert server.wait(timeout=10) is not None
    assert processes_under(tmp_path) == []


def test_a_shared_network_degrades_to_the_plain_limits_when_off():
    with SharedNetwork(isolation="off") as net:
        assert not net.isolated and net.reason
        assert net.limits(Limits()) == Limits()


FILES_PROBE = """
import errno, json, os, sys
root, extra = sys.argv[1], sys.argv[2]
def visible(path):
    return os.path.exists(path)
def writes(path):
    try:
        with open(path, "w") as handle:
            handle.write("x")
        return True
    except OSError as exc:
        return errno.errorcode[exc.errno]
def reads(path):
    try:
        open(path, "rb").read(1)
        return True
    except OSError as exc:
        return errno.errorcode[exc.errno]
print(json.dumps({
    "reference": visible(os.path.join(root, "reference", "exercise.ipynb")),
    "fixtures": visible(os.path.join(root, "fixtures")),
    "git": visible(os.path.join(root, ".git")),
    "tests": visible(os.path.join(root, "tests")),
    "grader_package": visible(os.path.join(root, "grader", "sandbox", "worker.py")),
    "extra_hidden": os.listdir(extra) if os.path.isdir(extra) else None,
    "extra_file": reads(os.path.join(extra, "grades.json")),
    "write_project": writes(os.path.join(root, "grader", "x.py")),
    "write_extra": writes(os.path.join(extra, "x")),
    "write_etc": writes("/etc/grader-test"),
    "write_cwd": writes("ok.txt"),
    "grader_environ": reads("/proc/%s/environ" % os.environ["GRADER_PID"]),
}))
"""


@needs_isolation
def test_project_tree_and_output_folder_are_hidden_and_read_only(tmp_path):
    out_dir = tmp_path / "grades-out"
    out_dir.mkdir()
    (out_dir / "grades.json").write_text("{}")
    env = dict(student_env(tmp_path / "w"), GRADER_PID=str(os.getpid()))
    _, out = run_snippet(f"import sys; sys.argv = ['x', {str(PROJECT_ROOT)!r}, {str(out_dir)!r}]\n"
                         + FILES_PROBE, tmp_path / "w", Limits().hiding(out_dir), env=env)
    report = json.loads(out.strip().splitlines()[-1])
    assert report["reference"] is False and report["fixtures"] is False
    assert report["git"] is False and report["tests"] is False
    assert report["grader_package"] is True  # the worker script and course site stay readable
    assert report["extra_hidden"] in (None, []) and report["extra_file"] == "ENOENT"
    assert report["write_project"] == "EROFS" and report["write_etc"] == "EROFS"
    assert report["write_extra"] in ("EROFS", "ENOENT")
    assert report["write_cwd"] is True
    assert report["grader_environ"] == "EACCES"
    assert (tmp_path / "w" / "ok.txt").read_text() == "x"
    assert sorted(p.name for p in out_dir.iterdir()) == ["grades.json"]


ESCAPES = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
def errno_of(result):
    return "ok" if result == 0 else os.strerror(ctypes.get_errno())
try:
    fd = os.open("/proc/1/ns/net", os.O_RDONLY)
    print("setns", errno_of(libc.setns(fd, 0x40000000)))
except OSError as exc:
    print("setns", exc.strerror)
print("umount", errno_of(libc.umount2(os.fsencode(os.environ["HIDDEN"]), 2)))
print("mount", errno_of(libc.mount(b"none", b"/mnt", b"tmpfs", 0, None)))
print("kill", errno_of(libc.kill(int(os.environ["GRADER_PID"]), 0)))
print("chroot", errno_of(libc.chroot(b"/")))
"""


@needs_isolation
def test_no_privilege_to_undo_the_sandbox(tmp_path):
    env = dict(student_env(tmp_path / "w"), GRADER_PID=str(os.getpid()), HIDDEN=str(PROJECT_ROOT))
    _, out = run_snippet(ESCAPES, tmp_path / "w", env=env)
    results = dict(line.split(" ", 1) for line in out.strip().splitlines())
    assert results["setns"] in ("Operation not permitted", "Permission denied")
    assert results["umount"] == "Operation not permitted"
    assert results["mount"] == "Operation not permitted"
    assert results["chroot"] == "Operation not permitted"
    if os.geteuid() == 0:  # a root grader's students run as another kernel uid
        assert results["kill"] == "Operation not permitted"


@needs_isolation
def test_a_kernel_is_sandboxed_too(tmp_path):
    """The notebook kernel goes through the same launcher (execute.py, a plain kernel here)."""
    nb = notebook("import os, socket\nprint(sorted(os.listdir('/sys/class/net')), "
                  "[n for _, n in socket.if_nameindex()])",
                  "import numpy as np\nx = np.ones(6 * 2**30 // 8)",
                  f"open({str(PROJECT_ROOT / 'grader' / 'pwned.py')!r}, 'w')",
                  f"import os\nprint(os.path.exists({str(PROJECT_ROOT / 'reference')!r}))")
    run = execute(nb, run_dir=tmp_path, env=student_env(tmp_path), limits=Limits(), cell_timeout=30)
    assert [c.status for c in run.cells] == [OK, ERROR, ERROR, OK]
    assert stdout(run.notebook.cells[0]) == "['lo'] ['lo']\n"
    assert run.cells[1].error.startswith("memory limit exceeded (MemoryError")
    assert "Read-only file system" in run.cells[2].error
    assert stdout(run.notebook.cells[3]) == "False\n"
    assert not (PROJECT_ROOT / "grader" / "pwned.py").exists()
