from grader.notebook.extract import Definitions

from tests.helpers import notebook


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


# --- what a top-to-bottom run binds, however the cell is written ------------------------------


def test_cell_magics_that_run_in_the_namespace_bind_their_body():
    """`%%time` and friends run the body in the kernel's namespace: its definitions count."""
    for magic in ("%%time", "%%capture", "%%capture out --no-stderr", "%%prun -q", "%%capture\n%%time"):
        defs = Definitions.from_notebook(notebook(
            f"{magic}\nimport numpy as np\ndef pick(x):\n    return np.asarray(x)\nprint(pick(1))"))
        assert sources(defs.program(["pick"])) == [
            "import numpy as np", "def pick(x):\n    return np.asarray(x)"], magic


def test_cell_magics_that_run_elsewhere_bind_nothing():
    for magic in ("%%timeit", "%%bash", "%%writefile helper.py", "%%html", "%%script python3"):
        defs = Definitions.from_notebook(notebook(f"{magic}\ndef pick(x):\n    return x"))
        assert "pick" not in defs and not defs.errors, magic


def test_magic_body_keeps_its_line_numbers_and_ipython_syntax():
    """Tracebacks point at the student's own line: the body starts after the magic's line, and
    blank lines IPython drops before a cell are counted back."""
    defs = Definitions.from_notebook(notebook(
        "\n\n%%time\n!pip install nothing\n%matplotlib inline\nSEED = 3\ndef f():\n    return SEED"))
    assert defs.binding("f").snippet.line == 7
    assert defs.binding("SEED").snippet.line == 6
    plain = Definitions.from_notebook(notebook("\n\ndef g():\n    return 1"))
    assert plain.binding("g").snippet.line == 3


def test_line_magics_running_a_statement_bind_it():
    defs = Definitions.from_notebook(notebook("%time SEED = 19891217", "%timeit LOST = 1",
                                              "def f():\n    return SEED + LOST"))
    assert "SEED" in defs and "LOST" not in defs
    assert sources(defs.program(["f"]))[0] == "SEED = 19891217"


def test_definitions_inside_if_try_and_with_blocks_count():
    defs = Definitions.from_notebook(notebook(
        "try:\n    import google.colab\nexcept ImportError:\n    LOCAL = True\nelse:\n    LOCAL = False",
        "import warnings\nwith warnings.catch_warnings():\n    warnings.simplefilter('ignore')\n"
        "    def pick(x):\n        return x if LOCAL else None",
        "if True:\n    class Trainer:\n        pass\nfor i in range(3):\n    LOOPED = i",
    ))
    assert "LOCAL" in defs and "google" in defs and "Trainer" in defs
    assert "LOOPED" not in defs and "i" not in defs  # loops are not followed
    program = sources(defs.program(["pick"]))
    assert program[0].startswith("try:") and program[-1].startswith("with warnings.catch_warnings()")
    assert "import warnings" in program
