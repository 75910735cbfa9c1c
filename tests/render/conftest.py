"""Fixtures of the render tests."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.render.sample import write_sample


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> Path:
    """The sample class (tests/render/sample.py) rendered once per module: feedback pages,
    report.html and summary.json (nbconvert and matplotlib start slowly)."""
    out = tmp_path_factory.mktemp("grades")
    write_sample(out)
    return out
