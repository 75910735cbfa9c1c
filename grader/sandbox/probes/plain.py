"""What the probes report: student values described as plain data (arrays of plain dtypes,
numbers, type names, short reprs, opaque tokens).

The numpy functions used here and by the probes are bound when the worker loads this package,
before any student code, so monkeypatching numpy in a student function cannot change what is
observed.
"""
import numbers

import numpy as np

global_get_state = np.random.get_state
asarray = np.asarray
ndarray = np.ndarray
rint = np.rint
clip = np.clip
uint8 = np.uint8
float32 = np.float32
generic = np.generic
default_rng = np.random.default_rng
arange = np.arange
int64 = np.int64
bool_ = np.bool_

MAX_ITEMS = 64
MAX_ITEM_BYTES = 8 * 1024 * 1024
PLAIN_KINDS = frozenset("biufcSU")


def student(ns, name):
    """The student's top-level `name`, or the NameError the notebook would raise."""
    try:
        return ns[name]
    except KeyError:
        raise NameError(f"name {name!r} is not defined") from None


def type_name(value):
    kind = type(value)
    module = getattr(kind, "__module__", "") or ""
    name = getattr(kind, "__qualname__", None) or kind.__name__
    return name if module in ("builtins", "") else f"{module}.{name}"


def short_repr(value, limit=200):
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a student's __repr__ may raise
        text = f"<{type_name(value)}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def opaque(value):
    return {"__opaque__": type_name(value), "repr": short_repr(value)}


def plain_array(value):
    """A numpy array with a plain dtype for `value`, or None when there is none."""
    try:
        if isinstance(value, ndarray):
            array = value
            if array.dtype.kind == "O":
                array = asarray(array.tolist())
        elif isinstance(value, (list, tuple, generic, numbers.Number)):
            array = asarray(value)
        elif hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
            array = asarray(value.detach().cpu().numpy())
        else:
            return None
    except Exception:  # noqa: BLE001 - ragged lists and friends
        return None
    if array.dtype.kind not in PLAIN_KINDS or array.nbytes > MAX_ITEM_BYTES:
        return None
    return array


def plain_number(value):
    """A float for a real number (a 0-d tensor or array included), else an opaque token."""
    if isinstance(value, (bool, bool_)):
        return opaque(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        try:
            return float(value.item())
        except Exception:  # noqa: BLE001
            pass
    return opaque(value)
