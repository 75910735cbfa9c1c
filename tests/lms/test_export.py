"""Grades back into the platforms' own files, from results built in the test (no grading): every
score on the right student, scaled right, every other byte as the platform wrote it; unknown and
missing students noted; bad gradebook files are clear errors."""
from __future__ import annotations

import csv
import io
import zipfile

import pytest

from grader.lms import canvas, moodle, read_gradebook
from grader.lms.collect import collect
from grader.lms.csvtext import CsvText
from grader.lms.export import export, match
from grader.lms.grades import comment, format_points
from grader.lms.platform import LmsError
from grader.render.text import feedback_filename
from grader.results.model import GradingRun, NoteKind, Student
from tests.lms import downloads
from tests.lms.downloads import result


def _rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def assert_only_cells_changed(before: bytes, after: bytes, cells: set[tuple[int, int]]) -> None:
    """Byte for byte the same file, but for `cells` (record, column)."""
    old, new = CsvText.read_bytes(before), CsvText.read_bytes(after)
    assert old.bom == new.bom
    mask = {cell: "<filled>" for cell in cells}
    assert old.edited(mask) == new.edited(mask)


def _canvas_run(intake) -> GradingRun:
    scores = {"mullerjurgen_4711": 7.5, "obriensean_4712__week5": 6, "obriensean_4712__scratch": 9,
              "smithanna_4713": 10, "nobody_9999": 3}
    return GradingRun([result(e.name, e.student, scores[e.name]) for e in intake.named],
                      notes=intake.notes)


def test_canvas_import_file(canvas_zip, canvas_gradebook, tmp_path, limits):
    roster = canvas.read_gradebook(canvas_gradebook, "Week 5: Federated learning")
    intake = collect([canvas_zip], [canvas], tmp_path, limits)
    match(canvas, roster, intake)
    run = _canvas_run(intake)
    written = export(canvas, roster, run, tmp_path)
    target = tmp_path / "lms" / "canvas-import.csv"
    assert written.files == [target]
    before, after = canvas_gradebook.read_bytes(), target.read_bytes()
    assert after.startswith(b"\xef\xbb\xbf") and after.count(b"\r\n") == before.count(b"\r\n")
    rows = _rows(after)
    column = rows[0].index("Week 5: Federated learning (802)")
    by_id = {row[1]: row for row in rows[3:]}
    # 20 points possible: 7.5/10 -> 15, the best of Seán's two (9/10) -> 18, 10/10 -> 20
    assert by_id["4711"][column] == "15" and by_id["4712"][column] == "18"
    assert by_id["4713"][column] == "20"
    assert by_id["4714"][column] == "" and by_id["4799"][column] == ""  # no submission
    assert_only_cells_changed(before, after, {(3, column), (4, column), (5, column)})
    # the gradebook's names and the late mark reach the rows
    students = {s.submission: s.student for s in run.submissions}
    assert students["mullerjurgen_4711"] == Student("canvas", "4711", "Müller, Jürgen", late=True)
    assert students["nobody_9999"].name == "nobody"
    notes = {n.kind: [] for n in run.notes}
    for n in run.notes:
        notes[n.kind].append(n.message)
    assert notes[NoteKind.UNKNOWN_STUDENT] == [
        "nobody (Canvas 9999): 2026-12-05T1200_Grades-EdgeAI.csv has no such student: graded "
        "(nobody_9999), not exported"]
    assert notes[NoteKind.NO_SUBMISSION] == [
        "Doe, Jane (Canvas 4714) has no submission: their grade is left as "
        "2026-12-05T1200_Grades-EdgeAI.csv has it"]
    assert any("2 notebooks graded; exported the best, obriensean_4712__scratch (9/10)" in line
               for line in written.lines)


@pytest.mark.parametrize("wanted", ["802", "Week 5: Federated learning (802)",
                                    "week 5: federated LEARNING"])
def test_canvas_assignment_by_id_or_name(canvas_gradebook, wanted):
    roster = canvas.read_gradebook(canvas_gradebook, wanted)
    assert roster.column == "Week 5: Federated learning (802)" and roster.points == 20
    assert set(roster.students) == {"4711", "4712", "4713", "4714"}  # not the Test Student


