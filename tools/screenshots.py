"""Regenerate the README's pictures (docs/img/*.png) from a real grading run.

    PYTHONPATH=. .tox/course-stack/bin/python tools/screenshots.py [--fl-round on|off] [--keep DIR]
    PYTHONPATH=. .tox/course-stack/bin/python tools/screenshots.py --graded DIR   # pictures only

Grades a few of the bundled sample submissions with `python -m grader grade` (by default with
the federated round, so the pages show what a student really reads), then opens a feedback page
and the class report in headless Chromium (`chromium`; Debian: `apt-get install -y chromium`)
and saves them, reduced to a small palette so the committed files stay small. Nothing leaves the
machine: the pages fetch nothing and every host name resolves to nothing.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "fixtures" / "submissions"
IMAGES = ROOT / "docs" / "img"

CLASS = ("reference", "task1_two_arrays_only", "task3_off_by_one", "task4b_no_testset")
"""The graded class: full marks, and three single mistakes of different tasks."""
FEEDBACK_OF = "task3_off_by_one"
"""Whose feedback page is shown: a failed property with its counterexample, and the round."""
WIDTH = 900
HEIGHTS = {"feedback": 1250, "report": 1500}
COLOURS = 96


def grade(folder: Path, out: Path, fl_round: str) -> None:
    for name in CLASS:
        shutil.copy(SAMPLES / f"{name}.ipynb", folder / f"{name}.ipynb")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "grader", "grade", str(folder), "--out", str(out),
                           "--fl-round", fl_round], cwd=ROOT, env=env)
    if done.returncode not in (0, 1):  # 1: some submissions lost points or could not be graded
        raise SystemExit(f"grading failed with exit status {done.returncode}")


def browser() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    raise SystemExit("headless Chromium not found (Debian: apt-get install -y chromium)")


def screenshot(page: Path, png: Path, height: int, profile: Path) -> None:
    """`page` as a fresh headless Chromium shows it in a WIDTH x `height` window."""
    profile.mkdir(parents=True, exist_ok=True)
    command = [
        browser(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-extensions", "--hide-scrollbars", "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--user-data-dir={profile}", f"--window-size={WIDTH},{height}", f"--screenshot={png}",
        page.resolve().as_uri(),
    ]
    subprocess.run(command, capture_output=True, timeout=120, cwd=profile, check=False)
    if not png.is_file():
        raise SystemExit(f"Chromium saved no screenshot of {page}")


def small(png: Path, target: Path) -> None:
    """`png` reduced to COLOURS colours (text and tables survive it) and saved as `target`."""
    from PIL import Image

    with Image.open(png) as image:
        reduced = image.convert("RGB").quantize(COLOURS, method=Image.Quantize.MEDIANCUT)
        reduced.save(target, optimize=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fl-round", choices=("on", "off"), default="on",
                        help="run the federated round (default: on, ~1 min a notebook on a CPU)")
    parser.add_argument("--keep", type=Path, help="also keep the grading output in this folder")
    parser.add_argument("--graded", type=Path,
                        help="take the pages from this earlier output (--keep) instead of grading")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="screenshots-") as tmp:
        work = Path(tmp)
        out = args.graded or args.keep or work / "grades"
        if args.graded is None:
            (work / "class").mkdir()
            grade(work / "class", out, args.fl_round)
        pages = {"feedback": out / "feedback" / f"{FEEDBACK_OF}.html", "report": out / "report.html"}
        for name, page in pages.items():
            raw = work / f"{name}.png"
            screenshot(page, raw, HEIGHTS[name], work / "profile")
            small(raw, IMAGES / f"{name}.png")
            print(f"{IMAGES / f'{name}.png'}: {(IMAGES / f'{name}.png').stat().st_size // 1024} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
