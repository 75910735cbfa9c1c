"""Task 2: `CIFAR100Partition` keeps the seeded half of the training set, the whole test set.

The check writes small synthetic CIFAR-100 files (`grader.environment.data`: every image encodes
its index, every label is a function of the index) of a few sizes, odd ones included, and builds
the student's class on them with `MY_RANDOM_SEED` set by the check (several seeds, so a
hard-coded seed cannot pass). `parallel_seeded_choice` comes from the reference (Task 1 is graded
on its own). The worker reports, per item, the label and the image's index header and CRC-32;
which half is right comes from the reference's `parallel_seeded_choice`.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st

from grader.checks import feedback
from grader.checks.cases import PartitionCase
from grader.checks.reference import reference_function
from grader.checks.spec import CheckContext, CheckSpec, Failure, Observation, Property
from grader.checks.strategies import PARTITION_SIZES, partition_cases
from grader.environment import data as cifar

TITLE = "CIFAR100Partition"
MEAN = (0.5074, 0.4867, 0.4411)  # the course's tt.Normalize
STD = (0.2011, 0.1987, 0.2025)
MAX_RESIDUAL = 1e-3


@dataclass(frozen=True)
class Item:
    label: Any  # int, or a dict describing something else
    index: int | None  # the sample index the image encodes (None: unreadable)
    crc32: int | None
    shape: tuple[int, ...] | None
    dtype: str | None
    image_type: str
    residual: float | None
    error: str | None = None


@dataclass(frozen=True)
class PartitionActual:
    length: int
    items: tuple[Item, ...]

    @property
    def indices(self) -> list[int | None]:
        return [item.index for item in self.items]


@dataclass(frozen=True)
class PartitionExpected:
    indices: tuple[int, ...]  # encoded sample indices, in the order the dataset should hold them
    crc32: dict[int, int]  # encoded index -> CRC-32 of its 3072 image bytes


def _prepare(context: CheckContext) -> None:
    folder = context.run_dir / "check-data"
    folder.mkdir(parents=True, exist_ok=True)
    files, crcs = {}, {}
    for size in PARTITION_SIZES:
        for split in cifar.SPLITS:
            batch = cifar.make_batch(size, split)
            path = folder / f"{split}-{size}"
            cifar.write_batch(path, batch)
            files[(split, size)] = path
            offset = 0 if split == "train" else cifar.TEST_INDEX_OFFSET
            for position, row in enumerate(batch[b"data"]):
                crcs[offset + position] = zlib.crc32(row.tobytes())
    context.data.update(files=files, crc32=crcs,
                        choose=reference_function(context.reference, "parallel_seeded_choice"))


def _item(plain: dict) -> Item:
    if "error" in plain:
        return Item(None, None, None, None, None, "?", None, error=str(plain["error"]))
    header = plain.get("header")
    index = None
    if header is not None:
        decoded = int(cifar.indices_of(np.asarray([header], dtype=np.uint8))[0])
        index = decoded if decoded >= 0 else None
    shape = tuple(plain["shape"]) if plain.get("shape") is not None else None
    return Item(plain.get("label"), index, plain.get("crc32"), shape, plain.get("dtype"),
                str(plain.get("image_type")), plain.get("residual"))


def _expected(context: CheckContext, case: PartitionCase) -> PartitionExpected:
    if case.train:
        chosen = context.data["choose"]([np.arange(case.size)], case.seed, case.size // 2)[0]
        indices = tuple(int(i) for i in chosen)
    else:
        indices = tuple(cifar.test_index(i) for i in range(case.size))
    return PartitionExpected(indices, context.data["crc32"])


def _request(context: CheckContext, case: PartitionCase) -> tuple[str, dict]:
    path = context.data["files"][("train" if case.train else "test", case.size)]
    return "partition", dict(dataset_path=str(path), train=case.train, seed=case.seed,
                             mean=list(MEAN), std=list(STD))


def _observe(context: CheckContext, case: PartitionCase) -> Observation:
    reply = context.probe(case)
    if reply.error is not None:
        return Observation(error=reply.error)
    actual = PartitionActual(int(reply.value["length"]),
                             tuple(_item(i) for i in reply.value["items"]))
    return Observation(actual=actual, expected=_expected(context, case))


def describe(case: PartitionCase) -> str:
    split = "training" if case.train else "test"
    return (f"with train={case.train}, MY_RANDOM_SEED={case.seed} and a {split} file of "
            f"{feedback.plural(case.size, 'image')}")


def _shown(indices) -> str:
    """Encoded indices as file positions, for students."""
    return feedback.positions([None if i is None else i % cifar.TEST_INDEX_OFFSET for i in indices])


def _unreadable(case: PartitionCase, actual: PartitionActual) -> Failure | None:
    broken = next((i for i, item in enumerate(actual.items) if item.index is None), None)
    if broken is None:
        return None
    item = actual.items[broken]
    what = item.error or (f"a {item.image_type} of shape {item.shape}" if item.shape is not None
                          else f"a {item.image_type}")
    return Failure(f"{TITLE}[{broken}] {describe(case)} did not give back one of the file's "
                   f"images as a normalized 3x32x32 tensor (it gave {what}), so the check cannot "
                   "tell which images were kept.",
                   expected="a 3x32x32 float tensor of a stored image", actual=what)


def train_half_selected(case: PartitionCase, obs: Observation) -> Failure | None:
    actual, expected = obs.actual, obs.expected
    want = len(expected.indices)
    if actual.length != want:
        return Failure(f"{TITLE} kept {feedback.plural(actual.length, 'image')} {describe(case)}; "
                       f"it should keep half of them, {case.size} // 2 = {want}.",
                       expected=f"{feedback.plural(want, 'image')}",
                       actual=f"{feedback.plural(actual.length, 'image')}")
    unreadable = _unreadable(case, actual)
    if unreadable is not None:
        return unreadable
    if tuple(actual.indices) != expected.indices:
        return Failure(f"{TITLE} kept the images at positions {_shown(actual.indices)} "
                       f"{describe(case)}, but parallel_seeded_choice([images, labels], "
                       f"MY_RANDOM_SEED, len(images) // 2) keeps {_shown(expected.indices)}. Use "
                       "MY_RANDOM_SEED (not a fixed number) and Task 1's function.",
                       expected=f"positions {_shown(expected.indices)}",
                       actual=f"positions {_shown(actual.indices)}")
    return None


def images_labels_paired(case: PartitionCase, obs: Observation) -> Failure | None:
    unreadable = _unreadable(case, obs.actual)
    if unreadable is not None:
        return unreadable
    for position, item in enumerate(obs.actual.items):
        want = cifar.label_of(item.index)
        if item.label != want:
            return Failure(f"{TITLE}[{position}] {describe(case)} paired the image from position "
                           f"{item.index % cifar.TEST_INDEX_OFFSET} with label {item.label!r}, "
                           f"but that image's label is {want}. Select images and labels with one "
                           "call, so they stay paired.",
                           expected=f"label {want}", actual=f"label {item.label!r}")
    return None


def whole_test_set(case: PartitionCase, obs: Observation) -> Failure | None:
    actual, expected = obs.actual, obs.expected
    if actual.length != case.size:
        return Failure(f"{TITLE} kept {feedback.plural(actual.length, 'image')} {describe(case)}; "
                       "the test set must stay whole.",
                       expected=feedback.plural(case.size, "image"),
                       actual=feedback.plural(actual.length, "image"))
    unreadable = _unreadable(case, actual)
    if unreadable is not None:
        return unreadable
    if tuple(actual.indices) != expected.indices:
        return Failure(f"{TITLE} changed the order of the test set {describe(case)}: it holds "
                       f"positions {_shown(actual.indices)}; with train=False nothing may change.",
                       expected=f"positions {_shown(expected.indices)}",
                       actual=f"positions {_shown(actual.indices)}")
    return None


def items_are_normalized_tensors(case: PartitionCase, obs: Observation) -> Failure | None:
    for position, item in enumerate(obs.actual.items):
        problem = None
        if item.error:
            problem = item.error
        elif item.shape != (3, 32, 32) or not item.image_type.startswith("torch.") \
                or item.dtype not in ("<f4", "<f8"):
            problem = f"the image is a {item.image_type} of shape {item.shape}"
        elif item.residual is None or item.residual > MAX_RESIDUAL or item.index is None \
                or obs.expected.crc32.get(item.index) != item.crc32:
            problem = "the image is not a stored image under the course's normalization"
        elif not isinstance(item.label, int):
            problem = f"the label is {item.label.get('type', '?')} {item.label.get('repr', '')}"
        if problem:
            return Failure(f"{TITLE}[{position}] {describe(case)}: {problem}; it should return "
                           "(image, label) with the image as a normalized 3x32x32 float tensor "
                           "and the label as an int.",
                           expected="(3x32x32 float tensor, int label)", actual=problem)
    return None


_TRAIN_EXAMPLES = (PartitionCase(7, 10), PartitionCase(20240229, 10), PartitionCase(31, 7),
                   PartitionCase(19700101, 33))
_TEST_EXAMPLES = (PartitionCase(7, 10, False), PartitionCase(20240229, 33, False))

PARTITION = CheckSpec(
    id="task2_partition",
    title=TITLE,
    needs=("CIFAR100Partition",),
    substitutes=("parallel_seeded_choice",),
    preload=("torchvision.transforms",),
    request=_request,
    observe=_observe,
    describe=describe,
    prepare=_prepare,
    max_examples=15,
    properties=(
        Property("train_half_selected", train_half_selected, strategy=partition_cases,
                 examples=_TRAIN_EXAMPLES),
        Property("images_labels_paired", images_labels_paired, strategy=partition_cases,
                 examples=_TRAIN_EXAMPLES[:2]),
        Property("test_set_whole", whole_test_set,
                 strategy=lambda: partition_cases(train=False), examples=_TEST_EXAMPLES),
        Property("items_are_normalized_tensors", items_are_normalized_tensors,
                 strategy=lambda: st.one_of(partition_cases(True), partition_cases(False)),
                 examples=_TRAIN_EXAMPLES[:1] + _TEST_EXAMPLES[:1]),
    ),
)
