"""Terminal mode: run a notebook in a fresh kernel of this environment, then check it there.

The notebook runs as the grader runs it: `/kaggle/input` paths point at `--data DIR` (a folder
laid out like Kaggle's inputs: `cifar100/`, `kubeedge-sedna/lib/`; default: `/kaggle/input`
itself), `!pip`/`%pip` lines are skipped (the environment is what it is), the federated round
(`fl.train()`) is not started, and the kit's own cells run on its stand-in (`portable/standin.py`,
as under the grader: `check(...)` there checks nothing and passes, so a use of its result still
runs); the real check comes once, after the last cell. A cell that
fails does not stop the run: the check then says which cell left a definition missing, and
"not checked" where the course inputs were missing (no `--data DIR`, no `/kaggle/input`). A cell
past its timeout is interrupted and said; a kernel that dies ends the run with a verdict saying
where, never a traceback. The kernel talks over IPC sockets in a private folder where the
platform has them (no TCP port, no "running over TCP without encryption" warning).
Needs the `[run]` extra (nbclient, nbformat, ipykernel).
"""
from __future__ import annotations

import ast
import json
import logging
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Optional

KAGGLE_INPUT = "/kaggle/input"
MARK = "@@edge_ai_w5_selfcheck@@"
_SHELL = re.compile(r"^\s*[!%]{1,2}\s*pip\b.*$", re.MULTILINE)
_ROUND = re.compile(r"^(\s*)((\w+)\.train\(\s*\)\s*)$", re.MULTILINE)
# As the grader decides: a `.train()` in a cell that builds a FederatedLearningV2, or on a name
# some cell binds to one, starts the federated round.
_BUILDS_FL = re.compile(r"\bFederatedLearningV2\s*\(")
_FL_NAME = re.compile(r"^\s*(\w+)\s*=\s*(?:\w+\.)*FederatedLearningV2\s*\(", re.MULTILINE)


def federated_names(sources) -> frozenset:
    return frozenset(name for source in sources for name in _FL_NAME.findall(source))


def prepared_source(source: str, data_dir: Optional[str],
                    fl_names: frozenset = frozenset()) -> str:
    """The cell as the kit runs it."""
    if data_dir:
        source = source.replace(KAGGLE_INPUT, str(data_dir).rstrip("/"))
    source = _SHELL.sub(lambda m: "# (skipped by the self-check) " + m.group(0).strip(), source)
    builds = bool(_BUILDS_FL.search(source))

    def skip(match) -> str:
        if not (builds or match.group(3) in fl_names):
            return match.group(0)
        return (f"{match.group(1)}pass  # (the self-check does not start the federated round) "
                f"{match.group(2).strip()}")

    return _ROUND.sub(skip, source)


def standin_source() -> str:
    """The run's first cell: the kit's stand-in registered for the notebook's own cells."""
    from edge_ai_w5_selfcheck.portable import standin

    return standin.bootstrap_line()


def check_source(ids=(), why_missing=None, note: str = "", cell_failed=None) -> str:
    args = "".join(f"{i!r}, " for i in ids)
    return ("import json as _kit_json, sys as _kit_sys\n"
            "for _kit_name in [n for n in _kit_sys.modules if n.split('.')[0] == "
            "'edge_ai_w5_selfcheck']:\n"
            "    if getattr(_kit_sys.modules[_kit_name], '__grader_standin__', False):\n"
            "        del _kit_sys.modules[_kit_name]\n"
            "from edge_ai_w5_selfcheck import check as _kit_check\n"
            f"_kit_results = _kit_check({args}show=False, why_missing={why_missing or {}!r}, "
            f"cell_failed={cell_failed or {}!r}, note={note!r})\n"
            f"print(str(_kit_results))\n"
            f"print({MARK!r} + _kit_json.dumps(_kit_results.to_dict()))\n")


def _outputs_text(cell) -> str:
    return "".join(out.get("text", "") for out in cell.get("outputs", ())
                   if out.get("output_type") == "stream")


def _error(cell) -> Optional[str]:
    for out in cell.get("outputs", ()):
        if out.get("output_type") == "error":
            return f"{out.get('ename', 'Error')}: {out.get('evalue', '')}".rstrip(": ")
    return None


