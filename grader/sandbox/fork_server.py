"""One fork server process, seen from the grader: spawn it, wait for its imports, ask for forks.

The server is `worker.py --fork-server` (its side of the protocol is documented there), started
sandboxed through `process.spawn` in a run directory of its own. It imports `preload` (trusted
course modules) once, says hello on an AF_UNIX SEQPACKET control socket, then forks, per request,
either a check worker (we pass the request pipe, the reply pipe and the log) or an IPython kernel
(we pass the log; the kernel listens on the request's connection file). Each fork leads its own
session and first calls the `after_fork` hooks ("module:function", e.g. the course configuration
reading its environment). Each fork runs in a PID namespace of its own where the platform allows
(`pid_namespace.py`, the server's side in `forks.py`): the pid we get back is that namespace's
first process, and when it has ended, so has everything the submission started. What to preload
and which hooks to call is course knowledge
(`grader.environment.preload`); restarts and fallbacks are the host's (`hosts.ForkServerHost`).
"""
from __future__ import annotations

import dataclasses
import json
import os
import select
import socket
import subprocess
import sys
import time
from pathlib import Path

from .errors import HarnessError
from .logs import log_head
from .process import Limits, kill_group, kill_strays, spawn
from .worker_process import WorkerProcess, open_pipes

WORKER = Path(__file__).resolve().with_name("worker.py")
LOG_NAME = "fork-server.log"
FORK_ANSWER_TIMEOUT = 60.0
SERVER_PROCESS_FACTOR = 4  # the server's RLIMIT_NPROC: this many sandboxes' worth


def work_dir(run_dir: Path) -> Path:
    """A student process's cwd: `run_dir/work` when the run directory has one (the course layout)."""
    work = Path(run_dir) / "work"
    return work if work.is_dir() else Path(run_dir)


class ForkServer:
    """A running fork server: its process and our end of its control socket."""

    def __init__(self, process: subprocess.Popen, control: socket.socket, log_path: Path,
                 began: float) -> None:
        self.process = process
        self.control: socket.socket | None = control
        self.log_path = log_path
        self.began = began  # time.monotonic() when it was spawned
        self.ready = False  # it has said hello (its imports are done)
        self.closed = False

    @property
    def pid(self) -> int:
        """The server's pid (its sandbox launcher's, the leader of its process group)."""
        return self.process.pid

    @classmethod
    def spawn(cls, site_dir: Path, limits: Limits, run_dir: Path, env: dict[str, str],
              preload: tuple[str, ...], after_fork: tuple[str, ...] = ()) -> ForkServer:
        """Start a server in `run_dir` without waiting for its imports; OSError or ValueError
        when it cannot be started."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            argv = [sys.executable, "-I", str(WORKER), "--site", str(site_dir),
                    "--fork-server", str(theirs.fileno()), "--preload", ",".join(preload),
                    "--parent", str(os.getpid())]
            if after_fork:
                argv += ["--after-fork", ",".join(after_fork)]
            argv += ["--pid-namespace", limits.isolation]
            limits = dataclasses.replace(limits, fork_namespaces=limits.isolation != "off")
            if limits.max_processes is not None:
                # each fork's PID namespace gets the sandbox's limit; the server's own limit,
                # which bounds all of them together, leaves room for a fork storm's leftovers
                argv += ["--max-processes", str(limits.max_processes)]
                limits = dataclasses.replace(
                    limits, max_processes=limits.max_processes * SERVER_PROCESS_FACTOR)
            began = time.monotonic()
            log_path = Path(run_dir) / LOG_NAME
            with open(log_path, "ab") as log:
                process = spawn(argv, cwd=work_dir(run_dir), env=env, limits=limits,
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                pass_fds=(theirs.fileno(),))
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        return cls(process, ours, log_path, began)

    def log_head(self) -> str:
        """The first lines of the server's log (what a failed start said)."""
        return log_head(self.log_path)

    def wait_ready(self, timeout: float) -> None:
        """Wait for the hello that says the imports are done; HarnessError (and the server
        stopped) when it does not come or reports failed imports."""
        hello = self._receive(timeout)
        if not hello.get("ready"):
            self.close()
            raise HarnessError("the check fork server could not import the course environment: "
                               + "; ".join(hello.get("errors", [])))
        self.ready = True

    def _receive(self, timeout: float) -> dict:
        if self.control is None:
            raise HarnessError("the check fork server did not answer")
        readable, _, _ = select.select([self.control], [], [], timeout)
        message = self.control.recv(1 << 16) if readable else b""
        if not message:
            self.close()
            raise HarnessError("the check fork server did not answer")
        return json.loads(message)

    def _request(self, header: dict, fds: list[int]) -> dict:
        if self.control is None:
            raise HarnessError("the check fork server did not answer")
        socket.send_fds(self.control, [json.dumps(header).encode()], fds)
        return self._receive(FORK_ANSWER_TIMEOUT)

    def fork_worker(self, cwd: Path, env: dict[str, str], log_path: Path) -> WorkerProcess:
        """A forked check worker in `cwd` with `env`, its output going to `log_path`."""
        req_r, req_w, rep_r, rep_w = open_pipes()
        log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            answer = self._request({"cwd": str(cwd), "env": env}, [req_r, rep_w, log_fd])
        except BaseException:
            os.close(req_w)
            os.close(rep_r)
            raise
        finally:
            for fd in (req_r, rep_w, log_fd):
                os.close(fd)
        if "pid" not in answer:
            os.close(req_w)
            os.close(rep_r)
            raise HarnessError(f"the check fork server refused: {answer}")
        return WorkerProcess(int(answer["pid"]), req_w, rep_r, log_path)

    def fork_kernel(self, cwd: Path, env: dict[str, str], connection_file: Path,
                    log_path: Path) -> int:
        """The pid of a forked IPython kernel listening on `connection_file`."""
        log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            answer = self._request({"kind": "kernel", "cwd": str(cwd), "env": env,
                                    "connection_file": str(connection_file)}, [log_fd])
        finally:
            os.close(log_fd)
        if "pid" not in answer:
            raise HarnessError(f"the fork server refused to fork a kernel: {answer}")
        return int(answer["pid"])

    def kill_strays(self) -> None:
        """Kill whatever a submission left running in the server's sandbox."""
        kill_strays(self.pid)

    def close(self) -> None:
        """Stop the server and everything in its process group (once)."""
        if self.closed:
            return
        self.closed = True
        if self.control is not None:
            self.control.close()
            self.control = None
        kill_group(self.pid)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        self.ready = False
