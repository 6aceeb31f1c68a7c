"""Hostile and unsupported models are rejected at load with specific errors.

Every case here is a real .tflite (converter output) that was cut, patched or
re-labelled; the engine must answer with the right status and a message that
names the culprit (op name, tensor, offset), never crash.
"""

from __future__ import annotations

import numpy as np
import oplib
import pytest
from hilnas.engine import Engine
from hilnas.errors import EngineError

TRUNCATED, MALFORMED, UNSUPPORTED_OP, UNSUPPORTED_OPTION = 1, 2, 3, 4


@pytest.fixture(scope="module")
def add_model() -> bytes:
    return oplib.convert(lambda x, y: x + y, [(1, 4, 4, 3), (1, 4, 4, 3)])


@pytest.fixture(scope="module")
def conv_model() -> bytes:
    import tensorflow as tf

    k = tf.constant(np.random.default_rng(0).standard_normal((3, 3, 2, 4)).astype(np.float32))
    return oplib.convert(lambda x: tf.nn.conv2d(x, k, 1, "SAME"), [(1, 6, 6, 2)])


def _patch(model: bytes, edit) -> bytes:
    """Apply ``edit(ModelT)`` and re-serialize."""
    import flatbuffers
    from tensorflow.lite.python import schema_py_generated as schema

    m = schema.ModelT.InitFromPackedBuf(model, 0)
    edit(m)
    b = flatbuffers.Builder(len(model) + 1024)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def test_every_truncation_is_an_error_not_a_crash(add_model: bytes) -> None:
    """Cutting the file anywhere gives an error status; only cuts inside the
    trailing metadata (never read by the engine) may still load, and then run."""
    loaded = []
    for cut in range(0, len(add_model), 3):
        try:
            Engine(add_model[:cut]).invoke()
            loaded.append(cut)
        except EngineError as exc:
            assert exc.status in (TRUNCATED, MALFORMED, UNSUPPORTED_OPTION), (cut, exc)
    assert all(cut > len(add_model) * 0.7 for cut in loaded), loaded


def test_truncated_names_the_buffer_size(add_model: bytes) -> None:
    with pytest.raises(EngineError, match="MODEL_TRUNCATED") as exc:
        Engine(add_model[:200])
    assert exc.value.status == TRUNCATED


def test_random_byte_flips_never_crash(conv_model: bytes) -> None:
    rng = np.random.default_rng(7)
    for _ in range(300):
        buf = bytearray(conv_model)
        for at in rng.integers(0, len(buf), 4):
            buf[at] = int(rng.integers(0, 256))
        try:
            eng = Engine(bytes(buf))
        except EngineError:
            continue
        eng.invoke()


def test_wrong_file_identifier(add_model: bytes) -> None:
    with pytest.raises(EngineError, match="not TFL3"):
        Engine(add_model[:4] + b"XXXX" + add_model[8:])


def test_unsupported_op_is_named_at_load(add_model: bytes) -> None:
    with pytest.raises(EngineError, match=r"op 0: EXP \(builtin 47\) is not supported") as exc:
        Engine(oplib.set_opcode(add_model, "EXP"))
    assert exc.value.status == UNSUPPORTED_OP


def test_custom_op_is_named(add_model: bytes) -> None:
    def to_custom(m) -> None:
        m.operatorCodes[0].builtinCode = 32
        m.operatorCodes[0].deprecatedBuiltinCode = 32
        m.operatorCodes[0].customCode = b"MyGelu"

    with pytest.raises(EngineError, match="custom op 'MyGelu'"):
        Engine(_patch(add_model, to_custom))


def test_unsupported_fused_activation_is_named(add_model: bytes) -> None:
    def tanh_act(m) -> None:
        m.subgraphs[0].operators[0].builtinOptions.fusedActivationFunction = 4

    with pytest.raises(EngineError, match=r"op 0 ADD: fused activation 4 unsupported") as exc:
        Engine(_patch(add_model, tanh_act))
    assert exc.value.status == UNSUPPORTED_OPTION


def test_tensor_index_out_of_range(add_model: bytes) -> None:
    def bad_index(m) -> None:
        op = m.subgraphs[0].operators[0]
        op.inputs = np.array([op.inputs[0], 999], dtype=np.int32)

    with pytest.raises(EngineError, match=r"op 0: inputs\[1\] = tensor 999 invalid"):
        Engine(_patch(add_model, bad_index))


def test_inconsistent_conv_output_shape(conv_model: bytes) -> None:
    def bad_shape(m) -> None:
        sg = m.subgraphs[0]
        out = sg.tensors[sg.operators[0].outputs[0]]
        out.shape = np.array([1, 5, 6, 4], dtype=np.int32)

    with pytest.raises(EngineError, match="CONV_2D: output shape"):
        Engine(_patch(conv_model, bad_shape))


def test_constant_data_shorter_than_shape(conv_model: bytes) -> None:
    def short_weights(m) -> None:
        sg = m.subgraphs[0]
        filt = sg.tensors[sg.operators[0].inputs[1]]
        m.buffers[filt.buffer].data = m.buffers[filt.buffer].data[:10]

    with pytest.raises(EngineError, match="constant data has 10 bytes"):
        Engine(_patch(conv_model, short_weights))
