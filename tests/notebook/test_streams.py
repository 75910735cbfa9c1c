"""A print the kernel sent in pieces is one output, as Jupyter shows it; nothing else moves."""
from __future__ import annotations

import nbformat

from grader.notebook.streams import coalesce


def stream(name: str, text: str):
    return nbformat.v4.new_output("stream", name=name, text=text)


def notebook(*outputs):
    cell = nbformat.v4.new_code_cell("print(...)", id="c")
    cell.outputs = list(outputs)
    return nbformat.v4.new_notebook(cells=[cell])


def test_consecutive_pieces_of_one_stream_are_joined():
    nb = coalesce(notebook(stream("stdout", "Number of training samples:"),
                           stream("stdout", " 25000\n")))
    assert [(o.name, o.text) for o in nb.cells[0].outputs] == [
        ("stdout", "Number of training samples: 25000\n")]


def test_a_run_of_pieces_becomes_its_stdout_then_its_stderr_and_displays_keep_their_places():
    """stdout and stderr are flushed on their own timers: their order within a run is random."""
    image = nbformat.v4.new_output("display_data", data={"text/plain": "<Figure>"})
    nb = coalesce(notebook(stream("stdout", "a"), stream("stderr", "warning\n"),
                           stream("stdout", "b\n"), image, stream("stdout", "c\n")))
    assert [(o.output_type, o.get("name"), o.get("text")) for o in nb.cells[0].outputs] == [
        ("stream", "stdout", "ab\n"), ("stream", "stderr", "warning\n"),
        ("display_data", None, None), ("stream", "stdout", "c\n")]


def test_a_warning_before_or_after_the_prints_gives_the_same_notebook():
    before = coalesce(notebook(stream("stderr", "Warning\n"), stream("stdout", "50.0%\n")))
    after = coalesce(notebook(stream("stdout", "50.0%\n"), stream("stderr", "Warning\n")))
    assert nbformat.writes(before) == nbformat.writes(after)


def test_a_progress_bar_shows_its_last_state():
    nb = coalesce(notebook(stream("stdout", "10%\r"), stream("stdout", "50%\r100%\n")))
    assert nb.cells[0].outputs[0].text == "100%\n"


def test_two_splits_of_the_same_prints_give_the_same_notebook():
    one = coalesce(notebook(stream("stdout", "53.3% of the dataset"), stream("stdout", " were included\n")))
    two = coalesce(notebook(stream("stdout", "53.3% of the dataset were included"), stream("stdout", "\n")))
    assert nbformat.writes(one) == nbformat.writes(two)
