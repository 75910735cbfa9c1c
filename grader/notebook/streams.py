"""Consecutive pieces of one stream as one output, as Jupyter shows them.

ipykernel flushes a cell's stdout and stderr on a timer, so a busy kernel sends one `print` in
pieces ("Number of training samples:" then " 25000\\n"), at random: two gradings of the same
notebook gave different executed notebooks and feedback pages. Jupyter's own front ends join
consecutive pieces of one stream and apply carriage returns (a progress bar shows its last
state); `coalesce` does the same to the executed notebook (nbconvert's
`CoalesceStreamsPreprocessor`). Pieces of one stream with other outputs between them stay apart,
in their order.
"""
from __future__ import annotations

import nbformat
from nbconvert.preprocessors import CoalesceStreamsPreprocessor


def coalesce(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """`nb` with each cell's consecutive outputs of one stream joined (changed in place)."""
    CoalesceStreamsPreprocessor().preprocess(nb, {})
    return nb
