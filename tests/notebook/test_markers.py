"""Solution markers and `strip`: the committed template must be exactly the strip of the reference."""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager
from nbformat.v4 import new_code_cell, new_notebook, new_output

from grader.notebook.markers import (
    MarkerError,
    dumps_notebook,
    solution_regions,
    strip_file,
    strip_notebook,
)

from tests.helpers import ROOT

REFERENCE = ROOT / "reference" / "exercise.ipynb"
TEMPLATE = ROOT / "student_template" / "exercise.ipynb"


def _read(path: Path):
    return nbformat.read(path, as_version=4)


def _notebook(*sources: str):
    return new_notebook(cells=[new_code_cell(s, id=f"c{i}") for i, s in enumerate(sources)])


def test_reference_regions_are_the_six_graded_answers():
    regions = [(r.cell_id, r.label, r.task) for r in solution_regions(_read(REFERENCE))]
    assert regions == [
        ("task1-parallel-seeded-choice", "task1_seeded_choice", "Task 1"),
        ("task1-random-seed", "task1_random_seed", "Task 1"),
        ("task2-partition", "task2_partition", "Task 2"),
        ("task3-trainer", "task3_lr_schedule", "Task 3"),
        ("task4-client", "task4a_load_payload", "Task 4a"),
        ("task4-client", "task4b_extra_test", "Task 4b"),
    ]


def test_committed_template_is_the_strip_of_the_reference_byte_for_byte(tmp_path):
    out = tmp_path / "template.ipynb"
    strip_file(REFERENCE, out)
    assert out.read_bytes() == TEMPLATE.read_bytes()
    assert dumps_notebook(strip_notebook(_read(REFERENCE))).encode() == TEMPLATE.read_bytes()


def test_stripping_the_template_changes_nothing():
    assert dumps_notebook(strip_notebook(_read(TEMPLATE))).encode() == TEMPLATE.read_bytes()


def test_no_solution_line_is_left_in_the_template():
    reference = _read(REFERENCE)
    template_lines = {
        line.strip() for cell in _read(TEMPLATE).cells for line in cell.source.split("\n")
    }
    for region in solution_regions(reference):
        body = reference.cells[region.cell_index].source.split("\n")[region.start - 1 : region.end]
        for line in body:
            assert not line.strip() or line.strip() not in template_lines, (region.label, line)


def test_template_placeholders_name_the_task():
    sources = "\n".join(c.source for c in _read(TEMPLATE).cells if c.cell_type == "code")
    assert sources.count("raise NotImplementedError(") == 6
    for expected in [
        '    raise NotImplementedError("Task 1: implement parallel_seeded_choice (see the TODO above)")',
        'raise NotImplementedError("Task 1: set MY_RANDOM_SEED (see the TODO above)")',
        '        raise NotImplementedError("Task 3: implement EdgeAiTrainer.set_learning_rate (see the TODO above)")',
        '        raise NotImplementedError("Task 4b: implement EdgeAiClient.extra_test (see the TODO above)")',
    ]:
        assert expected in sources.split("\n")


@pytest.mark.parametrize("path", [REFERENCE, TEMPLATE], ids=["reference", "template"])
def test_every_code_cell_compiles(path):
    transform = TransformerManager().transform_cell
    for cell in _read(path).cells:
        if cell.cell_type == "code":
            compile(transform(cell.source), cell.id, "exec")


def test_cell_ids_are_kept_and_outputs_cleared():
    nb = _notebook("x = 1\n# BEGIN SOLUTION task1\ny = 2\n# END SOLUTION", "print(1)")
    nb.cells[1].outputs = [new_output("stream", name="stdout", text="1\n")]
    nb.cells[1].execution_count = 3
    stripped = strip_notebook(nb)
    assert [c.id for c in stripped.cells] == ["c0", "c1"]
    assert stripped.cells[1].outputs == [] and stripped.cells[1].execution_count is None
    assert nb.cells[1].execution_count == 3, "the input notebook must not be changed"


def test_placeholder_keeps_marker_indentation_and_names_the_scope():
    source = (
        "class A:\n"
        "    def f(self):\n"
        "        if True:\n"
        "            # BEGIN SOLUTION task4a_x\n"
        "            return 1\n"
        "            # END SOLUTION\n"
        "        return 0"
    )
    stripped = strip_notebook(_notebook(source)).cells[0].source
    assert stripped.split("\n")[3] == (
        '            raise NotImplementedError("Task 4a: implement A.f (see the TODO above)")'
    )
    compile(stripped, "cell", "exec")


def test_top_level_placeholder_names_the_bound_variables():
    nb = _notebook("# BEGIN SOLUTION task1_seed\nA, B = 1, 2\n# END SOLUTION\nprint(A)")
    assert strip_notebook(nb).cells[0].source.split("\n")[0] == (
        'raise NotImplementedError("Task 1: set A, B (see the TODO above)")'
    )


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("# BEGIN SOLUTION task1\nx = 1", "never closed"),
        ("x = 1\n# END SOLUTION", "without a '# BEGIN SOLUTION'"),
        ("# BEGIN SOLUTION task1\n# BEGIN SOLUTION task2\n# END SOLUTION\n# END SOLUTION", "cannot nest"),
        ("# BEGIN SOLUTION\nx = 1\n# END SOLUTION", "label"),
        ("# BEGIN SOLUTION first\nx = 1\n# END SOLUTION", "label"),
        ("#BEGIN SOLUTION task1\nx = 1\n# END SOLUTION", "malformed"),
        ("# BEGIN SOLUTION task1\nx = 1\n# END SOLUTION here", "malformed"),
    ],
)
def test_malformed_markers_raise_naming_the_cell(source, message):
    nb = _notebook("ok = 1", source)
    with pytest.raises(MarkerError, match=message) as error:
        strip_notebook(nb)
    assert "'c1'" in str(error.value)


def test_a_label_is_used_once():
    region = "# BEGIN SOLUTION task1_a\nx = 1\n# END SOLUTION"
    with pytest.raises(MarkerError, match="already used in cell 'c0'"):
        solution_regions(_notebook(region, region))
