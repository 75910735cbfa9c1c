"""The course on the NEXT stack: the newest libraries the package index offers, side by side with
the pinned one, so course maintainers learn what a newer Kaggle image breaks before students do.

    tox -e next-stack                  # python tools/next_stack.py --pinned .tox/course-stack/bin/python
    tox -e next-stack -- --strict      # exit 1 when anything good on the pinned stack fails on the next

1. builds (or upgrades) a venv with the newest release of every library in LIBRARIES for this
   Python (3.11, the course's), keeping only the pins the course itself declares (its Sedna
   requirements, `grader/environment/layout.py: LIB_REQUIREMENTS`); the machine's pip config and
   constraints are ignored for this venv only;
2. for each stack, pinned and next: prepares the reference on the pinned side
   (tools/next_stack_prepare.py: run folder, sanitized notebook, the kit's wheel) and runs, with
   THAT stack's python (tools/next_stack_run.py): every cell of the reference in one kernel, the
   grader's checks on the reference (a grader that does not import is a finding), the kit's
   checks on the reference; each result is plain JSON in OUT/results/<stack>.json;
3. writes OUT/report.md and OUT/report.json (tools/next_stack_report.py).

Exit status 0 when the report is written, whatever it found; 1 with --strict and a regression;
2 when the report could not be written (bad arguments, no pinned stack). Stdlib only.
How to read the report: docs/next-stack.md.
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import time
import venv
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import next_stack_report as report  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "reference" / "exercise.ipynb"
LAYOUT = ROOT / "grader" / "environment" / "layout.py"
SITE_DIR = ROOT / "grader" / "environment" / "site"
RUN = Path(__file__).resolve().parent / "next_stack_run.py"
PREPARE = Path(__file__).resolve().parent / "next_stack_prepare.py"

COURSE_LIBRARIES = ("numpy", "torch", "torchvision", "matplotlib", "pyarrow", "datasets", "imgaug",
                    "plato-learn", "nest_asyncio", "python-socketio", "aiohttp", "pyyaml")
"""What the course notebook imports or installs (unpinned: the next stack takes the newest)."""
RUNNER_LIBRARIES = ("nbformat", "nbclient", "ipykernel", "jupyter_client", "nbconvert",
                    "hypothesis", "rich", "psutil")
"""What runs the notebook in a kernel and what the grader itself imports."""
LIBRARIES = COURSE_LIBRARIES + RUNNER_LIBRARIES
BUILD_TIMEOUT = 3600
STEP_TIMEOUT = 1800


def course_pins(layout: Path = LAYOUT) -> dict[str, str]:
    """{name: requirement} of the course's own pins: its Sedna requirements.txt, as the grader's
    environment writes it (read from layout.py's LIB_REQUIREMENTS without importing the grader)."""
    tree = ast.parse(Path(layout).read_text(encoding="utf-8"))
    text = next(node.value.value for node in ast.walk(tree) if isinstance(node, ast.Assign)
                and any(getattr(t, "id", None) == "LIB_REQUIREMENTS" for t in node.targets))
    pins = {}
    for line in text.splitlines():
        line = line.split("#")[0].strip()
        name = re.match(r"[A-Za-z0-9_.\-]+", line)
        if name and line != name.group(0):  # a bare name is not a pin
            pins[_normal(name.group(0))] = line
    return pins


def requirements(libraries=LIBRARIES, pins: dict[str, str] | None = None) -> list[str]:
    pins = course_pins() if pins is None else pins
    return [pins.get(_normal(lib), lib) for lib in libraries]


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pip_env() -> dict[str, str]:
    """This process's environment minus the machine's pip config and constraints (next stack only)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PIP_CONSTRAINT", "PIP_REQUIREMENT")}
    return {**env, "PIP_CONFIG_FILE": os.devnull, "PIP_CONSTRAINT": "",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file() and not p.is_symlink())


def build(venv_dir: Path, reqs: list[str], log: Path) -> dict:
    """Create or upgrade the next stack (pip's output into `log`); {"ok", "seconds" (the
    install), "size_bytes", "error", "conflicts" (pip check), "held_back"}."""
    venv_dir = Path(venv_dir)
    start = time.monotonic()
    python = str(venv_dir / "bin" / "python")
    print(f"next stack: installing the newest {', '.join(reqs)} into {venv_dir}", flush=True)
    try:
        if not (venv_dir / "bin" / "python").exists():
            shutil.rmtree(venv_dir, ignore_errors=True)
            venv.EnvBuilder(with_pip=True).create(venv_dir)
        done = subprocess.run([python, "-m", "pip", "install", "--upgrade", "--upgrade-strategy",
                               "eager", *reqs], env=pip_env(), capture_output=True, text=True,
                              timeout=BUILD_TIMEOUT)
        output, error = done.stdout + done.stderr, None if done.returncode == 0 else \
            first_error(done.stderr + done.stdout)
    except (OSError, subprocess.SubprocessError) as exc:
        output, error = str(exc), f"{type(exc).__name__}: {exc}"
    Path(log).parent.mkdir(parents=True, exist_ok=True)
    Path(log).write_text(output, encoding="utf-8")
    result = {"ok": error is None, "seconds": round(time.monotonic() - start, 1),
              "size_bytes": folder_bytes(venv_dir), "requirements": reqs, "error": error,
              "conflicts": [], "held_back": []}
    if not Path(python).exists():
        return result
    check = _pip(python, "check")
    result["conflicts"] = [] if check.returncode == 0 else check.stdout.strip().splitlines()
    result["held_back"] = held_back(python)
    return result


def held_back(python: str) -> list[dict]:
    """Libraries of the next stack with a newer release on the index than the one installed: held
    back by a course pin, a dependency's cap, or a newer release's Requires-Python. For the
    course's pins also the newest release for ANY Python and the Python it requires."""
    done = _pip(python, "list", "--outdated", "--format", "json")
    try:
        outdated = json.loads(done.stdout or "[]")
    except ValueError:
        outdated = []
    pins, declared = course_pins(), {_normal(lib) for lib in LIBRARIES}
    rows = {_normal(d["name"]): {"name": d["name"], "installed": d["version"],
                                 "newest": d["latest_version"]}
            for d in outdated if _normal(d["name"]) != "pip"}
    for name in pins:
        row = rows.setdefault(name, {"name": name, "installed": None, "newest": None})
        row["newest_any_python"], row["requires_python"] = newest_any_python(python, name)
    for name, row in rows.items():
        row.update(declared=name in declared, pinned=name in pins)
    return sorted(rows.values(), key=lambda r: (not r["declared"], r["name"]))


