"""Sandbox this process, apply the resource limits, then exec the student-code command.

Run as a script, never imported by student code:

    python -I launch.py PLAN_JSON -- CMD...     sandbox, limit, exec CMD
    python -I launch.py --hold PLAN_JSON        hold a user + network namespace (shared loopback)
    python -I launch.py --probe PLAN_JSON       try the sandbox here, print what works as JSON

Everything happens in a fresh, single-threaded interpreter right before `exec`, so it holds for the
kernel or worker and every process it forks (a fork server and its workers included), and no
`preexec_fn` runs in the grader's threaded process. PLAN_JSON is written by
`grader.sandbox.process.sandbox_plan`: the rlimits, `isolation` ("auto": namespaces where the
platform allows, else limits only; "require": refuse to run without them; "off"), a namespace
holder to `join`, and the folders to hide and keep (see `namespaces.py`).
"""
import importlib
import json
import os
import resource
import signal
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))
EXIT_NO_SANDBOX = 71  # "require" was asked and the namespaces could not be set up
EXIT_NO_EXEC = 72  # the command could not be exec'd in the sandbox (a grader fault, see below)

_RLIMITS = {
    "memory_bytes": resource.RLIMIT_DATA,
    "address_space_bytes": resource.RLIMIT_AS,
    "cpu_seconds": resource.RLIMIT_CPU,
    "file_size_bytes": resource.RLIMIT_FSIZE,
    "max_processes": resource.RLIMIT_NPROC,
    "open_files": resource.RLIMIT_NOFILE,
}


def _namespaces():
    """`namespaces.py` and its neighbours (`mounts.py`, `syscalls.py`), imported from this folder
    as the package `_sandbox`: the `grader` package is not importable in this interpreter."""
    if "_sandbox" not in sys.modules:
        package = types.ModuleType("_sandbox")
        package.__path__ = [HERE]
        sys.modules["_sandbox"] = package
    return importlib.import_module("_sandbox.namespaces")


def _pid_namespace():
    _namespaces()  # makes the `_sandbox` package
    return importlib.import_module("_sandbox.pid_namespace")


def isolate(plan, argv=()):
    """The namespace part of the plan; returns (applied: dict | None, why_not: str)."""
    mode = plan.get("isolation", "auto")
    if mode == "off":
        return None, "isolation is off"
    try:
        return _namespaces().enter(plan, argv=argv), ""
    except (OSError, AttributeError) as exc:  # SandboxError is an OSError
        partial = type(exc).__name__ == "PartialSandbox"
        if mode == "require" or plan.get("join") or partial:  # never run half-sandboxed
            sys.stderr.write(f"[grader sandbox] cannot isolate this process: {exc}\n")
            sys.stderr.flush()
            os._exit(EXIT_NO_SANDBOX)
        return None, str(exc)


def apply_limits(plan, isolated):
    for key, kind in _RLIMITS.items():
        value = plan.get(key)
        if value is None:
            continue
        if key == "max_processes" and not isolated:
            # Without our own user namespace RLIMIT_NPROC counts every process of the user
            # (the grader's included) and is ignored for root: no useful bound, only breakage.
            continue
        soft, hard = resource.getrlimit(kind)
        if hard != resource.RLIM_INFINITY and value > hard:
            value = hard
        resource.setrlimit(kind, (value, value))


def main(argv):
    if len(argv) >= 3 and argv[1] in ("--hold", "--probe"):
        plan = json.loads(argv[2])
        if argv[1] == "--hold":
            _namespaces().hold(plan)
        else:
            print(json.dumps(probe(plan)))
        return
    if len(argv) < 4 or argv[2] != "--":
        raise SystemExit("usage: launch.py PLAN_JSON -- CMD...")
    plan = json.loads(argv[1])
    if os.getpid() != os.getsid(0):
        os.setsid()  # own process group: the grader kills the whole tree with one killpg
    applied, _ = isolate(plan, argv[3:])
    apply_limits(plan, applied is not None)
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # the kernel installs its own handler
    try:
        os.execvp(argv[3], argv[3:])
    except OSError as exc:  # nothing of the student's ran: say what, for the instructor
        sys.stderr.write(f"[grader sandbox] cannot exec {argv[3]} inside the sandbox: "
                         f"{type(exc).__name__}: {exc.strerror or exc}"
                         f"{' (isolated)' if applied is not None else ''}\n")
        sys.stderr.flush()
        os._exit(EXIT_NO_EXEC)


def probe(plan):
    """Set the sandbox up in this process and report what holds (run in a throwaway process)."""
    report = {"platform": sys.platform, "uid": os.geteuid(), "isolated": False, "reason": ""}
    plan = dict(plan, isolation="auto")
    applied, why = isolate(plan)
    if applied is None:
        report["reason"] = why
        return report
    report["isolated"] = True
    import socket

    report["interfaces"] = sorted(name for _, name in socket.if_nameindex())
    report["sys_class_net"] = sorted(os.listdir("/sys/class/net"))
    with open("/sys/class/net/lo/flags") as handle:
        report["loopback_up"] = bool(int(handle.read(), 16) & 0x1)
    report["read_only"] = not os.access("/", os.W_OK)
    report["workspace"] = applied["workspace"]
    report["workspace_writable"] = os.access(applied["workspace"], os.W_OK)
    if plan.get("fork_namespaces"):  # what a fork server's forks get (pid_namespace.py)
        report["pid_namespace"], report["pid_namespace_reason"] = _pid_namespace().probe()
    return report


if __name__ == "__main__":
    main(sys.argv)
