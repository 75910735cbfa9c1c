"""The kit seals a value exactly as the grader does, so equal outputs meet and others do not."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from grader.release import seal

VALUES = [None, True, False, 0, -7, 2 ** 40, np.int16(3), 0.1, np.float32(0.5), 1e-300, "",
          "s1", "ü", [], (), [1, 2], (1, 2), np.arange(5), np.arange(5, dtype=np.uint8),
          np.zeros(0, np.int64), [np.arange(3), None, [0.1, "x"]], [[1], [2, 3]]]


def test_the_kit_seals_with_the_graders_own_module(kit):
    from edge_ai_w5_selfcheck.portable import seal as kit_seal

    from grader.portable import seal as portable

    assert Path(kit_seal.__file__).resolve() == Path(portable.__file__).resolve()
    assert seal.seal is portable.seal and seal.canonical is portable.canonical


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_every_value_has_one_encoding_and_the_key_matters(value):
    key = seal.new_key()
    assert seal.canonical(value) == seal.canonical(value)
    assert seal.matches(key, "label", value, seal.seal(key, "label", value))
    assert not seal.matches(seal.new_key(), "label", value, seal.seal(key, "label", value))


def test_different_values_labels_and_keys_seal_differently():
    key, other = seal.new_key(), seal.new_key()
    positions = np.array([8, 9, 7, 4], np.int64)
    sealed = seal.seal(key, "a", positions)
    assert sealed != seal.seal(key, "a", positions[::-1])
    assert sealed != seal.seal(key, "b", positions)
    assert sealed != seal.seal(other, "a", positions)
    # an int array and the same ints in a list are different encodings, by design
    assert seal.canonical(positions) != seal.canonical(positions.tolist())


def test_objects_without_an_encoding_are_refused():
    with pytest.raises(TypeError):
        seal.canonical(object())
