"""The student release, built ONCE per session through the CLI (`python -m grader release`)."""
from __future__ import annotations


import pytest

from grader.release.build import NOTEBOOK_NAME, README_NAME, Release


@pytest.fixture(scope="session")
def release(tmp_path_factory) -> Release:
    from grader.cli import main

    out = tmp_path_factory.mktemp("release") / "student"
    assert main(["release", "--out", str(out)]) == 0
    [wheel] = out.glob("*.whl")
    return Release(out, out / NOTEBOOK_NAME, wheel, out / README_NAME)