def test_canvas_column_errors(canvas_gradebook, tmp_path):
    with pytest.raises(LmsError, match=r"has 3 assignment columns \('Week 4: Gradients \(801\)'; "
                                       r"'Week 5: Federated learning \(802\)'; 'Week 5 quiz "
                                       r"\(803\)'\): say which to fill with --assignment"):
        canvas.read_gradebook(canvas_gradebook, None)
    with pytest.raises(LmsError, match="no assignment column 'Week 6'; its assignment columns: "):
        canvas.read_gradebook(canvas_gradebook, "Week 6")
    twice = tmp_path / "twice.csv"
    twice.write_text("Student,ID,SIS User ID,SIS Login ID,Section,Quiz (1),Quiz (2)\n"
                     "    Points Possible,,,,,5,5\n")
    with pytest.raises(LmsError, match="fits 2 columns .* give the assignment's id"):
        canvas.read_gradebook(twice, "Quiz")
    alone = tmp_path / "alone.csv"
    alone.write_text("Student,ID,SIS User ID,SIS Login ID,Section,Quiz (1),Current Score\n"
                     "    Points Possible,,,,,5,(read only)\n\"Lee, Ann\",7,,,,,\n")
    assert canvas.read_gradebook(alone, None).column == "Quiz (1)"  # found by itself
    unset = tmp_path / "unset.csv"
    unset.write_text("Student,ID,SIS User ID,SIS Login ID,Section,Quiz (1)\n\"Lee, Ann\",7,,,,\n")
    with pytest.raises(LmsError, match="no 'Points Possible' row"):
        canvas.read_gradebook(unset, None)


def test_a_gradebook_of_another_platform(canvas_gradebook, moodle_worksheet, tmp_path):
    with pytest.raises(LmsError, match="is a Moodle file .* pass --lms moodle"):
        read_gradebook(canvas, moodle_worksheet, None)
    with pytest.raises(LmsError, match="is a Canvas file .* pass --lms canvas"):
        read_gradebook(moodle, canvas_gradebook, None)
    other = tmp_path / "roster.csv"
    other.write_text("name,email\nAnn,ann@example.org\n")
    with pytest.raises(LmsError, match=r"not Canvas's gradebook export .*'name', 'email'"):
        read_gradebook(canvas, other, None)
    latin = tmp_path / "latin1.csv"
    latin.write_bytes("Student,ID\nM\xfcller,1\n".encode("latin-1"))
    with pytest.raises(LmsError, match="not UTF-8 text"):
        canvas.read_gradebook(latin, None)
    with pytest.raises(LmsError, match="cannot be read"):
        canvas.read_gradebook(tmp_path / "missing.csv", None)


@pytest.mark.parametrize("line_end, bom", [("\n", False), ("\r\n", True)])
def test_moodle_worksheet_and_feedback_zip(moodle_folder, tmp_path, limits, line_end, bom):
    gradebook = tmp_path / "worksheet.csv"
    gradebook.write_bytes(downloads.moodle_worksheet(line_end, bom))
    roster = moodle.read_gradebook(gradebook, None)
    intake = collect([moodle_folder], [moodle], tmp_path, limits)
    match(moodle, roster, intake)
    scores = {"Änne Müller_12": 10, "Smith, Anna_13": 4.25, "Zoë O'Neil_14": 0, "Li Wei_15": 8,
              "Ghost_99": 5}
    subs = [result(e.name, e.student, scores[e.name]) for e in intake.named]
    subs[[s.submission for s in subs].index("Zoë O'Neil_14")] = result(
        "Zoë O'Neil_14", next(e.student for e in intake.named if e.student.id == "14"), 0,
        status="error", fault="submission")
    run = GradingRun(subs, notes=intake.notes)
    feedback = tmp_path / "feedback"
    feedback.mkdir()
    for sub in subs:
        (feedback / feedback_filename(sub.submission)).write_text(f"<p>{sub.submission}</p>")
    written = export(moodle, roster, run, tmp_path)
    sheet, archive = tmp_path / "lms" / "moodle-worksheet.csv", tmp_path / "lms" / "moodle-feedback.zip"
    assert written.files == [sheet, archive]
    before, after = gradebook.read_bytes(), sheet.read_bytes()
    rows = {row[0]: row for row in _rows(after)[1:]}
    assert rows["Participant 12"][4:6] == ["10.00", "10.00"]
    assert rows["Participant 13"][4] == "4.25"
    assert rows["Participant 14"][4] == "0.00"
    assert rows["Participant 15"][4] == ""  # "Grade can be changed: No": left alone, said so
    assert rows["Participant 16"][4] == ""  # no submission
    assert rows["Participant 12"][9] == "Autograder: 10/10 points (100%). Every check passed."
    assert rows["Participant 13"][9] == ("Autograder: 4.25/10 points (42%). Checks to fix: "
                                         "task3_lr_schedule. Details in your feedback file.")
    assert rows["Participant 14"][9].startswith("Autograder: 0/10 points (0%). Not graded: ")
    filled = {(r, c) for r in (1, 2, 3) for c in (4, 9)}
    assert_only_cells_changed(before, after, filled)
    assert b'"10.00"' in after  # quoted as Moodle quotes every field
    assert any("Li Wei (Moodle 15): not filled, Moodle says its grade cannot be changed" in line
               for line in written.lines)
    with zipfile.ZipFile(archive) as opened:
        names = sorted(opened.namelist())
        assert names == ["Li Wei_15_assignsubmission_file_/feedback.html",
                         "Smith, Anna_13_assignsubmission_file_/feedback.html",
                         "Zoë O'Neil_14_assignsubmission_file_/feedback.html",
                         "Änne Müller_12_assignsubmission_file_/feedback.html"]
        assert opened.read(names[3]) == "<p>Änne Müller_12</p>".encode()
    # Zoë is late by the worksheet's status; the ghost is not enrolled
    students = {s.submission: s.student for s in run.submissions}
    assert students["Zoë O'Neil_14"].late and not students["Änne Müller_12"].late
    kinds = [(n.kind, n.message.split(":")[0]) for n in run.notes]
    assert (NoteKind.UNKNOWN_STUDENT, "Ghost (Moodle 99)") in kinds
    assert (NoteKind.NO_SUBMISSION, "Jean-Luc Picard (Moodle 16) has no submission") in kinds


