"""`gradescope-bundle`: what the autograder zip holds (and what it must not), its scripts, and the
command line. In-process, no notebook runs."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader.gradescope import bundle as gs_bundle
from grader.gradescope.bundle import BundleError, build_bundle, python_version, torch_pins
from tests.helpers import ROOT


def members(path: Path) -> dict[str, zipfile.ZipInfo]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: info for info in archive.infolist()}


def read(path: Path, name: str) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return archive.read(name)


def test_the_scripts_sit_at_the_root_and_run_autograder_is_executable(bundle):
    infos = members(bundle.path)
    for script in ("setup.sh", "run_autograder"):
        assert (infos[script].external_attr >> 16) & 0o111 == 0o111, script
        assert read(bundle.path, script).startswith(b"#!/usr/bin/env bash\n"), script
    assert (infos["requirements.txt"].external_attr >> 16) & 0o111 == 0


def test_it_holds_the_grader_the_reference_and_the_pinned_stack(bundle):
    names = set(members(bundle.path))
    assert read(bundle.path, "requirements.txt") == (ROOT / "requirements.txt").read_bytes()
    assert read(bundle.path, "reference/exercise.ipynb") == (ROOT / "reference" / "exercise.ipynb").read_bytes()
    tracked = subprocess.run(["git", "ls-files", "grader"], cwd=ROOT, capture_output=True,
                             text=True).stdout.split()
    assert set(tracked) <= names  # every module, the rubric, the templates, the course site
    assert {"grader/__main__.py", "grader/checks/rubric.toml",
            "grader/gradescope/templates/run_autograder"} <= names
    assert any(n.startswith("grader/environment/site/") for n in names)
    assert {n for n in names if not n.startswith("grader/")} == {
        "setup.sh", "run_autograder", "requirements.txt", "reference/exercise.ipynb"}


def test_no_caches_tests_fixtures_or_gradebooks(bundle, tmp_path, monkeypatch):
    # junk a working tree gathers inside the package is left out too
    package = tmp_path / "grader"
    for junk in ("__pycache__/cli.cpython-311.pyc", "checks/task1.pyc", ".pytest_cache/x",
                 "grader.egg-info/PKG-INFO", "render/.hidden"):
        (package / junk).parent.mkdir(parents=True, exist_ok=True)
        (package / junk).write_text("junk")
    (package / "cli.py").write_text("")
    assert [p.relative_to(package).as_posix() for p in gs_bundle.package_files(package)] == ["cli.py"]
    for name in members(bundle.path):
        top = name.split("/")[0]
        assert top in ("grader", "reference", "setup.sh", "run_autograder", "requirements.txt"), name
        assert "__pycache__" not in name and not name.endswith((".pyc", ".pyo")), name
        assert not any(part.startswith(".") for part in name.split("/")), name
    assert not any(n.startswith(("tests/", "fixtures/", "grades/", ".tox/", "student_template/"))
                   for n in members(bundle.path))


def test_the_scripts_are_filled_from_the_project_and_parse(bundle, tmp_path):
    setup = read(bundle.path, "setup.sh").decode()
    run = read(bundle.path, "run_autograder").decode()
    assert "@@" not in setup + run
    assert f"python{python_version()}" in setup and python_version() == "3.11"
    assert "torch==2.14.1 torchvision==0.29.1" in setup  # requirements.txt's pins, CPU wheels
    assert "reference/exercise.ipynb" in setup and '-r "$SOURCE/requirements.txt"' in setup
    assert 'ROOT="${AUTOGRADER_ROOT:-/autograder}"' in run and "gradescope-run" in run
    for name, text in (("setup.sh", setup), ("run_autograder", run)):
        (tmp_path / name).write_text(text)
        done = subprocess.run(["bash", "-n", str(tmp_path / name)], capture_output=True, text=True)
        assert done.returncode == 0, (name, done.stderr)


def test_the_same_project_gives_the_same_bytes(bundle, tmp_path):
    again = build_bundle(tmp_path / "again.zip")
    assert again.path.read_bytes() == bundle.path.read_bytes()
    assert not list(tmp_path.glob(".*partial"))


def test_pins_and_python_come_from_the_project_files(tmp_path):
    (tmp_path / "requirements.txt").write_text("torch==2.14.1  # pinned\nnumpy<2\n")
    with pytest.raises(BundleError, match="must pin torch and torchvision"):
        torch_pins(tmp_path)
    (tmp_path / "requirements.txt").write_text("torch==1.0\ntorchvision==2.0 # x\n")
    assert torch_pins(tmp_path) == "torch==1.0 torchvision==2.0"
    (tmp_path / "pyproject.toml").write_text('[project]\nrequires-python = "<4"\n')
    with pytest.raises(BundleError, match="names no lowest version"):
        python_version(tmp_path)


def test_an_unknown_template_field_is_refused():
    with pytest.raises(BundleError, match="unknown field @@ROOT@@"):
        gs_bundle.render_script("run_autograder", {"VENV": "/v"})


def test_the_command_line(tmp_path):
    out = tmp_path / "deep" / "autograder.zip"
    done = subprocess.run([sys.executable, "-m", "grader", "gradescope-bundle", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"Wrote {out}" in done.stdout and "setup.sh" in members(out)
    blocked = tmp_path / "file"
    blocked.write_text("")
    done = subprocess.run([sys.executable, "-m", "grader", "gradescope-bundle", "--out",
                           str(blocked / "autograder.zip")], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2 and "gradescope-bundle failed" in done.stderr
    assert "Traceback" not in done.stderr
