"""The plain-data codec between grader and student processes."""
import base64
import json

import numpy as np
import pytest

from grader.sandbox import codec


@pytest.mark.parametrize("array", [
    np.arange(10),
    np.arange(12, dtype=np.uint8).reshape(3, 4),
    np.zeros((0, 3072), dtype=np.uint8),
    np.array(3.5),
    np.array([True, False]),
    np.array([1 + 2j, -1j], dtype=np.complex64),
    np.array(["s1", "s22"]),
    np.array([b"ab", b"c"]),
    np.arange(6, dtype=">i4").reshape(2, 3),  # big-endian travels as such
    np.arange(20, dtype=np.float32).reshape(4, 5)[:, ::2],  # not contiguous
    np.array([np.nan, np.inf, -0.0]),
])
def test_arrays_round_trip_with_dtype_and_shape(array):
    back = codec.decode(codec.encode({"a": array}))["a"]
    assert back.dtype == array.dtype and back.shape == array.shape
    np.testing.assert_array_equal(back, array)
    assert back.flags.writeable


def test_plain_values_round_trip_and_tuples_become_lists():
    value = {"n": 3, "f": 0.1, "s": "x", "b": True, "none": None, "list": [1, (2, 3)],
             "np": [np.int64(7), np.float32(0.5), np.bool_(True)]}
    back = codec.decode(codec.encode(value))
    assert back == {"n": 3, "f": 0.1, "s": "x", "b": True, "none": None, "list": [1, [2, 3]],
                    "np": [7, 0.5, True]}
    assert codec.decode(codec.encode(2 ** 70)) == 2 ** 70
    assert "\n" not in codec.encode({"text": "a\nb"})


def _message(dtype: str, data: bytes = b"", shape=(0,)) -> str:
    return json.dumps({"x": {"__ndarray__": base64.b64encode(data).decode(), "dtype": dtype,
                             "shape": list(shape)}})


@pytest.mark.parametrize("dtype", ["|O", "O", "object", "[('a', 'O')]", "i4,f8", "V8", "|V4"])
def test_object_structured_and_void_dtypes_are_refused(dtype):
    with pytest.raises(codec.CodecError):
        codec.decode(_message(dtype, b"\0" * 8, (1,)))


@pytest.mark.parametrize("message", [
    _message("<i8", b"\0" * 7, (1,)),  # wrong byte count
    _message("<i8", b"", (-1,)),
    json.dumps({"x": {"__ndarray__": "!!!", "dtype": "<i8", "shape": [0]}}),
    json.dumps({"x": {"__ndarray__": "", "dtype": "<i8", "shape": [0], "extra": 1}}),
    json.dumps({"x": {"__ndarray__": "", "dtype": "no-such-dtype", "shape": [0]}}),
    "not json",
    b"\xff\xfe",
])
def test_malformed_messages_raise_codec_error(message):
    with pytest.raises(codec.CodecError):
        codec.decode(message)


def test_strict_encoding_refuses_objects_lenient_makes_opaque_tokens():
    weird = [object(), np.array([1, "a"], dtype=object)]
    with pytest.raises(TypeError):
        codec.encode(weird)
    back = codec.decode(codec.encode(weird, lenient=True))
    assert all(isinstance(item, codec.Opaque) for item in back)
    assert back[0].type == "object" and back[1].type == "numpy.ndarray"


def test_a_broken_repr_does_not_break_encoding():
    class Broken:
        def __repr__(self):
            raise RuntimeError("no")

    token = codec.decode(codec.encode(Broken(), lenient=True))
    assert isinstance(token, codec.Opaque) and "raised RuntimeError" in token.repr


def test_dicts_that_look_like_tags_are_not_trusted_on_encode():
    sneaky = {"__ndarray__": "AAAA", "dtype": "|O", "shape": [1]}
    back = codec.decode(codec.encode(sneaky, lenient=True))
    assert isinstance(back, codec.Opaque)
