"""Helpers of the release tests."""
from __future__ import annotations

from pathlib import Path

from grader.release.build import Release


def release_copy(release: Release, dest: Path) -> Release:
    """A copy of the release folder to tamper with."""
    import shutil

    shutil.copytree(release.out, dest)
    return Release(dest, dest / release.notebook.name, dest / release.wheel.name, dest / release.readme.name)
