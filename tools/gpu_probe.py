"""Does a student process see the GPU? One sandboxed kernel and one sandboxed check worker say.

    python tools/gpu_probe.py [--fresh] [--expect-cuda]

Both are started the way `grade` starts them (`grader.sandbox` limits and namespaces, the student
environment of `grader.environment.layout`, forked from a fork server that imported the course
stack, unless `--fresh`), and each runs the same snippet: `CUDA_VISIBLE_DEVICES` as the process
sees it, `torch.cuda.is_available()`, the device's name, and a 512x512 matrix product on the GPU
compared with the CPU's. The kernel prints its report; the check worker's program raises it as its
load error (the only text a worker returns for a program). Prints one JSON line per process and
exits 0 when both answered (with `--expect-cuda`: only when both used CUDA correctly), 1 when not.
`tools/gpu_check.sh` runs it; `tests/environment/test_cuda_visible.py` runs it on the CPU.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script: the grader package is not on sys.path otherwise

from nbformat.v4 import new_code_cell, new_notebook  # noqa: E402

from grader.checks import RunnerOptions, open_host  # noqa: E402
from grader.checks.rundirs import temporary_run_dirs  # noqa: E402
from grader.checks.session import Session  # noqa: E402
from grader.notebook.execute import execute  # noqa: E402
from grader.sandbox.errors import WorkerLost  # noqa: E402
from grader.sandbox.limits import Limits  # noqa: E402

TAG = "GPU-PROBE "
SNIPPET = f"""\
import json as _json, os as _os
_report = {{"visible": _os.environ.get("CUDA_VISIBLE_DEVICES"), "cuda": False}}
try:
    import torch as _torch
    _report["cuda"] = _torch.cuda.is_available()
    if _report["cuda"]:
        _report["device"] = _torch.cuda.get_device_name(0)[:60]
        _x = _torch.randn(512, 512, generator=_torch.Generator().manual_seed(0))
        _on_gpu = (_x.cuda() @ _x.cuda()).cpu()
        _report["matmul_ok"] = bool(_torch.allclose(_on_gpu, _x @ _x, rtol=1e-3, atol=1e-2))
except Exception as _exc:
    _report["error"] = f"{{type(_exc).__name__}}: {{str(_exc)[:200]}}"
"""
KERNEL_CELL = SNIPPET + f"print({TAG!r} + _json.dumps(_report))\n"
WORKER_CELL = SNIPPET + f"raise RuntimeError({TAG!r} + _json.dumps(_report))\n"
LIMITS = Limits(memory_bytes=None)  # CUDA maps far more than the 4 GiB of a student's heap


def _report(text: str, where: str) -> dict:
    """The probe's JSON from `text` (a kernel's output, a worker's load error)."""
    start = text.find(TAG)
    if start < 0:
        return {"process": where, "error": f"no report; it said: {text[:300]!r}"}
    line = text[start + len(TAG):].splitlines()[0]
    try:
        return {"process": where, **json.loads(line)}
    except ValueError:
        return {"process": where, "error": f"unreadable report {line[:200]!r}"}


def kernel_report(run_dirs, host=None) -> dict:
    """The snippet in a sandboxed kernel (forked from `host` when given)."""
    run_dir, env = run_dirs()
    work = Path(run_dir) / "work"
    execution = execute(new_notebook(cells=[new_code_cell(KERNEL_CELL)]), run_dir=work, env=env,
                        limits=LIMITS, cell_timeout=180, total_timeout=240, host=host)
    if execution.launch_error is not None:
        return {"process": "kernel", "error": f"the kernel did not start: {execution.launch_error}"}
    cell = execution.notebook.cells[0]
    text = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
    errors = [f"{o.ename}: {o.evalue}" for o in cell.outputs if o.get("output_type") == "error"]
    return _report(text + "\n".join(errors), "kernel")


def worker_report(run_dirs, host) -> dict:
    """The snippet as the program of a sandboxed check worker started by `host`."""
    run_dir, env = run_dirs()
    program = [{"cell_id": "gpu-probe", "line": 1, "source": WORKER_CELL}]
    session = Session(host, program, Path(run_dir), env, preload=("torch",), load_timeout=240)
    try:
        session.call("seeded_choice", arrays=[[0, 1]], seed=0, n=1)  # loads the program first
    except WorkerLost as lost:
        return {"process": "check worker", "error": f"the worker was lost: {lost}"}
    finally:
        session.close()
    text = "\n".join(e.error.message for e in session.load_errors)
    return _report(text, "check worker")


def probe(fresh: bool = False) -> list[dict]:
    """Both reports, from the host `grade` uses (`grader.checks.open_host`); `fresh`: new
    interpreters instead of forks of a warm fork server."""
    options = RunnerOptions(limits=LIMITS, fork_server=not fresh)
    with temporary_run_dirs() as run_dirs:
        host = open_host(run_dirs, options)
        try:
            return [kernel_report(run_dirs, host), worker_report(run_dirs, host)]
        finally:
            host.close()


def verdict(reports: list[dict], expect_cuda: bool) -> tuple[bool, str]:
    """Whether every process answered (and, with `expect_cuda`, computed right on the GPU)."""
    bad = [r for r in reports if "error" in r
           or expect_cuda and not (r.get("cuda") and r.get("matmul_ok"))]
    if not bad:
        return True, "every process " + ("used CUDA" if expect_cuda else "answered")
    return False, "; ".join(f"{r['process']}: {r.get('error') or 'no CUDA'}" for r in bad)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fresh", action="store_true", help="fresh processes, no fork server")
    parser.add_argument("--expect-cuda", action="store_true",
                        help="fail unless both processes used CUDA correctly")
    args = parser.parse_args(argv)
    reports = probe(fresh=args.fresh)
    for report in reports:
        print(json.dumps(report, sort_keys=True))
    ok, detail = verdict(reports, args.expect_cuda)
    print(f"{'ok' if ok else 'FAIL'}: {detail}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
