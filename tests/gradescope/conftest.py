"""Fixtures of the Gradescope tests: the bundle built once per module, and simulated
`/autograder` trees with the bundle unpacked as Gradescope does, whose `run_autograder` runs with
this interpreter (the course stack) instead of the one setup.sh would install."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader.gradescope.autograde import AutograderTree
from grader.gradescope.bundle import build_bundle
from tests.helpers import schema_validator

SCHEMA = Path(__file__).with_name("results.schema.json")


@pytest.fixture(scope="session")
def results_schema():
    """Gradescope's results.json format as a JSON Schema validator (results.schema.json)."""
    return schema_validator(SCHEMA)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    """The autograder zip of this project."""
    return build_bundle(tmp_path_factory.mktemp("bundle") / "autograder.zip")


def unpack(zip_path: Path, into: Path) -> None:
    """Unpack as `unzip` does: files with the modes the zip records."""
    with zipfile.ZipFile(zip_path) as archive:
        for info in archive.infolist():
            target = Path(archive.extract(info, into))
            if info.external_attr >> 16:
                target.chmod((info.external_attr >> 16) & 0o777)


@dataclass(frozen=True)
class Tree(AutograderTree):
    """A simulated /autograder: `source/` (the bundle), `submission/`, `results/`; `tmp` is the
    grader's temporary folder."""

    tmp: Path

    def submit(self, name: str, data: bytes | str) -> Path:
        path = self.submission / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        return path

    def run(self, python: str = sys.executable, timeout: float = 120) -> subprocess.CompletedProcess:
        """`run_autograder` as Gradescope runs it (from the root, the script itself executed)."""
        env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
        env.update(AUTOGRADER_ROOT=str(self.root), AUTOGRADER_PYTHON=python, TMPDIR=str(self.tmp))
        return subprocess.run([str(self.root / "source" / "run_autograder")], cwd=self.root,
                              env=env, capture_output=True, text=True, timeout=timeout)

    def results_json(self) -> dict:
        return json.loads(self.results.read_text(encoding="utf-8"))


@pytest.fixture
def tree(bundle, tmp_path):
    """A fresh simulated /autograder with the bundle in `source/` and an empty submission."""
    root = tmp_path / "autograder"
    unpack(bundle.path, root / "source")
    (root / "submission").mkdir()
    tmp = Path(tempfile.mkdtemp(prefix="gst-", dir="/tmp"))  # short: kernels' IPC socket paths
    yield Tree(root, tmp)
    shutil.rmtree(tmp, ignore_errors=True)
