"""Skip the cell that joins the federation: outside the federated round it would wait forever."""
from __future__ import annotations

import re
from typing import Iterable

from .base import GRADER_TAG, SourcePreprocessor

# The course cell builds `FederatedLearningV2(...)` and calls `.train()` on it; students rename
# the variable, so any `.train()` call in a cell that builds a FederatedLearningV2 counts. Students
# also split it: `fl = FederatedLearningV2(...)` in one cell, `fl.train()` in a later one, so a
# `.train()` on a name some cell binds to a FederatedLearningV2 counts too.
_BUILDS_FL = re.compile(r"\bFederatedLearningV2\s*\(")
_TRAIN_CALL = re.compile(r"^(\s*)((\w+)\.train\(\s*\))", re.MULTILINE)
_FL_NAME = re.compile(r"^\s*(\w+)\s*=\s*(?:\w+\.)*FederatedLearningV2\s*\(", re.MULTILINE)


def federated_names(sources: Iterable[str]) -> frozenset[str]:
    """The names the notebook's cells bind to a `FederatedLearningV2(...)`."""
    return frozenset(m.group(1) for source in sources for m in _FL_NAME.finditer(source))


def _joins(source: str, call: re.Match, names: Iterable[str]) -> bool:
    return bool(_BUILDS_FL.search(source)) or call.group(3) in names


def is_federated_cell(source: str, names: Iterable[str] = ()) -> bool:
    """Does this cell join the federation? `names`: see `federated_names`."""
    return any(_joins(source, call, names) for call in _TRAIN_CALL.finditer(source))


class SkipFederatedTraining(SourcePreprocessor):
    def preprocess(self, nb, resources):
        self._names = federated_names(c.source for c in nb.cells if c.cell_type == "code")
        return super().preprocess(nb, resources)

    def rewrite(self, source: str) -> str:
        names = getattr(self, "_names", frozenset())
        return _TRAIN_CALL.sub(
            lambda m: (f"{m.group(1)}pass  # {GRADER_TAG} federated round not run here: {m.group(2)}"
                       if _joins(source, m, names) else m.group(0)), source)
