"""Run a command as an unprivileged user, as instructors run the grader (not root, as in CI).

As root, the command runs as `nobody` (setpriv, no supplementary groups) with a HOME and TMPDIR
it can write (the fixture `unprivileged_home`, tests/sandbox/conftest.py); as any other user,
as that user. Tests that need it skip where `nobody` cannot
read the project or the Python installation.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from tests.helpers import ROOT

NOBODY = 65534


def command(argv: list[str]) -> list[str]:
    """`argv` as the unprivileged user (unchanged when this process is not root)."""
    if os.geteuid() != 0:
        return argv
    return [shutil.which("setpriv") or "setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}",
            "--clear-groups", "--", *argv]


def why_not() -> str | None:
    """Why an unprivileged user cannot run the grader here (None: it can)."""
    if not sys.platform.startswith("linux"):
        return "not Linux"
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        return "no setpriv to drop root"
    probe = subprocess.run(command([sys.executable, "-c", "import grader, nbclient, numpy"]),
                           cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                           capture_output=True, text=True)
    if probe.returncode != 0:
        return f"the unprivileged user cannot import the grader: {probe.stderr[-300:]}"
    return None
