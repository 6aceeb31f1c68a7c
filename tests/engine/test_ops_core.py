"""Per-op bit-exactness of the core kernels against TFLite Micro.

Each test draws op parameters with Hypothesis (derandomized, fixed example
count so CI is reproducible), builds a single-op int8 model with TensorFlow's
converter, runs it in the engine and in TFLM on random int8 inputs, and
requires identical bytes and an engine arena no larger than TFLM's.
"""

from __future__ import annotations

import os

import numpy as np
import oplib
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.slow

# Fixed count (CI reproducibility); raise it locally for a deeper search.
EXAMPLES = int(os.environ.get("HILNAS_HYPOTHESIS_EXAMPLES", "10"))
SETTINGS = settings(max_examples=EXAMPLES, derandomize=True, deadline=None,
                    suppress_health_check=list(HealthCheck))

ACTS = ("none", "relu", "relu6")


def _act(name: str):
    import tensorflow as tf

    return {"none": lambda x: x, "relu": tf.nn.relu, "relu6": tf.nn.relu6}[name]


def _weights(seed: int, shape: tuple[int, ...], scale: float = 1.0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)


def _check(model: bytes, expect_op: str, seed: int) -> None:
    assert expect_op in oplib.ops_in(model), oplib.ops_in(model)
    oplib.assert_bit_exact(model, seed=seed)


@SETTINGS
@given(batch=st.integers(1, 3), n_in=st.integers(1, 40), n_out=st.integers(1, 20),
       act=st.sampled_from(ACTS), bias=st.booleans(), rng_in=st.floats(0.1, 8.0),
       per_channel=st.booleans(), seed=st.integers(0, 1000))
def test_fully_connected(batch, n_in, n_out, act, bias, rng_in, per_channel, seed) -> None:
    import tensorflow as tf

    w = tf.constant(_weights(seed, (n_in, n_out)))
    b = tf.constant(_weights(seed + 1, (n_out,)))
    f = _act(act)
    model = oplib.convert(lambda x: f(tf.matmul(x, w) + b if bias else tf.matmul(x, w)),
                          [(batch, n_in)], calib_range=rng_in, seed=seed,
                          per_channel=per_channel)
    _check(model, "FULLY_CONNECTED", seed)


@SETTINGS
@given(batch=st.integers(1, 3), n_in=st.integers(1, 40), n_out=st.integers(1, 20),
       filter_zp=st.sampled_from([-128, -7, 1, 5, 127]), bias=st.booleans(),
       seed=st.integers(0, 1000))
def test_fully_connected_with_a_filter_zero_point(batch, n_in, n_out, filter_zp, bias,
                                                  seed) -> None:
    """Filters with a zero point (attention's probabilities x V on the litert route) take
    the same fast path as zero-point-0 filters (a data-independent count), bit-exact."""
    import tensorflow as tf

    w = tf.constant(_weights(seed, (n_in, n_out)))
    b = tf.constant(_weights(seed + 1, (n_out,)))
    model = oplib.convert(lambda x: tf.matmul(x, w) + b if bias else tf.matmul(x, w),
                          [(batch, n_in)], calib_range=2.0, seed=seed, per_channel=False)
    _check(oplib.set_filter_zero_point(model, filter_zp), "FULLY_CONNECTED", seed)


@st.composite
def conv_params(draw, depthwise: bool):
    k = draw(st.integers(1, 4))
    stride = draw(st.integers(1, 3))
    dil = 1 if stride > 1 else draw(st.integers(1, 2))
    h = draw(st.integers(max(1, (k - 1) * dil + 1), 12))
    w = draw(st.integers(max(1, (k - 1) * dil + 1), 12))
    cin = draw(st.integers(1, 8))
    mult = draw(st.integers(1, 3)) if depthwise else draw(st.integers(1, 8))
    return dict(k=k, kw=draw(st.integers(1, 4)) if not depthwise else k, stride=stride, dil=dil,
                h=h + 3, w=w + 3, cin=cin, mult=mult,
                padding=draw(st.sampled_from(("SAME", "VALID"))),
                act=draw(st.sampled_from(ACTS)), seed=draw(st.integers(0, 1000)),
                rng_in=draw(st.floats(0.2, 6.0)))


