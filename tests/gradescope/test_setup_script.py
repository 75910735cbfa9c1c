"""The bundle's setup.sh with stand-ins for apt-get, add-apt-repository and Python that log
their calls (Gradescope's image build needs root and internet): the steps, in order, and a failing
step stops the build."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.gradescope.conftest import unpack

STAND_IN = """#!/bin/sh
echo "$(/usr/bin/basename "$0") $*" >> "$LOG"
case "$0 $*" in
  *"-m venv "*) /bin/mkdir -p "$3/bin" && /bin/cp "$0" "$3/bin/python" ;;
  *"apt-get install"*python3.11-venv*) /bin/cp "$STAND_IN" "$STUBS/python3.11" ;;
  *"$FAIL"*) exit 1 ;;
esac
"""


def setup_run(bundle, tmp_path: Path, *, with_python: bool, fail: str = "never fails",
              apt_cache: bool = False):
    source = tmp_path / "autograder" / "source"
    unpack(bundle.path, source)
    stubs, log = tmp_path / "stubs", tmp_path / "calls.log"
    stubs.mkdir()
    stand_in = tmp_path / "stand-in"
    stand_in.write_text(STAND_IN)
    stand_in.chmod(0o755)
    names = (["apt-get", "add-apt-repository"] + (["python3.11"] if with_python else [])
             + (["apt-cache"] if apt_cache else []))
    for name in names:
        shutil.copy(stand_in, stubs / name)
    tools = tmp_path / "tools"  # what the script needs besides the stand-ins: no real Python
    tools.mkdir()
    for tool in ("bash", "dirname"):
        (tools / tool).symlink_to(shutil.which(tool))
    env = {"PATH": f"{stubs}:{tools}", "LOG": str(log), "STAND_IN": str(stand_in),
           "STUBS": str(stubs), "FAIL": fail, "AUTOGRADER_VENV": str(tmp_path / "venv"),
           "HOME": str(tmp_path)}
    done = subprocess.run([str(tools / "bash"), str(source / "setup.sh")], cwd=source, env=env,
                          capture_output=True, text=True, timeout=60)
    calls = log.read_text().splitlines() if log.exists() else []
    return done, calls, source


def test_on_an_image_without_python_3_11_it_comes_from_deadsnakes(bundle, tmp_path):
    done, calls, source = setup_run(bundle, tmp_path, with_python=False)
    assert done.returncode == 0, done.stdout + done.stderr
    venv = tmp_path / "venv"
    assert calls == [
        "apt-get update",
        "apt-get install -y --no-install-recommends ca-certificates libgl1 libglib2.0-0",
        "apt-get install -y --no-install-recommends software-properties-common gpg-agent",
        "add-apt-repository -y ppa:deadsnakes/ppa",
        "apt-get update",
        "apt-get install -y --no-install-recommends python3.11 python3.11-venv python3.11-dev",
        f"python3.11 -m venv {venv}",
        "python -m pip install --upgrade pip",
        "python -m pip install --index-url https://download.pytorch.org/whl/cpu torch==2.14.1 "
        "torchvision==0.29.1",
        f"python -m pip install -r {source}/requirements.txt",
        "python -m pip check",
        f"python -m grader check {source}/reference/exercise.ipynb",
    ]
    assert "the autograder is ready" in done.stdout


def test_an_image_with_python_3_11_keeps_it(bundle, tmp_path):
    done, calls, _ = setup_run(bundle, tmp_path, with_python=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not any("deadsnakes" in call for call in calls)
    assert calls[2] == f"python3.11 -m venv {tmp_path / 'venv'}"


def test_ubuntu_24_04_names_glib_t64(bundle, tmp_path):
    done, calls, _ = setup_run(bundle, tmp_path, with_python=True, apt_cache=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert calls[1:3] == ["apt-cache show libglib2.0-0t64", "apt-get install -y "
                          "--no-install-recommends ca-certificates libgl1 libglib2.0-0t64"]


def test_without_cpu_wheels_pypis_torch_is_installed(bundle, tmp_path):
    done, calls, _ = setup_run(bundle, tmp_path, with_python=True, fail="download.pytorch.org")
    assert done.returncode == 0 and "requirements.txt installs PyPI's" in done.stdout
    assert "python -m grader check" in calls[-1]


@pytest.mark.parametrize("fail", ["pip install -r", "pip check", "grader check"])
def test_a_failing_step_fails_the_build(bundle, tmp_path, fail):
    done, calls, _ = setup_run(bundle, tmp_path, with_python=True, fail=fail)
    assert done.returncode != 0 and "the autograder is ready" not in done.stdout
    assert fail in calls[-1]
