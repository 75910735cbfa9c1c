"""Sanitizing preprocessors: one notebook transformation each, chained by `sanitize`.

Together they turn a Kaggle notebook into one that runs in the offline course environment: the
self-check kit is replaced by a stand-in that checks nothing (first: the grader checks the
notebook itself), `/kaggle/input` paths point into the run directory, `!pip install` does
nothing, and the final `fl.train()` cell is either skipped (plain grading) or kept (the federated round).
"""
from __future__ import annotations

import copy
from pathlib import Path

import nbformat

from .federated_cell import SkipFederatedTraining
from .kaggle_paths import MapKaggleInput
from .pip_install import NeutralizePipInstall
from .selfcheck_cells import SkipSelfCheck

__all__ = ["MapKaggleInput", "NeutralizePipInstall", "SkipFederatedTraining", "SkipSelfCheck",
           "sanitize"]


def sanitize(nb: nbformat.NotebookNode, run_dir: Path, *, federated: bool = False) -> nbformat.NotebookNode:
    """A sanitized copy of `nb` for a run in `run_dir`; the original is left untouched."""
    steps = [SkipSelfCheck(), MapKaggleInput(run_dir=str(run_dir)), NeutralizePipInstall()]
    if not federated:
        steps.append(SkipFederatedTraining())
    nb = copy.deepcopy(nb)
    resources: dict = {}
    for step in steps:
        nb, resources = step.preprocess(nb, resources)
    return nb
