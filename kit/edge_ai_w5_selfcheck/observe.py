"""Calling the student's definitions safely and describing what came back (numpy only)."""
from __future__ import annotations

import numbers
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Optional

import numpy as np

from edge_ai_w5_selfcheck.portable.phrases import (MAX_SHOWN, array_text, ordinal, plural,  # noqa: F401
                                                 positions)



@dataclass(frozen=True)
class Raised:
    """The student's code raised: a sentence part such as 'IndexError: list index out of range'."""

    text: str


def call(function: Callable, *args: Any, **kwargs: Any) -> Any:
    """The function's result, or Raised when it raised (KeyboardInterrupt still interrupts)."""
    try:
        return function(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - the student's exception is the verdict
        return raised(exc)


def raised(exc: BaseException) -> Raised:
    """'IndexError: list index out of range (line 9)': the line where it was raised."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (line {frames[-1].lineno})" if frames else ""
    return Raised(f"{type(exc).__name__}: {exc}{where}")


def type_name(value: Any) -> str:
    kind = type(value)
    module = getattr(kind, "__module__", "") or ""
    return kind.__qualname__ if module in ("builtins", "") else f"{module}.{kind.__qualname__}"


def short_repr(value: Any, limit: int = 200) -> str:
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001
        text = f"<{type_name(value)}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def plain_array(value: Any) -> Optional[np.ndarray]:
    """A numpy array with a plain dtype for `value`, or None when there is none."""
    try:
        if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
            value = value.detach().cpu().numpy()
        if isinstance(value, np.ndarray) or isinstance(value, (list, tuple, np.generic,
                                                               numbers.Number)):
            array = np.asarray(value.tolist() if isinstance(value, np.ndarray)
                               and value.dtype.kind == "O" else value)
        else:
            return None
    except Exception:  # noqa: BLE001
        return None
    return None if array.dtype.kind == "O" else array


def values(value: Any, limit: int = MAX_SHOWN) -> str:
    """`[8 9 7 4]`, or the shape and dtype of a bigger array (the grader's rendering)."""
    array = plain_array(value)
    return short_repr(value) if array is None else array_text(array, limit)