def newest_any_python(python: str, name: str) -> tuple[str | None, str | None]:
    """(the newest release of `name` on the index whatever Python it needs, its Requires-Python)."""
    listed = _pip(python, "index", "versions", name, "--ignore-requires-python").stdout
    newest = re.search(r"^\S+ \(([^)]+)\)", listed, re.MULTILINE)
    if not newest:
        return None, None
    dry = _pip(python, "install", "--dry-run", "--no-deps", "--ignore-requires-python", "--quiet",
               "--report", "-", f"{name}=={newest.group(1)}")
    try:
        requires = json.loads(dry.stdout)["install"][0]["metadata"].get("requires_python")
    except (ValueError, KeyError, IndexError):
        requires = None
    return newest.group(1), requires


def _pip(python: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([python, "-m", "pip", *args], env=pip_env(), capture_output=True,
                          text=True, timeout=STEP_TIMEOUT)


def first_error(text: str) -> str:
    """The line that names the error in a process's output (a traceback's last `Name: message`)."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    named = [line for line in lines if re.match(r"^(ERROR:|[\w.]*(Error|Exception|Exit)\b)", line)]
    return (named[-1] if named else lines[-1] if lines else "no output")[:500]


def _json_run(command: list[str], *, env: dict | None = None, cwd: Path | None = None,
              timeout: float = STEP_TIMEOUT) -> dict:
    """The JSON a runner printed last, or {"error": the first error line} when it printed none."""
    try:
        done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"TimeoutError: {' '.join(command[1:3])} ran past {timeout:g} s"}
    except OSError as exc:  # no such python: the stack is not there
        return {"error": f"{type(exc).__name__}: {exc}"}
    last = (done.stdout.strip().splitlines() or [""])[-1]
    try:
        answer = json.loads(last)
    except ValueError:
        answer = None
    if done.returncode != 0 or not isinstance(answer, dict):
        return {"error": first_error(done.stderr + "\n" + done.stdout)}
    return answer


class PrepareError(RuntimeError):
    """The pinned side could not prepare the reference: no report can be written."""


def run_stack(python: Path, pinned: Path, work: Path, kit_wheel: Path | str,
              cell_timeout: int) -> dict:
    """Everything of step 2 for one stack; every part records its own error."""
    python, work = Path(python), Path(work)
    results = {"versions": _json_run([str(python), str(RUN), "versions", *LIBRARIES])}
    plato = results["versions"].get("plato_dir") or str(work / "no-plato-installed")
    made = _json_run([str(pinned), str(PREPARE), str(work), "--plato-dir", plato], cwd=ROOT)
    if "error" in made:
        raise PrepareError(f"could not prepare the reference on the pinned side: {made['error']}")
    env = json.loads(Path(made["env"]).read_text(encoding="utf-8"))
    env["PATH"] = os.pathsep.join([str(python.parent), env["PATH"]])
    results["cells"] = _json_run([str(python), str(RUN), "cells", made["notebook"], "--timeout",
                                  str(cell_timeout)], env=env, cwd=Path(made["work_dir"]))
    grader_env = {**os.environ, "PYTHONPATH": str(ROOT), "PATH": env["PATH"]}
    results["grader"] = _json_run([str(python), str(RUN), "grader", str(REFERENCE)],
                                  env=grader_env, cwd=ROOT)
    if not isinstance(kit_wheel, Path):
        results["kit"] = {"error": f"the kit's wheel was not built: {kit_wheel}"}
    else:
        site = work / "kit-site"
        shutil.rmtree(site, ignore_errors=True)
        zipfile.ZipFile(kit_wheel).extractall(site)  # a pure-Python wheel: unpacked is installed
        kit_env = {**env, "PYTHONPATH": os.pathsep.join([str(site), str(SITE_DIR)])}
        results["kit"] = _json_run([str(python), str(RUN), "kit", str(REFERENCE), made["kaggle_input"],
                                    "--timeout", str(cell_timeout)], env=kit_env,
                                   cwd=Path(made["work_dir"]))
    return results


def cell_sources(notebook: Path = REFERENCE) -> dict[str, str]:
    """{cell id: its source} of the reference's code cells, for the report's labels and knock-ons."""
    cells = json.loads(Path(notebook).read_text(encoding="utf-8"))["cells"]
    return {report.cell_id(index): "".join(cell["source"]) for index, cell in enumerate(cells)
            if cell["cell_type"] == "code"}


def build_kit(pinned: Path, work: Path) -> Path | str:
    """The kit's wheel, built by `grader release` on the pinned side, or why it was not built."""
    made = _json_run([str(pinned), str(PREPARE), str(work / "kit-build"), "--plato-dir",
                      str(work / "unused"), "--kit"], cwd=ROOT)
    return Path(made["kit_wheel"]) if made.get("kit_wheel") else made.get("error", "no wheel")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pinned", type=Path, default=ROOT / ".tox" / "course-stack" / "bin" / "python",
                        help="the pinned course stack's python (default: %(default)s)")
    parser.add_argument("--venv", type=Path, default=ROOT / ".tox" / "next-stack-venv",
                        help="the next stack's venv, created or upgraded (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=ROOT / "next-stack",
                        help="where report.md, report.json and results/ go (default: %(default)s)")
    parser.add_argument("--no-build", action="store_true",
                        help="use the next stack as it is (no install, no upgrade)")
    parser.add_argument("--report-only", action="store_true",
                        help="only write the report again from OUT/results/*.json")
    parser.add_argument("--cell-timeout", type=int, default=600, help="seconds per cell")
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 when anything good on the pinned stack fails on the next one")
    args = parser.parse_args(argv)
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")  # nothing written into either stack
    out = args.out.resolve()
    results_dir = out / "results"
    if args.report_only:
        stacks = {s: json.loads((results_dir / f"{s}.json").read_text()) for s in ("pinned", "next")}
        build_info = json.loads((results_dir / "build.json").read_text()) \
            if (results_dir / "build.json").exists() else {}
    else:
        if not args.pinned.exists():
            print(f"next stack: no pinned course stack at {args.pinned}: build it with `tox -e fast "
                  f"--notest` or pass --pinned PYTHON", file=sys.stderr)
            return 2
        build_info = ({"ok": True, "seconds": None, "size_bytes": folder_bytes(args.venv)}
                      if args.no_build else build(args.venv, requirements(), results_dir / "pip.log"))
        work = out / "work"
        shutil.rmtree(work, ignore_errors=True)  # last run's run folders; results/ is rewritten
        kit_wheel = build_kit(args.pinned, work)
        stacks = {}
        for stack, python in (("pinned", args.pinned), ("next", args.venv / "bin" / "python")):
            print(f"next stack: running the reference on the {stack} stack ({python})", flush=True)
            try:
                stacks[stack] = run_stack(python, args.pinned, work / stack, kit_wheel,
                                          args.cell_timeout)
            except PrepareError as exc:
                print(f"next stack: {exc}; no report written. Check the pinned stack "
                      f"(`tox -e check`).", file=sys.stderr)
                return 2
        results_dir.mkdir(parents=True, exist_ok=True)
        for name, data in (*stacks.items(), ("build", build_info)):
            (results_dir / f"{name}.json").write_text(json.dumps(data, indent=1), encoding="utf-8")
    built = report.build_report(stacks["pinned"], stacks["next"], cell_sources(), build_info)
    paths = report.write(built, out)
    print(f"next stack: {len(built['regressions'])} regression(s), "
          f"{len(built['failing_on_next'])} row(s) not good on the next stack. "
          f"Wrote {paths[0]} and {paths[1]}")
    return 1 if args.strict and built["regressions"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
