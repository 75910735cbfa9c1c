"""Where the course material lies: the reference notebook the grader compares with."""
from __future__ import annotations

from pathlib import Path

REFERENCE = Path(__file__).resolve().parent.parent / "reference" / "exercise.ipynb"
"""The instructor's solved notebook: the reference of every check, client B of the federated round."""