def bound_names(source: str) -> set:
    """The names a cell binds at its top level (definitions, assignments, imports)."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        tree = ast.parse(TransformerManager().transform_cell(source))
    except (ImportError, SyntaxError, ValueError):
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
    return names


# What a missing input makes a cell raise: a file or folder not found, the course library not
# importable, or a name an earlier such cell did not define.
_INPUT_ERRORS = ("FileNotFoundError", "ModuleNotFoundError", "ImportError", "OSError",
                 "NotADirectoryError", "NameError", "SystemExit")  # SystemExit: Plato's Config()
                 # parsing the kernel's argv where the course's configuration module is missing
NO_INPUTS = "run with --data DIR or on Kaggle with the datasets attached"
LAYOUT = "a folder laid out like Kaggle's /kaggle/input: cifar100/, kubeedge-sedna/lib/"


def why_missing(failed: list, inputs_missing: bool) -> tuple[dict, dict]:
    """(name -> why it is not checked, name -> why it failed) for the names of cells that
    failed (`failed`: (cell number, source, error) per failed cell, in order): not checked where
    the course inputs are missing and the error is one a missing input makes, else failed."""
    unchecked: dict = {}
    broken: dict = {}
    for number, source, error in failed:
        inputs = inputs_missing and error.split(":")[0] in _INPUT_ERRORS
        for name in sorted(bound_names(source)):
            if inputs:
                unchecked.setdefault(name, f"the cell that defines `{name}` (code cell {number}) "
                                           f"failed because the course inputs are missing "
                                           f"({error}); {NO_INPUTS}")
            else:
                broken.setdefault(name, f"`{name}` is not defined: the cell that defines it (code "
                                        f"cell {number}) failed with {error}. Fix that cell "
                                        "first; the grader runs it too.")
    return unchecked, broken


def kernel_manager(work: str, kernel_name: str = "python3", asynchronous: bool = True):
    """A kernel manager (nbclient's asynchronous kind, or the blocking one) on IPC sockets inside
    `work` where the platform has them, else TCP on the loopback (Windows)."""
    from jupyter_client import AsyncKernelManager, KernelManager

    kind = AsyncKernelManager if asynchronous else KernelManager
    if os.name == "posix":
        return kind(kernel_name=kernel_name, transport="ipc", ip=os.path.join(work, "kernel"))
    return kind(kernel_name=kernel_name, ip="127.0.0.1")


def _quiet_log() -> logging.Logger:
    log = logging.getLogger("edge_ai_w5_selfcheck.terminal")
    log.setLevel(logging.CRITICAL)
    log.propagate = False
    return log


def inputs_missing(data_dir: Optional[str]) -> bool:
    return not Path(data_dir or KAGGLE_INPUT).is_dir()


def run_notebook(path: Path, data_dir: Optional[str] = None, timeout: int = 600,
                 ids=(), kernel_name: str = "python3") -> tuple[str, dict]:
    """(the check's text, its results as a dict) after running `path` in a fresh kernel, in a
    temporary working directory (what the notebook writes stays out of the student's folder).
    The dict has "stopped" (a reason) where the kernel died, and "cell_problem" where a cell
    failed or was stopped."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    nb = nbformat.read(str(path), as_version=4)
    cells, numbers = [nbformat.v4.new_code_cell(standin_source())], [0]
    names = federated_names(c.source for c in nb.cells if c.cell_type == "code")
    code = [c for c in nb.cells if c.cell_type == "code"]
    for number, cell in enumerate(code, start=1):
        cells.append(nbformat.v4.new_code_cell(prepared_source(cell.source, data_dir, names)))
        numbers.append(number)
    run = nbformat.v4.new_notebook(cells=cells, metadata=nb.metadata)
    missing = inputs_missing(data_dir)
    with tempfile.TemporaryDirectory(prefix="selfcheck-") as work:
        client = NotebookClient(run, km=kernel_manager(work, kernel_name), timeout=timeout,
                                allow_errors=True, interrupt_on_timeout=True,
                                kernel_name=kernel_name, log=_quiet_log(),
                                resources={"metadata": {"path": work}})
        where = "while it started"
        try:
            with client.setup_kernel():
                failed = []
                for index, cell in enumerate(run.cells):
                    where = f"in code cell {numbers[index]}"
                    began = time.monotonic()
                    client.execute_cell(cell, index)
                    error = _error(cell)
                    if time.monotonic() - began >= timeout:  # interrupted by nbclient
                        error = f"stopped after {timeout} s (the time limit per cell, --timeout)"
                    if error is not None:
                        failed.append((numbers[index], cell.source, error))
                note = _note(failed, missing, data_dir)
                unchecked, broken = why_missing(failed, missing)
                check = nbformat.v4.new_code_cell(check_source(ids, unchecked, note, broken))
                run.cells.append(check)
                where = "while the self-check ran (a call of your code ended the kernel)"
                client.execute_cell(check, len(run.cells) - 1)
        except DeadKernelError:
            return _stopped(f"The notebook's kernel died {where}: its process ended (out of "
                            "memory, a crash in native code, or exit()/os._exit?). Nothing was "
                            "checked. Run the notebook in Jupyter to see where, fix it, and run "
                            "the self-check again.")
        except Exception as exc:  # noqa: BLE001 - any other failure of the run, said once
            return _stopped(f"The notebook could not be run {where} ({type(exc).__name__}: "
                            f"{exc}). Nothing was checked.")
    return parse(_outputs_text(run.cells[-1]), run.cells[-1])


def _note(failed: list, missing: bool, data_dir: Optional[str]) -> str:
    lines = []
    if missing:
        where = f"--data {data_dir} does not exist" if data_dir else (
            f"{KAGGLE_INPUT} does not exist here and no --data DIR was given")
        lines.append(f"The course inputs were not found ({where}): what needs them is not "
                     f"checked; {NO_INPUTS} (--data: {LAYOUT}).")
    if failed:
        number, _, error = failed[0]
        more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        lines.append(f"Code cell {number} failed{more}: {error}. The grader's notebook_runs "
                     "needs every cell to run.")
    return "\n".join(lines)


def _stopped(reason: str) -> tuple[str, dict]:
    from edge_ai_w5_selfcheck.results import Results

    results = Results((), (), reason)
    return str(results), {**results.to_dict(), "stopped": reason}


def parse(text: str, cell=None) -> tuple[str, dict]:
    for line in text.splitlines():
        if line.startswith(MARK):
            return text.replace(line, "").rstrip(), json.loads(line[len(MARK):])
    error = _error(cell or {})
    reason = error or "the check printed nothing"
    return _stopped(f"The self-check could not run in the notebook's kernel ({reason}).")
