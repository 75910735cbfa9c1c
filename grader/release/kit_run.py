"""Run the released kit as a student would: install the wheel, self-check a notebook from a terminal.

    site = install_wheel(release.wheel, tmp / "site")
    run = run_kit(notebook, site, tmp / "run", data_dir)   # KitRun: .status, .checks, .text

`install_wheel` installs only the wheel (`pip install --no-deps --no-index --target`), so what
runs is what students get, not the repository's `kit/`. `run_kit` runs the kit's terminal mode
(`edge_ai_w5_selfcheck.terminal.run_notebook`: the notebook in a fresh kernel, then `check()`)
in a child process with a student's environment (`environment.layout`: the course site, the
`/kaggle/input` tree of a run directory as `--data`, no grader on the path) plus the kit's
folder, and reads back its results as JSON. `validate` uses it on the template (every task must
fail with a message) and on the reference (every check must pass).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from grader.environment import layout

MARK = "@@kit-results@@"
KIT_TIMEOUT = 600.0
_SCRIPT = f"""
import json, sys
from edge_ai_w5_selfcheck.terminal import run_notebook
text, results = run_notebook(sys.argv[1], sys.argv[2], int(sys.argv[3]))
print(text)
print({MARK!r} + json.dumps(results))
"""


class KitRunError(RuntimeError):
    """The kit could not be installed or did not answer; the message says why."""


@dataclass(frozen=True)
class KitRun:
    returncode: int
    passed: bool
    checks: list[dict] = field(default_factory=list)  # the kit's Results.to_dict()["checks"]
    text: str = ""  # what the kit printed (its table)

    def check(self, check_id: str) -> dict | None:
        return next((c for c in self.checks if c.get("id") == check_id), None)


def install_wheel(wheel: Path, target: Path) -> Path:
    """Install the wheel alone into the folder `target` (created); returns it."""
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
               "--disable-pip-version-check", "--target", str(target), str(wheel)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=KIT_TIMEOUT)
    if done.returncode != 0:
        raise KitRunError(f"pip could not install {Path(wheel).name}: "
                          f"{(done.stdout + done.stderr).strip()[-1500:]}")
    return target


def run_kit(notebook: Path, site: Path, run_dir: Path, data_dir: Path, cell_timeout: float) -> KitRun:
    """The kit's verdict on `notebook` (see the module); `cell_timeout`: seconds per cell."""
    run = layout.build_run_dir(Path(run_dir), Path(data_dir))
    env = run.env(extra={"PYTHONPATH": os.pathsep.join([str(site), str(layout.SITE_DIR)])})
    command = [sys.executable, "-c", _SCRIPT, str(Path(notebook).resolve()), str(run.kaggle_input),
               str(int(cell_timeout))]
    try:
        done = subprocess.run(command, cwd=run.work_dir, env=env, capture_output=True, text=True,
                              timeout=KIT_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        raise KitRunError(f"the kit did not finish {Path(notebook).name} within {KIT_TIMEOUT:g} s") from exc
    text, _, payload = done.stdout.rpartition(MARK)
    try:
        results = json.loads(payload) if payload else None
    except ValueError:
        results = None
    if done.returncode != 0 or not isinstance(results, dict):
        raise KitRunError(f"the kit crashed on {Path(notebook).name} (exit {done.returncode}): "
                          f"{(done.stderr or done.stdout).strip()[-1500:]}")
    return KitRun(done.returncode, bool(results.get("passed")), list(results.get("checks", [])),
                  text.strip())
