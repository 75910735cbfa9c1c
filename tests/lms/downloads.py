"""A class as the platforms hand it over, built in code: download archives, gradebook files
and graded results, without grading anything.

Canvas: five students in the gradebook export (BOM, CRLF, quoted names with commas, three
assignments, a Points Possible row, a posting-policy row, the Test Student):
- Müller, Jürgen (4711): late, a re-upload (`week5-1.ipynb`);
- O'Brien, Seán (4712): two notebooks and a PDF;
- Smith, Anna (4713): one notebook;
- Doe, Jane (4714): no submission;
- Student, Test (4799): Canvas's own stand-in, never listed;
and in the download a student the gradebook does not know (9999), a stray notebook and a text
file whose names fit no pattern, and macOS junk.

Moodle: a folder per student (`Änne Müller`, `Smith, Anna`, `Zoë O'Neil`; Zoë's worksheet
status says late), one flat file (`Li Wei`), an enrolled student without a submission
(`Jean-Luc Picard`) and an unknown participant (99); the worksheet quotes every field, as Moodle
writes it.
"""
from __future__ import annotations

import codecs
import io
import json
import zipfile
from pathlib import Path

from grader.results.model import CheckResult, SubmissionResult, Student

NOTEBOOK = json.dumps({"cells": [{"cell_type": "code", "id": "c0", "metadata": {},
                                  "execution_count": None, "outputs": [], "source": "x = 1"}],
                       "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()


def notebook_bytes(tag: str) -> bytes:
    """A small notebook whose content (and hash) differs by `tag`."""
    data = json.loads(NOTEBOOK)
    data["cells"][0]["source"] = f"x = {tag!r}"
    return json.dumps(data).encode()


CANVAS_FILES = {
    "mullerjurgen_LATE_4711_90001_week5-1.ipynb": notebook_bytes("jurgen"),
    "obriensean_4712_90002_week5.ipynb": notebook_bytes("sean"),
    "obriensean_4712_90003_scratch.ipynb": notebook_bytes("sean scratch"),
    "obriensean_4712_90004_report.pdf": b"%PDF-1.4 not a notebook",
    "smithanna_4713_90005_Week 5 (final).ipynb": notebook_bytes("anna"),
    "nobody_9999_90006_week5.ipynb": notebook_bytes("unknown"),
    "stray.ipynb": notebook_bytes("stray"),
    "README.txt": b"downloaded from Canvas",
    "__MACOSX/._stray.ipynb": b"junk",
}

CANVAS_GRADEBOOK = (
    "Student,ID,SIS User ID,SIS Login ID,Section,Week 4: Gradients (801),"
    "Week 5: Federated learning (802),Week 5 quiz (803),Current Points,Final Points,"
    "Current Score,Final Score\r\n"
    "    Points Possible,,,,,10.00,20.00,5.00,(read only),(read only),(read only),(read only)\r\n"
    ",,,,,Manual Posting,,Manual Posting,,,,\r\n"
    "\"Müller, Jürgen\",4711,S4711,mullerjurgen,\"Section A, Mon\",8.50,,4.00,12.50,12.50,83.33,83.33\r\n"
    "\"O'Brien, Seán\",4712,S4712,obriensean,Section A,9.00,,5.00,14.00,14.00,93.33,93.33\r\n"
    "\"Smith, Anna\",4713,S4713,smithanna,\"Section \"\"B\"\"\",7.00,,3.00,10.00,10.00,66.67,66.67\r\n"
    "\"Doe, Jane\",4714,S4714,doejane,Section A,6.00,,2.50,8.50,8.50,56.67,56.67\r\n"
    "\"Student, Test\",4799,,,Section A,,,,0.00,0.00,,\r\n"
)

MOODLE_FILES = {
    "Änne Müller_12_assignsubmission_file_/week5.ipynb": notebook_bytes("anne"),
    "Smith, Anna_13_assignsubmission_file_/my work/week5.ipynb": notebook_bytes("anna m"),
    "Zoë O'Neil_14_assignsubmission_file_/Week5.IPYNB": notebook_bytes("zoe"),
    "Zoë O'Neil_14_assignsubmission_onlinetext_onlinetext.html": b"<p>see notebook</p>",
    "Li Wei_15_assignsubmission_file_week5.ipynb": notebook_bytes("li"),
    "Ghost_99_assignsubmission_file_/week5.ipynb": notebook_bytes("ghost"),
}

_MOODLE_HEADER = ["Identifier", "Full name", "Email address", "Status", "Grade", "Maximum Grade",
                  "Grade can be changed", "Last modified (submission)", "Last modified (grade)",
                  "Feedback comments"]
_MOODLE_ROWS = [
    ["Participant 12", "Änne Müller", "anne@example.org", "Submitted for grading", "", "10.00",
     "Yes", "Friday, 4 December 2026, 10:00 AM", "-", ""],
    ["Participant 13", "Smith, Anna", "anna@example.org", "Submitted for grading", "", "10.00",
     "Yes", "Friday, 4 December 2026, 11:00 AM", "-", ""],
    ["Participant 14", "Zoë O'Neil", "zoe@example.org",
     "Submitted for grading - Assignment was submitted 1 day 2 hours late", "", "10.00", "Yes",
     "Saturday, 5 December 2026, 1:00 PM", "-", ""],
    ["Participant 15", "Li Wei", "li@example.org", "Submitted for grading", "", "10.00", "No",
     "Friday, 4 December 2026, 9:00 AM", "-", ""],
    ["Participant 16", "Jean-Luc Picard", "jl@example.org", "No submission", "", "10.00", "Yes",
     "-", "-", ""],
]


def moodle_worksheet(line_end: str = "\n", bom: bool = False) -> bytes:
    """The worksheet as Moodle writes it: every field quoted."""
    lines = [",".join('"' + c.replace('"', '""') + '"' for c in row)
             for row in [_MOODLE_HEADER, *_MOODLE_ROWS]]
    return (codecs.BOM_UTF8 if bom else b"") + (line_end.join(lines) + line_end).encode()


def zip_of(files: dict[str, bytes], utf8_flag: bool = True) -> bytes:
    """A zip of `files`; `utf8_flag` False: UTF-8 names without Zip's UTF-8 flag, as older
    tools (and some platforms) write them."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, (2026, 12, 4, 10, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    data = bytearray(buffer.getvalue())
    if not utf8_flag:  # clear bit 11 in every local and central header
        for signature, offset in ((b"PK\x03\x04", 7), (b"PK\x01\x02", 9)):
            at = data.find(signature)
            while at >= 0:
                data[at + offset] &= ~0x08
                at = data.find(signature, at + 4)
    return bytes(data)


def write_files(folder: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return folder


def result(name: str, student: Student | None, score: float, max_score: float = 10.0,
           status: str = "graded", fault: str | None = None) -> SubmissionResult:
    """A graded row: `score` of `max_score` over two checks (the second fails when points are
    lost), or an error row (`status` "error", `fault` "submission" or "grader")."""
    if status == "error":
        sub = SubmissionResult.from_error(name, "", "week5.ipynb is not valid JSON.", [
            CheckResult("task1_seeded_choice", "error", 0.0, max_score, fault=fault)], fault=fault)
    else:
        lost = max_score - score
        sub = SubmissionResult(name, "a" * 64, checks=[
            CheckResult("task1_seeded_choice", "passed", max_score / 2, max_score / 2),
            CheckResult("task3_lr_schedule", "failed" if lost else "passed", max_score / 2 - lost,
                        max_score / 2)])
    sub.student = student
    return sub
