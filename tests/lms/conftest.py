"""Fixtures of the learning-platform tests: downloads and gradebook files as the platforms give
them (tests/lms/downloads.py), written into a test's own folder."""
from __future__ import annotations

from pathlib import Path

import pytest

from grader.lms.archive import ArchiveLimits
from tests.lms import downloads


@pytest.fixture
def limits() -> ArchiveLimits:
    """The declared archive limits."""
    return ArchiveLimits()


@pytest.fixture
def canvas_zip(tmp_path) -> Path:
    path = tmp_path / "submissions.zip"
    path.write_bytes(downloads.zip_of(downloads.CANVAS_FILES))
    return path


@pytest.fixture
def canvas_gradebook(tmp_path) -> Path:
    """The gradebook export with a BOM and CRLF line ends, as Canvas writes it."""
    path = tmp_path / "2026-12-05T1200_Grades-EdgeAI.csv"
    path.write_bytes(b"\xef\xbb\xbf" + downloads.CANVAS_GRADEBOOK.encode())
    return path


@pytest.fixture
def moodle_folder(tmp_path) -> Path:
    return downloads.write_files(tmp_path / "EdgeAI-Week 5-12345", downloads.MOODLE_FILES)


@pytest.fixture
def moodle_worksheet(tmp_path) -> Path:
    path = tmp_path / "Grades-EdgeAI-Week 5-12345.csv"
    path.write_bytes(downloads.moodle_worksheet())
    return path
