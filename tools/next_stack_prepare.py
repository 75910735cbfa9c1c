"""Prepare the next-stack run on the PINNED side: the run folder, the sanitized notebook, the kit.

Run with the pinned course stack's python (it imports the grader, which the next stack may not
import). For one stack it writes into WORK:

    WORK/run/                the course's /kaggle/input tree (grader.environment.layout), with
                             `plato` pointing at the plato package of THAT stack (--plato-dir)
    WORK/notebook.ipynb      the reference as the grader runs it (grader.notebook.preprocessors:
                             paths mapped, `!pip` neutralized, the fl.train() cell skipped)
    WORK/env.json            the student environment of the run (layout.student_env)
    WORK/kit/                the self-check kit's wheel built by `grader release` (--kit only)

Usage: python tools/next_stack_prepare.py WORK --plato-dir DIR [--kit] [--notebook NB]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import nbformat  # noqa: E402

from grader.environment import data, layout  # noqa: E402
from grader.notebook.preprocessors import sanitize  # noqa: E402
from grader.pipeline import REFERENCE  # noqa: E402


def prepare(work: Path, plato_dir: Path, notebook: Path = REFERENCE, kit: bool = False) -> dict:
    work = Path(work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    run = layout.build_run_dir(work / "run", data.resolve_data_dir(), plato_dir=Path(plato_dir))
    nb = sanitize(nbformat.read(str(notebook), as_version=4), run.root)
    nbformat.write(nb, str(work / "notebook.ipynb"))
    env = run.env()
    (work / "env.json").write_text(json.dumps(env, indent=1), encoding="utf-8")
    made = {"notebook": str(work / "notebook.ipynb"), "run": str(run.root),
            "kaggle_input": str(run.kaggle_input), "work_dir": str(run.work_dir),
            "env": str(work / "env.json")}
    if kit:
        from grader.release.build import build_release

        made["kit_wheel"] = str(build_release(work / "kit").wheel)
    return made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("work", type=Path)
    parser.add_argument("--plato-dir", type=Path, required=True,
                        help="the plato package folder of the stack the run is for")
    parser.add_argument("--notebook", type=Path, default=REFERENCE)
    parser.add_argument("--kit", action="store_true", help="also build the kit's wheel")
    args = parser.parse_args(argv)
    print(json.dumps(prepare(args.work, args.plato_dir, args.notebook, args.kit)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
