"""The Python binding builds the library, loads a model and reports errors."""

from __future__ import annotations

import numpy as np
import oplib
import pytest
from hilnas.engine import Engine
from hilnas.errors import EngineError


@pytest.fixture(scope="module")
def fc_model() -> bytes:
    import tensorflow as tf

    rng = np.random.default_rng(1)
    w = tf.constant(rng.standard_normal((16, 10)).astype(np.float32))
    b = tf.constant(rng.standard_normal(10).astype(np.float32))
    return oplib.convert(lambda x: tf.nn.relu(tf.matmul(x, w) + b), [(2, 16)])


def test_fc_bit_exact_and_arena_not_above_tflm(fc_model: bytes) -> None:
    eng_arena, tflm_arena = oplib.assert_bit_exact(fc_model)
    assert 0 < eng_arena <= tflm_arena


def test_io_info_and_records(fc_model: bytes) -> None:
    eng = Engine(fc_model)
    info = eng.input_info(0)
    assert info.shape == (2, 16) and info.dtype == np.int8 and info.scale > 0
    eng.set_input(np.zeros((2, 16), np.int8))
    eng.invoke()
    assert eng.get_output(0).shape == (2, 10)
    recs = eng.op_records()
    assert [r.name for r in recs] == ["FULLY_CONNECTED"]


def test_arena_too_small_names_required_size(fc_model: bytes) -> None:
    need = Engine(fc_model).arena_required
    with pytest.raises(EngineError, match=f"needs {need} bytes") as exc:
        Engine(fc_model, arena_size=need - 16)
    assert exc.value.status == 5


def test_wrong_input_size_is_rejected(fc_model: bytes) -> None:
    eng = Engine(fc_model)
    with pytest.raises(EngineError, match="expects 32 bytes"):
        eng.set_input(np.zeros(31, np.int8))


def test_garbage_model_is_rejected() -> None:
    with pytest.raises(EngineError, match="MODEL_"):
        Engine(b"\x10\x00\x00\x00TFL3" + bytes(8))


@pytest.fixture(scope="module")
def wide_conv_model() -> bytes:
    """A 1x1 conv to 512 channels: ~4.6 KB of per-channel persistent op data
    (multipliers, shifts, folded biases), far above the old 1 KB sizing buffer."""
    import tensorflow as tf

    rng = np.random.default_rng(2)
    w = tf.constant(rng.standard_normal((1, 1, 8, 512)).astype(np.float32))
    return oplib.convert(lambda x: tf.nn.conv2d(x, w, 1, "VALID"), [(1, 4, 4, 8)])


def test_arena_required_is_exactly_what_invoke_needs_with_large_op_data(
    wide_conv_model: bytes,
) -> None:
    """The sizing pass (no arena, then a short one) prepares every op, so the figure it
    reports is the one a load needs: 16 bytes less fails, exactly it runs bit-exact."""
    need = Engine(wide_conv_model).arena_required  # sizing pass: no arena at all
    assert need > 9 * 512, "per-channel data must be counted"
    for short in (need // 3, need - 16):
        with pytest.raises(EngineError, match=f"needs {need} bytes"):
            Engine(wide_conv_model, arena_size=short)
    eng = Engine(wide_conv_model, arena_size=need)
    x = oplib.random_inputs(wide_conv_model, seed=3)
    eng.set_input(x[0])
    eng.invoke()
    want, tflm_arena = oplib.run_tflm(wide_conv_model, x)
    assert eng.get_output(0).tobytes() == want[0].tobytes()
    assert need <= tflm_arena
