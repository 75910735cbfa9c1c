"""The executed notebook names the student's paths as on Kaggle, never the grader's run folder."""
from __future__ import annotations

import base64
import difflib

import nbformat
import pytest

from grader.notebook.execute import CellRun, Execution
from grader.notebook.preprocessors import sanitize
from grader.notebook.run_paths import restore

SOURCE = ("import os\n"
          "DATA = '/kaggle/input/cifar100'\n"
          "print(os.getcwd())\n"
          "open(DATA + '/nope')\n")


def executed(root) -> Execution:
    """The cell as the sanitizer rewrote it, with outputs as a kernel in `root/work` prints them."""
    nb = sanitize(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(SOURCE, id="cell-1")]), root)
    cell = nb.cells[0]
    missing = f"{root}/kaggle/input/cifar100/nope"
    png = base64.b64encode(f"{root}/work".encode()).decode()
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text=f"{root}/work\n"),
        nbformat.v4.new_output("display_data", data={"text/plain": f"saved to {root}/home/x.pt",
                                                     "image/png": png}),
        nbformat.v4.new_output("error", ename="FileNotFoundError",
                               evalue=f"[Errno 2] No such file or directory: '{missing}'",
                               traceback=[f"File {root}/tmp/ipykernel_1/1.py:4", "open(DATA)"]),
    ]
    run = CellRun(0, cell.get("id", ""), "error",
                  f"FileNotFoundError: [Errno 2] No such file or directory: '{missing}'")
    return Execution(nb, [run])


def test_paths_read_as_on_kaggle_in_sources_outputs_and_errors(tmp_path):
    root = tmp_path / "grade-abc" / "notebook"
    execution = executed(root)
    assert str(root) in execution.notebook.cells[0].source  # the sanitizer's rewrite
    restore(execution, root)
    cell = execution.notebook.cells[0]
    assert "DATA = '/kaggle/input/cifar100'" in cell.source
    stream, display, error = cell.outputs
    assert stream.text == "/kaggle/working\n"
    assert display.data["text/plain"] == "saved to /grader-run/home/x.pt"
    assert error.evalue == "[Errno 2] No such file or directory: '/kaggle/input/cifar100/nope'"
    assert error.traceback[0] == "File /grader-run/tmp/ipykernel_1/1.py:4"
    assert execution.cells[0].error.endswith("'/kaggle/input/cifar100/nope'")
    assert str(tmp_path) not in nbformat.writes(execution.notebook).replace(
        display.data["image/png"], "")


def test_binary_data_is_left_alone(tmp_path):
    root = tmp_path / "run"
    execution = executed(root)
    png = execution.notebook.cells[0].outputs[1].data["image/png"]
    restore(execution, root)
    assert execution.notebook.cells[0].outputs[1].data["image/png"] == png


def test_two_run_folders_give_the_same_notebook(tmp_path):
    one, two = executed(tmp_path / "a" / "notebook"), executed(tmp_path / "bb" / "notebook")
    restore(one, tmp_path / "a" / "notebook")
    restore(two, tmp_path / "bb" / "notebook")
    for execution in (one, two):
        execution.notebook.cells[0].outputs[1].data.pop("image/png")
    assert nbformat.writes(one.notebook) == nbformat.writes(two.notebook)
    assert one.cells == two.cells


def test_a_link_to_the_run_folder_is_restored_too(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    execution = executed(real)  # the kernel printed resolved paths; the grader knows the link
    restore(execution, tmp_path / "link")
    assert execution.notebook.cells[0].outputs[0].text == "/kaggle/working\n"


@pytest.mark.slow
def test_grading_twice_gives_the_same_executed_notebook_with_kaggles_paths(tmp_path, warm_grader):
    """The grader's run folders differ at every grading; what the student reads does not."""
    cells = [nbformat.v4.new_code_cell("import os\nprint(os.getcwd())", id="cwd"),
             nbformat.v4.new_code_cell("open('/kaggle/input/cifar100/missing')", id="open")]
    path = tmp_path / "paths.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    texts, feedback = [], []
    for attempt in ("first", "second"):
        result = warm_grader.grade(path, executed_dir=tmp_path / attempt)
        texts.append((tmp_path / attempt / "paths.ipynb").read_text())
        feedback.append(result.check("notebook_runs").feedback)
    assert feedback[0] == feedback[1]
    # stderr may differ (a busy kernel warns "IOStream.flush timed out"): all but it must not,
    # and nowhere does the run folder show
    assert kept(texts[0]) == kept(texts[1]), "".join(difflib.unified_diff(
        texts[0].splitlines(True), texts[1].splitlines(True)))
    executed_nb = nbformat.reads(texts[0], as_version=4)
    assert executed_nb.cells[0].outputs[0].text == "/kaggle/working\n"
    assert "No such file or directory: '/kaggle/input/cifar100/missing'" in feedback[0]
    assert all("/tmp" not in text for text in texts + feedback)


def kept(text: str) -> list:
    """The executed notebook's cells without their stderr."""
    return [(cell.source, [o for o in cell.outputs if o.get("name") != "stderr"])
            for cell in nbformat.reads(text, as_version=4).cells]
