"""The check worker: loads one student program and answers the grader's probe requests.

This file runs as a script in a student process and imports nothing from `grader` (the package is
not on its `sys.path`). It loads its two helpers, `codec.py` and the package `probes/` from this
folder, by path, then removes this folder from `sys.path` and puts the course environment's site
folder (given on the command line) first.

Two ways to start it (always through `grader.sandbox.process.spawn`, so limits, the scrubbed
environment and the process group apply):

    python -I worker.py --site SITE --requests FD --replies FD
        one worker: serve requests on the two inherited pipe fds until the request pipe closes.

    python -I worker.py --site SITE --fork-server FD [--preload mod1,mod2,...] [--parent PID]
                        [--after-fork mod:function,...]
        a fork server: import the listed (trusted) modules once, then, for each request on the
        AF_UNIX SEQPACKET socket FD (a JSON header plus three fds: requests, replies, log), fork
        a worker that becomes the leader of its own session, moves into the given working
        directory and environment, calls each `--after-fork` function whose module is loaded
        (the course's configuration reading that environment, say), and serves like the first
        form. Student code only ever runs
        in the forked children, never in the server, so every check still gets a fresh process;
        the slow imports (torch, torchvision, Plato) are paid once. A request with
        `"kind": "kernel"` (and one fd, the log) forks an IPython kernel on the request's
        `connection_file` instead: the notebook of each submission runs in its own fresh fork.

Protocol: one JSON line per request on the request pipe, one JSON line per reply on the reply pipe
(never stdout: fd 1 and 2 are the worker's log file, and `sys.stdout` is capped). Requests:

    {"id": 1, "op": "hello", "preload": [...]}
        -> {"id": 1, "ok": {"pid": N}}
        the hand-shake, sent first: the worker started and imported the (trusted) course modules
        it was asked to; no student code has run yet, so a worker that fails before this reply
        is the grader's fault, never the student's.
    {"id": 1, "op": "load", "program": [{"cell_id", "line", "source", ["origin"]}, ...],
     "preload": [...]}
        -> {"id": 1, "ok": {"errors": [{"cell_id", "line", "error": ERROR}, ...]}}
    {"id": 2, "op": "call", "probe": "seeded_choice", "args": {...}}
        -> {"id": 2, "ok": <plain data>}  or  {"id": 2, "error": ERROR}
    ERROR = {"type", "message", "traceback": [lines from the student's cells only]}

A reply `{"harness_error": "..."}` means the worker itself failed (not the student's code).
"""
import argparse
import ast
import importlib
import importlib.util
import io
import json
import linecache
import os
import sys
import traceback
import types

HERE = os.path.dirname(os.path.abspath(__file__))
CELL_PREFIX = "<cell "
REFERENCE_PREFIX = "<reference cell "  # course code substituted for an earlier task
MAX_TRACEBACK_FRAMES = 5
MAX_MESSAGE = 500
LOG_CAP_CHARS = 1_000_000


