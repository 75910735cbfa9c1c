"""A notebook with broken pieces still shows on its feedback page: each piece becomes a placeholder.

Each test writes an executed notebook with one defect (as JSON: nbformat would refuse most of
them), renders the feedback page of a submission whose failing check points into that notebook,
and checks that the page shows the notebook with a placeholder where the defect was, the failing
cell still highlighted and linked, and a list of what was left out.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from grader.render import html as render_html
from grader.render import notebook_html as nb_html
from grader.render.notebook_html import Note, notebook_html, prepare

from tests.render.sample import PIXEL, sample_run
from tests.render.test_html import assert_self_contained

# As in the course's notebook: an image whose attachment is not in the file.
COURSE_ATTACHMENT = "![grafik.png](attachment:e0156c83-9d0b-451b-a619-3d459ac607c7.png)"


def notebook(*extra: dict) -> dict:
    """A small executed notebook (the failing check's cell `task1-def`, an erroring cell
    `task1-test`) with `extra` cells in the middle, as plain JSON."""
    nb = new_notebook(cells=[
        new_markdown_cell("# Week 5", id="intro"),
        new_code_cell("def parallel_seeded_choice(array_list, seed, n):\n    return array_list[:2]",
                      id="task1-def", execution_count=1),
        new_code_cell("assert parallel_seeded_choice([1, 2, 3], 0, 1) == 3", id="task1-test",
                      execution_count=2,
                      outputs=[new_output("error", ename="AssertionError", evalue="expected 3 arrays",
                                          traceback=["AssertionError: expected 3 arrays"])]),
    ])
    data = json.loads(json.dumps(nb))
    data["cells"][2:2] = list(extra)
    return data


def code_cell(*outputs: object, cell_id: str = "shown") -> dict:
    return {"cell_type": "code", "id": cell_id, "metadata": {}, "execution_count": 3,
            "source": "show()", "outputs": list(outputs)}


def page(tmp_path: Path, data: dict) -> str:
    executed = tmp_path / "alice.ipynb"
    executed.write_text(json.dumps(data), encoding="utf-8")
    text = render_html.feedback_page(sample_run().submissions[0], executed)
    assert_self_contained(text)
    return text


def assert_notebook_shown_with_links(text: str) -> str:
    """The notebook part of the page, after checking the failing cell's highlight and link."""
    assert "could not be displayed" not in text
    notebook = text[text.index('<div class="gr-notebook">'):]
    assert 'href="#cell-id=task1-def"' in text
    assert re.search(r'<div id="cell-id=task1-def" class="[^"]*celltag_gr-check', notebook)
    assert re.search(r'<div id="cell-id=task1-test" class="[^"]*celltag_gr-error', notebook)
    assert "This cell raised AssertionError" in notebook
    return notebook


def placeholders(notebook: str) -> list[str]:
    return re.findall(r'class="[^"]*gr-placeholder">([^<]*)<', notebook)


DEFECTS = {
    "missing attachment (as in the course's notebook)": (
        {"cell_type": "markdown", "id": "pic", "metadata": {},
         "source": f"The first idea could be:\n\n{COURSE_ATTACHMENT}\n\nHowever ..."},
        "image not included in the notebook (grafik.png)",
        "cell 3: an image (grafik.png) (its attachment is not in the notebook)"),
    "malformed attachment": (
        {"cell_type": "markdown", "id": "pic", "metadata": {}, "source": "![chart](attachment:c.png)",
         "attachments": {"c.png": {"image/png": "this is not base64!"}}},
        "image not included in the notebook (chart)",
        "cell 3: an image (chart) (its attachment is not a valid image)"),
    "broken image output": (
        code_cell({"output_type": "display_data", "metadata": {},
                   "data": {"image/png": "iVBOR#not base64", "text/plain": "<Figure>"}}),
        "image not included in the notebook (its image/png data is not valid base64)",
        "cell 3: a display_data output (its image/png data is not valid base64)"),
    "image data of another type": (
        code_cell({"output_type": "display_data", "metadata": {},
                   "data": {"image/jpeg": PIXEL, "text/plain": "<Figure>"}}),
        "image not included in the notebook (its data is not a JPEG image)",
        "cell 3: a display_data output (its data is not a JPEG image)"),
    "bad mimebundle": (
        code_cell({"output_type": "execute_result", "metadata": {}, "execution_count": 3,
                   "data": "<b>not a mimebundle</b>"}),
        "output not shown (its data is broken)",
        "cell 3: an execute_result output (its data is str, not a mimebundle)"),
    "unknown output type": (
        code_cell({"output_type": "widget_state", "metadata": {}, "data": {}}),
        "output not shown (unknown output type &#x27;widget_state&#x27;)",
        "cell 3: an output (unknown output type 'widget_state')"),
}


