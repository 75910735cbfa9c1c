"""Sentences for students: what was expected, what was found, on which input.

Every message names the student's own definition and quotes concrete values, e.g.
"parallel_seeded_choice returned 2 arrays for 3 inputs: with seed=42, n=8 and 3 arrays ...".
Never a bare AssertionError.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from grader.portable.phrases import MAX_SHOWN, array_text, ordinal, plural, positions  # noqa: F401
from grader.sandbox.codec import Opaque
from grader.sandbox.process import describe_error


def values(value: Any, limit: int = MAX_SHOWN) -> str:
    """A short, numpy-style rendering of an array-like: `[8 9 7 4]`, or its shape and dtype."""
    if isinstance(value, Opaque):
        return f"a {value.type} ({value.repr})"
    if value is None:
        return "None"
    try:
        array = np.asarray(value)
    except Exception:  # noqa: BLE001
        return repr(value)[:200]
    if array.dtype.kind == "O":
        return repr(value)[:200]
    return array_text(array, limit)


def array_phrase(array: Any) -> str:
    """'an int64 array', 'a uint8 array of shape (10, 3072)', 'a Python list of int'."""
    if isinstance(array, list):
        kinds = sorted({type(item).__name__ for item in array}) or ["nothing"]
        return f"a Python list of {'/'.join(kinds)}"
    array = np.asarray(array)
    dtype = {"U": "str", "S": "bytes"}.get(array.dtype.kind, str(array.dtype))
    article = "an" if dtype.startswith(("i", "o")) else "a"  # an int64, a uint8
    if array.ndim == 1:
        return f"{article} {dtype} array"
    return f"{article} {dtype} array of shape {tuple(array.shape)}"


def raised(title: str, error: Any, where_input: str) -> str:
    """'parallel_seeded_choice raised IndexError: list index out of range (cell x, line 9, in f)
    with seed=0, ...'."""
    location = f" ({error.where})" if getattr(error, "where", "") else ""
    message = describe_error(error.type, error.message)
    return f"{title} raised {message}{location} {where_input}."


def lost(title: str, reason: str, detail: str, where_input: str, call_timeout: float) -> str:
    if reason == "timeout":
        return (f"{title} did not finish within {call_timeout:g} s {where_input} and was stopped "
                "(an endless loop, or far too much work for a small input?).")
    if reason == "died":
        return f"{title} ended the worker process {where_input}: {detail}."
    return f"{title} could not be checked {where_input}: {detail}."


def missing(names: Sequence[str]) -> str:
    listed = ", ".join(f"`{n}`" for n in names)
    return (f"Your notebook does not define {listed} at the top level of a code cell, so this "
            "check could not run. Keep the names (and signatures) the template uses.")


def load_errors(errors: Sequence[Any]) -> str:
    """A note about statements that failed while the check loaded the student's definitions."""
    if not errors:
        return ""
    first = errors[0]
    more = f" (and {plural(len(errors) - 1, 'more statement')})" if len(errors) > 1 else ""
    return (f"Note: while loading your definitions, the statement at cell {first.cell_id}, "
            f"line {first.line} raised "
            f"{describe_error(first.error.type, first.error.message)}{more}.")


def passed(title: str, properties: int, inputs: int) -> str:
    return (f"{title}: all {plural(properties, 'property', 'properties')} held "
            f"({plural(inputs, 'input')} tried).")


def failed(title: str, held: int, total: int, messages: Sequence[str]) -> str:
    head = f"{title}: {held} of {plural(total, 'property', 'properties')} held."
    return "\n".join([head] + [f"- {m}" for m in messages])


def grader_error(title: str, exc: BaseException) -> str:
    return (f"The grader could not check {title} ({type(exc).__name__}: {exc}). This is a "
            "problem of the grader, not of your notebook; please report it.")
