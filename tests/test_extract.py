from conftest import notebook

from grader.notebook.extract import Definitions


def sources(snippets):
    return [s.source for s in snippets]


def test_last_binding_wins_and_calls_are_dropped():
    defs = Definitions.from_notebook(notebook(
        "import numpy as np\ndef f(x):\n    return 1\nprint(f(2))",
        "def f(x):\n    return np.asarray(x)\nf(3)",
    ))
    program = sources(defs.program(["f"]))
    assert program == ["import numpy as np", "def f(x):\n    return np.asarray(x)"]


def test_cell_order_does_not_matter():
    """A notebook with reordered cells is graded on the definitions it contains."""
    cells = ["def g():\n    return helper() + SEED", "SEED = 3", "def helper():\n    return 1"]
    forward = Definitions.from_notebook(notebook(*cells))
    backward = Definitions.from_notebook(notebook(*reversed(cells)))
    assert set(sources(forward.program(["g"]))) == set(sources(backward.program(["g"])))
    assert sources(forward.program(["g"]))[-1].startswith("def g")  # dependencies first


def test_locals_and_parameters_do_not_pull_in_globals():
    defs = Definitions.from_notebook(notebook(
        "test_arrays = expensive()\nseed = 42",
        "def pick(arrays, seed):\n    test_arrays = list(arrays)\n    return test_arrays, seed",
    ))
    assert sources(defs.program(["pick"])) == [
        "def pick(arrays, seed):\n    test_arrays = list(arrays)\n    return test_arrays, seed"]


def test_class_bases_annotations_and_method_globals_are_dependencies():
    defs = Definitions.from_notebook(notebook(
        "from typing import Optional\nclass Base: pass\nRATE = 0.1",
        "class T(Base):\n    def f(self, x: Optional[int]) -> float:\n        return RATE",
    ))
    assert set(sources(defs.program(["T"]))) == {
        "from typing import Optional", "class Base: pass", "RATE = 0.1",
        "class T(Base):\n    def f(self, x: Optional[int]) -> float:\n        return RATE"}


def test_reference_substitution_takes_the_reference_definition():
    student = Definitions.from_notebook(notebook("def a():\n    return 'student'", "def b():\n    return a()"))
    reference = Definitions.from_notebook(notebook("import os\ndef a():\n    return os.sep"))
    program = sources(student.program(["b"], reference=reference, substituted=["a"]))
    assert program == ["import os", "def a():\n    return os.sep", "def b():\n    return a()"]


def test_ipython_syntax_and_syntax_errors():
    defs = Definitions.from_notebook(notebook(
        "!pip install -r requirements.txt\n%matplotlib inline\nimport numpy as np",
        "def broken(:\n    pass",
        "def fine():\n    return np.pi",
    ))
    assert "fine" in defs and "broken" not in defs
    assert len(defs.errors) == 1 and "line 1" in defs.errors[0].message
    assert sources(defs.program(["fine"]))[0] == "import numpy as np"


def test_decorators_tuple_targets_and_shared_lines():
    defs = Definitions.from_notebook(notebook(
        "import functools\n@functools.lru_cache\ndef f():\n    return A + B",
        "A, B = 1, 2; C = 3",
    ))
    program = sources(defs.program(["f"]))
    assert program[-1].startswith("@functools.lru_cache")
    assert "A, B = (1, 2)" in program  # a line with two statements is unparsed statement by statement
    assert not any("C" in s for s in program)


def test_missing_names_are_left_out_and_star_imports_fill_in():
    defs = Definitions.from_notebook(notebook("from math import *", "def f():\n    return floor(undefined_name)"))
    assert sources(defs.program(["f"])) == ["from math import *", "def f():\n    return floor(undefined_name)"]
    assert Definitions.from_notebook(notebook("x = 1")).program(["nothing"]) == []


def test_binding_reports_the_cell():
    nb = notebook("def f():\n    pass")
    nb.cells[0].id = "my-cell"
    assert Definitions.from_notebook(nb).binding("f").cell_id == "my-cell"
