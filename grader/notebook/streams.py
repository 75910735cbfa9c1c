"""A cell's printed text in one canonical form, as Jupyter shows it, the same at every grading.

ipykernel flushes a cell's stdout and stderr each on its own timer, so a busy kernel sends one
`print` in pieces ("Number of training samples:" then " 25000\\n"), and a warning on stderr
lands before or after the prints around it, at random: two gradings of the same notebook gave
different executed notebooks and feedback pages (13 of the 41 fixtures). `coalesce` joins each
run of consecutive stream outputs (no image or other display between them) into at most two:
all its stdout, then all its stderr, each in its own order; and applies carriage returns, as
Jupyter does (a progress bar shows its last state). Outputs of other kinds keep their places.
"""
from __future__ import annotations

import re

import nbformat

_OVERWRITTEN = re.compile(r"[^\n]*\r(?=[^\n])")  # a line's text before a \r that rewrites it
_NAMES = ("stdout", "stderr")


def coalesce(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """`nb` with each cell's runs of stream outputs in canonical form (changed in place)."""
    for cell in nb.cells:
        if cell.get("outputs"):
            cell.outputs = _coalesced(cell.outputs)
    return nb


def _coalesced(outputs: list) -> list:
    result: list = []
    run: list = []
    for output in outputs + [None]:
        if output is not None and output.get("output_type") == "stream":
            run.append(output)
            continue
        result += _joined(run)
        run = []
        if output is not None:
            result.append(output)
    return result


def _joined(run: list) -> list:
    joined = []
    names = [n for n in _NAMES if any(o.get("name") == n for o in run)]
    names += sorted({o.get("name") for o in run} - set(_NAMES))  # no other name is known
    for name in names:
        text = "".join(o.get("text", "") for o in run if o.get("name") == name)
        joined.append(nbformat.v4.new_output("stream", name=name, text=_OVERWRITTEN.sub("", text)))
    return joined
