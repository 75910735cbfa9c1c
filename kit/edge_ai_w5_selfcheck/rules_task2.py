"""Task 2: `CIFAR100Partition` keeps the seeded half of the training set and the whole test set.

As in the grader, Task 1 is graded on its own: while this check runs, the kernel's
`parallel_seeded_choice` is replaced by a stand-in (NOT the exercise's algorithm: a different,
deterministic choice of n distinct positions from the seed), so a Task 1 mistake does not fail
Task 2, and the kept half must be the one the stand-in picks for MY_RANDOM_SEED. The CIFAR files
are tiny, written here: image i encodes i in its first bytes, its label is a function of i.
Uses torchvision only as the notebook does (its transforms).
"""
from __future__ import annotations

import pickle
import sys
import tempfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from edge_ai_w5_selfcheck.observe import Raised, call, plural, positions, short_repr, type_name

TITLE = "CIFAR100Partition"
REQUIRES = ("torch", "torchvision")
TEST_OFFSET = 1000


def label_of(index: int) -> int:
    return (index * 37 + 11) % 100


def _image(index: int) -> np.ndarray:
    row = ((np.arange(3072) * 7 + index * 13) % 251).astype(np.uint8)
    row[0], row[1], row[2] = (index >> 16) & 255, (index >> 8) & 255, index & 255
    return row


def write_file(folder: Path, size: int, train: bool) -> tuple[Path, dict]:
    offset = 0 if train else TEST_OFFSET
    images = np.stack([_image(offset + i) for i in range(size)]) if size else \
        np.zeros((0, 3072), np.uint8)
    path = folder / f"{'train' if train else 'test'}-{size}"
    with path.open("wb") as handle:
        pickle.dump({b"data": images, b"fine_labels": [label_of(offset + i) for i in range(size)]},
                    handle)
    return path, {offset + i: zlib.crc32(images[i].tobytes()) for i in range(size)}


def standin(array_list, seed, n):
    """Not the exercise's algorithm: n distinct positions chosen from the seed another way."""
    length = len(array_list[0])
    chosen = np.random.default_rng([int(seed) % 2 ** 32, 5]).permutation(length)[:n]
    return [np.asarray(array)[chosen] for array in array_list]


