"""SLICE in the engine is byte-equal to TFLite Micro's reference kernel.

Models are real single-op int8 SLICE graphs from TensorFlow's converter
(tests/engine/oplib.py), with seeded random ranks 1-4, shapes, begins and
sizes (some -1, "to the end"); the oracle is the real TFLM interpreter. The
converter always writes int32 begin/size, so int64 index tensors (which TFLM
and the litert route accept) are produced by rewriting the model's buffers.
Bad begin/size values, which TFLM would read out of bounds with, must be
rejected when the model is loaded, with a message naming SLICE and the field.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import flatbuffers
import numpy as np
import oplib
import pytest
from hilnas.engine import Engine
from hilnas.errors import EngineError
from tensorflow.lite.python import schema_py_generated as schema

RANDOM_CASES = 8  # fixed so that failures reproduce and CI time is bounded
INT64 = 4  # TensorType.INT64
INPUT_SETS = 3


def random_slice(seed: int) -> tuple[tuple[int, ...], list[int], list[int]]:
    """Shape of rank 1-4 (each rank twice over 8 seeds) and a begin/size pair.

    About half of the sizes past axis 0 are -1 (always the last axis on odd
    seeds); axis 0 is always a proper sub-range so that the converter cannot
    fold the slice away.
    """
    rng = np.random.default_rng(700 + seed)
    rank = seed % 4 + 1
    shape = tuple(int(d) for d in rng.integers(2, 9, rank))
    begin, size = [], []
    for axis, dim in enumerate(shape):
        b = int(rng.integers(1 if axis == 0 else 0, dim))
        to_end = axis == rank - 1 and seed % 2 == 1  # the innermost (memcpy) axis
        if axis > 0 and (to_end or rng.random() < 0.5):
            size.append(-1)
        else:
            size.append(int(rng.integers(1, dim - b + 1)))
        begin.append(b)
    return shape, begin, size


def slice_model(shape: tuple[int, ...], begin: list[int], size: list[int], seed: int) -> bytes:
    import tensorflow as tf

    model = oplib.convert(lambda x: tf.slice(x, begin, size) * 1.0, [shape], seed=seed)
    assert oplib.ops_in(model) == ["SLICE"], oplib.ops_in(model)
    return model


@cache
def small_model() -> bytes:
    """One (4, 6) -> (2, 3) SLICE, converted once for the rejection tests."""
    return slice_model((4, 6), [1, 2], [2, 3], seed=3)


def int8_input_sets(shape: tuple[int, ...], seed: int) -> list[list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [[rng.integers(-128, 128, shape, dtype=np.int8)] for _ in range(INPUT_SETS)]


def rewrite_index_tensors(model: bytes, edit: Callable[[str, schema.TensorT, np.ndarray],
                                                       np.ndarray]) -> bytes:
    """Apply ``edit(name, tensor, values)`` to the SLICE op's begin (input 1)
    and size (input 2) constants; it may change the tensor's type in place."""
    m = schema.ModelT.InitFromPackedBuf(model, 0)
    sg = m.subgraphs[0]
    op = sg.operators[0]
    for name, idx in (("begin", op.inputs[1]), ("size", op.inputs[2])):
        tensor = sg.tensors[idx]
        buf = m.buffers[tensor.buffer]
        dtype = np.int64 if tensor.type == INT64 else np.int32
        values = np.frombuffer(bytes(bytearray(buf.data)), dtype=dtype).copy()
        buf.data = np.frombuffer(edit(name, tensor, values).tobytes(), dtype=np.uint8)
    builder = flatbuffers.Builder(len(model) + 1024)
    builder.Finish(m.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def to_int64(_name: str, tensor: schema.TensorT, values: np.ndarray) -> np.ndarray:
    tensor.type = INT64
    return values.astype("<i8")


def load_error(model: bytes) -> EngineError:
    with pytest.raises(EngineError) as info:
        Engine(model)
    return info.value


@pytest.mark.parametrize("seed", range(RANDOM_CASES))
def test_random_slice_matches_tflm(seed: int) -> None:
    shape, begin, size = random_slice(seed)
    model = slice_model(shape, begin, size, seed)
    for inputs in int8_input_sets(shape, seed):
        oplib.assert_bit_exact(model, inputs)
    got = oplib.run_engine(model, inputs)[0][0]
    stop = [b + s if s != -1 else d for b, s, d in zip(begin, size, shape, strict=True)]
    assert np.array_equal(got, inputs[0][tuple(map(slice, begin, stop))])


def test_minus_one_size_survives_conversion() -> None:
    """The -1 ("to the end") case is really exercised: the converter keeps it."""
    model = slice_model((5, 6), [1, 2], [3, -1], seed=0)
    seen: dict[str, list[int]] = {}

    def record(name: str, _tensor: schema.TensorT, values: np.ndarray) -> np.ndarray:
        seen[name] = values.tolist()
        return values

    rewrite_index_tensors(model, record)
    assert seen == {"begin": [1, 2], "size": [3, -1]}
    oplib.assert_bit_exact(model, int8_input_sets((5, 6), 0)[0])


def test_int64_begin_and_size_match_tflm() -> None:
    shape, begin, size = (3, 7, 4), [1, 2, 0], [2, -1, 3]
    model = rewrite_index_tensors(slice_model(shape, begin, size, seed=1), to_int64)
    for inputs in int8_input_sets(shape, 1):
        oplib.assert_bit_exact(model, inputs)


def test_float32_slice_matches_tflm() -> None:
    """Float SLICE (the kernel copies bytes, any 4-byte type runs the same loop)."""
    import tensorflow as tf

    spec = tf.TensorSpec([4, 5, 6], tf.float32)
    fn = tf.function(lambda x: tf.slice(x, [1, 0, 2], [2, -1, 3]) * 1.0, input_signature=[spec])
    conv = tf.lite.TFLiteConverter.from_concrete_functions([fn.get_concrete_function()])
    model = bytes(conv.convert())
    assert oplib.ops_in(model) == ["SLICE"], oplib.ops_in(model)
    x = np.random.default_rng(2).standard_normal((4, 5, 6)).astype(np.float32)
    oplib.assert_bit_exact(model, [x])


def test_out_of_range_begin_is_rejected_at_load() -> None:
    model = small_model()

    def begin_past_end(name: str, _tensor: schema.TensorT, values: np.ndarray) -> np.ndarray:
        return np.array([1, 7], values.dtype) if name == "begin" else values

    err = load_error(rewrite_index_tensors(model, begin_past_end))
    assert err.status == 2, err
    assert "SLICE" in str(err) and "begin[1] = 7" in str(err), str(err)


@pytest.mark.parametrize(("begin", "size", "field"), [
    ([-1, 0], [2, 3], "begin[0] = -1"),
    ([1, 2], [2, 5], "size[1] = 5"),
    ([1, 2], [-2, 3], "size[0] = -2"),
])
def test_bad_begin_or_size_is_rejected_at_load(begin: list[int], size: list[int],
                                               field: str) -> None:
    model = small_model()
    new = {"begin": begin, "size": size}

    def replace(name: str, _tensor: schema.TensorT, values: np.ndarray) -> np.ndarray:
        return np.array(new[name], values.dtype)

    err = load_error(rewrite_index_tensors(model, replace))
    assert "SLICE" in str(err) and field in str(err), str(err)


def test_int64_index_outside_int32_is_rejected_at_load() -> None:
    model = rewrite_index_tensors(small_model(), to_int64)

    def huge(name: str, _tensor: schema.TensorT, values: np.ndarray) -> np.ndarray:
        return np.array([1, 1 << 40], "<i8") if name == "begin" else values

    err = load_error(rewrite_index_tensors(model, huge))
    assert "SLICE" in str(err) and "begin[1]" in str(err) and "int32" in str(err), str(err)
