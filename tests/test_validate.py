"""validate's findings on hand-made executed notebooks (the full run is `tox -e validate`)."""
from nbformat.v4 import new_code_cell, new_notebook, new_output

from grader.validate import course_tests_pass, template_fails_only_at_placeholders, template_in_sync


def executed(*cells):
    """cells: (source, error name or None, printed text)."""
    nb = new_notebook()
    for source, ename, text in cells:
        cell = new_code_cell(source)
        if text:
            cell.outputs.append(new_output("stream", name="stdout", text=text))
        if ename:
            cell.outputs.append(new_output("error", ename=ename, evalue="name 'data' is not defined"
                                           if ename == "NameError" else "boom", traceback=[]))
        nb.cells.append(cell)
    return nb


def test_placeholder_failures_and_their_consequences_are_accepted():
    nb = executed(("raise NotImplementedError('Task 2')\ndata = load()", "NotImplementedError", ""),
                  ("print(len(data))", "NameError", ""),  # data was never bound: a consequence
                  ("f()", "NotImplementedError", ""))
    assert template_fails_only_at_placeholders(nb).ok


def test_other_failures_are_reported_with_their_cell():
    nb = executed(("data = 1", None, ""), ("print(len(data))", "NameError", ""), ("x", "ValueError", ""))
    finding = template_fails_only_at_placeholders(nb)
    assert not finding.ok and "cell 2: NameError" in finding.detail and "cell 3: ValueError" in finding.detail


def test_course_test_cells_must_print_test_passed():
    good = executed(('assert True\nprint("Test passed.")', None, "Test passed.\n"))
    silent = executed(('assert True\nprint("Test passed.")', None, ""))
    crashed = executed(("1/0", "ZeroDivisionError", ""))
    assert course_tests_pass(good).ok
    assert not course_tests_pass(silent).ok and not course_tests_pass(crashed).ok


def test_the_committed_template_is_in_sync():
    assert template_in_sync().ok
