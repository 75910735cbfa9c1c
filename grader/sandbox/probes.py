"""Worker-side probes: call one student definition with plain-data arguments, report plain data.

Loaded by path by `worker.py` before any student code runs (imports nothing from `grader`). A
probe only *observes*: it calls the student's code the way the notebook would and describes what
came back (arrays, numbers, call records, opaque tokens). Every verdict is computed in the grader
process, against the reference; nothing here decides pass or fail.

Each probe takes the student namespace `ns` first. An exception raised by student code propagates
to the worker, which turns it into an error reply with the student's traceback.
"""
import numbers
import zlib

import numpy as np

# Bound before student code loads, so monkeypatching numpy in a student function cannot change
# what is observed.
_global_get_state = np.random.get_state
_asarray = np.asarray
_ndarray = np.ndarray
_rint = np.rint
_clip = np.clip
_uint8 = np.uint8
_float32 = np.float32
_generic = np.generic

MAX_ITEMS = 64
MAX_ITEM_BYTES = 8 * 1024 * 1024
PLAIN_KINDS = frozenset("biufcSU")


def _student(ns, name):
    try:
        return ns[name]
    except KeyError:
        raise NameError(f"name {name!r} is not defined") from None


def _type_name(value):
    kind = type(value)
    module = getattr(kind, "__module__", "") or ""
    name = getattr(kind, "__qualname__", None) or kind.__name__
    return name if module in ("builtins", "") else f"{module}.{name}"


def _short_repr(value, limit=200):
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a student's __repr__ may raise
        text = f"<{_type_name(value)}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _opaque(value):
    return {"__opaque__": _type_name(value), "repr": _short_repr(value)}


def _global_state_bytes():
    name, keys, pos, has_gauss, cached = _global_get_state()
    return keys.tobytes() + repr((name, int(pos), int(has_gauss), float(cached))).encode()


def _plain_array(value):
    """A numpy array with a plain dtype for `value`, or None when there is none."""
    try:
        if isinstance(value, _ndarray):
            array = value
            if array.dtype.kind == "O":
                array = _asarray(array.tolist())
        elif isinstance(value, (list, tuple, _generic, numbers.Number)):
            array = _asarray(value)
        elif hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
            array = _asarray(value.detach().cpu().numpy())
        else:
            return None
    except Exception:  # noqa: BLE001 - ragged lists and friends
        return None
    if array.dtype.kind not in PLAIN_KINDS or array.nbytes > MAX_ITEM_BYTES:
        return None
    return array


# --- Task 1 -----------------------------------------------------------------------------------


def _fresh_arrays(arrays, container):
    copies = [a.copy() if isinstance(a, _ndarray) else list(a) for a in arrays]
    return tuple(copies) if container == "tuple" else copies


def _selection(result):
    """What parallel_seeded_choice returned: container kind plus each item as an array."""
    if isinstance(result, (list, tuple)):
        kind, items = _type_name(result), list(result)
    elif isinstance(result, _ndarray) and result.ndim >= 1:
        kind, items = "numpy.ndarray", list(result)
    else:
        return {"kind": _type_name(result), "items": None, "repr": _short_repr(result)}
    described = []
    for item in items[:MAX_ITEMS]:
        array = _plain_array(item)
        described.append({"array": array, "type": _type_name(item)} if array is not None
                         else {"array": None, "type": _type_name(item), "repr": _short_repr(item)})
    return {"kind": kind, "count": len(items), "items": described}


def seeded_choice(ns, arrays, seed, n, container="list"):
    """Call parallel_seeded_choice twice on fresh copies; report both results and whether the
    first call changed numpy's global random state."""
    function = _student(ns, "parallel_seeded_choice")
    before = _global_state_bytes()
    first = function(_fresh_arrays(arrays, container), seed, n)
    changed = _global_state_bytes() != before
    first = _selection(first)
    second = _selection(function(_fresh_arrays(arrays, container), seed, n))
    return {"first": first, "second": second, "global_state_changed": changed}


