"""Execute a sanitized notebook through nbclient in a sandboxed kernel, recording each cell.

Unlike a plain `nbclient.execute`, a failing cell does not end the run (later cells may still
define graded functions), output is capped per cell, a timeout interrupts only that cell, and a
dead kernel or the per-submission deadline ends the run with a record instead of an exception.

A kernel that could not start (it failed or died before answering `kernel_info`: no cell, so no
student code, has run) is the grader's fault, not the notebook's: `Execution.launch_error` says
what happened, with the first lines of the kernel's log (`RUN/kernel.log`).
"""
from __future__ import annotations

import asyncio
import atexit
import contextlib
import math
import os
import select
import signal
import subprocess
import uuid
import time
from queue import Empty
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner
from jupyter_core.utils import ensure_async
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from traitlets import Any, Dict, Int, Type

from ..options import default
from ..sandbox.clock import StarvationClock
from ..sandbox.hosts import Host
from ..sandbox.logs import log_head
from ..sandbox.process import GONE_TIMEOUT, Limits, describe_error, kill_group, sandboxed_command
from .watchdog import Watchdog, cell_timer

OK, ERROR, TIMEOUT, DIED, NOT_RUN = "ok", "error", "timeout", "died", "not_run"


@dataclass
class CellRun:
    index: int
    cell_id: str
    status: str
    error: str = ""  # "ename: evalue" for errors; a sentence for timeouts and deaths
    seconds: float = 0.0


@dataclass
class Execution:
    notebook: nbformat.NotebookNode
    cells: list[CellRun] = field(default_factory=list)
    seconds: float = 0.0
    deadline_exceeded: bool = False
    # The kernel never started (a grader fault): what failed and the first lines of its log.
    launch_error: str | None = None
    # The kernel stopped answering while a cell ran (`watchdog`): why; `stalls` counts the runs
    # that stalled (the notebook is run again once after the first: two are a grader fault).
    stalled: str | None = None
    stalls: int = 0

    @property
    def first_failure(self) -> CellRun | None:
        return next((c for c in self.cells if c.status != OK), None)


class ForkedProcess:
    """A Popen-like handle on a kernel forked by the fork server.

    The kernel is the fork server's child, not ours, so there is no waitpid: a pidfd tells when
    it has exited, and signals go to its process group (it leads its own session).
    """

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        try:
            self._pidfd: int | None = os.pidfd_open(pid)
        except ProcessLookupError:
            self._pidfd, self.returncode = None, 0

    def poll(self) -> int | None:
        if self.returncode is None and select.select([self._pidfd], [], [], 0)[0]:
            self._exited()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            if not select.select([self._pidfd], [], [], timeout)[0]:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout)
            self._exited()
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def _exited(self) -> None:
        self.returncode = 0  # the fork server reaps it; its status is not ours to read
        self.close()

    def close(self) -> None:
        """Stop watching the process (killed, or no longer ours to wait for)."""
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None
        if self.returncode is None:
            self.returncode = -signal.SIGKILL


KERNEL_LOG = "kernel.log"


class HostedProvisioner(LocalProvisioner):
    """Starts the kernel as the manager's host says: a fork of its warm fork server when it
    forks kernels, else a new interpreter through the sandbox launcher. Either way its output
    goes to `cwd/kernel.log`, where a failed start can be read back, not the grader's terminal."""

    async def launch_kernel(self, cmd, **kwargs):
        km = self.parent
        log_path = Path(kwargs["cwd"]) / KERNEL_LOG
        pid = None if km.process_host is None else km.process_host.fork_kernel(
            Path(kwargs["cwd"]), kwargs["env"], Path(km.connection_file), log_path)
        if pid is None:
            with open(log_path, "ab") as log:
                kwargs.update(stdout=log, stderr=subprocess.STDOUT)
                return await super().launch_kernel(cmd, **kwargs)
        self.process = ForkedProcess(pid)
        self.pid = self.pgid = pid
        return self.connection_info


