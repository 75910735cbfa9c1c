"""`python -m grader gradescope-bundle --out autograder.zip`: the autograder Gradescope runs.

    build_bundle(Path("autograder.zip"))     # the zip to upload; returns what it holds

Gradescope unpacks the zip into `/autograder/source`, runs its `setup.sh` once when it builds the
image (Ubuntu, as root, with internet), then `run_autograder` per submission with the student's
files in `/autograder/submission/`, and reads `/autograder/results/results.json`. The zip holds:

- `setup.sh`, `run_autograder` (executable): `templates/`, with their `@@NAME@@` fields filled from
  the project's own declarations (the Python version from pyproject.toml, the torch pins from
  requirements.txt, the reference's path, the grader-fault note of `render.gradescope`);
- `requirements.txt` (the pinned course stack), the `grader` package and the reference notebook
  (`reference/exercise.ipynb`: instructor-only; Gradescope never shows the autograder to
  students, and the feedback the grader writes never quotes it).
Nothing else: no caches, no tests, no fixtures, no gradebooks. Entries are sorted and dated
`SOURCE_DATE_EPOCH`, so the same project gives the same bytes. `autograde.py` is what
`run_autograder` runs.
"""
from __future__ import annotations

import json
import re
import tomllib
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ..course import REFERENCE
from ..release.wheel import SOURCE_DATE_EPOCH
from ..render.gradescope import GRADER_FAULT_NOTE
from .autograde import DEFAULT_ROOT

PROJECT = REFERENCE.parent.parent
PACKAGE = Path(__file__).resolve().parent.parent  # grader/
TEMPLATES = Path(__file__).resolve().with_name("templates")
SCRIPTS = ("setup.sh", "run_autograder")
VENV = "/opt/edge-ai-w5-grader/venv"
"""Where setup.sh installs the course stack (outside /autograder, which Gradescope fills per run)."""
LEFT_OUT = re.compile(r"(^|/)(__pycache__|\.[^/]*|[^/]*\.egg-info)(/|$)|\.py[co]$")
"""Paths under grader/ never bundled: byte code, hidden files and folders, build metadata."""


class BundleError(RuntimeError):
    """The bundle could not be built (the project lacks a file it needs); the message says which."""


@dataclass(frozen=True)
class Bundle:
    path: Path
    names: tuple[str, ...]

    @property
    def size(self) -> int:
        return self.path.stat().st_size


def python_version(project: Path = PROJECT) -> str:
    """The course stack's Python, `3.11`, from pyproject.toml's `requires-python` lower bound."""
    spec = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "requires-python"]
    found = re.search(r">=\s*(\d+\.\d+)", spec)
    if not found:
        raise BundleError(f"pyproject.toml's requires-python {spec!r} names no lowest version")
    return found.group(1)


def torch_pins(project: Path = PROJECT) -> str:
    """`torch==X torchvision==Y` as requirements.txt pins them (setup.sh takes CPU wheels)."""
    pins = [line.split("#")[0].strip() for line in
            (project / "requirements.txt").read_text(encoding="utf-8").splitlines()]
    found = [p for p in pins if re.fullmatch(r"(torch|torchvision)==\S+", p)]
    if len(found) != 2:
        raise BundleError("requirements.txt must pin torch and torchvision with == (setup.sh "
                          f"installs their CPU wheels); found {found or 'neither'}")
    return " ".join(found)


def fields() -> dict[str, str]:
    """The values of the templates' `@@NAME@@` fields."""
    return {"PYTHON": python_version(), "TORCH": torch_pins(), "VENV": VENV,
            "ROOT": str(DEFAULT_ROOT), "REFERENCE": REFERENCE.relative_to(PROJECT).as_posix(),
            "NO_RESULTS": json.dumps(f"{GRADER_FAULT_NOTE} The autograder could not start; the "
                                     "course staff must fix its image and regrade.")}


def render_script(name: str, values: dict[str, str]) -> str:
    """Template `name` with every `@@NAME@@` filled; an unknown field is a bug, not a blank."""
    text = (TEMPLATES / name).read_text(encoding="utf-8")

    def fill(match: re.Match) -> str:
        if match.group(1) not in values:
            raise BundleError(f"template {name} names an unknown field @@{match.group(1)}@@")
        return values[match.group(1)]

    return re.sub(r"@@([A-Z_]+)@@", fill, text)


def package_files(package: Path = PACKAGE) -> list[Path]:
    """Every file of the grader package that belongs in the bundle, sorted."""
    return sorted(p for p in package.rglob("*")
                  if p.is_file() and not LEFT_OUT.search(p.relative_to(package).as_posix()))


def contents() -> dict[str, bytes | str]:
    """What the zip holds, by name: the scripts as text, the rest as the project's bytes."""
    values = fields()
    files: dict[str, bytes | str] = {name: render_script(name, values) for name in SCRIPTS}
    for path in [PROJECT / "requirements.txt", REFERENCE, *package_files()]:
        if not path.is_file():
            raise BundleError(f"{path} is missing: the bundle needs it")
        files[path.relative_to(PROJECT).as_posix()] = path.read_bytes()
    return files


def build_bundle(out: Path) -> Bundle:
    """Write the autograder zip to `out` (its folder created); see the module."""
    files = contents()
    stamp = datetime.fromtimestamp(int(SOURCE_DATE_EPOCH), timezone.utc).timetuple()[:6]
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o100755 if name in SCRIPTS else 0o100644) << 16
            archive.writestr(info, files[name])
    partial.replace(out)
    return Bundle(out, tuple(sorted(files)))