def value(ns, name):
    """A top-level value: its type and, for integers, the integer."""
    found = _student(ns, name)
    integral = isinstance(found, numbers.Integral) and not isinstance(found, (bool, np.bool_))
    return {"type": _type_name(found), "integral": integral,
            "int": int(found) if integral else None,
            "text": found[:100] if isinstance(found, str) else None, "repr": _short_repr(found)}


# --- Task 2 -----------------------------------------------------------------------------------


def partition(ns, dataset_path, train, seed, mean, std, header_bytes=16):
    """Build CIFAR100Partition(Path(dataset_path), transforms, train=train) with MY_RANDOM_SEED
    set to `seed`; describe every item `__getitem__` returns.

    Images come back as their first `header_bytes` bytes (CHW order) after undoing the course
    normalization, plus a CRC-32 of all 3072 bytes: enough for the grader to tell which sample
    each item is and whether it is the whole, unchanged image, without shipping images.
    """
    from pathlib import Path

    from torchvision import transforms as tt

    cls = _student(ns, "CIFAR100Partition")
    ns["MY_RANDOM_SEED"] = seed
    transforms = tt.Compose([tt.ToTensor(), tt.Normalize(mean=tuple(mean), std=tuple(std))])
    dataset = cls(Path(dataset_path), transforms, train=train, image_augmentations=None)
    length = len(dataset)
    mean_ = _asarray(mean, dtype=_float32).reshape(3, 1, 1)
    std_ = _asarray(std, dtype=_float32).reshape(3, 1, 1)
    items = []
    for index in range(min(length, MAX_ITEMS)):
        item = dataset[index]
        items.append(_describe_item(item, mean_, std_, header_bytes))
    return {"length": length, "items": items}


def _describe_item(item, mean, std, header_bytes):
    if not isinstance(item, tuple) or len(item) != 2:
        return {"error": f"returned {_type_name(item)}, not an (image, label) pair",
                "repr": _short_repr(item)}
    image, label = item
    described = {"image_type": _type_name(image), "label": _label(label)}
    array = _plain_array(image)
    if array is None:
        described["shape"] = None
        return described
    described["shape"] = [int(d) for d in array.shape]
    described["dtype"] = array.dtype.str
    if array.shape == (3, 32, 32) and array.dtype.kind == "f":
        pixels = _clip(_rint((array.astype(_float32) * std + mean) * 255.0), 0, 255).astype(_uint8)
        row = pixels.reshape(-1)
        renormalized = (pixels.astype(_float32) / 255.0 - mean) / std
        residual = float(abs(array.astype(_float32) - renormalized).max())
        described["header"] = row[:header_bytes].tolist()
        described["crc32"] = zlib.crc32(row.tobytes())
        described["residual"] = residual
    return described


def _label(label):
    if isinstance(label, (bool, np.bool_)):
        return {"repr": _short_repr(label), "type": _type_name(label)}
    if isinstance(label, numbers.Integral):
        return int(label)
    array = _plain_array(label)
    if array is not None and array.size == 1 and array.dtype.kind in "iu":
        return int(array.reshape(-1)[0])
    return {"repr": _short_repr(label), "type": _type_name(label)}


# --- Task 3 -----------------------------------------------------------------------------------


def _set_initial_learning_rate(learning_rate):
    from plato.config import Config

    config = Config()
    trainer = config.trainer._replace(learning_rate=learning_rate)
    Config.trainer = trainer  # Plato 0.4.0 sections are namedtuples on the class
    if "trainer" in vars(config):
        config.trainer = trainer


def _tiny_model():
    import torch

    return torch.nn.Linear(2, 2)