def expected(seed: int, size: int, train: bool) -> list:
    if not train:
        return [TEST_OFFSET + i for i in range(size)]
    return [int(i) for i in standin([np.arange(size)], seed, size // 2)[0]]


def _item(item: Any, mean, std) -> dict:
    if not isinstance(item, tuple) or len(item) != 2:
        return {"error": f"returned {type_name(item)}, not an (image, label) pair"}
    image, label = item
    found = {"type": type_name(image), "label": _label(label), "index": None, "crc": None,
             "residual": None, "shape": None, "dtype": None}
    if hasattr(image, "detach"):
        image = image.detach().cpu().numpy()
    if isinstance(image, np.ndarray):
        found["shape"], found["dtype"] = tuple(image.shape), image.dtype.str
        if image.shape == (3, 32, 32) and image.dtype.kind == "f":
            m = np.asarray(mean, np.float32).reshape(3, 1, 1)
            s = np.asarray(std, np.float32).reshape(3, 1, 1)
            pixels = np.clip(np.rint((image.astype(np.float32) * s + m) * 255.0), 0, 255) \
                .astype(np.uint8)
            row = pixels.reshape(-1)
            found["residual"] = float(np.abs(image - (pixels / 255.0 - m) / s).max())
            found["index"] = int(row[0]) << 16 | int(row[1]) << 8 | int(row[2])
            found["crc"] = zlib.crc32(row.tobytes())
    return found


def _label(label: Any) -> Any:
    """An int for any integer label (numpy's too, as the grader reads them), else the object."""
    import numbers

    if isinstance(label, (bool, np.bool_)):
        return label
    if isinstance(label, numbers.Integral):
        return int(label)
    if hasattr(label, "detach"):
        label = label.detach().cpu().numpy()
    array = np.asarray(label) if isinstance(label, (np.ndarray, np.generic)) else None
    if array is not None and array.size == 1 and array.dtype.kind in "iu":
        return int(array.reshape(-1)[0])
    return label


def observe(cls, ns: dict, case: dict, mean, std, folder: Path, crcs: dict):
    """(length, items) or Raised."""
    from torchvision import transforms as tt

    path, more = write_file(folder, case["size"], case["train"])
    crcs.update(more)
    transforms = tt.Compose([tt.ToTensor(), tt.Normalize(mean=tuple(mean), std=tuple(std))])
    saved = {k: ns.get(k, _ABSENT) for k in ("MY_RANDOM_SEED", "parallel_seeded_choice")}
    ns["MY_RANDOM_SEED"], ns["parallel_seeded_choice"] = case["seed"], standin
    try:
        dataset = call(cls, Path(path), transforms, train=case["train"], image_augmentations=None)
        if isinstance(dataset, Raised):
            return dataset
        length = call(len, dataset)
        if isinstance(length, Raised):
            return length
        items = []
        for index in range(min(length, 64)):
            item = call(dataset.__getitem__, index)
            if isinstance(item, Raised):
                return item
            items.append(_item(item, mean, std))
        return length, items
    finally:
        for key, value in saved.items():
            if value is _ABSENT:
                ns.pop(key, None)
            else:
                ns[key] = value


_ABSENT = object()


def describe(case: dict) -> str:
    split = "training" if case["train"] else "test"
    return (f"with train={case['train']}, MY_RANDOM_SEED={case['seed']} and a {split} file of "
            f"{plural(case['size'], 'image')}")


def _shown(indices) -> str:
    return positions([None if i is None else i % TEST_OFFSET for i in indices])


def _unreadable(case, items):
    for position, item in enumerate(items):
        if item.get("index") is None:
            what = item.get("error") or f"a {item['type']} of shape {item['shape']}"
            return (f"{TITLE}[{position}] {describe(case)} did not give back one of the file's "
                    f"images as a normalized 3x32x32 tensor (it gave {what}), so the check cannot "
                    "tell which images were kept.", what,
                    "a 3x32x32 float tensor of a stored image")
    return None


def train_half_selected(case, length, items, crcs):
    want = expected(case["seed"], case["size"], True)
    if length != len(want):
        return (f"{TITLE} kept {plural(length, 'image')} {describe(case)}; it should keep half of "
                f"them, {case['size']} // 2 = {len(want)}.", plural(length, "image"),
                plural(len(want), "image"))
    problem = _unreadable(case, items)
    if problem:
        return problem
    got = [item["index"] for item in items]
    if got != want[:len(got)]:
        return (f"{TITLE} kept the images at positions {_shown(got)} {describe(case)}, but "
                "parallel_seeded_choice([images, labels], MY_RANDOM_SEED, len(images) // 2) keeps "
                f"{_shown(want)}. Use MY_RANDOM_SEED (not a fixed number) and Task 1's function "
                "(the self-check puts a stand-in for it in its place while it checks Task 2).",
                f"positions {_shown(got)}", f"positions {_shown(want)}")
    return None


def images_labels_paired(case, length, items, crcs):
    problem = _unreadable(case, items)
    if problem:
        return problem
    for position, item in enumerate(items):
        want = label_of(item["index"])
        if type(item["label"]) is not int or item["label"] != want:
            return (f"{TITLE}[{position}] {describe(case)} paired the image from position "
                    f"{item['index'] % TEST_OFFSET} with label {short_repr(item['label'])}, but "
                    f"that image's label is {want}. Select images and labels with one call, so "
                    "they stay paired.", f"label {short_repr(item['label'])}", f"label {want}")
    return None


def test_set_whole(case, length, items, crcs):
    if length != case["size"]:
        return (f"{TITLE} kept {plural(length, 'image')} {describe(case)}; the test set must stay "
                "whole.", plural(length, "image"), plural(case["size"], "image"))
    problem = _unreadable(case, items)
    if problem:
        return problem
    got, want = [item["index"] for item in items], expected(case["seed"], case["size"], False)
    if got != want[:len(got)]:
        return (f"{TITLE} changed the order of the test set {describe(case)}: it holds positions "
                f"{_shown(got)}; with train=False nothing may change.", f"positions {_shown(got)}",
                f"positions {_shown(want)}")
    return None


def items_are_normalized_tensors(case, length, items, crcs):
    for position, item in enumerate(items):
        problem = item.get("error")
        if problem is None:
            if item["shape"] != (3, 32, 32) or not item["type"].startswith("torch.") \
                    or item["dtype"] not in ("<f4", "<f8"):
                problem = f"the image is a {item['type']} of shape {item['shape']}"
            elif item["residual"] is None or item["residual"] > 1e-3 \
                    or crcs.get(item["index"]) != item["crc"]:
                problem = "the image is not a stored image under the course's normalization"
            elif isinstance(item["label"], bool) or not isinstance(item["label"], int):
                problem = f"the label is {type_name(item['label'])} {short_repr(item['label'])}"
        if problem:
            return (f"{TITLE}[{position}] {describe(case)}: {problem}; it should return (image, "
                    "label) with the image as a normalized 3x32x32 float tensor and the label as "
                    "an int.", problem, "(3x32x32 float tensor, int label)")
    return None


PROPERTIES = {f.__name__: f for f in (train_half_selected, images_labels_paired, test_set_whole,
                                      items_are_normalized_tensors)}


def run(ns: dict, cls, exam: dict, names) -> dict:
    """{property: problem or None}, each property on its inputs in order."""
    found, crcs = {}, {}
    with tempfile.TemporaryDirectory(prefix="selfcheck-cifar-") as tmp:
        seen: dict = {}
        for name in names:
            found[name] = None
            for case in exam["properties"].get(name, []):
                key = (case["seed"], case["size"], case["train"])
                if key not in seen:
                    seen[key] = observe(cls, ns, case, exam["mean"], exam["std"], Path(tmp), crcs)
                outcome = seen[key]
                if isinstance(outcome, Raised):
                    found[name] = (f"{TITLE} raised {outcome.text} {describe(case)}.",
                                   outcome.text, "")
                else:
                    found[name] = PROPERTIES[name](case, outcome[0], outcome[1], crcs)
                if found[name]:
                    break
    return found


def missing_packages() -> list:
    import importlib.util

    return [name for name in REQUIRES
            if name not in sys.modules and importlib.util.find_spec(name) is None]
