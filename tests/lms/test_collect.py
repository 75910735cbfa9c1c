"""Download names into students: each platform's regular expression, and the intake of a whole
download (an archive or its unpacked folder) with a line for every file not graded as a
student's notebook."""
from __future__ import annotations

import pytest

from grader.lms import PLATFORMS, canvas, moodle, platform
from grader.lms.collect import collect
from grader.lms.platform import LmsError
from grader.results.model import NoteKind, Student
from tests.lms import downloads

ALL = list(PLATFORMS.values())


@pytest.mark.parametrize("name, student, file", [
    ("smithanna_4713_90005_week5.ipynb", Student("canvas", "4713", "smithanna"), "week5.ipynb"),
    ("mullerjurgen_LATE_4711_90001_week5-1.ipynb",
     Student("canvas", "4711", "mullerjurgen", late=True), "week5-1.ipynb"),
    ("müllerjürgen_4711_90001_Week 5_v2.ipynb", Student("canvas", "4711", "müllerjürgen"),
     "Week 5_v2.ipynb"),
    ("anonymous_12_34_56_notes_7.ipynb", Student("canvas", "12", "anonymous"), "56_notes_7.ipynb"),
])
def test_canvas_names(name, student, file):
    found = canvas.identify((name,))
    assert found is not None and found.student == student and found.file == file


@pytest.mark.parametrize("parts, student, file", [
    (("Änne Müller_12_assignsubmission_file_", "week5.ipynb"), Student("moodle", "12", "Änne Müller"),
     "week5.ipynb"),
    (("Anne_Marie Lee_7_assignsubmission_file_", "sub", "a.ipynb"),
     Student("moodle", "7", "Anne_Marie Lee"), "sub/a.ipynb"),
    (("Li Wei_15_assignsubmission_file_week5.ipynb",), Student("moodle", "15", "Li Wei"),
     "week5.ipynb"),
    (("Zoë_14_assignsubmission_onlinetext_onlinetext.html",), Student("moodle", "14", "Zoë"),
     "onlinetext.html"),
])
def test_moodle_names(parts, student, file):
    found = moodle.identify(parts)
    assert found is not None and found.student == student and found.file == file


@pytest.mark.parametrize("name", ["week5.ipynb", "alice_week5.ipynb", "smith_12_week5.ipynb",
                                  "Anna_12_assignfeedback_file_x.html"])
def test_names_of_no_platform(name):
    assert all(p.identify((name,)) is None for p in ALL)


def test_an_unknown_platform_is_a_clear_error():
    with pytest.raises(LmsError, match="known: canvas, moodle"):
        platform("blackboard")


def _by_name(intake):
    return {entry.name: entry for entry in intake.named}


def test_a_canvas_archive(canvas_zip, tmp_path, limits):
    intake = collect([canvas_zip], ALL, tmp_path / "out", limits)
    named = _by_name(intake)
    assert set(named) == {"mullerjurgen_4711", "obriensean_4712__week5", "obriensean_4712__scratch",
                          "smithanna_4713", "nobody_9999"}
    jurgen = named["mullerjurgen_4711"]
    assert jurgen.student == Student("canvas", "4711", "mullerjurgen", late=True)
    assert jurgen.path.read_bytes() == downloads.CANVAS_FILES[jurgen.path.name]
    assert jurgen.path.is_relative_to(tmp_path / "out" / "submissions" / "submissions")
    assert [p.name for p in intake.paths] == ["stray.ipynb"]  # graded under its own name
    notes = [n.message for n in intake.notes]
    assert all(n.kind is NoteKind.FILE for n in intake.notes)
    assert any("stray.ipynb fits no download name of Canvas or Moodle" in n for n in notes)
    assert any("README.txt is not a notebook and fits no download name: not graded" in n
               for n in notes)
    assert any("report.pdf is not a notebook: not graded" in n for n in notes)
    assert any("handed in 2 notebooks (week5.ipynb, scratch.ipynb)" in n or
               "handed in 2 notebooks (scratch.ipynb, week5.ipynb)" in n for n in notes)
    assert any("skipped 1 hidden or system file" in n for n in notes)
    assert len(notes) == 5, notes


