"""Read submitted notebooks, turning every kind of bad input into a clear `NotebookError`.

A file that loads is a valid nbformat 4.5 notebook whose cells all have unique, stable ids (the
same file always gets the same ids, so reruns give identical grades), and nothing downstream
(extraction, execution, the feedback page) meets a malformed cell. What a student's tool got
wrong without losing content (missing or duplicate cell ids, an old minor version) is repaired
quietly; so is an output or attachment nbformat's schema refuses (a mimebundle that is not one, an
unknown output type): it becomes a note in that cell (outputs are made again when the notebook
runs, and nothing grades an attachment). What makes the file unreadable or ambiguous (no source,
an unknown cell type, absurd nesting) is a `NotebookError` naming the cell and what to do.
nbformat's own warnings are not printed: they would land between the instructor's progress lines.
"""
from __future__ import annotations

import hashlib
import json
import re
import warnings
from pathlib import Path

import nbformat
from nbformat.validator import normalize

CELL_TYPES = ("code", "markdown", "raw")
REQUIRED_CELL_KEYS = {"code": ("source", "metadata", "outputs", "execution_count"),
                      "markdown": ("source", "metadata"), "raw": ("source", "metadata")}
_CELL_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")  # nbformat 4.5's pattern
SAVE_AGAIN = ("Open it in Jupyter or Kaggle, save it, and download it again "
              "(File > Download as .ipynb).")


class NotebookError(Exception):
    """A submission that cannot be graded; the message is shown to the student as is."""


