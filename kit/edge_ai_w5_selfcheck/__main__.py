"""python -m edge_ai_w5_selfcheck NOTEBOOK.ipynb [--data DIR] [--check ID ...]

Runs the notebook in a fresh kernel of this environment, then checks it; exit status 0 only when
every check passed (1: some did not, 2: the notebook could not be run)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m edge_ai_w5_selfcheck", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--data", help="a folder laid out like Kaggle's /kaggle/input "
                                       "(cifar100/, kubeedge-sedna/lib/); default: /kaggle/input")
    parser.add_argument("--check", action="append", default=[], metavar="ID",
                        help="only this check (repeatable)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell (600)")
    args = parser.parse_args(argv)
    if not args.notebook.is_file():
        print(f"no such notebook: {args.notebook}", file=sys.stderr)
        return 2
    if not args.data and not Path("/kaggle/input").is_dir():
        print("note: /kaggle/input does not exist here and no --data DIR was given: the cells that "
              "read the course's inputs will fail, and what they define will be missing.",
              file=sys.stderr)
    try:
        from edge_ai_w5_selfcheck.terminal import run_notebook
        text, results = run_notebook(args.notebook, args.data, args.timeout, tuple(args.check))
    except ImportError as exc:
        print(f"the terminal mode needs nbclient, nbformat and ipykernel ({exc}); install them "
              "with: pip install 'edge_ai_w5_selfcheck[run]'", file=sys.stderr)
        return 2
    print(text)
    return 0 if results.get("passed") else 1


if __name__ == "__main__":
    sys.exit(main())
