"""Fixtures of the kit's tests: the kit's data file generated once per session, the kit's source
importable, and a run folder laid out like Kaggle's inputs (what the grader gives notebooks)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KIT_DIR = ROOT / "kit"
TEST_KEY = "00112233445566778899aabbccddeeff"


@pytest.fixture(scope="session")
def kit_data_file(tmp_path_factory) -> Path:
    from grader.release.exam import write_kit_data

    return write_kit_data(tmp_path_factory.mktemp("kit-data"), key=TEST_KEY)


@pytest.fixture(scope="session")
def kit(kit_data_file):
    """The kit package from the source tree, reading the session's data file."""
    if str(KIT_DIR) not in sys.path:
        sys.path.insert(0, str(KIT_DIR))
    import edge_ai_w5_selfcheck

    return edge_ai_w5_selfcheck


@pytest.fixture(scope="session")
def kaggle_input(tmp_path_factory) -> Path:
    """RUN/kaggle/input as the grader builds it (the course library, a small synthetic CIFAR-100:
    the kit checks definitions, so the notebooks' own data loading need not be full size)."""
    from grader.environment.data import resolve_data_dir
    from grader.environment.layout import build_run_dir

    data = resolve_data_dir(train_size=400, test_size=100,
                            cache_dir=tmp_path_factory.mktemp("cifar"))
    layout = build_run_dir(tmp_path_factory.mktemp("run"), data)
    return layout.data_dir.parent


def kernel_env(kit_data_file: Path) -> dict:
    """What a kernel running the kit from the source tree needs (never the project root)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(PYTHONPATH=str(KIT_DIR), EDGE_AI_W5_SELFCHECK_EXAM=str(kit_data_file),
               PYTHONDONTWRITEBYTECODE="1", MPLBACKEND="Agg")
    return env
