"""`grade --lms ... --gradebook ...`: bad input stops with exit status 2 and one clear sentence
before anything is graded (in-process: no grader starts); and one end-to-end run of a Canvas
archive that resumes from the gradebook the suite's pool batch already wrote."""
from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess

import pytest

from grader.cli import main
from grader.lms.grades import format_points
from tests.helpers import ROOT, SUBMISSIONS, grader_command, grader_env
from tests.lms import downloads


def _refused(capsys, tmp_path, *args) -> str:
    out = tmp_path / "grades"
    assert main(["grade", *map(str, args), "--out", str(out), "--fl-round", "off"]) == 2
    assert not (out / "grades.json").exists() and not (out / "gradebook.sqlite").exists()
    error = capsys.readouterr().err
    assert error.startswith("error: ") and "Traceback" not in error
    return error


def test_bad_inputs_stop_before_grading(capsys, tmp_path, canvas_zip, canvas_gradebook,
                                        moodle_worksheet):
    assert "is a Moodle file" in _refused(capsys, tmp_path, canvas_zip, "--lms", "canvas",
                                          "--gradebook", moodle_worksheet)
    assert "has 3 assignment columns" in _refused(capsys, tmp_path, canvas_zip, "--lms", "canvas",
                                                  "--gradebook", canvas_gradebook)
    assert "no assignment column 'Week 9'" in _refused(
        capsys, tmp_path, canvas_zip, "--lms", "canvas", "--gradebook", canvas_gradebook,
        "--assignment", "Week 9")
    assert "say whose file it is with --lms canvas|moodle" in _refused(
        capsys, tmp_path, canvas_zip, "--gradebook", canvas_gradebook)
    assert "unknown platform; known: canvas, moodle" in _refused(capsys, tmp_path, canvas_zip,
                                                                 "--lms", "blackboard")
    corrupt = tmp_path / "download.zip"
    corrupt.write_bytes(downloads.zip_of(downloads.CANVAS_FILES)[:200])
    assert "download.zip is not a readable zip archive" in _refused(capsys, tmp_path, corrupt,
                                                                    "--lms", "canvas")


@pytest.mark.slow
def test_a_canvas_archive_end_to_end_resumes_from_the_pools_gradebook(pool_batches, tmp_path):
    """Three sample notebooks in a Canvas download, graded through `grade --lms canvas`: the
    results of the suite's pool batch (the same notebooks, graded from a folder) are found again
    by their hashes after unpacking, so nothing is graded twice; the scores land on the students
    of the gradebook export, scaled to its points."""
    outs, runs, _ = pool_batches
    graded = {row["submission"]: row for row in
              json.loads((outs[0] / "grades.json").read_text())["submissions"]}
    files = {"smithanna_4713_90005_reference.ipynb": "reference",
             "mullerjurgen_LATE_4711_90001_week5-1.ipynb": "task1_global_seed",
             "obriensean_4712_90002_week5.ipynb": "correct_if_elif"}
    assert all(graded[stem]["status"] == "graded" for stem in files.values()), runs[0].stdout[-2000:]
    archive = tmp_path / "submissions.zip"
    archive.write_bytes(downloads.zip_of({name: (SUBMISSIONS / f"{stem}.ipynb").read_bytes()
                                          for name, stem in files.items()}))
    gradebook = tmp_path / "gradebook.csv"
    gradebook.write_bytes(b"\xef\xbb\xbf" + downloads.CANVAS_GRADEBOOK.encode())
    out = tmp_path / "grades"
    out.mkdir()
    shutil.copy(outs[0] / "gradebook.sqlite", out / "gradebook.sqlite")
    done = subprocess.run(grader_command(str(archive), "--lms", "canvas", "--gradebook",
                                         str(gradebook), "--assignment", "802", "--out", str(out),
                                         "--workers", "1"),
                          cwd=ROOT, env=grader_env(tmp_path), capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.stdout.count("unchanged, kept") == 3, done.stdout  # resumed: nothing regraded
    assert "Müller, Jürgen (Canvas 4711, late): graded" in done.stdout
    assert "note: Doe, Jane (Canvas 4714) has no submission" in done.stdout
    rows = list(csv.reader(io.StringIO((out / "lms" / "canvas-import.csv").read_text("utf-8-sig"),
                                       newline="")))
    by_id = {row[1]: row[6] for row in rows[3:]}
    for name, stem in files.items():
        row = graded[stem]
        student_id = name.split("_")[-3]
        assert by_id[student_id] == format_points(round(row["score"] / row["max_score"] * 20, 2))
    assert by_id["4714"] == ""
    document = json.loads((out / "grades.json").read_text())
    students = {s["submission"]: s["student"] for s in document["submissions"]}
    assert students["mullerjurgen_4711"] == {"platform": "canvas", "id": "4711",
                                             "name": "Müller, Jürgen", "late": True}
    assert "Müller, Jürgen (Canvas 4711, late)" in (out / "report.html").read_text()
    assert "Doe, Jane (Canvas 4714) has no submission" in (out / "report.html").read_text()
