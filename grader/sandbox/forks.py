"""The fork server's side of forking: one fork per request, each a kernel or check worker.

Standard library only: `worker.py` (run as a script, the `grader` package not importable) loads
this file from its folder as `_sandbox.forks`, next to `pid_namespace.py` which it uses. See
`worker.py` for the protocol and `fork_server.py` for the grader's side.

`fork_server(...)` imports the trusted course modules once, then, per request on the control
socket, forks a child that (with `pid_namespaces` "auto" or "require") gets a PID namespace of
its own (`pid_namespace.split`), moves into the request's folder and environment, calls the
`after_fork` hooks and becomes an IPython kernel or a check worker (`run_worker`).
"""
import functools
import gc
import importlib
import json
import os
import select
import signal
import socket
import sys
import time

from . import pid_namespace


def die_with_parent(parent):
    """Ask Linux to SIGKILL this process when its parent dies: a grader killed with SIGKILL
    leaves no fork server behind, and a dead fork server no kernels or workers. `parent` is the
    pid that started this process, known before: a parent that died while this process was
    still starting has already been replaced by init when this runs."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def fork_server(codec, probes, run_worker, control_fd, preload, after_fork=(),
                pid_namespaces="off", max_processes=None):
    """Import `preload` once, then fork one worker per request on the control socket; each fork
    calls the `after_fork` functions ("module:function") whose module is loaded and, with
    `pid_namespaces` "auto" or "require", runs in a PID namespace of its own."""
    global _SERVER_PID, _AFTER_FORK, _PID_NAMESPACES, _MAX_PROCESSES
    _SERVER_PID = os.getpid()
    _AFTER_FORK = tuple(after_fork)
    _PID_NAMESPACES, _MAX_PROCESSES = pid_namespaces, max_processes
    if sys.platform.startswith("linux"):
        pid_namespace.become_subreaper()  # orphans are reaped here at once, not by init
    control = socket.socket(fileno=control_fd)
    errors = []
    for module in preload:
        try:
            importlib.import_module(module)
        except Exception as exc:  # noqa: BLE001 - reported to the grader, which gives up
            errors.append(f"{module}: {type(exc).__name__}: {str(exc)[:500]}")
    # Every fork shares these objects copy-on-write; a garbage collection in a child would
    # touch each of them (their GC headers) and so copy their pages. Frozen, they are never
    # scanned (no speed-up measurable on its own here; it keeps the heap shared).
    gc.collect()
    gc.freeze()
    control.sendall(json.dumps({"ready": not errors, "errors": errors}).encode())
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped automatically
    while True:
        try:
            message, fds, _flags, _addr = socket.recv_fds(control, 1 << 20, 3)
        except OSError:
            return
        if not message:
            return
        request = json.loads(message)
        become, wanted = ((_become_kernel, 1) if request.get("kind") == "kernel"
                          else (_become_worker, 3))
        become = functools.partial(become, run_worker)
        if len(fds) != wanted:
            for fd in fds:
                os.close(fd)
            control.sendall(json.dumps({"error": f"expected {wanted} fds"}).encode())
            continue
        report_r, report_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(report_r)
                _split(report_w, (control.fileno(), *fds), request)
                become(codec, probes, control, fds, request)
            except BaseException:  # noqa: BLE001 - into the log (the server's or the fork's)
                import traceback

                traceback.print_exc()
                sys.stderr.flush()
            finally:
                os._exit(70)
        os.close(report_w)
        for fd in fds:
            os.close(fd)
        control.sendall(json.dumps(_answer(pid, report_r)).encode())


_SERVER_PID = None  # this fork server's pid, the parent of every process it forks
_AFTER_FORK = ()  # "module:function" hooks each fork calls once it has its environment
_PID_NAMESPACES = "off"  # "auto" / "require": each fork gets a PID namespace (pid_namespace.py)
_MAX_PROCESSES = None  # RLIMIT_NPROC of each fork's namespace
_IN_PID_NAMESPACE = False  # this process is a fork's student process in its own PID namespace
REPORT_TIMEOUT = 30.0


def _split(report_fd, close_fds, request):
    """In the forked child: give it a PID namespace of its own (see pid_namespace.py); returns
    in the process that becomes the kernel or worker."""
    global _IN_PID_NAMESPACE
    die_with_parent(_SERVER_PID)
    if _PID_NAMESPACES == "off":
        os.write(report_fd, b"none: off\n")
        os.close(report_fd)
        return
    _IN_PID_NAMESPACE = pid_namespace.split(
        report_fd, close_fds, required=_PID_NAMESPACES == "require", max_processes=_MAX_PROCESSES)


def _answer(pid, report_r):
    """The reply to a fork request: the pid the grader kills and waits for (the namespace's
    first process, or the fork itself without one), or an error when it could not start."""
    global _PID_NAMESPACES
    text, deadline = b"", time.monotonic() + REPORT_TIMEOUT
    try:
        while time.monotonic() < deadline:
            if not select.select([report_r], [], [], deadline - time.monotonic())[0]:
                break
            chunk = os.read(report_r, 4096)
            if not chunk:
                break
            text += chunk
    finally:
        os.close(report_r)
    init, why, fatal = pid_namespace.parse_report(text.decode(errors="replace"))
    if fatal or (init is None and _PID_NAMESPACES == "require"):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
        if _PID_NAMESPACES == "auto":
            _PID_NAMESPACES = "off"  # the platform refuses: later forks go without
        return {"error": f"the process could not be given a PID namespace: {why}"}
    if init is None:
        if _PID_NAMESPACES == "auto" and why != "off":
            _PID_NAMESPACES = "off"
        return {"pid": pid, "pid_namespace": False, "why": why}
    return {"pid": init, "pid_namespace": True}


def _enter_student_process(control, log_fd, request):
    """In a forked child: own session, the request's cwd and environment, output to the log."""
    if not _IN_PID_NAMESPACE:  # (in one, its first process leads the session and group)
        os.setsid()  # own session and process group: the grader kills this process's whole tree
        die_with_parent(_SERVER_PID)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    control.close()
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    import tempfile
    tempfile.tempdir = None  # pick up this process's TMPDIR
    for hook in _AFTER_FORK:  # e.g. a preloaded configuration reading this process's environment
        module_name, _, function = hook.partition(":")
        module = sys.modules.get(module_name)
        if module is not None and hasattr(module, function):
            getattr(module, function)()


def _become_kernel(run_worker, codec, probes, control, fds, request):
    """Turn this fork into an IPython kernel on the request's connection file.

    The notebook then runs with the course stack already imported, as a fresh process: nothing
    a previous submission did can be seen here, since each kernel is forked from the clean server.
    """
    _enter_student_process(control, fds[0], request)
    # No input history database: nobody reads it, and it costs a SQLite file and a thread.
    sys.argv = ["ipykernel_launcher", "-f", request["connection_file"],
                "--HistoryManager.enabled=False"]
    sys.path.insert(0, "")  # as `python -m ipykernel_launcher` has it: the cwd first
    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()
    app.initialize(sys.argv[1:])
    app.start()
    os._exit(0)


def _become_worker(run_worker, codec, probes, control, fds, request):
    requests_fd, replies_fd, log_fd = fds
    _enter_student_process(control, log_fd, request)
    run_worker(codec, probes, requests_fd, replies_fd)
    os._exit(0)
