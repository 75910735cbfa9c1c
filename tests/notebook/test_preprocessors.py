from pathlib import Path

from grader.notebook.preprocessors import sanitize
from grader.notebook.preprocessors.federated_cell import is_federated_cell

from tests.helpers import notebook


def sanitized_sources(*cells, federated=False):
    nb = notebook(*cells, markdown=("See /kaggle/input in the text",))
    out = sanitize(nb, Path("/run/x"), federated=federated)
    assert out is not nb and nb.cells[1].source == cells[0]  # the original is untouched
    assert out.cells[0].source == "See /kaggle/input in the text"  # markdown is left alone
    return [c.source for c in out.cells[1:]]


def test_kaggle_paths_point_into_the_run_directory():
    [src] = sanitized_sources('open("/kaggle/input/kubeedge-sedna/lib/plato/clients/simple.py")\n'
                              'Path("/kaggle/input/cifar100/train")')
    assert src == ('open("/run/x/kaggle/input/kubeedge-sedna/lib/plato/clients/simple.py")\n'
                   'Path("/run/x/kaggle/input/cifar100/train")')


def test_package_installs_are_neutralized_in_every_spelling():
    [src] = sanitized_sources("!pip install -r /kaggle/input/kubeedge-sedna/lib/requirements.txt\n"
                              "%pip install torch\n"
                              "if True:\n    !{sys.executable} -m pip install x\n"
                              "!pip3 install y\n!conda install z\n!ls\nimport sys")
    lines = src.splitlines()
    assert all(line.lstrip().startswith("pass  # [grader] skipped:") for line in lines[:2] + lines[3:6])
    assert lines[2] == "if True:" and lines[3].startswith("    pass")
    assert lines[6:] == ["!ls", "import sys"]


def test_federated_training_cell_is_skipped_unless_armed():
    cell = ("fl = FederatedLearningV2(\n    data=our_dataset,\n    estimator=estimator)\nfl.train()")
    renamed = "job = FederatedLearningV2(data=d, estimator=e)\njob.train()"
    skipped = sanitized_sources(cell, renamed, "model.train()")
    assert skipped[0].endswith("pass  # [grader] federated round not run here: fl.train()")
    assert skipped[1].endswith("pass  # [grader] federated round not run here: job.train()")
    assert skipped[2] == "model.train()"  # not a federated cell
    assert sanitized_sources(cell, federated=True)[0] == cell
    assert is_federated_cell(cell) and not is_federated_cell("model.train()")


def test_a_federated_training_split_over_two_cells_is_skipped_too():
    """`fl = FederatedLearningV2(...)` in one cell and `fl.train()` in a later one: the later cell
    would wait for a server forever (a false notebook_runs failure after the cell timeout)."""
    build = "from sedna.core.federated_learning import FederatedLearningV2\nfl = FederatedLearningV2(data=d)"
    train = "%%time\nprint('joining')\nfl.train()\nmodel.train()"
    skipped = sanitized_sources(build, train)
    assert skipped[0] == build
    assert skipped[1].splitlines()[2] == "pass  # [grader] federated round not run here: fl.train()"
    assert skipped[1].splitlines()[3] == "model.train()"  # not a federation
    from grader.federated.clients import federated_cell_index
    assert federated_cell_index(notebook(build, train, "x = 1")) == 1
