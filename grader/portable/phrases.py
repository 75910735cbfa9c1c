"""Numbers, positions and arrays in the words of the feedback: `[8 9 7 4]`, '2 arrays', '3rd'."""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

MAX_SHOWN = 16


def array_text(array: np.ndarray, limit: int = MAX_SHOWN) -> str:
    """`[8 9 7 4]`, the first `limit` values of a longer 1-D array, or the shape and dtype."""
    if array.ndim == 1 and array.size <= limit:
        return np.array2string(array, separator=" ", max_line_width=10_000)
    if array.ndim == 1:
        head = np.array2string(array[:limit], separator=" ", max_line_width=10_000)
        return f"{head[:-1]} ...] ({array.size} elements)"
    return f"an array of shape {tuple(array.shape)} ({array.dtype})"


def positions(found: Optional[Sequence[Optional[int]]], limit: int = MAX_SHOWN) -> str:
    """`[3 0 ?]`: positions in a source array; None or a negative one is unknown."""
    if found is None:
        return "(positions unknown)"
    shown = ["?" if p is None or p < 0 else str(p) for p in list(found)[:limit]]
    more = f" ... ({len(found)} in all)" if len(found) > limit else ""
    return "[" + " ".join(shown) + more + "]"


def plural(count: int, word: str, words: Optional[str] = None) -> str:
    return f"{count} {word if count == 1 else (words or word + 's')}"


def ordinal(index: int) -> str:
    """1-based, for students: ordinal(0) == '1st'."""
    number = index + 1
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10,
                                                                                   "th")
    return f"{number}{suffix}"
