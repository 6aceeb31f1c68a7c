"""The engine's nonlinear, reduction and shape ops are bit-exact with TFLite Micro.

Every case builds a real single-op int8 model with the TensorFlow converter,
runs it in the hilnas engine (host build) and in the real TFLM interpreter
(tflite-micro package) and compares the outputs byte for byte
(tests/engine/oplib.py). Shapes, quantization ranges and op parameters are
drawn from seeded generators with a fixed number of cases, so failures
reproduce; each model is fed several inputs (random, saturating, all 256 int8
values) because building a model costs far more than running it.

Parameters the converter never varies (softmax beta, equal input/output
quantization for MEAN, unsupported masks) are set by editing the flatbuffer.

LOGISTIC, TANH, HARD_SWISH and RSQRT keep a 256-byte table of their results
in op data (built in prepare); the helper checks that the engine's arena,
tables included, is no larger than TFLM's. The only deliberate exception:
SOFTMAX and SQUARED_DIFFERENCE on tensors of >= 1024 elements tabulate in
1 KB of scratch (for a 4-8x speed-up on device); those tests bound the
engine's arena by TFLM's plus that 1 KB. Each test takes about a second
(one TensorFlow conversion), none is marked slow.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pytest
import tensorflow as tf
from hilnas.errors import EngineError, TflmError
from tensorflow.lite.python import schema_py_generated as schema

from tests.engine.oplib import assert_bit_exact, ops_in, run_engine, run_tflm

Range = tuple[float, float]


# --------------------------------------------------------------------- helpers


def convert(fn: Callable, shapes: Sequence[Sequence[int]], ranges: Sequence[Range],
            seed: int = 0) -> bytes:
    """Full-int8 model of ``fn``; calibration data uniform in ``ranges[i]`` for
    input i, which sets each input's scale and (asymmetric) zero point."""
    specs = [tf.TensorSpec(list(s), tf.float32) for s in shapes]
    concrete = tf.function(fn, input_signature=specs).get_concrete_function()
    rng = np.random.default_rng(seed)

    def representative():
        for _ in range(16):
            yield [rng.uniform(lo, hi, s).astype(np.float32)
                   for s, (lo, hi) in zip(shapes, ranges, strict=True)]

    conv = tf.lite.TFLiteConverter.from_concrete_functions([concrete])
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    return bytes(conv.convert())


def single_op(fn: Callable, shapes: Sequence[Sequence[int]], ranges: Sequence[Range],
              op: str, seed: int = 0) -> bytes:
    """Convert and check that the converter emitted exactly the op under test."""
    model = convert(fn, shapes, ranges, seed)
    assert ops_in(model) == [op], f"converter emitted {ops_in(model)}, wanted [{op}]"
    return model


