"""`grader release --out DIR`: what students receive, in one folder.

    release = build_release(Path("dist/student"))
    release.notebook, release.wheel, release.readme

DIR gets exactly three files (earlier release files there are replaced, nothing else is touched):
- `exercise.ipynb`: the reference stripped of its solutions (the student template) with the
  self-check kit's install cell and one `check("<id>")` cell per task check (`notebook.py`);
- `edge_ai_w5_selfcheck-<version>-py3-none-any.whl`: the kit (`kit/`) with the public exam and
  its sealed answers generated for this release (`wheel.py`, `exam.write_kit_data`);
- `README.md`: how students install and call the kit, what it checks and what not
  (`student_readme.py`).
`reference` and `kit_dir` are parameters so tests can release a rewritten reference; the
leak check (`leaks.py`) proves that none of the three files holds solution code.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import nbformat

from grader.notebook.markers import dumps_notebook, solution_regions, strip_notebook
from grader.notebook.preprocessors.selfcheck_cells import KIT_PACKAGE
from grader.course import REFERENCE

from .notebook import SelfCheck, released_notebook
from .student_readme import student_readme
from .wheel import build_wheel

ROOT = REFERENCE.parent.parent
KIT_DIR = ROOT / "kit"
TEMPLATE_PATH = ROOT / "student_template" / "exercise.ipynb"
NOTEBOOK_NAME = "exercise.ipynb"
README_NAME = "README.md"


@dataclass(frozen=True)
class Release:
    out: Path
    notebook: Path
    wheel: Path
    readme: Path

    @property
    def files(self) -> tuple[Path, ...]:
        return (self.notebook, self.wheel, self.readme)


def self_checks() -> list[SelfCheck]:
    """The task checks of the grader's registry, in its order, as the notebook names them."""
    from .registry_view import checks_view

    return [SelfCheck(c["id"], c["title"], c["summary"], tuple(c["properties"])) for c in checks_view()]


def _write_exam(package_dir: Path) -> None:
    from .exam import write_kit_data

    write_kit_data(package_dir)


def write_notebook(reference: Path, path: Path, wheel_name: str) -> Path:
    """The released notebook of `reference` (stripped, plus the kit's cells), written to `path`."""
    source = nbformat.read(Path(reference), as_version=4)
    regions = {r.label: r.cell_index for r in solution_regions(source)}
    nb = released_notebook(strip_notebook(source), self_checks(), wheel_name, regions)
    Path(path).write_text(dumps_notebook(nb), encoding="utf-8")
    return Path(path)


def build_release(out: Path, *, reference: Path = REFERENCE, kit_dir: Path = KIT_DIR,
                  write_data: Callable[[Path], object] | None = _write_exam) -> Release:
    """Write the student release into `out` (see the module); returns where each file went."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for stale in [out / NOTEBOOK_NAME, out / README_NAME, *out.glob(f"{KIT_PACKAGE}-*.whl")]:
        stale.unlink(missing_ok=True)
    wheel = build_wheel(kit_dir, out, write_data)
    notebook = write_notebook(reference, out / NOTEBOOK_NAME, wheel.name)
    readme = out / README_NAME
    readme.write_text(student_readme(wheel.name, self_checks()), encoding="utf-8")
    return Release(out, notebook, wheel, readme)