def sha256_of(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def load_notebook(path: Path) -> nbformat.NotebookNode:
    """A v4 notebook with cell ids, or `NotebookError` saying what is wrong and what to do."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise NotebookError(f"{path} does not exist.") from None
    except IsADirectoryError:
        raise NotebookError(f"{path} is a folder, not a notebook file.") from None
    except OSError as exc:
        raise NotebookError(f"{path} cannot be read: {exc.strerror}.") from None
    if not raw.strip():
        raise NotebookError(f"{path.name} is empty: submit the .ipynb file saved from Jupyter or Kaggle.")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NotebookError(
            f"{path.name} is not a Jupyter notebook (not valid JSON: {exc}). "
            "Download it with File > Download (.ipynb), not as .py or .html.") from None
    except RecursionError:
        raise NotebookError(f"{path.name} is not a Jupyter notebook: its JSON is nested far "
                            f"deeper than a notebook's. {SAVE_AGAIN}") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells", data.get("worksheets")), list):
        raise NotebookError(f"{path.name} is valid JSON but not a Jupyter notebook (no cells).")
    if data.get("nbformat") == 4:
        _check_cells(data, path.name)
        if isinstance(data.get("nbformat_minor"), int) and data["nbformat_minor"] < 5:
            data["nbformat_minor"] = 5  # cell ids arrived in 4.5; the rest of 4.x is the same
        _stable_ids(data["cells"])  # before nbformat, which would repair them at random
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                nb = _read(data, path.name)
            except NotebookError:
                # A broken output or attachment costs that element, not the notebook: outputs
                # are made again when the grader runs it, and nothing grades an attachment.
                if data.get("nbformat") != 4 or not _drop_broken_elements(data["cells"]):
                    raise
                nb = _read(data, path.name)
    except RecursionError:
        raise NotebookError(f"{path.name} is nested too deeply to be a notebook. {SAVE_AGAIN}") from None
    if not any(cell.cell_type == "code" and cell.source.strip() for cell in nb.cells):
        raise NotebookError(f"{path.name} has no code: did you submit the right notebook?")
    return nb


def _read(data: dict, name: str) -> nbformat.NotebookNode:
    try:
        nb = nbformat.reads(json.dumps(data), as_version=4)
    except Exception as exc:  # nbformat raises several unrelated types for unreadable versions
        raise NotebookError(f"{name} has a notebook format this grader cannot read: {exc}") from None
    if data.get("nbformat") != 4:  # upgraded from v3: nbformat gave the cells random ids
        for cell in nb.cells:
            cell.pop("id", None)
    nb.nbformat_minor = max(nb.nbformat_minor, 5)
    _stable_ids(nb.cells)
    _, nb = normalize(nb)  # drops invalid keys, as Jupyter does on save
    nb = nbformat.from_dict(nb)
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        raise NotebookError(f"{name} is not a valid notebook: {_where(exc)}"
                            f"{_first_line(exc.message)}. {SAVE_AGAIN}") from None
    return nb


def _check_cells(data: dict, name: str) -> None:
    """What nbformat would trip over (or turn into an AttributeError), said per cell."""
    for index, cell in enumerate(data["cells"]):
        where = f"{name}: cell {index + 1}"
        if not isinstance(cell, dict):
            raise NotebookError(f"{where} is {_a(cell)}, not a cell. {SAVE_AGAIN}")
        kind = cell.get("cell_type")
        if kind not in CELL_TYPES:
            found = "no cell_type" if kind is None else f"cell_type {kind!r}"
            raise NotebookError(f"{where} has {found}; a notebook cell is code, markdown or raw. "
                                f"{SAVE_AGAIN}")
        missing = [key for key in REQUIRED_CELL_KEYS[kind] if key not in cell]
        if missing:
            raise NotebookError(f"{where} (a {kind} cell) has no {', '.join(map(repr, missing))}: "
                                f"the file was edited by hand or saved by a broken tool. {SAVE_AGAIN}")
        source = cell["source"]
        if not (isinstance(source, str)
                or isinstance(source, list) and all(isinstance(line, str) for line in source)):
            raise NotebookError(f"{where} has a source that is {_a(source)}, not text. "
                                f"{SAVE_AGAIN}")


BROKEN_OUTPUT = ("[an output saved in this cell was not a valid notebook output and is left out; "
                 "the grader runs the notebook itself]\n")


def _drop_broken_elements(cells: list) -> int:
    """Replace each output nbformat's schema refuses with a note (a stream on stderr) and drop
    attachments it refuses; how many elements were changed. The rest must still validate."""
    from nbformat.validator import isvalid

    changed = 0
    for cell in cells:
        outputs = cell.get("outputs") if cell.get("cell_type") == "code" else None
        if isinstance(outputs, list):
            for index, output in enumerate(outputs):
                if not isvalid(output, ref="output", version=4, version_minor=5):
                    outputs[index] = {"output_type": "stream", "name": "stderr", "text": BROKEN_OUTPUT}
                    changed += 1
        if "attachments" in cell and not isvalid(cell, ref=f"{cell.get('cell_type')}_cell",
                                                 version=4, version_minor=5):
            del cell["attachments"]  # an image that refers to one shows as "not included"
            changed += 1
    return changed


def _a(value: object) -> str:
    name = type(value).__name__
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


def _stable_ids(cells: list) -> None:
    """Give every cell a unique valid id; a missing, invalid or repeated one becomes cell-N (N its
    position), so the same file always gets the same ids (nbformat would pick random ones)."""
    taken = {cell.get("id") for cell in cells}
    seen: set[str] = set()
    for index, cell in enumerate(cells):
        current = cell.get("id")
        if isinstance(current, str) and _CELL_ID.match(current) and current not in seen:
            seen.add(current)
            continue
        fresh, suffix = f"cell-{index}", 0
        while fresh in taken or fresh in seen:
            suffix += 1
            fresh = f"cell-{index}-{suffix}"
        cell["id"] = fresh
        seen.add(fresh)


def _where(exc: nbformat.ValidationError) -> str:
    path = list(getattr(exc, "absolute_path", None) or getattr(exc, "path", None) or [])
    if len(path) >= 2 and path[0] == "cells" and isinstance(path[1], int):
        return f"cell {path[1] + 1}: "
    return ""


def _first_line(text: str, limit: int = 200) -> str:
    line = str(text).strip().splitlines()[0] if str(text).strip() else "invalid"
    return line if len(line) <= limit else line[:limit - 3] + "..."


def discover(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """Notebooks named directly or found (recursively, sorted) in folders; and missing paths."""
    found: list[Path] = []
    missing: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*.ipynb")
                                if ".ipynb_checkpoints" not in p.parts))
        elif path.exists():
            found.append(path)
        else:
            missing.append(path)
    return found, missing