@pytest.mark.parametrize("defect", list(DEFECTS))
def test_a_defect_costs_only_its_element(tmp_path, defect):
    cell, shown, listed = DEFECTS[defect]
    text = page(tmp_path, notebook(cell))
    notebook_part = assert_notebook_shown_with_links(text)
    assert placeholders(notebook_part) == [shown]
    lost = text[text.index('<details class="gr-lost">'):text.index('<div class="gr-notebook">')]
    assert "1 element of your notebook is not shown here" in lost
    assert listed.replace("'", "&#39;") in lost
    assert '<meta name="grader-notebook-view" content="partial 1">' in text
    assert ".gr-placeholder {" in text  # its style comes with the page that needs it


def test_what_is_sound_next_to_a_defect_still_shows(tmp_path):
    markdown = {"cell_type": "markdown", "id": "pics", "metadata": {},
                "source": f"before {COURSE_ATTACHMENT} between ![kept](attachment:ok.png) "
                          "<img src='attachment:gone.png' alt='html img'> after",
                "attachments": {"ok.png": {"image/png": PIXEL}}}
    outputs = code_cell(
        {"output_type": "stream", "name": "stdout", "text": "printed before\n"},
        {"output_type": "display_data", "metadata": {}, "data": {"text/html": 123, "text/plain": "plain"}},
        {"output_type": "display_data", "metadata": {}, "data": {"image/png": PIXEL}})
    text = page(tmp_path, notebook(markdown, outputs))
    notebook_part = assert_notebook_shown_with_links(text)
    assert "before" in notebook_part and "after" in notebook_part and "printed before" in notebook_part
    assert notebook_part.count(f"data:image/png;base64,{PIXEL}") == 2  # the attachment, the output
    assert "<pre>plain</pre>" in notebook_part  # the text/plain of a bundle with a broken text/html
    assert placeholders(notebook_part) == ["image not included in the notebook (grafik.png)",
                                           "image not included in the notebook (html img)"]
    assert "3 elements of your notebook are not shown here" in text
    assert "cell 4: a display_data output (its text/html is int, not text)" in text


def test_a_page_without_defects_has_no_placeholder_style_nor_mark(tmp_path):
    text = page(tmp_path, notebook())
    assert "gr-placeholder" not in text and "grader-notebook-view" not in text and "gr-lost" not in text


def test_a_markdown_cell_that_fails_to_render_is_shown_as_plain_text(tmp_path, monkeypatch):
    exporter = nb_html._exporter()
    original = type(exporter)._markdown

    def fussy(self, source, path):
        if "<unrenderable>" in source:
            raise ValueError("mistune gave up")
        return original(self, source, path)

    monkeypatch.setattr(type(exporter), "_markdown", fussy)
    cell = {"cell_type": "markdown", "id": "odd", "metadata": {}, "source": "**text** <unrenderable> & more"}
    text = page(tmp_path, notebook(cell))
    notebook_part = assert_notebook_shown_with_links(text)
    assert placeholders(notebook_part) == ["This text cell could not be rendered; here it is as plain text."]
    assert "<pre>**text** &lt;unrenderable&gt; &amp; more</pre>" in notebook_part  # as text, escaped
    assert "cell 3: markdown text (it could not be rendered (ValueError); shown as plain text)" in text


def test_a_notebook_nbconvert_refuses_whole_is_rendered_cell_by_cell(monkeypatch):
    data = notebook()
    prepared = prepare({"cells": data["cells"]}, {"task1-def": [Note("check", "fails", "#gr-check-x")]})
    real = nb_html._render

    def refuses_the_whole_and_the_test_cell(nb):
        if len(nb.cells) > 1 or nb.cells[0].source.startswith("assert"):
            raise RuntimeError("template exploded")
        return real(nb)

    monkeypatch.setattr(nb_html, "_render", refuses_the_whole_and_the_test_cell)
    fragment = notebook_html(prepared)
    assert re.search(r'<div id="cell-id=task1-def" class="[^"]*celltag_gr-check', fragment)
    assert re.search(r'<div id="cell-id=task1-test" class="[^"]*celltag_gr-error', fragment)
    assert "This cell could not be rendered; here is its text." in fragment
    assert "assert parallel_seeded_choice([1, 2, 3], 0, 1) == 3" in fragment
    assert [lost.cell for lost in prepared.lost] == [3]


def test_only_a_notebook_that_cannot_be_shown_at_all_says_so_and_what_to_do(tmp_path, monkeypatch):
    def refuses(nb):
        raise RuntimeError("template exploded")

    monkeypatch.setattr(nb_html, "_render", refuses)
    text = page(tmp_path, notebook())
    assert "Your notebook could not be displayed on this page (RuntimeError: template exploded)" in text
    assert "open your notebook in Jupyter" in text
    assert '<meta name="grader-notebook-view" content="none">' in text
    assert 'href="#cell-id=' not in text  # no link to a cell the page does not show
