"""Fixtures shared by several test folders (helpers that are no fixtures: tests/helpers.py)."""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from tests.helpers import notebook


@pytest.fixture
def write_notebook(tmp_path):
    """`write_notebook(name, *cells)`: a notebook of those code cells written to `tmp_path/name`."""
    def write(name: str, *cells: str) -> Path:
        path = tmp_path / name
        nbformat.write(notebook(*cells), path)
        return path
    return write


@pytest.fixture(scope="module")
def run_dirs(tmp_path_factory):
    """A factory of check-worker run directories (course layout, a tiny synthetic CIFAR-100 set),
    one per test module, removed at its end."""
    from grader.checks.rundirs import temporary_run_dirs
    from grader.environment import data as cifar

    data_dir = cifar.synthetic_dir(8, 4, cache_dir=tmp_path_factory.mktemp("cache"))
    with temporary_run_dirs(tmp_path_factory.mktemp("runs"), data_dir) as factory:
        yield factory