@SETTINGS
@given(p=conv_params(depthwise=False))
def test_conv_2d(p) -> None:
    import tensorflow as tf

    kern = tf.constant(_weights(p["seed"], (p["k"], p["kw"], p["cin"], p["mult"]), 0.5))
    bias = tf.constant(_weights(p["seed"] + 1, (p["mult"],)))
    f = _act(p["act"])

    def fn(x):
        y = tf.nn.conv2d(x, kern, p["stride"], p["padding"], dilations=p["dil"])
        return f(y + bias)

    model = oplib.convert(fn, [(1, p["h"], p["w"], p["cin"])], calib_range=p["rng_in"],
                          seed=p["seed"])
    _check(model, "CONV_2D", p["seed"])


@SETTINGS
@given(p=conv_params(depthwise=True))
def test_depthwise_conv_2d(p) -> None:
    import tensorflow as tf

    kern = tf.constant(_weights(p["seed"], (p["k"], p["k"], p["cin"], p["mult"]), 0.5))
    bias = tf.constant(_weights(p["seed"] + 1, (p["cin"] * p["mult"],)))
    f = _act(p["act"])

    def fn(x):
        y = tf.nn.depthwise_conv2d(x, kern, [1, p["stride"], p["stride"], 1], p["padding"],
                                   dilations=[p["dil"], p["dil"]])
        return f(y + bias)

    model = oplib.convert(fn, [(1, p["h"], p["w"], p["cin"])], calib_range=p["rng_in"],
                          seed=p["seed"])
    _check(model, "DEPTHWISE_CONV_2D", p["seed"])


@st.composite
def broadcast_shapes(draw):
    ndim = draw(st.integers(1, 4))
    out = [draw(st.integers(1, 6)) for _ in range(ndim)]
    a = [d if draw(st.booleans()) else 1 for d in out]
    b = [d if draw(st.booleans()) else 1 for d in out]
    # make sure the output really has the full shape
    for i in range(ndim):
        if a[i] == 1 and b[i] == 1:
            a[i] = out[i]
    if draw(st.booleans()) and ndim > 1:
        b = b[draw(st.integers(1, ndim - 1)):]
    return tuple(a), tuple(b)


@SETTINGS
@given(shapes=broadcast_shapes(), op=st.sampled_from(("ADD", "SUB", "MUL")),
       act=st.sampled_from(ACTS), r1=st.floats(0.1, 10.0), r2=st.floats(0.1, 10.0),
       seed=st.integers(0, 1000))
def test_elementwise(shapes, op, act, r1, r2, seed) -> None:
    f = _act(act)
    fns = {"ADD": lambda x, y: f(x + y), "SUB": lambda x, y: f(x - y),
           "MUL": lambda x, y: f(x * y)}
    model = oplib.convert(fns[op], list(shapes), calib_range=[r1, r2], seed=seed)
    _check(model, op, seed)


@SETTINGS
@given(k=st.integers(1, 4), kw=st.integers(1, 4), stride=st.integers(1, 3), h=st.integers(4, 12),
       w=st.integers(4, 12), c=st.integers(1, 6), padding=st.sampled_from(("SAME", "VALID")),
       is_max=st.booleans(), act=st.sampled_from(ACTS), seed=st.integers(0, 1000))
def test_pooling(k, kw, stride, h, w, c, padding, is_max, act, seed) -> None:
    import tensorflow as tf

    f = _act(act)
    pool = tf.nn.max_pool2d if is_max else tf.nn.avg_pool2d
    model = oplib.convert(lambda x: f(pool(x, (k, kw), stride, padding)), [(1, h, w, c)],
                          seed=seed)
    _check(model, "MAX_POOL_2D" if is_max else "AVERAGE_POOL_2D", seed)


