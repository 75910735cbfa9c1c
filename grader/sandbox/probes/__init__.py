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
`@probe` decorator and `PROBES`), one module per task.
"""
from . import task1, task2, task3, task4  # noqa: F401 - each registers its probes
from .table import PROBES, probe
from .task1 import IMAGE_BYTES, cifar_like, cifar_like_ids

__all__ = ["IMAGE_BYTES", "PROBES", "cifar_like", "cifar_like_ids", "probe"]
