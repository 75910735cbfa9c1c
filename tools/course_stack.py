"""Create or update the ONE virtualenv that holds the pinned course stack, for every tox env.

tox 4 rebuilds an env whose name differs from the one that created its folder, so envs cannot
share a folder; and the stack (torch among it) is ~6 GB and minutes to install. So each tox env is
a thin, empty venv whose commands run this stack's interpreter, and this script (stdlib only)
keeps the stack in step with requirements.txt: it reinstalls only when the requirements or the
base Python change, under a file lock so parallel tox envs wait for one install.

Usage: python tools/course_stack.py STACK_DIR  (prints nothing when the stack is up to date)
"""
from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "requirements.txt"
STAMP = "course-stack.sha256"


def wanted_stamp() -> str:
    base = getattr(sys, "_base_executable", sys.executable)
    text = f"{REQUIREMENTS.read_text()}\n{base}\n{sys.version}"
    return hashlib.sha256(text.encode()).hexdigest()


def ensure(stack: Path) -> None:
    stack.parent.mkdir(parents=True, exist_ok=True)
    with open(stack.parent / f".{stack.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stamp = stack / STAMP
        want = wanted_stamp()
        if stamp.exists() and stamp.read_text() == want and (stack / "bin" / "python").exists():
            return
        print(f"course stack: installing {REQUIREMENTS.name} into {stack} (a few minutes, once)",
              flush=True)
        if not (stack / "bin" / "python").exists():
            shutil.rmtree(stack, ignore_errors=True)
            venv.EnvBuilder(with_pip=True).create(stack)
        stamp.unlink(missing_ok=True)  # an interrupted install is retried next time
        subprocess.run([str(stack / "bin" / "python"), "-m", "pip", "install", "--quiet",
                        "--disable-pip-version-check", "-r", str(REQUIREMENTS)], check=True)
        stamp.write_text(want)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    ensure(Path(sys.argv[1]))
