"""Task 2 probe: `CIFAR100Partition`, each item described by a header and a checksum."""
import numbers
import zlib

from .plain import (MAX_ITEMS, asarray, bool_, clip, float32, plain_array, rint, short_repr,
                    student, type_name, uint8)
from .table import probe


@probe
def partition(ns, dataset_path, train, seed, mean, std, header_bytes=16):
    """Build CIFAR100Partition(Path(dataset_path), transforms, train=train) with MY_RANDOM_SEED
    set to `seed`; describe every item `__getitem__` returns.

    Images come back as their first `header_bytes` bytes (CHW order) after undoing the course
    normalization, plus a CRC-32 of all 3072 bytes: enough for the grader to tell which sample
    each item is and whether it is the whole, unchanged image, without shipping images.
    """
    from pathlib import Path

    from torchvision import transforms as tt

    cls = student(ns, "CIFAR100Partition")
    ns["MY_RANDOM_SEED"] = seed
    transforms = tt.Compose([tt.ToTensor(), tt.Normalize(mean=tuple(mean), std=tuple(std))])
    dataset = cls(Path(dataset_path), transforms, train=train, image_augmentations=None)
    length = len(dataset)
    mean_ = asarray(mean, dtype=float32).reshape(3, 1, 1)
    std_ = asarray(std, dtype=float32).reshape(3, 1, 1)
    items = []
    for index in range(min(length, MAX_ITEMS)):
        item = dataset[index]
        items.append(_describe_item(item, mean_, std_, header_bytes))
    return {"length": length, "items": items}


def _describe_item(item, mean, std, header_bytes):
    if not isinstance(item, tuple) or len(item) != 2:
        return {"error": f"returned {type_name(item)}, not an (image, label) pair",
                "repr": short_repr(item)}
    image, label = item
    described = {"image_type": type_name(image), "label": _label(label)}
    array = plain_array(image)
    if array is None:
        described["shape"] = None
        return described
    described["shape"] = [int(d) for d in array.shape]
    described["dtype"] = array.dtype.str
    if array.shape == (3, 32, 32) and array.dtype.kind == "f":
        pixels = clip(rint((array.astype(float32) * std + mean) * 255.0), 0, 255).astype(uint8)
        row = pixels.reshape(-1)
        renormalized = (pixels.astype(float32) / 255.0 - mean) / std
        residual = float(abs(array.astype(float32) - renormalized).max())
        described["header"] = row[:header_bytes].tolist()
        described["crc32"] = zlib.crc32(row.tobytes())
        described["residual"] = residual
    return described


def _label(label):
    if isinstance(label, (bool, bool_)):
        return {"repr": short_repr(label), "type": type_name(label)}
    if isinstance(label, numbers.Integral):
        return int(label)
    array = plain_array(label)
    if array is not None and array.size == 1 and array.dtype.kind in "iu":
        return int(array.reshape(-1)[0])
    return {"repr": short_repr(label), "type": type_name(label)}
