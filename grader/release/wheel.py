"""Build the self-check kit's wheel, with the release's generated data inside, by standard tooling.

    wheel = build_wheel(kit_dir, out_dir, write_data)   # out_dir/edge_ai_w5_selfcheck-<v>-py3-none-any.whl

`kit_dir` (the repository's `kit/`: pyproject.toml + the package) is copied into a temporary
folder, `write_data(package_dir)` writes the generated files into the copy's package folder
(`grader.release.exam.write_kit_data`: the public exam with sealed answers), the rules the
kit shares with the grader are copied from `grader/portable/` into the package's `portable/`
(in the repository that folder is a link to them; the wheel holds real files), and
`pip wheel --no-deps --no-build-isolation --no-index` builds it with the setuptools of the
running interpreter: offline, nothing downloaded, the repository's `kit/` never written to.
File times inside the wheel are fixed (SOURCE_DATE_EPOCH), so the same kit and data give the
same bytes. A failed build raises `WheelError` with the end of pip's output.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Callable

from grader.notebook.preprocessors.selfcheck_cells import KIT_PACKAGE

PORTABLE_DIR = Path(__file__).resolve().parents[1] / "portable"
SOURCE_DATE_EPOCH = "1767225600"  # 2026-01-01: file times in the wheel, for reproducible bytes
BUILD_TIMEOUT = 300.0


class WheelError(RuntimeError):
    """The kit's wheel could not be built; the message says why."""


def kit_version(kit_dir: Path) -> str:
    project = tomllib.loads((Path(kit_dir) / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return project["version"]


def wheel_name(kit_dir: Path) -> str:
    return f"{KIT_PACKAGE}-{kit_version(kit_dir)}-py3-none-any.whl"


def write_portable(package_dir: Path) -> Path:
    """Copy `grader/portable/` (the rules the kit shares with the grader) into
    `package_dir/portable/`, replacing the repository's link (or what a checkout made of it)."""
    target = Path(package_dir) / "portable"
    if target.is_symlink() or target.is_file():
        target.unlink()
    elif target.exists():
        shutil.rmtree(target)
    shutil.copytree(PORTABLE_DIR, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return target


def build_wheel(kit_dir: Path, out_dir: Path, write_data: Callable[[Path], object] | None = None) -> Path:
    """Build the kit's wheel into `out_dir` (see the module); returns its path."""
    kit_dir, out_dir = Path(kit_dir), Path(out_dir)
    if not (kit_dir / "pyproject.toml").is_file():
        raise WheelError(f"{kit_dir} is not the kit: it has no pyproject.toml")
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kit-build-") as tmp:
        source, dist = Path(tmp) / "kit", Path(tmp) / "dist"
        shutil.copytree(kit_dir, source, ignore=shutil.ignore_patterns(
            "build", "dist", "*.egg-info", "__pycache__", "*.pyc"))
        write_portable(source / KIT_PACKAGE)
        if write_data is not None:
            write_data(source / KIT_PACKAGE)
        env = {**os.environ, "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH, "PIP_NO_INDEX": "1",
               "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONDONTWRITEBYTECODE": "1"}
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                   "--no-index", "--quiet", "--wheel-dir", str(dist), str(source)]
        try:
            done = subprocess.run(command, cwd=tmp, env=env, capture_output=True, text=True,
                                  timeout=BUILD_TIMEOUT)
        except subprocess.TimeoutExpired as exc:
            raise WheelError(f"pip wheel did not finish within {BUILD_TIMEOUT:g} s") from exc
        built = sorted(dist.glob(f"{KIT_PACKAGE}-*.whl"))
        if done.returncode != 0 or len(built) != 1:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
            raise WheelError(f"pip wheel of {kit_dir} failed (exit {done.returncode}):\n{tail}")
        if built[0].name != wheel_name(kit_dir):
            raise WheelError(f"pip built {built[0].name}, expected {wheel_name(kit_dir)} "
                             "(a pure-Python wheel named by kit/pyproject.toml)")
        target = out_dir / built[0].name
        shutil.copyfile(built[0], target)
    return target
