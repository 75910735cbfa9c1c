"""Read submitted notebooks, turning every kind of bad input into a clear `NotebookError`."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import nbformat
from nbformat.validator import normalize


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
    if not isinstance(data, dict) or not isinstance(data.get("cells", data.get("worksheets")), list):
        raise NotebookError(f"{path.name} is valid JSON but not a Jupyter notebook (no cells).")
    try:
        nb = nbformat.reads(json.dumps(data), as_version=4)
    except Exception as exc:  # nbformat raises several unrelated types for unreadable versions
        raise NotebookError(f"{path.name} has a notebook format this grader cannot read: {exc}") from None
    if nb.nbformat_minor < 5:  # cell ids arrived in 4.5; give old notebooks stable ones
        nb.nbformat_minor = 5
        for index, cell in enumerate(nb.cells):
            cell.setdefault("id", f"cell-{index}")
    _, nb = normalize(nb)  # drops invalid keys and fills missing ids, as Jupyter does on save
    nb = nbformat.from_dict(nb)
    if not any(cell.cell_type == "code" and cell.source.strip() for cell in nb.cells):
        raise NotebookError(f"{path.name} has no code: did you submit the right notebook?")
    return nb


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
