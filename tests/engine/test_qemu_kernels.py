"""The DSP kernels (SXTB16/SMLAD/SMLABB paths, compiled only for cores with
__ARM_FEATURE_DSP) are bit-exact with TFLM on shapes that exercise their
tails and clipped windows.

The host build runs the portable paths, so these single-op models run on the
emulated Cortex-M4 (QEMU mps2-an386, one boot for all): CONV_2D with padding,
strides, dilation and channel counts that are not multiples of 4,
DEPTHWISE_CONV_2D (3x3 unrolled, other sizes, borders, multiplier 2),
FULLY_CONNECTED and BATCH_MATMUL with row/column/depth tails. Each is fed
random inputs and inputs that hold every int8 value, and compared byte for
byte with the real TFLM.
"""

from __future__ import annotations

import numpy as np
import oplib
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.qemu]


def _w(seed: int, shape: tuple[int, ...]) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(shape) * 0.5).astype(np.float32)


def _conv(seed: int, h: int, w: int, cin: int, cout: int, kh: int, kw: int, stride: int,
          padding: str, dil: int = 1) -> bytes:
    import tensorflow as tf

    kern = tf.constant(_w(seed, (kh, kw, cin, cout)))
    bias = tf.constant(_w(seed + 1, (cout,)))

    def fn(x):
        return tf.nn.relu(tf.nn.conv2d(x, kern, stride, padding, dilations=dil) + bias)

    return oplib.convert(fn, [(1, h, w, cin)], calib_range=3.0, seed=seed)


def _dw(seed: int, h: int, w: int, c: int, k: int, stride: int, padding: str,
        mult: int = 1, dil: int = 1) -> bytes:
    import tensorflow as tf

    kern = tf.constant(_w(seed, (k, k, c, mult)))
    bias = tf.constant(_w(seed + 1, (c * mult,)))

    def fn(x):
        y = tf.nn.depthwise_conv2d(x, kern, [1, stride, stride, 1], padding,
                                   dilations=[dil, dil])
        return tf.nn.relu6(y + bias)

    return oplib.convert(fn, [(1, h, w, c)], calib_range=2.0, seed=seed)


def _fc(seed: int, batch: int, n_in: int, n_out: int, per_channel: bool = True) -> bytes:
    import tensorflow as tf

    kern = tf.constant(_w(seed, (n_in, n_out)))
    bias = tf.constant(_w(seed + 1, (n_out,)))
    return oplib.convert(lambda x: tf.nn.relu(tf.matmul(x, kern) + bias), [(batch, n_in)],
                         seed=seed, per_channel=per_channel)


def _bmm(seed: int, sa: tuple[int, ...], sb: tuple[int, ...]) -> bytes:
    import tensorflow as tf

    return oplib.convert(lambda a, b: tf.linalg.matmul(a, b), [sa, sb], calib_range=[2.0, 3.0],
                         seed=seed)


CASES = {
    "conv3x3_s2_same_c5x7": lambda: _conv(1, 9, 11, 5, 7, 3, 3, 2, "SAME"),
    "conv1x1_c13x6": lambda: _conv(2, 5, 6, 13, 6, 1, 1, 1, "VALID"),
    "conv10x4_s2_same_c1x9": lambda: _conv(3, 13, 7, 1, 9, 10, 4, 2, "SAME"),
    "conv2x4_dil2_same_c6x5": lambda: _conv(4, 8, 9, 6, 5, 2, 4, 1, "SAME", dil=2),
    # 2x2 tile path: odd pixel count and odd output channels (K 8: blocks only)
    "conv1x1_odd_pixels_c8x7": lambda: _conv(13, 5, 7, 8, 7, 1, 1, 1, "VALID"),
    "conv1x1_s2_same_c16x5": lambda: _conv(14, 7, 9, 16, 5, 1, 1, 2, "SAME"),
    "conv3x3_s2_same_c3x8": lambda: _conv(15, 11, 9, 3, 8, 3, 3, 2, "SAME"),  # K 27: tail 3
    "conv1x1_c2x3_tail_only": lambda: _conv(17, 4, 5, 2, 3, 1, 1, 1, "VALID"),  # K < 4
    "conv1x1_c5x4_one_block": lambda: _conv(18, 3, 5, 5, 4, 1, 1, 1, "VALID"),  # odd block count
    "conv3x3_c32x6_untiled": lambda: _conv(16, 6, 5, 32, 6, 3, 3, 1, "SAME"),  # K 288 > 256
    "dw3x3_same_c7": lambda: _dw(5, 7, 8, 7, 3, 1, "SAME"),
    "dw3x3_s2_valid_c12": lambda: _dw(6, 9, 10, 12, 3, 2, "VALID"),
    "dw5x5_same_c9": lambda: _dw(7, 6, 7, 9, 5, 1, "SAME"),
    "dw3x3_same_dil2_c4": lambda: _dw(8, 8, 8, 4, 3, 1, "SAME", dil=2),
    "dw3x3_mult2_c3": lambda: _dw(9, 6, 6, 3, 3, 1, "SAME", mult=2),
    "fc_b3_37x11": lambda: _fc(10, 3, 37, 11),
    "fc_per_tensor_b2_45x10": lambda: _fc(12, 2, 45, 10, per_channel=False),
    "batch_matmul_d13_c7": lambda: _bmm(11, (2, 5, 13), (2, 13, 7)),
}


def test_dsp_kernels_on_emulated_m4_are_bit_exact() -> None:
    from hilnas.board.profiles import load_profile
    from hilnas.board.session import open_board

    models = {name: make() for name, make in CASES.items()}
    mismatches = []
    with open_board(load_profile("mps2-an386")) as session:
        client = session.client
        for name, model in models.items():
            inputs = oplib.random_inputs(model, seed=len(name))
            every = [np.resize(np.arange(-128, 128, dtype=np.int8), x.shape) for x in inputs]
            for xs in (inputs, every):
                want, _ = oplib.run_tflm(model, xs)
                client.load_model(model)
                client.write_input(b"".join(x.tobytes() for x in xs))  # inputs in order
                client.run(1, 0, timeout=120)
                got = client.read_output(want[0].nbytes)
                if got != want[0].tobytes():
                    mismatches.append(name)
    assert not mismatches, f"not bit-exact on the M4 (DSP path): {mismatches}"
