"""Worker-side probes: call one student definition with plain-data arguments, report plain data.

Loaded by path by `worker.py` (as a package under a private name) before any student code runs;
imports nothing from `grader`. A probe only *observes*: it calls the student's code the way the
notebook would and describes what came back (arrays, numbers, call records, opaque tokens). Every
verdict is computed in the grader process, against the reference; nothing here decides pass or
fail.

Each probe is a function of its task's module, registered by name with `@probe`
(`table.py`); `PROBES` maps that name to the function, the worker's whole table. It takes the
student namespace `ns` first. An exception raised by student code propagates to the worker, which
turns it into an error reply with the student's traceback. Which check calls which probe is
declared once, in `grader/checks/registry.py`.

Modules: `plain` (values as plain data, numpy bound before student code loads), `table` (the
`@probe` decorator and `PROBES`), and one module per task, each imported here in name order (a new
module in this folder is found without being named anywhere).
"""
import importlib
import os

from .table import PROBES, probe

_HELPERS = ("__init__", "plain", "table")
for _file in sorted(os.listdir(os.path.dirname(os.path.abspath(__file__)))):
    if _file.endswith(".py") and _file[:-3].isidentifier() and _file[:-3] not in _HELPERS:
        importlib.import_module(f"{__name__}.{_file[:-3]}")  # registers its probes

from .task1 import IMAGE_BYTES, cifar_like, cifar_like_ids  # noqa: E402 - for the grader side

__all__ = ["IMAGE_BYTES", "PROBES", "cifar_like", "cifar_like_ids", "probe"]