@SETTINGS
@given(n=st.integers(2, 3), axis=st.integers(-4, 3), seed=st.integers(0, 1000),
       dims=st.lists(st.integers(1, 5), min_size=4, max_size=4))
def test_concatenation(n, axis, seed, dims) -> None:
    import tensorflow as tf

    shapes = []
    for i in range(n):
        s = list(dims)
        s[axis] = dims[axis] + i
        shapes.append(tuple(s))
    model = oplib.convert(lambda *xs: tf.concat(list(xs), axis), shapes, seed=seed)
    _check(model, "CONCATENATION", seed)


@SETTINGS
@given(dims=st.lists(st.integers(1, 5), min_size=1, max_size=4), seed=st.integers(0, 1000),
       data=st.data())
def test_pad(dims, seed, data) -> None:
    import tensorflow as tf

    pads = [[data.draw(st.integers(0, 2)), data.draw(st.integers(0, 2))] for _ in dims]
    if not any(a or b for a, b in pads):
        pads[-1][1] = 1  # an all-zero PAD is folded away by the converter
    model = oplib.convert(lambda x: tf.pad(x, pads), [tuple(dims)], seed=seed)
    _check(model, "PAD", seed)


@SETTINGS
@given(dims=st.lists(st.integers(1, 6), min_size=2, max_size=4), seed=st.integers(0, 1000))
def test_reshape(dims, seed) -> None:
    import tensorflow as tf

    n = int(np.prod(dims))
    model = oplib.convert(lambda x: tf.reshape(tf.nn.relu(x), (n,)), [tuple(dims)], seed=seed)
    _check(model, "RESHAPE", seed)


@SETTINGS
@given(dims=st.lists(st.integers(1, 6), min_size=1, max_size=4), r=st.floats(0.05, 50.0),
       seed=st.integers(0, 1000))
def test_quantize_dequantize_float_io(dims, r, seed) -> None:
    import tensorflow as tf

    model = oplib.convert(lambda x: tf.nn.relu(x), [tuple(dims)], calib_range=r, seed=seed,
                          float_io=True)
    ops = oplib.ops_in(model)
    assert "QUANTIZE" in ops and "DEQUANTIZE" in ops, ops
    x = (np.random.default_rng(seed).standard_normal(dims) * r).astype(np.float32)
    oplib.assert_bit_exact(model, inputs=[x])


@SETTINGS
@given(dims=st.lists(st.integers(1, 6), min_size=1, max_size=4), r=st.floats(0.1, 20.0),
       seed=st.integers(0, 1000))
def test_requantize_int8_to_int8(dims, r, seed) -> None:
    """int8->int8 QUANTIZE: a RELU model (input and output scales differ)
    re-labelled as QUANTIZE, since the converter rarely emits one alone."""
    import tensorflow as tf

    relu = oplib.convert(lambda x: tf.nn.relu(x), [tuple(dims)], calib_range=r, seed=seed)
    model = oplib.set_opcode(relu, "QUANTIZE")
    assert oplib.ops_in(model) == ["QUANTIZE"]
    oplib.assert_bit_exact(model, seed=seed)


@SETTINGS
@given(dims=st.lists(st.integers(1, 6), min_size=1, max_size=4), r=st.floats(0.1, 20.0),
       six=st.booleans(), seed=st.integers(0, 1000))
def test_standalone_relu(dims, r, six, seed) -> None:
    """RELU/RELU6 after a reshape cannot be fused: the converter emits them alone."""
    import tensorflow as tf

    f = tf.nn.relu6 if six else tf.nn.relu
    model = oplib.convert(lambda x: f(x), [tuple(dims)], calib_range=r, seed=seed)
    ops = oplib.ops_in(model)
    assert ops == ["RELU6" if six else "RELU"], ops
    oplib.assert_bit_exact(model, seed=seed)
