"""Point the course's Kaggle input paths at the run directory's offline course environment."""
from __future__ import annotations

from traitlets import Unicode

from .base import SourcePreprocessor

KAGGLE_INPUT = "/kaggle/input"


class MapKaggleInput(SourcePreprocessor):
    run_dir = Unicode(help="Run directory holding kaggle/input (see grader.environment.layout)")

    def rewrite(self, source: str) -> str:
        return source.replace(KAGGLE_INPUT, f"{self.run_dir.rstrip('/')}{KAGGLE_INPUT}")
