"""The release holds no solution: not today's text, not a restyled one; and a planted one is caught."""
from __future__ import annotations

import io
import shutil
import textwrap
import zipfile

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell

from grader.course import REFERENCE
from grader.release.build import write_notebook
from grader.release.leaks import Leak, find_leaks, secrets

from .helpers import release_copy
from .restyle import restyle_reference


@pytest.fixture(scope="module")
def restyled(tmp_path_factory):
    """The reference with every solution rewritten (see restyle.py): (path, [(label, old, new)])."""
    path = tmp_path_factory.mktemp("restyled") / "exercise.ipynb"
    return path, restyle_reference(REFERENCE, path)


def test_the_release_holds_no_solution_code(release):
    assert find_leaks(release.out) == []


def test_every_solution_region_is_a_secret_the_scan_looks_for():
    labels = {name.split()[-1] for name in secrets() if name.startswith("solution region")}
    assert labels == {"task1_seeded_choice", "task1_random_seed", "task2_partition",
                      "task3_lr_schedule", "task4a_load_payload", "task4b_extra_test"}


def test_the_restyle_really_changes_the_text(restyled):
    _, changed = restyled
    for label, old, new in changed:
        telling = [line.strip() for line in old.splitlines() if "." in line or "," in line]
        assert not any(line in new for line in telling), label


def test_a_release_of_the_restyled_reference_holds_none_of_its_solutions(release, restyled, tmp_path):
    path, _ = restyled
    copy = release_copy(release, tmp_path / "student")
    write_notebook(path, copy.notebook, copy.wheel.name)  # the notebook is what depends on it
    assert copy.notebook.read_bytes() == release.notebook.read_bytes()
    assert find_leaks(copy.out, reference=path) == []


def test_a_restyled_solution_pasted_into_the_notebook_is_flagged(release, restyled, tmp_path):
    """The positive control: every region, restyled, in a code cell, commented out, or in
    markdown, is found by the scan of the ORIGINAL reference's solutions."""
    _, changed = restyled
    copy = release_copy(release, tmp_path / "student")
    nb = nbformat.read(copy.notebook, as_version=4)
    for label, _, new in changed:
        body = textwrap.indent(textwrap.dedent(new), "    ")
        nb.cells.append(new_code_cell(f"def helper(self, seed, n, array_list):\n{body}"))
    nb.cells.append(new_markdown_cell("Hint:\n```python\n" + changed[2][2] + "\n```"))
    nbformat.write(nb, copy.notebook)
    found = {leak.source for leak in find_leaks(copy.out)}
    assert {f"solution region {label}" for label, _, _ in changed} <= found


def test_a_solution_in_a_docstring_or_comment_inside_the_wheel_is_flagged(release, restyled, tmp_path):
    _, changed = restyled
    copy = release_copy(release, tmp_path / "student")
    task3 = next(new for label, _, new in changed if label == "task3_lr_schedule")
    task4b = next(new for label, _, new in changed if label == "task4b_extra_test")
    buffer = io.BytesIO()
    with zipfile.ZipFile(copy.wheel) as old, zipfile.ZipFile(buffer, "w") as new:
        for item in old.infolist():
            data = old.read(item)
            if item.filename == "edge_ai_w5_selfcheck/__init__.py":
                data += f'\n\ndef _note():\n    """Example:\n\n{task3}\n    """\n'.encode()
                data += "".join(f"# {line}\n" for line in task4b.splitlines()).encode()
            new.writestr(item, data)
    copy.wheel.write_bytes(buffer.getvalue())
    leaks = find_leaks(copy.out)
    regions = {leak.source for leak in leaks if leak.source.startswith("solution region")}
    assert regions == {"solution region task3_lr_schedule", "solution region task4b_extra_test"}
    assert all(leak.where.endswith("edge_ai_w5_selfcheck/__init__.py") for leak in leaks)


def test_the_reference_or_a_fixture_notebook_in_the_release_is_flagged(release, tmp_path):
    from grader.release.leaks import FIXTURES

    copy = release_copy(release, tmp_path / "student")
    shutil.copyfile(REFERENCE, copy.out / "solution.ipynb")
    fixture = FIXTURES / "submissions" / "correct_list_comprehension.ipynb"
    nb = nbformat.read(fixture, as_version=4)
    nb.metadata["renamed"] = True  # not the same bytes: found by its code
    nbformat.write(nb, copy.out / "other.ipynb")
    leaks = find_leaks(copy.out)
    assert any(leak.where == "solution.ipynb" and leak.code == "the whole file" for leak in leaks)
    assert Leak("other.ipynb", "fixtures/submissions/correct_list_comprehension.ipynb",
                "9 of its 9 statements") in leaks
