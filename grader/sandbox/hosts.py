"""Hosts start the processes that run student code: check workers and notebook kernels.

Every caller holds a `Host` and never asks which kind it is; the defaults are no-ops, so a host
that has nothing to warm up, no strays to kill and no kernels to fork simply says so:

* `start(cwd, env, log_path)` -> a `WorkerProcess` (a check worker, see `worker.py`);
* `fork_kernel(cwd, env, connection_file, log_path)` -> the pid of a forked IPython kernel, or
  None: start the kernel the usual way (`grader.notebook.execute` does);
* `begin()` starts slow setup in the background, `warm_up()` waits for it (returns the seconds
  waited), `kill_strays()` ends what a submission left running (call between submissions),
  `close()` stops everything; `failure` says why a faster path is not available, if it is not;
  `launch_failures` counts workers that could not start or hand-shake (grader faults).

Two hosts, both starting every process through `process.spawn` (limits, scrubbed environment,
own process group):

* `FreshHost` spawns a new interpreter per worker (simple; every worker pays its own imports);
* `ForkServerHost` spawns one fork server (`fork_server.py`) that imports the course stack once
  and forks a worker per check and a kernel per notebook. Student code runs only in the forks,
  each the leader of its own process group, so isolation is the same as with fresh processes.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

from ..options import default
from .errors import HarnessError
from .fork_server import LOG_NAME, WORKER, ForkServer
from .logs import log_head
from .process import Limits, spawn
from .worker_process import WorkerProcess, open_pipes

RunDirFactory = Callable[[], "tuple[Path, dict[str, str]]"]


class Host:
    """Starts worker processes; everything but `start` has a no-op default."""

    failure: str | None = None  # why the host's faster path is unavailable (None: it is not)

    def __init__(self, site_dir: Path, limits: Limits) -> None:
        self.site_dir = Path(site_dir)
        self.limits = limits
        self.launch_failures = 0  # workers that could not start or hand-shake (LaunchError)

    def start(self, cwd: Path, env: dict[str, str], log_path: Path, *,
              needs_stack: bool = True) -> WorkerProcess:
        """A new worker in `cwd` with `env`, its output going to `log_path`. `needs_stack`:
        the check imports the course stack (a hint for hosts that preload it)."""
        raise NotImplementedError

    def fork_kernel(self, cwd: Path, env: dict[str, str], connection_file: Path,
                    log_path: Path) -> int | None:
        """The pid of a kernel forked on `connection_file`, or None: this host does not fork
        kernels (the caller starts one the usual way)."""
        return None

    def begin(self) -> None:
        """Start any slow setup in the background."""

    def warm_up(self) -> float:
        """Wait for the setup `begin` started; the seconds waited."""
        return 0.0

    def kill_strays(self) -> None:
        """End whatever a submission left running (call between submissions)."""

    def close(self) -> None:
        """Stop whatever the host keeps running."""

    def __enter__(self) -> Host:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class FreshHost(Host):
    """A new sandboxed interpreter per worker."""

    def start(self, cwd: Path, env: dict[str, str], log_path: Path, *,
              needs_stack: bool = True) -> WorkerProcess:
        req_r, req_w, rep_r, rep_w = open_pipes()
        argv = [sys.executable, "-I", str(WORKER), "--site", str(self.site_dir),
                "--requests", str(req_r), "--replies", str(rep_w)]
        try:
            with open(log_path, "ab") as log:
                popen = spawn(argv, cwd=cwd, env=env, limits=self.limits, stdin=subprocess.DEVNULL,
                              stdout=log, stderr=subprocess.STDOUT, pass_fds=(req_r, rep_w))
        except BaseException:
            for fd in (req_r, req_w, rep_r, rep_w):
                os.close(fd)
            raise
        os.close(req_r)
        os.close(rep_w)
        return WorkerProcess(popen.pid, req_w, rep_r, log_path, popen)


class ForkServerHost(Host):
    """One sandboxed fork server that has imported `preload`; forks a fresh process per start.

    The server runs in a run directory from `run_dir_factory`; `begin()` spawns it without
    waiting (else the first `start` does), and a server that died is restarted once. If it cannot
    be started at all, `failure` says why and `fallback` (fresh workers, ordinary kernels) takes
    over. Close the host to stop it. Not thread-safe: one host per grading thread.
    """

    def __init__(self, site_dir: Path, limits: Limits, run_dir_factory: RunDirFactory,
                 preload: tuple[str, ...], startup_timeout: float = default("load_timeout"),
                 fallback: Host | None = None, after_fork: tuple[str, ...] = ()) -> None:
        super().__init__(site_dir, limits)
        self.run_dir_factory = run_dir_factory
        self.preload = tuple(preload)
        self.after_fork = tuple(after_fork)
        self.startup_timeout = startup_timeout
        self.fallback = fallback  # used (for good) when the server cannot be started
        self.failure: str | None = None
        self.log_path: Path | None = None  # the last server's log (what a failed start said)
        self._server: ForkServer | None = None

    @property
    def ready(self) -> bool:
        """The server has said hello (its imports are done)."""
        return self._server is not None and self._server.ready

    def _failed(self, exc: BaseException) -> str:
        """`failure`'s text: the exception and the first lines of the server's log."""
        head = log_head(self.log_path)
        return f"{type(exc).__name__}: {exc}" + (f"; its log begins: {head}" if head else "")

    def begin(self) -> None:
        """Spawn the server without waiting for its imports (checks without the course stack
        run on fresh workers meanwhile)."""
        if self._server is not None or self.failure is not None:
            return
        try:
            run_dir, env = self.run_dir_factory()
            self.log_path = Path(run_dir) / LOG_NAME
            self._server = ForkServer.spawn(self.site_dir, self.limits, run_dir, env,
                                            self.preload, self.after_fork)
        except (OSError, ValueError) as exc:
            self.close()
            self.failure = f"{type(exc).__name__}: {exc}"

    def _start_server(self) -> ForkServer:
        self.begin()
        server = self._server
        if server is None:
            raise HarnessError(f"the check fork server could not be started: {self.failure}")
        if not server.ready:
            remaining = self.startup_timeout - (time.monotonic() - server.began)
            try:
                server.wait_ready(max(remaining, 1.0))
            except BaseException:
                self.close()
                raise
        return server

    def warm_up(self) -> float:
        """Wait until the server has imported the course stack; returns the seconds waited. A
        server that cannot start sets `failure` (processes then start the usual way)."""
        if self.ready or self.failure is not None:
            return 0.0
        began = time.monotonic()
        try:
            self._start_server()
        except (OSError, HarnessError, ValueError) as exc:
            self.close()
            self.failure = self._failed(exc)
        return time.monotonic() - began

    def start(self, cwd: Path, env: dict[str, str], log_path: Path, *,
              needs_stack: bool = True) -> WorkerProcess:
        if not needs_stack and not self.ready and self.fallback is not None:
            return self.fallback.start(cwd, env, log_path)  # don't wait for the server's imports
        for attempt in range(2):  # a server that died since the last start gets one restart
            self.warm_up()
            if self.failure is not None:
                break
            try:
                return self._start_server().fork_worker(cwd, env, log_path)
            except (OSError, HarnessError, ValueError) as exc:
                self.close()
                if attempt:
                    self.failure = self._failed(exc)
        if self.fallback is None:
            raise HarnessError(f"the check fork server failed: {self.failure}")
        return self.fallback.start(cwd, env, log_path, needs_stack=needs_stack)

    def fork_kernel(self, cwd: Path, env: dict[str, str], connection_file: Path,
                    log_path: Path) -> int | None:
        """Fork an IPython kernel (course stack already imported) and return its pid; None when
        the server could not be started (the kernel then starts the usual way).

        A server that died since the last fork (a submission's process may kill it: it is in
        the same sandbox) is restarted once, as for workers; when that fails, HarnessError or
        OSError: the kernel could not start, a grader fault (`notebook.execute`).
        """
        if self.failure is not None:
            return None
        for attempt in range(2):
            server = self._start_server()  # a server that cannot start is not retried here
            try:
                return server.fork_kernel(cwd, env, connection_file, log_path)
            except (OSError, HarnessError):
                self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def kill_strays(self) -> None:
        """Kill whatever a submission left running in the server's sandbox (a daemon that left
        its kernel's process group could watch the next submission): call between submissions."""
        if self._server is not None:
            self._server.kill_strays()

    def close(self) -> None:
        if self.fallback is not None:
            self.fallback.close()
        if self._server is not None:
            self._server.close()
            self._server = None
