"""The run directory's paths in an executed notebook, put back as the student knows them.

The sanitizer points `/kaggle/input` at a run directory of the grader's
(`preprocessors/kaggle_paths.py`), and the kernel works in that directory's `work/`. So the
executed notebook's sources, tracebacks and printed paths name a temporary folder
(`/tmp/grader-x/grade-y/notebook/kaggle/input/cifar100/train`) that differs at every grading and
means nothing to a student. `restore` writes them as on Kaggle, in every cell's source and
outputs and in each cell's error:

    RUN/kaggle/input   ->  /kaggle/input     (the student's own text, before the sanitizer)
    RUN/work           ->  /kaggle/working   (the notebook's working directory, as on Kaggle)
    RUN                ->  /grader-run       (its home, tmp and config folders)

so the executed notebook, the feedback page and `notebook_runs`' sentence read as the student's
notebook on Kaggle, and are the same at every grading. Images and other binary data are left alone.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .execute import Execution

KAGGLE_INPUT = "/kaggle/input"
KAGGLE_WORKING = "/kaggle/working"
RUN_SHOWN = "/grader-run"
_BINARY = ("image/", "application/pdf")


def replacements(root: Path) -> list[tuple[str, str]]:
    """(path in the run, path shown) pairs, longest first, for the run directory as given and as
    resolved (a kernel's `os.getcwd()` prints the resolved one)."""
    pairs = {}
    for base in dict.fromkeys((str(root).rstrip("/"), str(Path(root).resolve()).rstrip("/"))):
        pairs[f"{base}{KAGGLE_INPUT}"] = KAGGLE_INPUT
        pairs[f"{base}/work"] = KAGGLE_WORKING
        pairs[base] = RUN_SHOWN
    return sorted(pairs.items(), key=lambda pair: -len(pair[0]))


def shown(text: str, pairs: list[tuple[str, str]]) -> str:
    for path, replacement in pairs:
        if path in text:
            text = text.replace(path, replacement)
    return text


def _restored(value: Any, pairs: list[tuple[str, str]], key: str = "") -> Any:
    if key.startswith(_BINARY):
        return value
    if isinstance(value, str):
        return shown(value, pairs)
    if isinstance(value, list):
        return [_restored(item, pairs) for item in value]
    if isinstance(value, dict):
        for name in list(value):
            value[name] = _restored(value[name], pairs, name)
    return value


def restore(execution: Execution, root: Path) -> Execution:
    """`execution` with the run directory's paths shown as on Kaggle (changed in place)."""
    pairs = replacements(root)
    for cell in execution.notebook.cells:
        cell.source = shown(cell.source, pairs)
        for output in cell.get("outputs", ()):
            _restored(output, pairs)
    for run in execution.cells:
        run.error = shown(run.error, pairs)
    return execution