def _load_helper(name):
    """Load `HERE/name.py`, or the package `HERE/name/`, by path under a private module name (no
    sys.path entry needed; a package's modules import each other relatively)."""
    package = os.path.join(HERE, name)
    if os.path.isdir(package):
        spec = importlib.util.spec_from_file_location(
            f"_check_worker_{name}", os.path.join(package, "__init__.py"),
            submodule_search_locations=[package])
    else:
        spec = importlib.util.spec_from_file_location(f"_check_worker_{name}",
                                                      os.path.join(HERE, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _sandbox_module(name):
    """`name.py` from this folder as `_sandbox.name`, as `launch.py` imports its neighbours (a
    package of this folder, so they import each other relatively)."""
    if "_sandbox" not in sys.modules:
        package = types.ModuleType("_sandbox")
        package.__path__ = [HERE]
        sys.modules["_sandbox"] = package
    return importlib.import_module(f"_sandbox.{name}")


def _set_sys_path(site):
    """Drop this folder (and the cwd entry '') from sys.path; put the course site first."""
    keep = [p for p in sys.path if p and os.path.abspath(p) != HERE]
    sys.path[:] = ([site] if site else []) + [p for p in keep if p != site]


class CappedWriter(io.TextIOBase):
    """`sys.stdout`/`sys.stderr` for student code: writes to fd 1 until `cap` characters, then
    drops everything (a print loop cannot fill the disk or slow the worker down)."""

    def __init__(self, fd, cap=LOG_CAP_CHARS):
        super().__init__()
        self._fd = fd
        self._left = cap

    def writable(self):
        return True

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if self._left > 0:
            chunk = text[: self._left]
            self._left -= len(chunk)
            try:
                os.write(self._fd, chunk.encode("utf-8", "replace"))
            except OSError:
                self._left = 0
        return len(text)

    def flush(self):
        pass

    def isatty(self):
        return False

    def fileno(self):
        return self._fd


def _text(value, limit=MAX_MESSAGE):
    try:
        text = str(value)
    except BaseException:  # noqa: BLE001 - a student exception's __str__ may raise
        text = "<message unavailable>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_exception(exc):
    """A student exception as plain data; the traceback keeps only frames in the student's cells."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if f.filename.startswith(CELL_PREFIX)][-MAX_TRACEBACK_FRAMES:]
    lines = []
    for frame in frames:
        cell = frame.filename[len(CELL_PREFIX):-1]
        lines.append(f'cell {cell}, line {frame.lineno}, in {frame.name}')
        if frame.line:
            lines.append(f"    {frame.line.strip()}")
    return {"type": type(exc).__name__, "message": _text(exc), "traceback": lines}


class _CellSources:
    """Registers the program's source with linecache so tracebacks show the student's lines."""

    def __init__(self):
        self._lines = {}

    def add(self, filename, first_line, source):
        lines = self._lines.setdefault(filename, [])
        body = source.splitlines()
        need = first_line - 1 + len(body)
        if len(lines) < need:
            lines.extend(["\n"] * (need - len(lines)))
        for offset, text in enumerate(body):
            lines[first_line - 1 + offset] = text + "\n"
        linecache.cache[filename] = (sum(map(len, lines)), None, lines, filename)


class Worker:
    def __init__(self, codec, probes, requests_fd, replies_fd):
        self.codec = codec
        self.probes = probes
        self.requests = os.fdopen(requests_fd, "rb", buffering=1 << 16)
        self.replies = os.fdopen(replies_fd, "wb", buffering=0)
        self.namespace = None
        self.sources = _CellSources()

    def serve(self):
        while True:
            line = self.requests.readline()
            if not line:
                return
            try:
                request = json.loads(line)
            except ValueError:
                self._send({"harness_error": "request is not JSON"})
                continue
            self._send(self._handle(request))

    def _send(self, message):
        data = (self.codec.encode(message, lenient=True) + "\n").encode("ascii")
        view = memoryview(data)
        while view:
            written = os.write(self.replies.fileno(), view)
            view = view[written:]

    def _handle(self, request):
        reply = {"id": request.get("id")}
        op = request.get("op")
        try:
            if op == "hello":
                for module in request.get("preload", []):
                    importlib.import_module(module)  # trusted course environment
                reply["ok"] = {"pid": os.getpid()}
            elif op == "load":
                reply["ok"] = self.load(request.get("program", []), request.get("preload", []))
            elif op == "call":
                if self.namespace is None:
                    raise RuntimeError("no program loaded")
                probe = getattr(self.probes, "PROBES", {}).get(request.get("probe"))
                if probe is None:
                    raise RuntimeError(f"unknown probe {request.get('probe')!r}")
                args = self.codec.from_plain(request.get("args", {}))
                try:
                    result = probe(self.namespace, **args)
                except BaseException as exc:  # noqa: BLE001 - SystemExit & co. from student code
                    reply["error"] = describe_exception(exc)
                else:
                    reply["ok"] = result
            else:
                raise RuntimeError(f"unknown op {op!r}")
        except Exception as exc:  # noqa: BLE001 - a harness failure, reported, never fatal
            reply.pop("ok", None)
            reply["harness_error"] = f"{type(exc).__name__}: {_text(exc)}"
        return reply

    def load(self, program, preload):
        for module in preload:
            importlib.import_module(module)  # trusted course environment; failure = harness error
        namespace = types.ModuleType("__main__")
        namespace.__dict__["__builtins__"] = __builtins__
        sys.modules["__main__"] = namespace
        errors = []
        for snippet in program:
            cell_id, line, source = snippet["cell_id"], int(snippet["line"]), snippet["source"]
            prefix = REFERENCE_PREFIX if snippet.get("origin") == "reference" else CELL_PREFIX
            filename = f"{prefix}{cell_id}>"
            self.sources.add(filename, line, source)
            try:
                tree = ast.parse(source, filename, "exec")
                ast.increment_lineno(tree, line - 1)
                exec(compile(tree, filename, "exec"), namespace.__dict__)  # noqa: S102 - the point
            except BaseException as exc:  # noqa: BLE001 - SystemExit & co. from student code
                errors.append({"cell_id": cell_id, "line": line, "error": describe_exception(exc)})
        self.namespace = namespace.__dict__
        return {"errors": errors}


def _student_stdio():
    sys.stdout = CappedWriter(1)
    sys.stderr = sys.stdout
    sys.stdin = io.StringIO("")


def run_worker(codec, probes, requests_fd, replies_fd):
    _student_stdio()
    Worker(codec, probes, requests_fd, replies_fd).serve()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="worker.py")
    parser.add_argument("--site", default="")
    parser.add_argument("--requests", type=int)
    parser.add_argument("--replies", type=int)
    parser.add_argument("--fork-server", type=int)
    parser.add_argument("--preload", default="")
    parser.add_argument("--parent", type=int, help="the fork server's parent: it ends with it")
    parser.add_argument("--after-fork", default="", help="module:function,... each fork calls")
    parser.add_argument("--pid-namespace", default="off", choices=("auto", "require", "off"),
                        help="a PID namespace of its own for each fork")
    parser.add_argument("--max-processes", type=int, help="RLIMIT_NPROC of each fork")
    args = parser.parse_args(argv)
    sys.argv = sys.argv[:1]  # Plato's Config() parses sys.argv with argparse (also on import)
    forks = _sandbox_module("forks") if args.fork_server is not None else None
    if forks is not None:
        forks.die_with_parent(args.parent if args.parent is not None else os.getppid())
    codec = _load_helper("codec")
    probes = _load_helper("probes")
    _set_sys_path(args.site)
    if args.fork_server is not None:
        forks.fork_server(codec, probes, run_worker, args.fork_server, [m for m in args.preload.split(",") if m],
                    [h for h in args.after_fork.split(",") if h], args.pid_namespace,
                    args.max_processes)
    else:
        run_worker(codec, probes, args.requests, args.replies)


if __name__ == "__main__":
    main()
