import json
import warnings
from pathlib import Path

import nbformat
import pytest

from grader.notebook.load import BROKEN_OUTPUT, NotebookError, discover, load_notebook


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


# --- malformed files are the submission's error, said per cell; unusual ones load quietly -----

_BASE = {"metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def _code(source, **extra):
    return {"cell_type": "code", "source": source, "metadata": {}, "outputs": [],
            "execution_count": None, **extra}


def _write(tmp_path, data) -> "Path":
    path = tmp_path / "submission.ipynb"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


@pytest.mark.parametrize("data, message", [
    ({**_BASE, "cells": [_code("x = 1"), {"cell_type": "code", "metadata": {}, "outputs": [],
                                          "execution_count": None}]},
     "cell 2 (a code cell) has no 'source'"),
    ({**_BASE, "cells": [{"cell_type": "markdown", "source": "# hi"}]}, "cell 1 (a markdown cell) has no 'metadata'"),
    ({**_BASE, "cells": [_code(5)]}, "cell 1 has a source that is an int, not text"),
    ({**_BASE, "cells": [_code(["x = 1\n", None])]}, "cell 1 has a source that is a list, not text"),
    ({**_BASE, "cells": ["x = 1"]}, "cell 1 is a str, not a cell"),
    ({**_BASE, "cells": [{"source": "x = 1", "metadata": {}}]}, "cell 1 has no cell_type"),
    ({**_BASE, "cells": [_code("x"), {"cell_type": "heading", "source": "x", "metadata": {}}]},
     "cell 2 has cell_type 'heading'"),
    ({**_BASE, "cells": [_code("x = 1", execution_count="one")]}, "is not a valid notebook: cell 1"),
    ({**_BASE, "cells": [_code("x = 1", outputs=[{"output_type": "bogus"}], execution_count="one")]},
     "is not a valid notebook: cell 1"),  # a broken output is dropped, the rest still judged
    ('{"cells": ' + "[" * 50_000 + "]" * 50_000 + "}", "nested far deeper than a notebook"),
    ("[" * 3_000 + "]" * 3_000, "nested far deeper than a notebook"),
])
def test_malformed_files_say_what_is_wrong_where_and_what_to_do(tmp_path, data, message):
    with pytest.raises(NotebookError) as caught:
        load_notebook(_write(tmp_path, data))
    text = str(caught.value)
    assert message in text and "submission.ipynb" in text
    assert "save it, and download it again" in text
    assert "Error" not in text.split(":")[0]  # a sentence, not an exception's name


def test_a_broken_output_or_attachment_costs_that_element_not_the_notebook(tmp_path):
    """Outputs are made again when the grader runs the notebook and nothing grades an attachment:
    one that nbformat refuses becomes a note in its cell, and the notebook is graded."""
    image = {"output_type": "display_data", "metadata": {}, "data": {"image/png": "iVBOR"}}
    cells = [_code("x = 1", id="a", outputs=[
                 {"output_type": "display_data", "metadata": {}, "data": "not a mimebundle"},
                 {"output_type": "stream", "name": "stdout", "text": "kept\n"},
                 {"output_type": "widget_state", "data": {}}, image]),
             {"cell_type": "markdown", "id": "m", "metadata": {}, "source": "![x](attachment:x.png)",
              "attachments": {"x.png": "not a bundle"}},
             {"cell_type": "markdown", "id": "n", "metadata": {}, "source": "![y](attachment:y.png)",
              "attachments": {"y.png": {"image/png": "iVBOR"}}}]
    nb = load_notebook(_write(tmp_path, {**_BASE, "cells": cells}))
    outputs = nb.cells[0].outputs
    assert [o.get("name") for o in outputs] == ["stderr", "stdout", "stderr", None]
    assert outputs[0].text == outputs[2].text == BROKEN_OUTPUT and outputs[1].text == "kept\n"
    assert outputs[3] == image  # valid by the schema: the feedback page judges its data
    assert "attachments" not in nb.cells[1] and nb.cells[2].attachments == {"y.png": {"image/png": "iVBOR"}}
    nbformat.validate(nb)


def _ids_and_warnings(path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        nb = load_notebook(path)
    return [cell.id for cell in nb.cells], [str(w.message) for w in caught]


@pytest.mark.parametrize("data, ids", [
    ({**_BASE, "cells": [_code("x = 1", id="a"), _code("y = 2", id="a")]}, ["a", "cell-1"]),
    ({**_BASE, "cells": [_code("x = 1"), _code("y = 2", id="cell-0")]}, ["cell-0-1", "cell-0"]),
    ({**_BASE, "cells": [_code("x = 1", id="not valid!"), _code("y = 2", id="b")]}, ["cell-0", "b"]),
    ({**_BASE, "nbformat_minor": 2, "cells": [_code("x = 1")]}, ["cell-0"]),
    ({"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"metadata": {}, "cells": [
        {"cell_type": "code", "input": "x = 1", "outputs": [], "language": "python",
         "metadata": {}}]}]}, ["cell-0"]),
    ({**_BASE, "metadata": {"kernelspec": {"name": "ir", "display_name": "R", "language": "R"}},
      "cells": [_code("x = 1", id="z")]}, ["z"]),
    ({**_BASE, "cells": [_code("print('x' * 10)", id="big", outputs=[
        {"output_type": "stream", "name": "stdout", "text": "x" * 5_000_000}])]}, ["big"]),
])
def test_unusual_but_valid_files_load_quietly_with_stable_ids(tmp_path, data, ids):
    """Missing, repeated or invalid ids are repaired the same way every time (nbformat would pick
    random ones, and reruns would differ), and nbformat's warnings are not printed."""
    first = _ids_and_warnings(_write(tmp_path, data))
    assert first == (ids, [])
    assert _ids_and_warnings(_write(tmp_path, data)) == first