def _plain_number(value):
    if isinstance(value, (bool, np.bool_)):
        return _opaque(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:  # a 0-d tensor or array
        try:
            return float(value.item())
        except Exception:  # noqa: BLE001
            pass
    return _opaque(value)


def lr_schedule(ns, learning_rate, rounds):
    """Set Plato's trainer.learning_rate, build EdgeAiTrainer(tiny model), and read
    current_learning_rate after set_learning_rate() for every round in `rounds`."""
    cls = _student(ns, "EdgeAiTrainer")
    _set_initial_learning_rate(learning_rate)
    try:
        trainer = cls(_tiny_model())
    except TypeError:
        trainer = cls()
    rates = []
    for round_number in rounds:
        trainer.current_round = round_number
        trainer.set_learning_rate()
        rates.append(_plain_number(getattr(trainer, "current_learning_rate", None)))
    return {"rates": rates}


# --- Task 4 -----------------------------------------------------------------------------------


class _Tokens:
    """Names the objects a probe handed to student code, so calls can be reported as tokens."""

    def __init__(self, **known):
        self.known = {id(obj): name for name, obj in known.items()}
        self.objects = list(known.values())  # keep them alive: ids stay unique

    def __call__(self, value):
        name = self.known.get(id(value))
        if name is not None:
            return {"ref": name}
        if value is None or isinstance(value, (bool, int, float, str)):
            return {"value": value}
        from unittest import mock

        if isinstance(value, mock.NonCallableMock):
            return {"mock": _mock_name(value)}
        number = _plain_number(value)
        if isinstance(number, float):
            return {"value": number, "type": _type_name(value)}
        return {"type": _type_name(value), "repr": _short_repr(value)}

    def calls(self, recorded):
        return [{"name": str(name), "args": [self(arg) for arg in args],
                 "kwargs": sorted(str(key) for key in kwargs)}
                for name, args, kwargs in list(recorded)[:MAX_ITEMS]]


def _mock_name(value):
    text = _short_repr(value)  # <MagicMock name='trainer.current_round' id='...'>
    start = text.find("name='")
    if start < 0:
        return "mock"
    return text[start + 6:text.find("'", start + 6)]


def _new_client(cls):
    from unittest import mock

    client = cls()
    algorithm = mock.MagicMock(name="algorithm")
    trainer = mock.MagicMock(name="trainer")
    testset = mock.MagicMock(name="test set")
    client.algorithm, client.trainer, client.testset = algorithm, trainer, testset
    return client, algorithm, trainer, testset


def load_payload(ns, current_round):
    """EdgeAiClient().load_payload({"weights": W, "current_round": R}) with mock algorithm and
    trainer; report what the trainer's current_round became and every call on both mocks."""
    from unittest import mock

    client, algorithm, trainer, testset = _new_client(_student(ns, "EdgeAiClient"))
    weights = mock.MagicMock(name="model weights")
    payload = {"weights": weights, "current_round": current_round}
    tokens = _Tokens(weights=weights, payload=payload, algorithm=algorithm, trainer=trainer,
                     testset=testset)
    returned = client.load_payload(payload)
    attributes = vars(trainer)  # a plain value set on a MagicMock lands in its __dict__
    return {
        "trainer_current_round": (tokens(attributes["current_round"])
                                  if "current_round" in attributes else None),
        "client_current_round": tokens(vars(client).get("current_round")),
        "algorithm_calls": tokens.calls(algorithm.method_calls),
        "trainer_calls": tokens.calls(trainer.method_calls),
        "returned": tokens(returned),
    }


def extra_test(ns, accuracy):
    """EdgeAiClient().extra_test() with a mock trainer whose test() returns `accuracy`."""
    client, algorithm, trainer, testset = _new_client(_student(ns, "EdgeAiClient"))
    trainer.test.return_value = accuracy
    tokens = _Tokens(testset=testset, algorithm=algorithm, trainer=trainer)
    returned = client.extra_test()
    return {
        "returned": tokens(returned),
        "trainer_calls": tokens.calls(trainer.method_calls),
        "algorithm_calls": tokens.calls(algorithm.method_calls),
    }


PROBES = {
    "seeded_choice": seeded_choice,
    "value": value,
    "partition": partition,
    "lr_schedule": lr_schedule,
    "load_payload": load_payload,
    "extra_test": extra_test,
}
