"""python -m edge_ai_w5_selfcheck NOTEBOOK.ipynb [--data DIR] [--check ID ...]

Runs the notebook in a fresh kernel of this environment, then checks it; exit status 0 only when
every check passed (1: some did not, or a cell failed; 2: the notebook could not be run or
checked, e.g. its kernel died)."""
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
    if args.data and not Path(args.data).is_dir():
        print(f"--data {args.data}: no such folder (give a folder laid out like Kaggle's "
              "/kaggle/input: cifar100/, kubeedge-sedna/lib/)", file=sys.stderr)
        return 2
    try:
        from edge_ai_w5_selfcheck.terminal import run_notebook
        text, results = run_notebook(args.notebook, args.data, args.timeout, tuple(args.check))
    except (OSError, ValueError) as exc:  # not a notebook file (nbformat's NotJSONError, ...)
        print(f"{args.notebook} could not be read as a notebook ({type(exc).__name__}: {exc})",
              file=sys.stderr)
        return 2
    except ImportError as exc:
        print(f"the terminal mode needs nbclient, nbformat and ipykernel ({exc}); install them "
              "with: pip install 'edge_ai_w5_selfcheck[run]'", file=sys.stderr)
        return 2
    print(text)
    return exit_status(results)


def exit_status(results: dict) -> int:
    """0: every check passed and every cell ran; 1: not so; 2: nothing could be checked."""
    if results.get("stopped"):
        return 2
    return 0 if results.get("passed") and not results.get("note") else 1


if __name__ == "__main__":
    sys.exit(main())
