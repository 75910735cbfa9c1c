"""Fixtures of the sandbox tests."""
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.sandbox import unprivileged


@pytest.fixture
def unprivileged_home():
    """A short folder under /tmp that the unprivileged user of `tests/sandbox/unprivileged.py`
    can write (its HOME and TMPDIR; short: kernels' IPC socket paths), removed afterwards;
    the test is skipped where no unprivileged user can run the grader."""
    why = unprivileged.why_not()
    if why:
        pytest.skip(why)
    folder = Path(tempfile.mkdtemp(prefix="sbu-", dir="/tmp"))
    os.chmod(folder, 0o777)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
