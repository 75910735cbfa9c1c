"""Expected values from the reference notebook, computed in the grader process.

The reference notebook (`reference/exercise.ipynb`) is trusted course material. Its definitions
that need nothing but numpy (`parallel_seeded_choice`) are executed here, through the same
`Definitions.program` extraction the student's notebook goes through, and called directly: Task 1
compares against the reference's own output and Task 2 asks it which half of the training set a
seed keeps. Definitions that need the course stack (Task 3's Plato trainer, Task 4's Plato client)
are not executed in the grader; their checks compare against the behaviour the exercise states
(the learning-rate schedule, the calls the course's mock test expects), and the reference
notebook passing every check is part of the test suite.

Student code is never executed here.
"""
from __future__ import annotations

from typing import Any, Callable

NUMPY_ONLY = frozenset({"parallel_seeded_choice"})


class ReferenceMissing(LookupError):
    """The reference notebook lacks a definition or its definition fails (a course bug)."""


def reference_function(reference, name: str) -> Callable[..., Any]:
    """The reference's `name`, executed in a private namespace of the grader process."""
    if name not in NUMPY_ONLY:
        raise ValueError(f"{name} is not a numpy-only reference definition")
    if name not in reference:
        raise ReferenceMissing(f"the reference notebook does not define {name}")
    namespace: dict[str, Any] = {"__name__": "__reference__"}
    for snippet in reference.program([name]):
        code = compile("\n" * (snippet.line - 1) + snippet.source,
                       f"<reference cell {snippet.cell_id}>", "exec")
        exec(code, namespace)  # noqa: S102 - trusted course material, never student code
    return namespace[name]
