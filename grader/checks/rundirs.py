"""Run directories for check workers, built with the course layout (`grader.environment.layout`).

`run_checks` takes a `run_dir_factory`: a callable returning a fresh `(run_dir, env)` per worker.
`temporary_run_dirs()` makes one whose directories live under one temporary folder, removed at
the end. Checks write their own small data files into the run directory (Task 2); the CIFAR-100
files of the layout are a tiny synthetic set, since no check reads them.
"""
from __future__ import annotations

import itertools
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from grader.sandbox.hosts import RunDirFactory
from grader.environment import data as cifar
from grader.environment import layout

LAYOUT_TRAIN_SIZE = 64
LAYOUT_TEST_SIZE = 16


@contextmanager
def temporary_run_dirs(base: Path | None = None,
                       data_dir: Path | None = None) -> Iterator[RunDirFactory]:
    root = Path(tempfile.mkdtemp(prefix="grader-checks-", dir=base))
    counter = itertools.count(1)
    source = data_dir

    def factory() -> tuple[Path, dict[str, str]]:
        nonlocal source
        if source is None:
            source = cifar.synthetic_dir(LAYOUT_TRAIN_SIZE, LAYOUT_TEST_SIZE)
        run_dir = root / f"run-{next(counter):03d}"
        built = layout.build_run_dir(run_dir, source)
        return built.root, built.env()

    try:
        yield factory
    finally:
        shutil.rmtree(root, ignore_errors=True)