def test_moodle_feedback_folder_names_keep_the_id_readable():
    assert moodle.folder_name("Anne_Marie / Lee", "7") == "Anne Marie Lee_7_assignsubmission_file_"
    found = moodle.identify((moodle.folder_name("Anne_Marie Lee", "7"), "feedback.html"))
    assert found.student.id == "7"


def test_grader_faults_are_never_exported(canvas_gradebook, tmp_path):
    roster = canvas.read_gradebook(canvas_gradebook, "802")
    anna = Student("canvas", "4713", "Smith, Anna")
    run = GradingRun([result("smithanna_4713", anna, 0, status="error", fault="grader")])
    written = export(canvas, roster, run, tmp_path)
    rows = _rows((tmp_path / "lms" / "canvas-import.csv").read_bytes())
    assert rows[5][6] == ""
    assert written.lines[0] == ("Smith, Anna (Canvas 4713): not exported, the grader failed on "
                                "their submission (grade again once the grader is fixed)")


def test_points_and_comments():
    assert [format_points(v) for v in (20.0, 18.5, 0.0, 1 / 3, 2.005)] == ["20", "18.5", "0",
                                                                          "0.33", "2"]
    assert format_points(7.5, decimals=2) == "7.50"
    assert comment(result("x", None, 29 / 3)).startswith("Autograder: 9.67/10 points (97%).")
    unreadable = result("x", None, 0, status="error", fault="submission")
    assert comment(unreadable) == ("Autograder: 0/10 points (0%). Not graded: week5.ipynb is not "
                                   "valid JSON.")


def test_moodle_without_a_worksheet_writes_the_feedback_zip(moodle_folder, tmp_path, limits):
    intake = collect([moodle_folder], [moodle], tmp_path, limits)
    subs = [result(e.name, e.student, 5) for e in intake.named]
    (tmp_path / "feedback").mkdir()
    for sub in subs[:-1]:  # the last one has no page
        (tmp_path / "feedback" / feedback_filename(sub.submission)).write_text("page")
    written = export(moodle, None, GradingRun(subs), tmp_path)
    assert [p.name for p in written.files] == ["moodle-feedback.zip"]
    with zipfile.ZipFile(written.files[0]) as opened:
        assert len(opened.namelist()) == len(subs) - 1
    assert written.lines[0] == f"{subs[-1].student.name} (Moodle {subs[-1].student.id}): no " \
                               "feedback page to upload"
    again = export(moodle, None, GradingRun(subs), tmp_path)  # a rerun writes the same bytes
    assert again.files[0].read_bytes() == written.files[0].read_bytes()


def test_the_line_before_grading(canvas_zip, canvas_gradebook, tmp_path):
    from grader.lms.run import LmsOptions, prepare

    prepared = prepare([canvas_zip], tmp_path, LmsOptions("canvas", canvas_gradebook, "802"))
    assert prepared.summary() == (
        "Canvas download: 4 student(s), 5 file(s) to grade as theirs; "
        "2026-12-05T1200_Grades-EdgeAI.csv: 4 student(s), column "
        "'Week 5: Federated learning (802)'; 7 note(s) at the end")
    assert prepare([tmp_path / "none"], tmp_path, LmsOptions()).summary() is None
