"""Task 1 at the notebook's size (`notebook_sizes`) and `MY_RANDOM_SEED`, with numpy only.

The CIFAR-like inputs are built here (50,000 uint8 rows of 3072 bytes, ~0.1 s): row i encodes
its id in its first three bytes, labels are 1000 + id, so the rows a function returns tell which
positions it chose. A call is stopped after its CPU-time bound, as in the grader.
"""
from __future__ import annotations

import datetime
import numbers
import signal
import threading
import time
from typing import Callable

import numpy as np

from edge_ai_w5_selfcheck.portable.dates import date_problem
from edge_ai_w5_selfcheck.portable.seal import matches
from edge_ai_w5_selfcheck.observe import (Raised, call, plain_array, plural, raised, short_repr,
                                          type_name)

TITLE = "parallel_seeded_choice"
IMAGE_BYTES, LABEL_OFFSET = 3072, 1000
_BUILT: dict = {}


class _TooSlow(Exception):
    pass


def cifar_like(population: int):
    if population not in _BUILT:
        order = np.random.default_rng(0).permutation(population).astype(np.int64)
        pattern = (np.arange(IMAGE_BYTES) * 13 % 251).astype(np.uint8)
        images = pattern[None, :] + (order % 251).astype(np.uint8)[:, None]
        images[:, 0], images[:, 1], images[:, 2] = order >> 16, (order >> 8) & 255, order & 255
        where = np.empty(population, np.int64)
        where[order] = np.arange(population)
        _BUILT.clear()
        _BUILT[population] = (images, order, where)
    return _BUILT[population]


def _timed(function: Callable, arrays, seed: int, n: int, limit: float):
    """(result, cpu seconds, stopped)."""
    began = time.process_time()
    if threading.current_thread() is not threading.main_thread():
        result = call(function, arrays, seed, n)
        return result, time.process_time() - began, False

    def too_slow(signum, frame):
        raise _TooSlow()

    previous = signal.signal(signal.SIGPROF, too_slow)
    signal.setitimer(signal.ITIMER_PROF, limit)
    try:
        result = function(arrays, seed, n)
    except _TooSlow:
        return None, time.process_time() - began, True
    except Exception as exc:  # noqa: BLE001
        result = raised(exc)
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)
    return result, time.process_time() - began, False


def _describe(entry: dict) -> str:
    labels = "a Python list" if entry["labels"] == "list" else "a numpy array"
    passed_as = ", passed as a tuple" if entry["container"] == "tuple" else ""
    return (f"with seed={entry['seed']}, n={entry['n']:,} and {entry['population']:,} CIFAR-sized "
            f"images (uint8 rows of {IMAGE_BYTES} bytes) with their labels as {labels}"
            f"{passed_as}")


def notebook_sizes(function: Callable, entry: dict, key: str):
    """None when the call at the notebook's size held, else (message, actual, expected)."""
    population, n, limit = entry["population"], entry["n"], entry["time_limit"]
    images, order, where = cifar_like(population)
    labels = order + LABEL_OFFSET
    arrays = [images.copy(), labels.tolist() if entry["labels"] == "list" else labels.copy()]
    arrays = tuple(arrays) if entry["container"] == "tuple" else arrays
    result, seconds, stopped = _timed(function, arrays, entry["seed"], n, limit)
    where_text = _describe(entry)
    if isinstance(result, Raised):
        return f"{TITLE} raised {result.text} {where_text}.", result.text, ""
    if stopped or seconds > limit:
        took = f"needed more than {limit:g} s of CPU time"
        return (f"{TITLE} {took} {where_text}, the size Task 2 calls it with, and was stopped; the "
                "reference needs under 0.2 s. Draw the indices once (rng.choice) and index each "
                "array with them (array[indices] after np.asarray): no Python loops over "
                "elements, list.index or repeated copies.", took, f"under {limit:g} s")
    if not (isinstance(result, (list, tuple)) or (isinstance(result, np.ndarray)
                                                  and result.ndim >= 1)):
        return (f"{TITLE} returned a {type_name(result)} {where_text}; it should return a list "
                "(or tuple) with one array per input array.", short_repr(result), "2 arrays")
    if len(result) != 2:
        return (f"{TITLE} returned {plural(len(result), 'array')} for 2 inputs {where_text}.",
                plural(len(result), "array"), "2 arrays")
    for index, (item, shape) in enumerate(zip(result, ((n, IMAGE_BYTES), (n,)))):
        what = ("images", "labels")[index]
        array = plain_array(item)
        if array is None or array.dtype.kind not in "iu":
            return (f"{TITLE} returned a {type_name(item)} as the {what} {where_text}; it should "
                    f"be the selected {what}.", type_name(item), f"an array of shape {shape}")
        if tuple(array.shape) != shape:
            return (f"{TITLE} returned the {what} in shape {tuple(array.shape)} {where_text}; the "
                    f"selection has shape {shape}.", f"shape {tuple(array.shape)}",
                    f"shape {shape}")
        ids = (array[:, 0].astype(np.int64) << 16 | array[:, 1].astype(np.int64) << 8
               | array[:, 2].astype(np.int64)) if index == 0 else array.astype(np.int64) \
            - LABEL_OFFSET
        inside = (ids >= 0) & (ids < population)
        found = np.where(inside, where[np.clip(ids, 0, population - 1)], -1).astype(np.int64)
        if not matches(key, entry["label"], found, entry["sealed"]):
            return (f"{TITLE} chose the wrong elements {where_text}: the {what} are not the rows "
                    "np.random.default_rng(seed).choice(len(array_list[0]), n, replace=False) "
                    "picks. Small inputs may hide this: look for a fixed size or a small index "
                    "dtype (uint8, int16).", f"{what} from other positions", "")
    return None


# --- MY_RANDOM_SEED ---------------------------------------------------------------------------


def _integral(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def is_integer(value, year_now: int):
    if _integral(value):
        return None
    return (f"MY_RANDOM_SEED is the {type_name(value)} {short_repr(value)}; store your birthdate "
            "as one integer, e.g. MY_RANDOM_SEED = 19891217 (no quotes, no dots).",
            f"{type_name(value)} {short_repr(value)}", "an int such as 19891217")


def is_calendar_date(value, year_now: int):
    if _integral(value):
        number = int(value)
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    else:
        return (f"MY_RANDOM_SEED is the {type_name(value)} {short_repr(value)}, which does not "
                "read as a date YYYYMMDD.", short_repr(value), "a date YYYYMMDD")
    problem = date_problem(number, max(year_now, datetime.date.today().year))
    if problem is None:
        return None
    return (f"MY_RANDOM_SEED = {short_repr(value)} does not read as a birthdate YYYYMMDD: "
            f"{problem}.", short_repr(value), "a date YYYYMMDD, e.g. 19891217")


SEED_PROPERTIES = {"is_integer": is_integer, "is_calendar_date": is_calendar_date}