class PromptKernelClient(AsyncKernelClient):
    """A client that is ready as soon as the kernel has answered kernel_info on the shell
    channel and IOPub has delivered a message.

    jupyter_client then also drains IOPub until it has been silent for 0.2 s: idle time paid by
    every submission. Nothing needs it here, since nbclient takes only the IOPub messages whose
    parent is the cell it is running.
    """

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        # the kernel's start is timed by a clock that stretches while it waits for a CPU
        pid = getattr(getattr(self.parent, "provisioner", None), "pid", None)
        clock = (StarvationClock(pid, timeout) if timeout is not None and pid else None)
        deadline = time.monotonic() + (math.inf if timeout is None else timeout)
        while True:
            self.kernel_info()
            try:
                reply = await self.shell_channel.get_msg(timeout=1)
            except Empty:
                reply = None
            if reply is not None and reply["msg_type"] == "kernel_info_reply":
                try:
                    await self.iopub_channel.get_msg(timeout=0.2)  # is IOPub connected yet?
                except Empty:
                    pass
                else:
                    self._handle_kernel_info_reply(reply)
                    return
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if (clock.remaining() <= 0) if clock is not None else time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel with the student environment only, started by `HostedProvisioner`: forked
    when the host forks kernels (the course stack already imported), else through the sandbox
    launcher."""

    client_factory = Type(PromptKernelClient, klass=AsyncKernelClient)
    sandbox_env = Dict(help="The complete environment of the kernel process")
    sandbox_limits = Any(Limits(), help="grader.sandbox.process.Limits")
    process_host = Any(None, allow_none=True, help="grader.sandbox.hosts.Host or None")

    def format_kernel_cmd(self, extra_arguments=None):
        return sandboxed_command(super().format_kernel_cmd(extra_arguments), self.sandbox_limits)

    async def _async_pre_start_kernel(self, **kw):
        kw["env"] = dict(self.sandbox_env)
        if self.provisioner is None:
            self.provisioner = HostedProvisioner(kernel_id=self.kernel_id or str(uuid.uuid4()),
                                                 kernel_spec=self.kernel_spec, parent=self)
            self.kernel_id = self.provisioner.kernel_id
        return await super()._async_pre_start_kernel(**kw)


class CappedClient(NotebookClient):
    """nbclient with a per-cell output cap, so 100 MB of prints cannot swamp the grader."""

    max_output_bytes = Int(100_000, help="Output kept per cell; the rest is replaced by a note")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._output_bytes: dict[int, int] = {}

    def output(self, outs, msg, display_id, cell_index):
        content = msg.get("content", {})
        size = len(str(content))
        used = self._output_bytes.get(cell_index, 0)
        self._output_bytes[cell_index] = used + size
        if used + size <= self.max_output_bytes:
            return super().output(outs, msg, display_id, cell_index)
        if used > self.max_output_bytes:
            return None
        room = self.max_output_bytes - used
        if msg["msg_type"] == "stream" and room > 0:  # keep the head of a long print
            head = dict(msg, content=dict(content, text=content.get("text", "")[:room]))
            super().output(outs, head, display_id, cell_index)
        note = f"[grader] output truncated: this cell printed more than {self.max_output_bytes} bytes\n"
        outs.append(nbformat.v4.new_output("stream", name="stderr", text=note))
        return None


def execute(nb: nbformat.NotebookNode, *, run_dir: Path, env: dict[str, str], limits: Limits,
            cell_timeout: float = default("cell_timeout"),
            total_timeout: float = default("notebook_timeout"),
            max_output_bytes: int = 100_000, host: Host | None = None,
            stall_timeout: float | None = default("stall_timeout")) -> Execution:
    """Run every code cell of `nb` (a copy is executed) in a fresh sandboxed kernel, forked by
    `host` when it forks kernels (a warm fork server), else started anew. A kernel that stops
    answering for `stall_timeout` seconds while a cell runs (`watchdog`; None: never) is
    stopped and the notebook run again once on a fresh kernel (`Execution.stalls`)."""
    run = asyncio.run(_execute(nb, run_dir, env, limits, cell_timeout, total_timeout,
                               max_output_bytes, host, stall_timeout, "kernel.json"))
    if run.stalled is None:
        return run
    # a connection file of its own: the first kernel's manager may still remove its own late
    again = asyncio.run(_execute(nb, run_dir, env, limits, cell_timeout, total_timeout,
                                 max_output_bytes, host, stall_timeout, "kernel-again.json"))
    again.stalls = 1 + (again.stalled is not None)
    again.stalled = again.stalled or run.stalled
    again.seconds += run.seconds
    return again


async def _execute(nb, run_dir, env, limits, cell_timeout, total_timeout, max_output_bytes,
                   host, stall_timeout, connection_file) -> Execution:
    nb = nbformat.from_dict(nb)
    # IPC (Unix sockets in the run directory) instead of TCP: works across network namespaces
    # and leaves no kernel port open on the machine.
    km = SandboxedKernelManager(kernel_name="python3", sandbox_env=env, sandbox_limits=limits,
                                process_host=host, transport="ipc", ip=str(run_dir / "kernel"),
                                connection_file=str(run_dir / connection_file))
    # no timeout of nbclient's: `_cell_timer` interrupts a cell, on a load-aware clock
    client = CappedClient(nb, km=km, timeout=None, allow_errors=True,
                          interrupt_on_timeout=True, record_timing=False, shutdown_kernel="immediate",
                          max_output_bytes=max_output_bytes, kernel_name="python3",
                          resources={"metadata": {"path": str(run_dir)}})
    run = Execution(notebook=nb)
    start = time.monotonic()

    def kill_kernel() -> None:
        if km.provisioner is not None and getattr(km.provisioner, "process", None) is not None:
            kill_group(km.provisioner.process.pid)

    def deadline() -> None:
        # Killing the kernel ends the cell in flight with DeadKernelError, which nbclient
        # handles cleanly; cancelling nbclient's tasks instead leaves it in odd states.
        run.deadline_exceeded = True
        kill_kernel()

    def stalled(task: asyncio.Task) -> None:
        if not task.cancelled() and task.exception() is None and not run.deadline_exceeded:
            run.stalled = task.result()
            kill_kernel()  # ends the cell in flight with DeadKernelError, as the deadline does

    timer = asyncio.get_running_loop().call_later(total_timeout, deadline)
    started = False
    try:
        try:
            async with client.async_setup_kernel():
                started = True  # the kernel answered kernel_info: from here on, student code runs
                pgid = getattr(km.provisioner, "pid", None)  # the kernel leads its process group
                dog = Watchdog(client.kc, stall_timeout, pgid) if stall_timeout else None
                watching = asyncio.ensure_future(dog.watch()) if dog else None
                if watching is not None:
                    watching.add_done_callback(stalled)
                try:
                    await _run_cells(client, nb, run, dog, cell_timeout, pgid)
                finally:
                    if watching is not None:
                        watching.cancel()
        except Exception as exc:  # noqa: BLE001 - whatever stopped the kernel from starting
            if started or run.deadline_exceeded:
                raise
            head = log_head(run_dir / KERNEL_LOG)
            run.launch_error = f"{type(exc).__name__}: {exc}" + (f"; its log begins: {head}"
                                                                 if head else "")
            _mark_rest(run, nb, NOT_RUN, "not run: the grader could not start the kernel")
    except DeadKernelError:
        if run.stalled:
            run.cells[-1].status = DIED
            run.cells[-1].error = f"stopped: {run.stalled}"
            _mark_rest(run, nb, NOT_RUN, "not run: the kernel had stopped answering")
        elif run.deadline_exceeded:
            run.cells[-1].status = TIMEOUT
            run.cells[-1].error = f"stopped: the notebook exceeded its {total_timeout:g} s limit"
            _mark_rest(run, nb, TIMEOUT, f"not run: the notebook exceeded its {total_timeout:g} s limit")
        else:
            _mark_rest(run, nb, NOT_RUN, "not run: the kernel had died")
    except RuntimeError as exc:  # nbclient's "Kernel didn't respond": it never started
        if run.deadline_exceeded:
            _mark_rest(run, nb, TIMEOUT, f"not run: the notebook exceeded its {total_timeout:g} s limit")
        else:
            _mark_rest(run, nb, NOT_RUN, f"not run: the kernel could not start ({exc})")
    finally:
        timer.cancel()
        kill_kernel()
        if isinstance(getattr(km.provisioner, "process", None), ForkedProcess):
            # gone (with a PID namespace: everything it started reaped) before the next starts
            with contextlib.suppress(subprocess.TimeoutExpired):
                km.provisioner.process.wait(GONE_TIMEOUT)
            km.provisioner.process.close()  # its pidfd
        # nbclient leaves a given manager's resources alone: each execution would leak the
        # client's heartbeat thread, two ZMQ contexts (4 threads) and ~16 descriptors, and a
        # long batch would run out of them.
        if client.kc is not None:
            await ensure_async(client.kc.stop_channels())
        km.context.destroy(linger=0)
        atexit.unregister(client._cleanup_kernel)  # nbclient leaves it registered if start failed
    run.seconds = time.monotonic() - start
    return run


async def _run_cells(client: CappedClient, nb, run: Execution, dog: Watchdog | None,
                     cell_timeout: float, pgid: int | None) -> None:
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        began = time.monotonic()
        record = CellRun(index, cell.get("id", f"cell-{index}"), OK)
        fired: list[bool] = []
        timer = asyncio.ensure_future(cell_timer(client.km, cell_timeout, pgid, fired))
        try:
            if dog is not None:
                dog.cell_started()
            await client.async_execute_cell(cell, index)
        except CellTimeoutError:
            record.status, record.error = TIMEOUT, f"timed out after {cell_timeout} s"
        except DeadKernelError:
            record.status = DIED
            record.error = ("the kernel died (the process exited or was killed, for example by "
                            "os._exit, a crash, or the memory limit)")
            record.seconds = time.monotonic() - began
            run.cells.append(record)
            raise
        finally:
            timer.cancel()
            if dog is not None:
                dog.cell_ended()
        record.seconds = time.monotonic() - began
        error = next((o for o in cell.outputs if o.output_type == "error"), None)
        if error is not None and record.status == OK:
            record.status, record.error = ERROR, describe_error(error.ename, error.evalue)
            if error.ename == "KeyboardInterrupt" and fired:
                # the timer's interrupt turns a timeout into an interrupted cell
                record.status, record.error = TIMEOUT, f"timed out after {cell_timeout} s"
        run.cells.append(record)


def _mark_rest(run: Execution, nb, status: str, message: str) -> None:
    done = {c.index for c in run.cells}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and index not in done:
            run.cells.append(CellRun(index, cell.get("id", f"cell-{index}"), status, message))
