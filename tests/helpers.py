"""Plain helpers for the tests: the project root and small notebooks built in code, so each test
shows what it feeds in. (Fixtures live in the conftest.py of the folder that uses them.)"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parent.parent
"""The project root (reference/, fixtures/, student_template/, grader/)."""
SUBMISSIONS = ROOT / "fixtures" / "submissions"
ADVERSARIAL = ROOT / "fixtures" / "adversarial"


def grader_command(*args: str) -> list[str]:
    """`python -m grader grade ARGS --fl-round off` (the round has its own tests)."""
    return [sys.executable, "-m", "grader", "grade", *args, "--fl-round", "off"]


def grader_env(tmp: Path) -> dict[str, str]:
    """The environment of a grader run whose temporary files go to `tmp` (and a secret in the
    grader's environment that no output may show)."""
    return dict(os.environ, PYTHONPATH=str(ROOT), TMPDIR=str(tmp), GRADER_SECRET_TOKEN="do-not-leak")


def notebook(*cells: str, markdown: tuple[str, ...] = ()) -> nbformat.NotebookNode:
    """A notebook of code cells (and optional leading markdown cells)."""
    return new_notebook(cells=[new_markdown_cell(m) for m in markdown] + [new_code_cell(c) for c in cells])


def definitions(*sources: str, id_prefix: str = "cell"):
    """The graded definitions of a notebook of `sources`, cells named `<id_prefix>0`, `...1`."""
    from grader.notebook.extract import Definitions

    cells = [new_code_cell(source, id=f"{id_prefix}{i}") for i, source in enumerate(sources)]
    return Definitions.from_notebook(new_notebook(cells=cells))


def stdout(cell) -> str:
    """What a code cell printed to stdout, whole: the kernel may send one print in several
    stream outputs (it flushes on a timer, sooner on a busy machine), so a test must not read
    only the first."""
    return "".join(o.get("text", "") for o in cell.outputs
                   if o.get("output_type") == "stream" and o.get("name") == "stdout")


def schema_validator(path: Path):
    """A JSON Schema validator for the schema document at `path`, the document itself checked
    first (a broken schema fails the test, not every instance)."""
    import jsonschema

    document = json.loads(Path(path).read_text())
    jsonschema.Draft202012Validator.check_schema(document)
    return jsonschema.Draft202012Validator(document)
