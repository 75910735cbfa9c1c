"""Task 1 probes: `parallel_seeded_choice` on small arrays and at the notebook's size, and a
top-level value (`MY_RANDOM_SEED`)."""
import numbers
import signal
import time

from .plain import (MAX_ITEMS, arange, asarray, bool_, default_rng, global_get_state, int64,
                    ndarray, plain_array, short_repr, student, type_name, uint8)
from .table import probe


_cpu_seconds = time.process_time


def _global_state_bytes():
    name, keys, pos, has_gauss, cached = global_get_state()
    return keys.tobytes() + repr((name, int(pos), int(has_gauss), float(cached))).encode()


def _fresh_arrays(arrays, container):
    copies = [a.copy() if isinstance(a, ndarray) else list(a) for a in arrays]
    return tuple(copies) if container == "tuple" else copies


def _selection(result):
    """What parallel_seeded_choice returned: container kind plus each item as an array."""
    if isinstance(result, (list, tuple)):
        kind, items = type_name(result), list(result)
    elif isinstance(result, ndarray) and result.ndim >= 1:
        kind, items = "numpy.ndarray", list(result)
    else:
        return {"kind": type_name(result), "items": None, "repr": short_repr(result)}
    described = []
    for item in items[:MAX_ITEMS]:
        array = plain_array(item)
        described.append({"array": array, "type": type_name(item)} if array is not None
                         else {"array": None, "type": type_name(item), "repr": short_repr(item)})
    return {"kind": kind, "count": len(items), "items": described}


@probe
def seeded_choice(ns, arrays, seed, n, container="list"):
    """Call parallel_seeded_choice twice on fresh copies; report both results and whether the
    first call changed numpy's global random state."""
    function = student(ns, "parallel_seeded_choice")
    before = _global_state_bytes()
    first = function(_fresh_arrays(arrays, container), seed, n)
    changed = _global_state_bytes() != before
    first = _selection(first)
    second = _selection(function(_fresh_arrays(arrays, container), seed, n))
    return {"first": first, "second": second, "global_state_changed": changed}


# CIFAR-sized inputs are built here, not shipped: 150 MB of images would cost more to encode than
# the call itself. `cifar_like` is also what the grader imports to compute the expected answer.
IMAGE_BYTES = 3072
LABEL_OFFSET = 1000
_SIZED = {}


def cifar_like_ids(population, salt=0):
    """The id of each row of `cifar_like(population, salt)`, without building the images."""
    return default_rng(salt).permutation(population).astype(int64)


def cifar_like(population, salt=0):
    """`population` CIFAR-like images (uint8 rows of 3072 bytes) and the id each row encodes in
    its first three bytes: row i has id order[i], a permutation (so no id equals its position).
    Labels are LABEL_OFFSET + id. Rows are distinct and cheap to build (~0.1 s for 50,000)."""
    order = cifar_like_ids(population, salt)
    pattern = (arange(IMAGE_BYTES) * 13 % 251).astype(uint8)
    images = pattern[None, :] + (order % 251).astype(uint8)[:, None]
    images[:, 0] = order >> 16
    images[:, 1] = (order >> 8) & 255
    images[:, 2] = order & 255
    return images, order


def sized_item(item):
    """What came back for one array: its type, shape, and the id of each row (the first three
    bytes of an image row, or a label value); shape and ids None when it is neither."""
    described = {"type": type_name(item), "shape": None, "ids": None}
    try:
        array = asarray(item)
        if array.dtype.kind not in "biuf" or array.ndim == 0:
            return described
        described["shape"] = [int(d) for d in array.shape]
        if array.ndim == 1:
            described["ids"] = array.astype(int64) - LABEL_OFFSET
            return described
        rows = array.reshape(len(array), -1)
        if rows.shape[1] >= 3:
            head = rows[:, :3].astype(int64)
            described["ids"] = (head[:, 0] << 16) | (head[:, 1] << 8) | head[:, 2]
    except Exception:  # noqa: BLE001 - whatever the student returned
        pass
    return described


class _TooSlow(BaseException):
    """Raised by the CPU-time alarm in a call that overran its bound."""


def _too_slow(signum, frame):
    raise _TooSlow()


@probe
def seeded_choice_at_size(ns, population, seed, n, labels="list", container="list",
                          time_limit=2.0):
    """Call parallel_seeded_choice once on [images, labels] of the notebook's size (labels a list,
    as CIFAR's pickle has them, or an array), stopped after `time_limit` seconds of CPU time (not
    wall time: a busy machine must not fail a correct answer); report the CPU seconds it took
    and, per returned item, its type, shape and row ids."""
    function = student(ns, "parallel_seeded_choice")
    if population not in _SIZED:
        _SIZED[population] = cifar_like(population)
    images, order = _SIZED[population]
    label_values = order + LABEL_OFFSET
    arrays = [images.copy(), label_values.tolist() if labels == "list" else label_values.copy()]
    arrays = tuple(arrays) if container == "tuple" else arrays
    previous = signal.signal(signal.SIGPROF, _too_slow)
    began = _cpu_seconds()
    signal.setitimer(signal.ITIMER_PROF, time_limit)
    try:
        result = function(arrays, seed, n)
    except _TooSlow:
        return {"seconds": _cpu_seconds() - began, "stopped": True}
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)
    seconds = _cpu_seconds() - began
    if isinstance(result, (list, tuple)) or (isinstance(result, ndarray) and result.ndim >= 1):
        items = [sized_item(item) for item in list(result)[:MAX_ITEMS]]
        return {"seconds": seconds, "stopped": False, "kind": type_name(result),
                "count": len(result), "items": items}
    return {"seconds": seconds, "stopped": False, "kind": type_name(result), "count": None,
            "repr": short_repr(result)}


@probe
def value(ns, name):
    """A top-level value: its type and, for integers, the integer."""
    found = student(ns, name)
    integral = isinstance(found, numbers.Integral) and not isinstance(found, (bool, bool_))
    return {"type": type_name(found), "integral": integral,
            "int": int(found) if integral else None,
            "text": found[:100] if isinstance(found, str) else None, "repr": short_repr(found)}
