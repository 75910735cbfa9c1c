"""Where the course material lies (the reference notebook the grader compares with), and what it
shows as examples."""
from __future__ import annotations

from pathlib import Path

REFERENCE = Path(__file__).resolve().parent.parent / "reference" / "exercise.ipynb"
"""The instructor's solved notebook: the reference of every check, client B of the federated round."""

EXAMPLE_SEEDS = {
    42: "the notebook's own example and test seed (seed = 42, TEST_SEED = 42)",
    19891217: "the birthdate of the course's example answer (the exported notebook, the reference)",
    0: "the seed of the notebook's first example client (dataset_for_seed(i, ...))",
    1: "the seed of the notebook's second example client (dataset_for_seed(i, ...))",
}
"""Seeds the course material shows as examples. MY_RANDOM_SEED picks each student's half of
CIFAR-100, so a student who copies one of these does not get a personal half."""
