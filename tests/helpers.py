"""Plain helpers for the tests: the project root and small notebooks built in code, so each test
shows what it feeds in. (Fixtures live in the conftest.py of the folder that uses them.)"""
from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parent.parent
"""The project root (reference/, fixtures/, student_template/, grader/)."""


def notebook(*cells: str, markdown: tuple[str, ...] = ()) -> nbformat.NotebookNode:
    """A notebook of code cells (and optional leading markdown cells)."""
    return new_notebook(cells=[new_markdown_cell(m) for m in markdown] + [new_code_cell(c) for c in cells])


def definitions(*sources: str, id_prefix: str = "cell"):
    """The graded definitions of a notebook of `sources`, cells named `<id_prefix>0`, `...1`."""
    from grader.notebook.extract import Definitions

    cells = [new_code_cell(source, id=f"{id_prefix}{i}") for i, source in enumerate(sources)]
    return Definitions.from_notebook(new_notebook(cells=cells))