def patch_op(model: bytes, op: str, mutate: Callable[[schema.ModelT, schema.OperatorT], None]
             ) -> bytes:
    """Return ``model`` with ``mutate(model_t, operator_t)`` applied to the op."""
    import flatbuffers

    m = schema.ModelT.InitFromPackedBuf(model, 0)
    code = getattr(schema.BuiltinOperator, op)
    target = next(o for o in m.subgraphs[0].operators
                  if max(m.operatorCodes[o.opcodeIndex].builtinCode,
                         m.operatorCodes[o.opcodeIndex].deprecatedBuiltinCode) == code)
    mutate(m, target)
    builder = flatbuffers.Builder(len(model) + 1024)
    builder.Finish(m.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def int8_inputs(shapes: Sequence[Sequence[int]], seed: int, n: int = 3) -> list[list[np.ndarray]]:
    """n random input sets, then the saturating extremes (all -128, all 127)."""
    rng = np.random.default_rng(seed)
    sets = [[rng.integers(-128, 128, s, dtype=np.int8) for s in shapes] for _ in range(n)]
    sets.append([np.full(s, -128, np.int8) for s in shapes])
    sets.append([np.full(s, 127, np.int8) for s in shapes])
    return sets


def assert_all_bit_exact(model: bytes, input_sets: Sequence[Sequence[np.ndarray]]) -> None:
    for inputs in input_sets:
        assert_bit_exact(model, list(inputs))


def random_shape(rng: np.random.Generator, rank: int, lo: int = 1, hi: int = 7) -> tuple:
    return tuple(int(d) for d in rng.integers(lo, hi + 1, rank))


# --------------------------------------------------------------------- softmax

SOFTMAX_SHAPES = [(5, 1), (1, 10), (3, 4, 7), (2, 2, 3, 33), (300,), (2, 256)]
SOFTMAX_RANGES = [(-1, 1), (-8, 8), (-0.05, 0.02), (-100, 100), (-3, 6), (-16, 16)]
SOFTMAX_BETAS = [1.0, 0.5, 2.0, 1.0, 0.1, 1.7]


@pytest.mark.parametrize("case", range(len(SOFTMAX_SHAPES)))
def test_softmax(case: int) -> None:
    shape, rng_, beta = SOFTMAX_SHAPES[case], SOFTMAX_RANGES[case], SOFTMAX_BETAS[case]
    model = single_op(lambda x: tf.nn.softmax(x), [shape], [rng_], "SOFTMAX", seed=case)
    if beta != 1.0:
        def set_beta(_m: schema.ModelT, op: schema.OperatorT) -> None:
            op.builtinOptions.beta = beta
        model = patch_op(model, "SOFTMAX", set_beta)
    sets = int8_inputs([shape], seed=case)
    one_hot = np.full(shape, -128, np.int8)
    one_hot[..., 0] = 127  # one dominant element per row
    assert_all_bit_exact(model, [*sets, [one_hot]])


SOFTMAX_TABLE_BYTES = 1024  # exp table in scratch for tensors of >= 1024 elements


@pytest.mark.parametrize(("shape", "rng_"), [((6, 200), (-4, 4)), ((2, 144, 144), (-30, 10))])
def test_softmax_large_tensor_uses_exp_table(shape: tuple, rng_: Range) -> None:
    """Large softmaxes look exp() up in a 1 KB scratch table: same bits as
    TFLM, and at most that 1 KB more arena than TFLM even as a one-op model."""
    model = single_op(lambda x: tf.nn.softmax(x), [shape], [rng_], "SOFTMAX")
    for inputs in int8_inputs([shape], seed=3):
        engine_arena, tflm_arena = assert_bit_exact(model, inputs, check_arena=False)
        assert engine_arena <= tflm_arena + SOFTMAX_TABLE_BYTES


# ---------------------------------------------- unary ops over all int8 values

UNARY = {
    "LOGISTIC": (tf.sigmoid, [(-8, 8), (-0.3, 0.1), (-60, 20)]),
    "TANH": (tf.tanh, [(-3, 3), (-0.2, 0.4), (-50, 50)]),
    "HARD_SWISH": (lambda x: x * tf.nn.relu6(x + 3.0) * (1.0 / 6.0),
                   [(-5, 5), (-0.4, 0.6), (-90, 40)]),
    "RSQRT": (tf.math.rsqrt, [(0.01, 4), (0.001, 0.3), (0.5, 120)]),
}
UNARY_CASES = [(op, i) for op in UNARY for i in range(3)]


@pytest.mark.parametrize(("op", "case"), UNARY_CASES, ids=[f"{o}-{i}" for o, i in UNARY_CASES])
def test_unary_every_int8_value(op: str, case: int) -> None:
    fn, ranges = UNARY[op]
    shape = (4, 8, 8)  # 256 elements: every int8 value once
    model = single_op(fn, [shape], [ranges[case]], op, seed=case)
    every = np.arange(-128, 128, dtype=np.int8).reshape(shape)
    sets = [[every], [np.ascontiguousarray(every[::-1])], *int8_inputs([shape], seed=case, n=1)]
    if op == "RSQRT":  # TFLM refuses negative reals: keep inputs >= the zero point
        zero_point = int(run_engine_input_zero_point(model))
        sets = [[np.maximum(s[0], zero_point).astype(np.int8)] for s in sets]
    assert_all_bit_exact(model, sets)


@pytest.mark.parametrize("op", list(UNARY))
def test_unary_table_odd_length(op: str) -> None:
    """The op-data table built in prepare serves every tensor size: 255 elements
    (a tail of the four-at-a-time lookup loop) in two inputs cover every value,
    and the one-op model's arena, table included, stays within TFLM's."""
    fn, ranges = UNARY[op]
    model = single_op(fn, [(255,)], [ranges[0]], op, seed=11)
    sets = [[np.arange(-128, 127, dtype=np.int8)], [np.arange(-127, 128, dtype=np.int8)]]
    if op == "RSQRT":
        zero_point = int(run_engine_input_zero_point(model))
        sets = [[np.maximum(s[0], zero_point).astype(np.int8)] for s in sets]
    assert_all_bit_exact(model, sets)


def run_engine_input_zero_point(model: bytes) -> int:
    from hilnas.engine import Engine

    return Engine(model).input_info(0).zero_point


def test_rsqrt_of_negative_value_fails_like_tflm() -> None:
    model = single_op(tf.math.rsqrt, [(8,)], [(-1, 4)], "RSQRT")
    zero_point = run_engine_input_zero_point(model)
    x = np.full((8,), zero_point, np.int8)
    x[5] = zero_point - 1
    with pytest.raises(TflmError, match="invoke failed"):
        run_tflm(model, [x])
    with pytest.raises(EngineError, match="RSQRT: input element 5"):
        run_engine(model, [x])


# ---------------------------------------------------------- squared difference

SQD_CASES = [
    ((2, 3, 4), (2, 3, 4), (-2, 2), (-2, 2)),
    ((2, 3, 4), (4,), (-1, 3), (-5, 5)),
    ((1, 5, 1, 3), (2, 1, 4, 1), (-3, 3), (-0.3, 0.1)),
    ((7,), (1,), (-1, 1), (-1, 1)),
    ((3, 1, 6), (3, 5, 1), (-40, 10), (-0.01, 0.02)),
]


@pytest.mark.parametrize("case", range(len(SQD_CASES)))
def test_squared_difference_broadcast(case: int) -> None:
    s1, s2, r1, r2 = SQD_CASES[case]
    model = single_op(lambda a, b: tf.math.squared_difference(a, b), [s1, s2], [r1, r2],
                      "SQUARED_DIFFERENCE", seed=case)
    assert_all_bit_exact(model, int8_inputs([s1, s2], seed=case))


SQD_TABLE_BYTES = 1024  # two int16 tables in scratch for outputs of >= 1024 elements


@pytest.mark.parametrize(("s1", "s2"), [((1, 64, 32), (1, 64, 1)), ((2, 24, 24), (2, 24, 24))])
def test_squared_difference_large_tensor_uses_tables(s1: tuple, s2: tuple) -> None:
    """Large outputs look the rescaled inputs up in scratch tables: same bits
    as TFLM, at most those 1 KB more arena than TFLM as a one-op model."""
    model = single_op(lambda a, b: tf.math.squared_difference(a, b), [s1, s2],
                      [(-3, 4), (-0.5, 1)], "SQUARED_DIFFERENCE")
    for inputs in int8_inputs([s1, s2], seed=4):
        engine_arena, tflm_arena = assert_bit_exact(model, inputs, check_arena=False)
        assert engine_arena <= tflm_arena + SQD_TABLE_BYTES


# ------------------------------------------------------------------------ mean

MEAN_CASES = [
    ((2, 5, 6, 8), (1, 2), True, (-3, 3)),
    ((2, 5, 6, 8), (1, 2), False, (-1, 5)),
    ((3, 7, 9), (-1,), True, (-0.1, 0.1)),
    ((3, 7, 9), (0,), False, (-30, 10)),
    ((4, 10), (1,), False, (-2, 2)),
    ((2, 3, 4, 5), (0, 3), True, (-4, 1)),
    ((1, 16, 16, 3), (-3, -2), False, (-6, 6)),
]


@pytest.mark.parametrize("case", range(len(MEAN_CASES)))
def test_mean(case: int) -> None:
    shape, axes, keep, rng_ = MEAN_CASES[case]
    model = single_op(lambda x: tf.reduce_mean(x, axis=list(axes), keepdims=keep), [shape],
                      [rng_], "MEAN", seed=case)
    assert_all_bit_exact(model, int8_inputs([shape], seed=case))


@pytest.mark.parametrize("case", [0, 2, 3])
def test_mean_with_equal_input_output_quantization(case: int) -> None:
    """TFLM takes a different path (plain integer division) when the output
    has the input's scale and zero point; force that by editing the model."""
    shape, axes, keep, rng_ = MEAN_CASES[case]
    model = single_op(lambda x: tf.reduce_mean(x, axis=list(axes), keepdims=keep), [shape],
                      [rng_], "MEAN", seed=case)

    def same_quant(m: schema.ModelT, op: schema.OperatorT) -> None:
        tensors = m.subgraphs[0].tensors
        src = tensors[op.inputs[0]].quantization
        dst = tensors[op.outputs[0]].quantization
        dst.scale, dst.zeroPoint = list(src.scale), list(src.zeroPoint)

    assert_all_bit_exact(patch_op(model, "MEAN", same_quant), int8_inputs([shape], seed=case))


# ---------------------------------------------------------------- batch matmul

BMM_CASES = [
    ((2, 3, 4), (2, 4, 5), False, False, (-2, 2), (-2, 2)),
    ((2, 4, 3), (2, 4, 5), True, False, (-1, 3), (-2, 1)),
    ((2, 3, 4), (2, 5, 4), False, True, (-0.5, 0.5), (-8, 8)),
    ((3, 1, 3, 4), (1, 2, 4, 6), False, False, (-3, 1), (-1, 1)),
    ((5, 6), (6, 7), False, False, (-2, 2), (-2, 2)),
    ((2, 1, 2, 5, 3), (1, 3, 1, 5, 4), True, False, (-1, 1), (-4, 4)),
    ((4, 9, 16), (4, 16, 9), True, True, (-6, 2), (-1, 1)),
]


@pytest.mark.parametrize("case", range(len(BMM_CASES)))
def test_batch_matmul(case: int) -> None:
    sa, sb, adj_x, adj_y, ra, rb = BMM_CASES[case]
    model = single_op(lambda a, b: tf.linalg.matmul(a, b, adjoint_a=adj_x, adjoint_b=adj_y),
                      [sa, sb], [ra, rb], "BATCH_MATMUL", seed=case)
    assert_all_bit_exact(model, int8_inputs([sa, sb], seed=case))


# ------------------------------------------------------------------- transpose

TRANSPOSE_CASES = [((6, 7), (1, 0)), ((2, 3, 4), (2, 0, 1)), ((2, 3, 4, 5), (0, 3, 1, 2)),
                   ((2, 3, 2, 3, 2), (4, 3, 2, 1, 0))]


@pytest.mark.parametrize("case", range(len(TRANSPOSE_CASES)))
def test_transpose(case: int) -> None:
    shape, perm = TRANSPOSE_CASES[case]
    # "* 1.0" keeps the graph output a fresh tensor; the converter folds it away
    model = single_op(lambda x: tf.transpose(x, perm) * 1.0, [shape], [(-1, 1)], "TRANSPOSE",
                      seed=case)
    assert_all_bit_exact(model, int8_inputs([shape], seed=case, n=1))


# --------------------------------------------------------------- strided slice

SLICE_CASES: list[tuple[tuple[int, ...], Callable]] = [
    ((6, 7), lambda a: a[1:5:2, ::-1]),
    ((4, 5, 6), lambda a: a[:, 2, 1:-1]),
    ((3, 8), lambda a: a[-2:, -7:-1:3]),
    ((2, 3, 4, 5), lambda a: a[:, :, :, 1:4]),
    ((9,), lambda a: a[7:1:-2]),
    ((4, 6), lambda a: a[1]),
    ((5, 4, 3), lambda a: a[::-2, 1:, ::2]),
]


@pytest.mark.parametrize("case", range(len(SLICE_CASES)))
def test_strided_slice(case: int) -> None:
    shape, fn = SLICE_CASES[case]
    model = single_op(lambda x: fn(x) * 1.0, [shape], [(-1, 1)], "STRIDED_SLICE", seed=case)
    assert_all_bit_exact(model, int8_inputs([shape], seed=case, n=1))


# ------------------------------------------------ seeded random configurations

RANDOM_CASES = 3  # per op; fixed so that CI time and failures are reproducible


def random_range(rng: np.random.Generator, positive: bool = False) -> Range:
    """Calibration range spanning 1e-2..1e2 in magnitude, often asymmetric."""
    hi = float(10 ** rng.uniform(-2, 2))
    lo = hi * float(rng.uniform(0.001, 0.1)) if positive else -float(10 ** rng.uniform(-2, 2))
    return lo, hi


def broadcast_partner(rng: np.random.Generator, shape: tuple) -> tuple:
    """A shape that broadcasts against ``shape``: some dims 1, leading dims dropped."""
    dims = [1 if rng.random() < 0.4 else d for d in shape]
    return tuple(dims[int(rng.integers(0, len(dims))):]) or (1,)


@pytest.mark.parametrize("seed", range(RANDOM_CASES))
def test_random_softmax(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    shape = (*random_shape(rng, int(rng.integers(0, 3)), 1, 5), int(rng.integers(1, 40)))
    beta = float(rng.uniform(0.25, 3.0))
    model = single_op(lambda x: tf.nn.softmax(x), [shape], [random_range(rng)], "SOFTMAX", seed)

    def set_beta(_m: schema.ModelT, op: schema.OperatorT) -> None:
        op.builtinOptions.beta = beta

    assert_all_bit_exact(patch_op(model, "SOFTMAX", set_beta), int8_inputs([shape], seed))


@pytest.mark.parametrize("seed", range(RANDOM_CASES))
def test_random_squared_difference(seed: int) -> None:
    rng = np.random.default_rng(200 + seed)
    s1 = random_shape(rng, int(rng.integers(1, 5)), 1, 6)
    s2 = broadcast_partner(rng, s1)
    if rng.random() < 0.5:
        s1, s2 = s2, s1
    model = single_op(lambda a, b: tf.math.squared_difference(a, b), [s1, s2],
                      [random_range(rng), random_range(rng)], "SQUARED_DIFFERENCE", seed)
    assert_all_bit_exact(model, int8_inputs([s1, s2], seed))


@pytest.mark.parametrize("seed", range(RANDOM_CASES))
def test_random_mean(seed: int) -> None:
    rng = np.random.default_rng(300 + seed)
    rank = int(rng.integers(2, 5))
    shape = random_shape(rng, rank, 1, 9)
    n_axes = int(rng.integers(1, 3))
    axes = [int(a) - (rank if rng.random() < 0.3 else 0)
            for a in rng.choice(rank, n_axes, replace=False)]
    keep = bool(rng.random() < 0.5)
    model = single_op(lambda x: tf.reduce_mean(x, axis=axes, keepdims=keep), [shape],
                      [random_range(rng)], "MEAN", seed)
    assert_all_bit_exact(model, int8_inputs([shape], seed))


@pytest.mark.parametrize("seed", range(RANDOM_CASES))
def test_random_batch_matmul(seed: int) -> None:
    rng = np.random.default_rng(400 + seed)
    batch = random_shape(rng, int(rng.integers(1, 3)), 1, 3)
    rows, depth, cols = (int(v) for v in rng.integers(1, 13, 3))
    adj_x, adj_y = bool(rng.random() < 0.5), bool(rng.random() < 0.5)
    sa = (*batch, *((depth, rows) if adj_x else (rows, depth)))
    sb = (*broadcast_partner(rng, batch), *((cols, depth) if adj_y else (depth, cols)))
    model = single_op(lambda a, b: tf.linalg.matmul(a, b, adjoint_a=adj_x, adjoint_b=adj_y),
                      [sa, sb], [random_range(rng), random_range(rng)], "BATCH_MATMUL", seed)
    assert_all_bit_exact(model, int8_inputs([sa, sb], seed))


@pytest.mark.parametrize("seed", range(RANDOM_CASES))
def test_random_transpose(seed: int) -> None:
    rng = np.random.default_rng(500 + seed)
    rank = int(rng.integers(2, 6))
    shape = random_shape(rng, rank, 2, 5)
    perm = [int(p) for p in rng.permutation(rank)]
    model = single_op(lambda x: tf.transpose(x, perm) * 1.0, [shape], [random_range(rng)],
                      "TRANSPOSE", seed)
    assert_all_bit_exact(model, int8_inputs([shape], seed, n=1))


@pytest.mark.parametrize("seed", range(RANDOM_CASES))
def test_random_strided_slice(seed: int) -> None:
    rng = np.random.default_rng(600 + seed)
    rank = int(rng.integers(1, 5))
    shape = random_shape(rng, rank, 2, 8)
    begin, end, strides = [], [], []
    for d in shape:
        stride = int(rng.choice([-2, -1, 1, 2, 3]))
        b, e = sorted(int(v) for v in rng.integers(0, d + 1, 2))
        b, e = (b, max(e, b + 1)) if stride > 0 else (min(e, d - 1), b - 1)
        begin.append(b - d if rng.random() < 0.3 else b)  # some negative indices
        end.append(e)
        strides.append(stride)
    begin_mask, end_mask = int(rng.integers(0, 1 << rank)), int(rng.integers(0, 1 << rank))
    model = single_op(lambda x: tf.strided_slice(x, begin, end, strides, begin_mask=begin_mask,
                                                 end_mask=end_mask) * 1.0,
                      [shape], [random_range(rng)], "STRIDED_SLICE", seed)
    assert_all_bit_exact(model, int8_inputs([shape], seed, n=1))


# ------------------------------------------- the ops chained as models use them


def test_layernorm_chain() -> None:
    """LayerNorm as converters lower it: MEAN, SQUARED_DIFFERENCE, RSQRT (with
    the core's ADD/SUB/MUL in between), then a TANH/LOGISTIC gate."""
    def layernorm_gate(x: tf.Tensor) -> tf.Tensor:
        mean = tf.reduce_mean(x, axis=-1, keepdims=True)
        var = tf.reduce_mean(tf.math.squared_difference(x, mean), axis=-1, keepdims=True)
        y = (x - mean) * tf.math.rsqrt(var + 1e-5)
        return tf.tanh(y) * tf.sigmoid(y)

    shape = (1, 49, 24)
    model = convert(layernorm_gate, [shape], [(-3, 5)])
    assert {"MEAN", "SQUARED_DIFFERENCE", "RSQRT", "TANH", "LOGISTIC"} <= set(ops_in(model))
    assert_all_bit_exact(model, int8_inputs([shape], seed=7))


def test_attention_chain() -> None:
    """Single-head attention core: q k^T (BATCH_MATMUL, adj_y), SOFTMAX,
    attention x v (BATCH_MATMUL), TRANSPOSE of heads, HARD_SWISH."""
    def attention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) -> tf.Tensor:
        att = tf.nn.softmax(tf.linalg.matmul(q, k, adjoint_b=True) * 0.25)
        out = tf.transpose(tf.linalg.matmul(att, v), (0, 2, 1, 3))
        return out * tf.nn.relu6(out + 3.0) * (1.0 / 6.0)

    shapes = [(1, 2, 36, 16)] * 3
    model = convert(attention, shapes, [(-2, 2), (-3, 1), (-1, 1)])
    assert {"BATCH_MATMUL", "SOFTMAX", "TRANSPOSE", "HARD_SWISH"} <= set(ops_in(model))
    assert_all_bit_exact(model, int8_inputs(shapes, seed=8))


# ------------------------------------------------- unsupported options rejected


def _engine_error(model: bytes, shape: Sequence[int]) -> EngineError:
    with pytest.raises(EngineError) as info:
        run_engine(model, [np.zeros(shape, np.int8)])
    return info.value


def test_softmax_with_wrong_output_quantization_is_rejected() -> None:
    model = single_op(lambda x: tf.nn.softmax(x), [(2, 5)], [(-1, 1)], "SOFTMAX")

    def bad_scale(m: schema.ModelT, op: schema.OperatorT) -> None:
        m.subgraphs[0].tensors[op.outputs[0]].quantization.scale = [1.0 / 128]

    err = _engine_error(patch_op(model, "SOFTMAX", bad_scale), (2, 5))
    assert err.status == 4 and "SOFTMAX" in str(err) and "1/256" in str(err)


def test_strided_slice_ellipsis_mask_is_rejected() -> None:
    model = single_op(lambda x: x[1:3] * 1.0, [(4, 6)], [(-1, 1)], "STRIDED_SLICE")

    def ellipsis(_m: schema.ModelT, op: schema.OperatorT) -> None:
        op.builtinOptions.ellipsisMask = 1

    err = _engine_error(patch_op(model, "STRIDED_SLICE", ellipsis), (4, 6))
    assert err.status == 4 and "STRIDED_SLICE" in str(err) and "ellipsis_mask=1" in str(err)


def test_mean_over_three_axes_is_rejected() -> None:
    model = single_op(lambda x: tf.reduce_mean(x, axis=[1, 2, 3]), [(2, 3, 4, 5)], [(-1, 1)],
                      "MEAN")
    err = _engine_error(model, (2, 3, 4, 5))
    assert err.status == 4 and "MEAN" in str(err) and "3 axes" in str(err)
