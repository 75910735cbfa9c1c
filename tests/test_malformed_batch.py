"""A batch of malformed and unusual files, as students really hand them in (real `grade` run).

Malformed files are the submission's fault, said in a sentence (never "internal grader error"),
and the batch goes on with exit status 1; valid but unusual notebooks are graded like any other;
no third-party warning reaches the instructor's terminal.
"""
import copy
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "fixtures" / "submissions" / "reference.ipynb"
pytestmark = pytest.mark.slow  # one real `grade` run of the whole batch


def _malformed(folder: Path) -> dict[str, str]:
    """Writes one file per class of malformed submission; returns name -> expected phrase."""
    text = REFERENCE.read_text()
    data = json.loads(text)
    no_source = copy.deepcopy(data)
    del no_source["cells"][4]["source"]
    not_text = copy.deepcopy(data)
    not_text["cells"][4]["source"] = {"lines": 3}
    unknown_type = copy.deepcopy(data)
    unknown_type["cells"][2]["cell_type"] = "heading"
    files = {
        "truncated": (text[: len(text) // 2], "not valid JSON"),
        "empty": ("", "is empty"),
        "not_a_notebook": (json.dumps({"student": "me", "answers": [1, 2]}), "not a Jupyter notebook"),
        "cell_without_source": (json.dumps(no_source), "cell 5 (a code cell) has no 'source'"),
        "source_not_text": (json.dumps(not_text), "cell 5 has a source that is a dict"),
        "unknown_cell_type": (json.dumps(unknown_type), "cell 3 has cell_type 'heading'"),
        "nested": ('{"cells": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested far deeper"),
        "html_export": ("<!DOCTYPE html>\n<html><body>notebook</body></html>", "not as .py or .html"),
        "py_export": ("# %%\nimport numpy as np\nprint(np.pi)\n", "not as .py or .html"),
    }
    for name, (content, _) in files.items():
        (folder / f"{name}.ipynb").write_text(content)
    (folder / "a_folder.ipynb").mkdir()
    return {name: phrase for name, (_, phrase) in files.items()} | {"a_folder": "is a folder"}


def _unusual(folder: Path) -> list[str]:
    """Valid notebooks that tools write differently: graded like any other."""
    nb = nbformat.read(REFERENCE, as_version=4)
    nbformat.write(nbformat.convert(nb, 3), folder / "nbformat3.ipynb")
    data = json.loads(REFERENCE.read_text())
    data["metadata"]["kernelspec"] = {"name": "ir", "display_name": "R", "language": "R"}
    del data["cells"][2]["id"]  # missing id
    data["cells"][6]["id"] = data["cells"][4]["id"]  # repeated id
    data["cells"][6]["outputs"] = [{"output_type": "stream", "name": "stdout",
                                    "text": "x" * 5_000_000}]  # a huge output
    (folder / "odd_ids_kernel_output.ipynb").write_text(json.dumps(data))
    return ["nbformat3", "odd_ids_kernel_output"]


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    folder, out = tmp_path_factory.mktemp("handed-in"), tmp_path_factory.mktemp("out")
    malformed, unusual = _malformed(folder), _unusual(folder)
    run = subprocess.run([sys.executable, "-m", "grader", "grade", folder, "--out", out,
                          "--fl-round", "off", "--workers", "1"], cwd=ROOT,
                         capture_output=True, text=True, timeout=900)
    rows = {s["submission"]: s for s in json.loads((out / "grades.json").read_text())["submissions"]}
    return run, rows, malformed, unusual


def test_malformed_files_are_submission_errors_with_a_sentence(batch):
    run, rows, malformed, _ = batch
    assert run.returncode == 1, run.stdout + run.stderr  # some files could not be graded
    for name, phrase in malformed.items():
        row = rows[name]
        assert (row["status"], row["fault"]) == ("error", "submission"), (name, row["error"])
        assert phrase in row["error"], (name, row["error"])
        assert "internal" not in row["error"].lower() and "Traceback" not in row["error"]


def test_valid_but_unusual_notebooks_are_graded_normally(batch):
    _, rows, _, unusual = batch
    for name in unusual:
        row = rows[name]
        assert row["status"] == "graded" and row["fault"] is None, (name, row.get("error"))
        assert row["score"] == row["max_score"], (name, [(c["id"], c["feedback"]) for c in row["checks"]
                                                         if c["status"] != "passed"])


def test_no_third_party_warning_reaches_the_terminal(batch):
    run = batch[0]
    for text in (run.stdout, run.stderr):
        assert "Warning" not in text and "warn(" not in text, text
