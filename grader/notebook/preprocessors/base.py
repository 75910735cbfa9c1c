"""A preprocessor that rewrites the source of code cells, leaving a trace of what it changed."""
from __future__ import annotations

from nbconvert.preprocessors import Preprocessor

GRADER_TAG = "[grader]"


class SourcePreprocessor(Preprocessor):
    """Subclasses implement `rewrite(source) -> source`; other cell types pass through."""

    def rewrite(self, source: str) -> str:
        raise NotImplementedError

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code":
            cell.source = self.rewrite(cell.source)
        return cell, resources
