"""CIFAR-100 for student processes: a synthetic stand-in, or the real files.

The course read CIFAR-100 from Kaggle (`/kaggle/input/cifar100/{train,test}`, the python-pickle
format). The grader has no network, so by default it generates a synthetic CIFAR-100 in exactly that
format. Two properties make it useful for grading:

* every image encodes its own sample index (first five red-channel bytes: the index as 4 bytes
  big-endian plus a checksum), and every label is a fixed function of that index, so a grader can
  check that a student's split kept images and labels paired (`index_of`, `label_of`);
* each class has its own mean colour under uniform noise, so even a tiny training run can learn
  something and lower the loss.

Files are generated deterministically on first use into a cache directory and published with an
atomic rename, so an interrupted generation never leaves a half-written cache behind.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np

FORMAT_VERSION = 1
"""Bump when the bytes of generated files change: the cache folder name contains it."""

DEFAULT_TRAIN_SIZE = 50_000
DEFAULT_TEST_SIZE = 10_000
NUM_CLASSES = 100
NUM_COARSE_CLASSES = 20
IMAGE_BYTES = 3 * 32 * 32

TEST_INDEX_OFFSET = 1 << 24
"""Test image j encodes index TEST_INDEX_OFFSET + j, so train and test images never share one."""

SEED = 20220509
CACHE_ENV = "GRADER_CACHE_DIR"
REAL_DATA_ENV = "GRADER_CIFAR100_DIR"
SPLITS = ("train", "test")

_HEADER_BYTES = 5  # 4 index bytes + 1 checksum byte, at the start of each row (red channel)
_CHECKSUM_SALT = 0x5A
_NOISE_MASK = 0x3F  # uniform noise 0..63 on top of a class mean colour 0..192: never overflows
_CHUNK_ROWS = 8192
_MANIFEST = "manifest.json"


class DataDirError(FileNotFoundError):
    """A CIFAR-100 folder is missing or lacks its `train`/`test` files."""


# --- pairing: index <-> image, index -> label -------------------------------------------------


def label_of(index: int) -> int:
    """Fine label (0..99) of the image with sample `index`.

    A multiplicative hash, so labels look shuffled (a split that pairs images with the wrong labels
    shows up) yet each label needs only the index to verify.
    """
    return int(_labels_of(np.asarray([index]))[0])


def coarse_label_of(index: int) -> int:
    """Coarse label (0..19) of sample `index`; synthetic, derived from the fine label."""
    return label_of(index) // (NUM_CLASSES // NUM_COARSE_CLASSES)


def index_of(image_row) -> int:
    """Sample index encoded in an image (3072 CHW bytes, or a 3x32x32 / 32x32x3 array).

    Raises ValueError when the image carries no valid index (e.g. it was augmented or not
    produced by this module).
    """
    row = _as_chw_row(image_row)
    header = [int(v) for v in row[:_HEADER_BYTES]]
    if _checksum(header[:4]) != header[4]:
        raise ValueError("image carries no synthetic CIFAR-100 index (checksum mismatch)")
    return int.from_bytes(bytes(header[:4]), "big")


def indices_of(images) -> np.ndarray:
    """Vectorised `index_of` for an (N, 3072) uint8 array; -1 where the checksum fails."""
    rows = np.asarray(images, dtype=np.uint8).reshape(len(images), -1)
    head = rows[:, :_HEADER_BYTES].astype(np.int64)
    idx = (head[:, 0] << 24) | (head[:, 1] << 16) | (head[:, 2] << 8) | head[:, 3]
    ok = (head[:, :4].sum(axis=1) + _CHECKSUM_SALT) % 256 == head[:, 4]
    return np.where(ok, idx, -1)


def test_index(position: int) -> int:
    """Encoded index of the test image at `position` in the test file."""
    return TEST_INDEX_OFFSET + position


def _labels_of(indices: np.ndarray) -> np.ndarray:
    mixed = (indices.astype(np.uint64) * np.uint64(2654435761)) & np.uint64(0xFFFFFFFF)
    return ((mixed >> np.uint64(16)) % np.uint64(NUM_CLASSES)).astype(np.int64)


def _checksum(index_bytes) -> int:
    return (sum(index_bytes) + _CHECKSUM_SALT) % 256


def _as_chw_row(image) -> np.ndarray:
    arr = np.asarray(image, dtype=np.uint8)
    if arr.shape == (32, 32, 3):  # HWC, as the notebook's __getitem__ produces before transforms
        arr = arr.transpose(2, 0, 1)
    return arr.reshape(-1)


# --- generation -------------------------------------------------------------------------------


def _class_means() -> np.ndarray:
    """(100, 3) uint8 mean colours in 0..192, from the raw PCG64 byte stream (version-stable)."""
    raw = np.frombuffer(np.random.default_rng([SEED, 99]).bytes(NUM_CLASSES * 3), dtype=np.uint8)
    return ((raw.astype(np.uint16) * 193) // 256).astype(np.uint8).reshape(NUM_CLASSES, 3)


def make_batch(size: int, split: str = "train") -> dict:
    """Build one CIFAR-100 python-pickle dict (`b"data"`, `b"fine_labels"`, ...) in memory.

    Deterministic, and prefix-stable: the first k images of a larger batch equal a batch of size k.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    offset = 0 if split == "train" else TEST_INDEX_OFFSET
    if size < 0 or size > TEST_INDEX_OFFSET:
        raise ValueError(f"size must be between 0 and {TEST_INDEX_OFFSET}, got {size}")

    indices = np.arange(offset, offset + size, dtype=np.int64)
    fine = _labels_of(indices)
    means = _class_means()
    rng = np.random.default_rng([SEED, SPLITS.index(split)])
    data = np.empty((size, IMAGE_BYTES), dtype=np.uint8)
    for start in range(0, size, _CHUNK_ROWS):
        stop = min(size, start + _CHUNK_ROWS)
        block = np.frombuffer(rng.bytes((stop - start) * IMAGE_BYTES), dtype=np.uint8)
        block = (block & _NOISE_MASK).reshape(stop - start, 3, 1024)
        block += means[fine[start:stop]][:, :, None]
        data[start:stop] = block.reshape(stop - start, IMAGE_BYTES)

    header = np.empty((size, _HEADER_BYTES), dtype=np.uint8)
    for byte in range(4):
        header[:, byte] = (indices >> (8 * (3 - byte))) & 0xFF
    header[:, 4] = (header[:, :4].sum(axis=1, dtype=np.int64) + _CHECKSUM_SALT) % 256
    data[:, :_HEADER_BYTES] = header

    kind = "training" if split == "train" else "testing"
    return {
        b"filenames": [b"synthetic_%08d.png" % i for i in indices.tolist()],
        b"batch_label": f"{kind} batch 1 of 1 (synthetic v{FORMAT_VERSION})".encode(),
        b"fine_labels": fine.tolist(),
        b"coarse_labels": (fine // (NUM_CLASSES // NUM_COARSE_CLASSES)).tolist(),
        b"data": data,
    }


def write_batch(path: Path, batch: dict) -> None:
    """Pickle a batch the way the notebook reads it back (`pickle.load(f, encoding="bytes")`)."""
    with open(path, "wb") as handle:
        pickle.dump(batch, handle, protocol=4)


# --- cache ------------------------------------------------------------------------------------


def default_cache_dir() -> Path:
    """`$GRADER_CACHE_DIR`, else `~/.cache/edge-ai-grader`."""
    env = os.environ.get(CACHE_ENV)
    return Path(env) if env else Path.home() / ".cache" / "edge-ai-grader"


def synthetic_dir(
    train_size: int = DEFAULT_TRAIN_SIZE,
    test_size: int = DEFAULT_TEST_SIZE,
    cache_dir: Path | None = None,
) -> Path:
    """Folder holding synthetic `train` and `test` files, generated on first use.

    Generation writes into a private temporary folder next to the cache entry and renames it into
    place only when complete; concurrent callers may both generate, the first rename wins.
    """
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    final = root / f"cifar100-synthetic-v{FORMAT_VERSION}-{train_size}x{test_size}"
    if _is_complete(final):
        return final
    root.mkdir(parents=True, exist_ok=True)
    _remove_orphans(root)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-{os.getpid()}-", dir=root))
    try:
        sizes = {}
        for split, size in (("train", train_size), ("test", test_size)):
            write_batch(tmp / split, make_batch(size, split))
            os.chmod(tmp / split, 0o444)  # shared by every run through symlinks: keep it intact
            sizes[split] = {"images": size, "bytes": (tmp / split).stat().st_size}
        manifest = {"format_version": FORMAT_VERSION, "seed": SEED, "files": sizes}
        (tmp / _MANIFEST).write_text(json.dumps(manifest, indent=1))
        if final.exists() and not _is_complete(final):
            shutil.rmtree(final, ignore_errors=True)  # a damaged entry (not ours): replace it
        try:
            os.rename(tmp, final)
        except OSError:
            if not _is_complete(final):  # not "someone else won the race": a real failure
                raise
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def is_synthetic(data_dir: Path) -> bool:
    """True for a folder made by `synthetic_dir` (images carry indices, labels are `label_of`)."""
    return _is_complete(Path(data_dir))


def _is_complete(folder: Path) -> bool:
    try:
        manifest = json.loads((folder / _MANIFEST).read_text())
        return manifest.get("format_version") == FORMAT_VERSION and all(
            (folder / split).stat().st_size == info["bytes"]
            for split, info in manifest["files"].items()
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def _remove_orphans(root: Path) -> None:
    """Delete temporary folders left by generator processes that died."""
    for entry in root.glob(".cifar100-synthetic-*.tmp-*"):
        match = re.search(r"\.tmp-(\d+)-", entry.name)
        if match and not _pid_alive(int(match.group(1))):
            shutil.rmtree(entry, ignore_errors=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --- choosing the data ------------------------------------------------------------------------


def resolve_data_dir(
    data_dir: Path | None = None,
    *,
    train_size: int = DEFAULT_TRAIN_SIZE,
    test_size: int = DEFAULT_TEST_SIZE,
    cache_dir: Path | None = None,
) -> Path:
    """The CIFAR-100 folder student processes get: `data_dir` (the `--data` flag), else
    `$GRADER_CIFAR100_DIR`, else the synthetic cache (generated if needed).

    A given folder must hold the python-version files `train` and `test`; DataDirError says what
    is missing otherwise.
    """
    if data_dir is None and os.environ.get(REAL_DATA_ENV):
        data_dir = Path(os.environ[REAL_DATA_ENV])
        source = f"${REAL_DATA_ENV}"
    else:
        source = "--data"
    if data_dir is None:
        return synthetic_dir(train_size, test_size, cache_dir)

    folder = Path(data_dir).expanduser().resolve()
    if not folder.is_dir():
        raise DataDirError(
            f"CIFAR-100 folder {folder} (from {source}) does not exist; point it at the "
            "'cifar-100-python' folder unpacked from cifar-100-python.tar.gz."
        )
    missing = [name for name in SPLITS if not (folder / name).is_file()]
    if missing:
        found = sorted(p.name for p in folder.iterdir())[:10]
        raise DataDirError(
            f"CIFAR-100 folder {folder} (from {source}) lacks {' and '.join(missing)}: expected "
            f"the python-version files 'train' and 'test', found {found or 'nothing'}."
        )
    return folder
