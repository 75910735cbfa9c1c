"""The student of each row where instructors and students read it: the terminal's progress line,
the feedback page's title, the class report (with its notes), grades.csv; and the CSV editor
against Python's own reader on any table."""
from __future__ import annotations

import csv
import io

from hypothesis import assume, given, settings, strategies as st

from grader.lms.csvtext import CsvText
from grader.render.html import class_report, feedback_page
from grader.render.progress import BatchProgress
from grader.render.tables import grades_csv
from grader.results.model import GradingRun, Note, NoteKind, Student
from tests.lms.downloads import result

HOSTILE = Student("moodle", "13", "<script>alert('x')</script>, Anna", late=True)


def _run() -> GradingRun:
    return GradingRun([result("anna_13", HOSTILE, 7.5), result("plain", None, 10)], notes=[
        Note(NoteKind.NO_SUBMISSION, "Jean-Luc Picard (Moodle 16) has no submission"),
        Note(NoteKind.FILE, "download.zip: README.txt is not a notebook and fits no download "
                            "name: not graded")])


def test_the_class_report_names_students_and_lists_the_notes():
    report, summary = class_report(_run())
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;, Anna (Moodle 13, late)" in report
    assert "<script>alert" not in report
    assert "Files and students to look at" in report
    assert "Jean-Luc Picard (Moodle 16) has no submission" in report
    assert '"kind": "no_submission"' in summary and '"title": "plain"' in summary


def test_the_feedback_page_title_and_the_terminal_line():
    page = feedback_page(_run().submissions[0])
    assert "<title>Feedback: &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;, Anna (Moodle 13, " \
           "late) (7.5/10)</title>" in page
    out = io.StringIO()
    progress = BatchProgress(file=out)
    progress.start(1)
    progress.update(_run().submissions[0], reused=False)
    assert "  <script>alert('x')</script>, Anna (Moodle 13, late): graded, 7.5/10" in out.getvalue()


def test_grades_csv_has_the_students():
    rows = list(csv.reader(io.StringIO(grades_csv(_run(), ["task1_seeded_choice"]))))
    assert rows[0][-4:] == ["platform", "student_id", "student", "late"]
    assert rows[1][0] == "anna_13" and rows[1][-4:] == ["moodle", "13", HOSTILE.name, "late"]
    assert rows[2][0] == "plain" and rows[2][-4:] == ["", "", "", ""]


_cells = st.text(st.characters(blacklist_categories=("Cs",)), max_size=8)
_tables = st.lists(st.lists(_cells, min_size=1, max_size=4), min_size=1, max_size=5)


@settings(derandomize=True, database=None, max_examples=200)
@given(table=_tables, line_end=st.sampled_from(["\n", "\r\n"]),
       quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]), data=st.data())
def test_the_csv_editor_agrees_with_pythons_reader(table, line_end, quoting, data):
    # Python's writer quotes only the characters of its own line end: a lone CR would go out bare
    assume(line_end == "\r\n" or not any("\r" in cell for row in table for cell in row))
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=line_end, quoting=quoting).writerows(table)
    text = buffer.getvalue()
    parsed = CsvText.read_bytes(text.encode())
    expected = list(csv.reader(io.StringIO(text, newline="")))
    assert parsed.rows() == expected
    assert parsed.edited({}) == text.encode()
    row = data.draw(st.integers(0, len(table) - 1))
    column = data.draw(st.integers(0, len(table[row]) - 1))
    value = data.draw(_cells)
    edited = list(csv.reader(io.StringIO(parsed.edited({(row, column): value}).decode(),
                                         newline="")))
    expected[row][column] = value
    assert edited == expected
