"""`grader release`: the folder students get (the notebook, the kit's wheel, the README)."""
from __future__ import annotations

import re
import zipfile

import nbformat

from grader.checks import TASK_CHECK_IDS as CHECK_IDS
from grader.release.build import KIT_DIR, TEMPLATE_PATH
from grader.release.wheel import wheel_name

MAX_WHEEL_BYTES = 1024 * 1024


def test_the_release_is_the_notebook_the_wheel_and_the_readme(release):
    assert sorted(p.name for p in release.out.iterdir()) == sorted(
        ["README.md", "exercise.ipynb", wheel_name(KIT_DIR)])
    assert re.fullmatch(r"edge_ai_w5_selfcheck-\d+\.\d+\.\d+-py3-none-any\.whl", release.wheel.name)
    assert release.wheel.stat().st_size < MAX_WHEEL_BYTES
    with zipfile.ZipFile(release.wheel) as wheel:
        names = set(wheel.namelist())
        metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
        assert "Name: edge_ai_w5_selfcheck" in wheel.read(metadata).decode()
        assert {"edge_ai_w5_selfcheck/__init__.py", "edge_ai_w5_selfcheck/exam.json"} <= names
        assert not any(n.endswith((".ipynb", ".pyc")) or "grader/" in n for n in names)


def test_the_readme_says_how_to_install_and_call_and_what_is_not_checked(release):
    text = release.readme.read_text()
    assert f"pip install {release.wheel.name}" in text and 'check("task1_seeded_choice")' in text
    assert "python -m edge_ai_w5_selfcheck" in text
    assert all(f"`{cid}`" in text for cid in CHECK_IDS)
    assert all(word in text for word in ("fl_round", "notebook_runs", "memory limit"))


def _placeholder_tasks(cell) -> list[str]:
    """'task1', 'task4a', ... of the placeholders `strip` left in the cell."""
    return [t.lower().replace(" ", "") for t in re.findall(r'NotImplementedError\("(Task \w+):', cell.source)]


def test_the_notebook_is_the_template_plus_one_check_cell_per_task_check(release):
    nb = nbformat.read(release.notebook, as_version=4)
    nbformat.validate(nb)
    template = nbformat.read(TEMPLATE_PATH, as_version=4)
    course = [c for c in nb.cells if "selfcheck" not in c.metadata]
    assert [(c.id, c.source) for c in course] == [(c.id, c.source) for c in template.cells]
    assert nb.cells[0].id == template.cells[0].id and nb.cells[2].id == "selfcheck-install"
    assert "%pip install" in nb.cells[2].source and release.wheel.name in nb.cells[2].source
    calls = [(i, c) for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and c.source.startswith("check(")]
    assert [c.source for _, c in calls] == [f'check("{cid}")' for cid in CHECK_IDS]
    for index, cell in calls:  # after its own task's answer, before the next task's
        tasks = next(_placeholder_tasks(c) for c in reversed(nb.cells[:index]) if _placeholder_tasks(c))
        check_id = cell.metadata["selfcheck"]["check"]
        assert check_id.split("_")[0] in tasks, (check_id, tasks)
        assert nb.cells[index - 1].cell_type == "markdown" and check_id in nb.cells[index - 1].source
