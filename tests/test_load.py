import json

import nbformat
import pytest

from grader.notebook.load import NotebookError, discover, load_notebook


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"),
    (b"   \n", "is empty"),
    (b"def f(): pass", "not valid JSON"),
    (b"\xff\xfe\x00", "not valid JSON"),
    (b"[1, 2]", "not a Jupyter notebook"),
    (b'{"cells": "nope"}', "not a Jupyter notebook"),
    (json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode(), "has no code"),
    (json.dumps({"cells": [{"cell_type": "code", "source": "x=1"}], "nbformat": 99}).encode(), "cannot read"),
])
def test_bad_inputs_have_clear_messages(tmp_path, content, message):
    path = tmp_path / "bad.ipynb"
    path.write_bytes(content)
    with pytest.raises(NotebookError, match=message):
        load_notebook(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(NotebookError, match="does not exist"):
        load_notebook(tmp_path / "nope.ipynb")
    with pytest.raises(NotebookError, match="is a folder"):
        load_notebook(tmp_path)


def test_old_and_idless_notebooks_are_upgraded(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    nb.nbformat_minor = 4
    data = json.loads(nbformat.writes(nb))
    for cell in data["cells"]:
        cell.pop("id", None)
    path = tmp_path / "old.ipynb"
    path.write_text(json.dumps(data))
    loaded = load_notebook(path)
    assert loaded.cells[0].source == "x = 1" and loaded.cells[0].get("id")


def test_discover_sorts_recurses_and_reports_missing(tmp_path):
    (tmp_path / "b").mkdir()
    for rel in ("b/z.ipynb", "a.ipynb", "b/.ipynb_checkpoints/z-checkpoint.ipynb", "notes.txt"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("{}")
    found, missing = discover([tmp_path, tmp_path / "gone"])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["a.ipynb", "b/z.ipynb"]
    assert missing == [tmp_path / "gone"]
