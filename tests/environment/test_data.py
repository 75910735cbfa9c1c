"""Synthetic CIFAR-100: format, determinism, image-label pairing, atomic cache, data selection."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from grader.environment import data

TRAIN, TEST = 300, 120


@pytest.fixture
def cache(tmp_path):
    return tmp_path / "cache"


def load(path):
    with open(path, "rb") as handle:
        return pickle.load(handle, encoding="bytes")  # as the notebook reads CIFAR-100


def test_files_have_the_cifar100_python_format(cache):
    folder = data.synthetic_dir(TRAIN, TEST, cache)
    for split, size in (("train", TRAIN), ("test", TEST)):
        batch = load(folder / split)
        assert set(batch) == {b"data", b"fine_labels", b"coarse_labels", b"filenames", b"batch_label"}
        assert batch[b"data"].dtype == np.uint8 and batch[b"data"].shape == (size, 3072)
        assert len(batch[b"fine_labels"]) == len(batch[b"coarse_labels"]) == size
        assert all(type(label) is int and 0 <= label < 100 for label in batch[b"fine_labels"])
        assert all(0 <= label < 20 for label in batch[b"coarse_labels"])
        assert isinstance(batch[b"filenames"][0], bytes) and isinstance(batch[b"batch_label"], bytes)


def test_generation_is_deterministic_and_prefix_stable(tmp_path):
    first = data.synthetic_dir(TRAIN, TEST, tmp_path / "a")
    second = data.synthetic_dir(TRAIN, TEST, tmp_path / "b")
    for split in ("train", "test"):
        assert (first / split).read_bytes() == (second / split).read_bytes()
    small = data.make_batch(50, "train")
    assert np.array_equal(small[b"data"], load(first / "train")[b"data"][:50])


def test_every_image_encodes_its_index_and_label(cache):
    folder = data.synthetic_dir(TRAIN, TEST, cache)
    train, test = load(folder / "train"), load(folder / "test")
    assert np.array_equal(data.indices_of(train[b"data"]), np.arange(TRAIN))
    assert [data.index_of(row) for row in test[b"data"][:3]] == [data.test_index(i) for i in range(3)]
    for batch in (train, test):
        for row, label in zip(batch[b"data"][::17], batch[b"fine_labels"][::17]):
            assert data.label_of(data.index_of(row)) == label
    hwc = train[b"data"][7].reshape(3, 32, 32).transpose(1, 2, 0)  # the notebook's __getitem__ layout
    assert data.index_of(hwc) == 7


def test_a_shuffled_pairing_is_detectable():
    batch = data.make_batch(200, "train")
    images, labels = batch[b"data"], np.array(batch[b"fine_labels"])
    rng = np.random.default_rng(0)
    wrong = labels[rng.permutation(200)]
    recovered = np.array([data.label_of(i) for i in data.indices_of(images)])
    assert np.array_equal(recovered, labels) and not np.array_equal(recovered, wrong)


def test_a_damaged_image_has_no_index():
    row = data.make_batch(1, "train")[b"data"][0].copy()
    row[4] ^= 0xFF
    with pytest.raises(ValueError, match="checksum"):
        data.index_of(row)
    assert data.indices_of(row[None, :])[0] == -1


def test_labels_are_balanced_and_carry_a_learnable_signal():
    batch = data.make_batch(2000, "train")
    labels = np.array(batch[b"fine_labels"])
    assert np.bincount(labels, minlength=100).min() >= 8
    colours = batch[b"data"].reshape(-1, 3, 1024)[:, :, 8:].mean(axis=2)
    means = np.stack([colours[labels == c].mean(axis=0) for c in range(100)])
    test = data.make_batch(300, "test")
    test_colours = test[b"data"].reshape(-1, 3, 1024)[:, :, 8:].mean(axis=2)
    nearest = np.argmin(((test_colours[:, None, :] - means[None]) ** 2).sum(-1), axis=1)
    assert (nearest == np.array(test[b"fine_labels"])).mean() > 0.5  # chance is 0.01


def test_an_interrupted_generation_leaves_no_cache_entry(cache, monkeypatch):
    real_write = data.write_batch

    def crash_on_test(path, batch):
        if path.name == "test":
            raise KeyboardInterrupt
        real_write(path, batch)

    monkeypatch.setattr(data, "write_batch", crash_on_test)
    with pytest.raises(KeyboardInterrupt):
        data.synthetic_dir(TRAIN, TEST, cache)
    assert list(cache.iterdir()) == []
    monkeypatch.setattr(data, "write_batch", real_write)
    folder = data.synthetic_dir(TRAIN, TEST, cache)
    assert data.is_synthetic(folder) and len(load(folder / "test")[b"fine_labels"]) == TEST


def test_a_complete_entry_is_reused_and_a_damaged_one_replaced(cache, monkeypatch):
    folder = data.synthetic_dir(TRAIN, TEST, cache)
    monkeypatch.setattr(data, "make_batch", lambda *a, **k: pytest.fail("regenerated a good cache"))
    assert data.synthetic_dir(TRAIN, TEST, cache) == folder
    monkeypatch.undo()
    (folder / "test").chmod(0o644)
    (folder / "test").write_bytes(b"truncated")
    assert not data.is_synthetic(folder)
    assert data.synthetic_dir(TRAIN, TEST, cache) == folder and data.is_synthetic(folder)


def test_orphaned_temporary_folders_are_removed(cache):
    cache.mkdir()
    orphan = cache / f".cifar100-synthetic-v{data.FORMAT_VERSION}-1x1.tmp-999999999-abc"
    orphan.mkdir()
    data.synthetic_dir(TRAIN, TEST, cache)
    assert not orphan.exists()


def test_cache_dir_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(data.CACHE_ENV, str(tmp_path / "env-cache"))
    monkeypatch.delenv(data.REAL_DATA_ENV, raising=False)
    folder = data.resolve_data_dir(train_size=TRAIN, test_size=TEST)
    assert folder.parent == tmp_path / "env-cache"


def test_resolve_prefers_the_flag_then_the_environment(tmp_path, monkeypatch):
    real = tmp_path / "cifar-100-python"
    real.mkdir()
    (real / "train").write_bytes(b"x")
    (real / "test").write_bytes(b"x")
    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.setenv(data.REAL_DATA_ENV, str(other))
    assert data.resolve_data_dir(real) == real.resolve()
    with pytest.raises(data.DataDirError, match=r"GRADER_CIFAR100_DIR.*lacks train and test"):
        data.resolve_data_dir()
    monkeypatch.setenv(data.REAL_DATA_ENV, str(real))
    assert data.resolve_data_dir() == real.resolve()
    with pytest.raises(data.DataDirError, match="does not exist"):
        data.resolve_data_dir(tmp_path / "nowhere")
