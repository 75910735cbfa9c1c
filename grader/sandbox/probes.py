"""Worker-side probes: call one student definition with plain-data arguments, report plain data.

Loaded by path by `worker.py` before any student code runs (imports nothing from `grader`). A
probe only *observes*: it calls the student's code the way the notebook would and describes what
came back (arrays, numbers, call records, opaque tokens). Every verdict is computed in the grader
process, against the reference; nothing here decides pass or fail.

Each probe takes the student namespace `ns` first. An exception raised by student code propagates
to the worker, which turns it into an error reply with the student's traceback.
"""
import numbers
import signal
import time
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
_default_rng = np.random.default_rng
_arange = np.arange
_int64 = np.int64
_cpu_seconds = time.process_time

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


# CIFAR-sized inputs are built here, not shipped: 150 MB of images would cost more to encode than
# the call itself. `cifar_like` is also what the grader imports to compute the expected answer.
IMAGE_BYTES = 3072
LABEL_OFFSET = 1000
_SIZED = {}


def cifar_like_ids(population, salt=0):
    """The id of each row of `cifar_like(population, salt)`, without building the images."""
    return _default_rng(salt).permutation(population).astype(_int64)


def cifar_like(population, salt=0):
    """`population` CIFAR-like images (uint8 rows of 3072 bytes) and the id each row encodes in
    its first three bytes: row i has id order[i], a permutation (so no id equals its position).
    Labels are LABEL_OFFSET + id. Rows are distinct and cheap to build (~0.1 s for 50,000)."""
    order = cifar_like_ids(population, salt)
    pattern = (_arange(IMAGE_BYTES) * 13 % 251).astype(_uint8)
    images = pattern[None, :] + (order % 251).astype(_uint8)[:, None]
    images[:, 0] = order >> 16
    images[:, 1] = (order >> 8) & 255
    images[:, 2] = order & 255
    return images, order


def sized_item(item):
    """What came back for one array: its type, shape, and the id of each row (the first three
    bytes of an image row, or a label value); shape and ids None when it is neither."""
    described = {"type": _type_name(item), "shape": None, "ids": None}
    try:
        array = _asarray(item)
        if array.dtype.kind not in "biuf" or array.ndim == 0:
            return described
        described["shape"] = [int(d) for d in array.shape]
        if array.ndim == 1:
            described["ids"] = array.astype(_int64) - LABEL_OFFSET
            return described
        rows = array.reshape(len(array), -1)
        if rows.shape[1] >= 3:
            head = rows[:, :3].astype(_int64)
            described["ids"] = (head[:, 0] << 16) | (head[:, 1] << 8) | head[:, 2]
    except Exception:  # noqa: BLE001 - whatever the student returned
        pass
    return described


class _TooSlow(BaseException):
    """Raised by the CPU-time alarm in a call that overran its bound."""


def _too_slow(signum, frame):
    raise _TooSlow()


def seeded_choice_at_size(ns, population, seed, n, labels="list", container="list",
                          time_limit=2.0):
    """Call parallel_seeded_choice once on [images, labels] of the notebook's size (labels a list,
    as CIFAR's pickle has them, or an array), stopped after `time_limit` seconds of CPU time (not
    wall time: a busy machine must not fail a correct answer); report the CPU seconds it took
    and, per returned item, its type, shape and row ids."""
    function = _student(ns, "parallel_seeded_choice")
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
    if isinstance(result, (list, tuple)) or (isinstance(result, _ndarray) and result.ndim >= 1):
        items = [sized_item(item) for item in list(result)[:MAX_ITEMS]]
        return {"seconds": seconds, "stopped": False, "kind": _type_name(result),
                "count": len(result), "items": items}
    return {"seconds": seconds, "stopped": False, "kind": _type_name(result), "count": None,
            "repr": _short_repr(result)}


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


def _rates_on_fresh_trainer(cls, learning_rate, rounds):
    """Set Plato's trainer.learning_rate, build EdgeAiTrainer(tiny model), and read
    current_learning_rate after set_learning_rate() for every round in `rounds`, in order."""
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
    return rates


def lr_schedule(ns, learning_rate, rounds):
    """The rates of one fresh trainer called for `rounds` in order (the course's own test)."""
    return {"rates": _rates_on_fresh_trainer(_student(ns, "EdgeAiTrainer"), learning_rate, rounds)}


def lr_patterns(ns, learning_rate, trainers, rounds):
    """The rates of a fresh trainer per entry of `trainers` (its rounds, in the order a federation
    may send them: starting late, skipping, repeating), then of one more fresh trainer called for
    `rounds` in order, for comparison: {"patterns": [[rate, ...], ...], "ordered": [rate, ...]}."""
    cls = _student(ns, "EdgeAiTrainer")
    patterns = [_rates_on_fresh_trainer(cls, learning_rate, calls) for calls in trainers]
    return {"patterns": patterns, "ordered": _rates_on_fresh_trainer(cls, learning_rate, rounds)}


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


def load_payloads(ns, rounds):
    """One EdgeAiClient receives a payload per round in `rounds`, in order, as a client selected
    for several rounds does; after each: what the trainer's current_round became, and the calls
    on both mocks since the previous payload. Tokens name this payload's objects `weights` and
    `payload`, the previous payload's `earlier_weights` and `earlier_payload`."""
    from unittest import mock

    client, algorithm, trainer, testset = _new_client(_student(ns, "EdgeAiClient"))
    steps, earlier = [], {}
    for current_round in rounds:
        weights = mock.MagicMock(name=f"model weights of round {current_round}")
        payload = {"weights": weights, "current_round": current_round}
        tokens = _Tokens(weights=weights, payload=payload, algorithm=algorithm, trainer=trainer,
                         testset=testset, **earlier)
        seen_algorithm, seen_trainer = len(algorithm.method_calls), len(trainer.method_calls)
        returned = client.load_payload(payload)
        attributes = vars(trainer)
        steps.append({
            "trainer_current_round": (tokens(attributes["current_round"])
                                      if "current_round" in attributes else None),
            "algorithm_calls": tokens.calls(algorithm.method_calls[seen_algorithm:]),
            "trainer_calls": tokens.calls(trainer.method_calls[seen_trainer:]),
            "returned": tokens(returned),
        })
        earlier = {"earlier_weights": weights, "earlier_payload": payload}
    return {"steps": steps}


def extra_tests(ns, accuracies):
    """One EdgeAiClient's extra_test() called once per accuracy, the mock trainer's test()
    returning that accuracy each time (as every round's validation pass does)."""
    client, algorithm, trainer, testset = _new_client(_student(ns, "EdgeAiClient"))
    tokens = _Tokens(testset=testset, algorithm=algorithm, trainer=trainer)
    steps = []
    for accuracy in accuracies:
        trainer.test.return_value = accuracy
        seen = len(trainer.method_calls)
        returned = client.extra_test()
        steps.append({"returned": tokens(returned),
                      "trainer_calls": tokens.calls(trainer.method_calls[seen:])})
    return {"steps": steps}


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
    "seeded_choice_at_size": seeded_choice_at_size,
    "value": value,
    "partition": partition,
    "lr_schedule": lr_schedule,
    "lr_patterns": lr_patterns,
    "load_payload": load_payload,
    "load_payloads": load_payloads,
    "extra_test": extra_test,
    "extra_tests": extra_tests,
}