def test_the_unpacked_archive_reads_the_same(canvas_zip, tmp_path, limits):
    folder = downloads.write_files(tmp_path / "unpacked", downloads.CANVAS_FILES)
    from_folder = collect([folder], [canvas], tmp_path / "out1", limits)
    from_zip = collect([canvas_zip], [canvas], tmp_path / "out2", limits)
    assert {e.name: (e.student, e.path.read_bytes()) for e in from_folder.named} == \
        {e.name: (e.student, e.path.read_bytes()) for e in from_zip.named}
    assert len(from_folder.notes) == len(from_zip.notes) == 5


def test_a_moodle_folder(moodle_folder, tmp_path, limits):
    intake = collect([moodle_folder], [moodle], tmp_path / "out", limits)
    named = _by_name(intake)
    assert set(named) == {"Änne Müller_12", "Smith, Anna_13", "Zoë O'Neil_14", "Li Wei_15",
                          "Ghost_99"}
    assert named["Smith, Anna_13"].path.name == "week5.ipynb"
    assert named["Zoë O'Neil_14"].path.name == "Week5.IPYNB"
    assert intake.paths == []
    assert [n.message for n in intake.notes] == [
        "Zoë O'Neil (Moodle 14): onlinetext.html is not a notebook: not graded"]


def test_a_student_without_a_notebook_still_gets_a_row(tmp_path, limits):
    folder = downloads.write_files(tmp_path / "d", {"lee_5_6_essay.docx": b"PK not a notebook"})
    intake = collect([folder], ALL, tmp_path / "out", limits)
    assert [(e.name, e.path.name) for e in intake.named] == [("lee_5", "lee_5_6_essay.docx")]
    assert "handed in no notebook: essay.docx is graded" in intake.notes[0].message


def test_a_plain_folder_is_graded_as_before(tmp_path, limits):
    folder = downloads.write_files(tmp_path / "class", {"alice.ipynb": downloads.NOTEBOOK,
                                                        "notes.txt": b"x"})
    intake = collect([folder, tmp_path / "missing.ipynb"], ALL, tmp_path / "out", limits)
    assert intake.paths == [folder, tmp_path / "missing.ipynb"]
    assert intake.named == [] and intake.notes == []


def test_a_single_download_file_is_identified(tmp_path, limits):
    path = tmp_path / "smithanna_4713_90005_week5.ipynb"
    path.write_bytes(downloads.NOTEBOOK)
    intake = collect([path], ALL, tmp_path / "out", limits)
    assert [(e.name, e.student.id, e.root) for e in intake.named] == [("smithanna_4713", "4713",
                                                                        tmp_path)]


def test_only_the_named_platform_is_recognised(canvas_zip, tmp_path, limits):
    intake = collect([canvas_zip], [moodle], tmp_path / "out", limits)
    assert intake.named == [] and len(intake.paths) == 6  # every notebook, by its file name


def test_two_archives_of_one_name_unpack_side_by_side(canvas_zip, tmp_path, limits):
    other = tmp_path / "again" / canvas_zip.name
    other.parent.mkdir()
    other.write_bytes(downloads.zip_of({"leeann_7_8_week5.ipynb": downloads.NOTEBOOK}))
    intake = collect([canvas_zip, other], ALL, tmp_path / "out", limits)
    names = _by_name(intake)
    assert names["leeann_7"].path.read_bytes() == downloads.NOTEBOOK
    assert names["smithanna_4713"].path.is_file()  # not wiped by the second archive


def test_with_lms_a_folder_of_other_names_is_said_so(tmp_path, limits):
    folder = downloads.write_files(tmp_path / "renamed", {"alice.ipynb": downloads.NOTEBOOK})
    intake = collect([folder], [canvas], tmp_path / "out", limits, named_platform=True)
    assert intake.paths == [folder / "alice.ipynb"]
    assert intake.notes[0].message == ("renamed: alice.ipynb fits no download name of Canvas: "
                                       "graded under its file name, matched to no student")
