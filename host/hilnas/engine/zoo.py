"""MLPerf Tiny architectures with random weights, converted to full int8.

The engine is judged on the MLPerf Tiny int8 models (VWW MobileNetV1-0.25,
IC ResNet-8, KWS DS-CNN, AD autoencoder, streaming wake word 1-D DS-CNN) and
TFLM's person_detect (MobileNetV1-0.25 on grey 96x96 images); their weights do not matter for
bit-exactness or arena size, so they are built here with Keras, seeded random
weights and random BatchNorm statistics, and quantized with the standard
TFLiteConverter (int8 I/O). Converted models are cached under
``.hilnas-cache/zoo/`` (keyed by name and seed) so tests and benchmarks
re-run in seconds.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from hilnas.engine.build import REPO_ROOT
from hilnas.fileio import atomic_write_bytes

ZOO_CACHE = Path(os.environ.get("HILNAS_CACHE", REPO_ROOT / ".hilnas-cache")) / "zoo"
ZOO_VERSION = 1


def _keras():
    import keras

    return keras


def _randomize_bn(model, rng: np.random.Generator) -> None:
    """Give BatchNorm layers non-trivial statistics so folding changes weights."""
    keras = _keras()
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            c = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.5, 1.5, c).astype(np.float32),
                               rng.uniform(-0.2, 0.2, c).astype(np.float32),
                               rng.uniform(-0.2, 0.2, c).astype(np.float32),
                               rng.uniform(0.5, 1.5, c).astype(np.float32)])


def _conv_bn_relu(x, filters: int, kernel, strides=1):
    L = _keras().layers
    x = L.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False)(x)
    x = L.BatchNormalization()(x)
    return L.ReLU()(x)


def _dw_bn_relu(x, strides=1):
    L = _keras().layers
    x = L.DepthwiseConv2D(3, strides=strides, padding="same", use_bias=False)(x)
    x = L.BatchNormalization()(x)
    return L.ReLU()(x)


def _mobilenet_v1_025_backbone(x):
    """MobileNetV1 alpha 0.25's 13 depthwise-separable blocks (VWW and person_detect)."""
    x = _conv_bn_relu(x, 8, 3, 2)
    plan = [(16, 1), (32, 2), (32, 1), (64, 2), (64, 1), (128, 2)] + [(128, 1)] * 5 + \
           [(256, 2), (256, 1)]
    for filters, stride in plan:
        x = _dw_bn_relu(x, stride)
        x = _conv_bn_relu(x, filters, 1)
    return x


def vww_mobilenet_v1():
    """MobileNetV1 alpha 0.25, 96x96x3, 2 classes (MLPerf Tiny VWW)."""
    keras = _keras()
    L = keras.layers
    inp = keras.Input((96, 96, 3), batch_size=1)
    x = _mobilenet_v1_025_backbone(inp)
    x = L.AveragePooling2D(3)(x)
    x = L.Flatten()(x)
    x = L.Dense(2)(x)
    return keras.Model(inp, L.Softmax()(x))


def ic_resnet8():
    """ResNet-8, 32x32x3, 10 classes (MLPerf Tiny image classification)."""
    keras = _keras()
    L = keras.layers
    inp = keras.Input((32, 32, 3), batch_size=1)
    x = _conv_bn_relu(inp, 16, 3)
    for filters, stride in ((16, 1), (32, 2), (64, 2)):
        y = _conv_bn_relu(x, filters, 3, stride)
        y = L.Conv2D(filters, 3, padding="same", use_bias=False)(y)
        y = L.BatchNormalization()(y)
        if stride != 1:
            x = L.Conv2D(filters, 1, strides=stride, padding="same")(x)
        x = L.ReLU()(L.Add()([x, y]))
    x = L.AveragePooling2D(8)(x)
    x = L.Flatten()(x)
    return keras.Model(inp, L.Softmax()(L.Dense(10)(x)))


def kws_ds_cnn():
    """DS-CNN, 49x10x1 MFCC input, 12 keywords (MLPerf Tiny KWS)."""
    keras = _keras()
    L = keras.layers
    inp = keras.Input((49, 10, 1), batch_size=1)
    x = _conv_bn_relu(inp, 64, (10, 4), 2)
    for _ in range(4):
        x = _dw_bn_relu(x)
        x = _conv_bn_relu(x, 64, 1)
    x = L.AveragePooling2D((25, 5))(x)
    x = L.Flatten()(x)
    return keras.Model(inp, L.Softmax()(L.Dense(12)(x)))


def ad_autoencoder():
    """Fully connected autoencoder, 640 inputs (MLPerf Tiny anomaly detection)."""
    keras = _keras()
    L = keras.layers
    inp = keras.Input((640,), batch_size=1)
    x = inp
    for units in (128, 128, 128, 128, 8, 128, 128, 128, 128):
        x = L.Dense(units)(x)
        x = L.BatchNormalization()(x)
        x = L.ReLU()(x)
    return keras.Model(inp, L.Dense(640)(x))


def streaming_wakeword():
    """1-D DS-CNN ("DS-TCN"), 30x1x40 input, 3 classes (MLPerf Tiny streaming wake word).

    Four blocks of a (k, 1) depthwise convolution over time (valid padding,
    k = 3, 5, 10, 15) and a 1x1 convolution (128, 128, 128, 32 filters) with
    BatchNorm and ReLU; the time axis shrinks 30 -> 28 -> 24 -> 15 -> 1, so the
    head is a flatten and a 3-way dense layer with softmax.
    """
    keras = _keras()
    L = keras.layers
    inp = keras.Input((30, 1, 40), batch_size=1)
    x = inp
    for kernel, filters in ((3, 128), (5, 128), (10, 128), (15, 32)):
        x = L.DepthwiseConv2D((kernel, 1), padding="valid", use_bias=False)(x)
        x = L.Conv2D(filters, 1, use_bias=False)(x)
        x = L.BatchNormalization()(x)
        x = L.ReLU()(x)
    x = L.Flatten()(x)
    return keras.Model(inp, L.Softmax()(L.Dense(3)(x)))


def person_detect():
    """MobileNetV1 alpha 0.25 on 96x96x1 grey images, 2 classes (TFLM person_detect).

    The VWW backbone with a one-channel input; the head is TFLM's example's:
    average pooling, a 1x1 convolution as classifier, reshape and softmax (no
    FULLY_CONNECTED).
    """
    keras = _keras()
    L = keras.layers
    inp = keras.Input((96, 96, 1), batch_size=1)
    x = _mobilenet_v1_025_backbone(inp)
    x = L.AveragePooling2D(3)(x)
    x = L.Conv2D(2, 1)(x)
    x = L.Reshape((2,))(x)
    return keras.Model(inp, L.Softmax()(x))


MODELS: dict[str, Callable] = {
    "vww_mobilenet_v1": vww_mobilenet_v1,
    "ic_resnet8": ic_resnet8,
    "kws_ds_cnn": kws_ds_cnn,
    "ad_autoencoder": ad_autoencoder,
    #: The official MLPerf Tiny AD file's quantisation: one scale per dense filter
    #: (no per-output multipliers, so per-output persistent data shows in the arena).
    "ad_autoencoder_per_tensor": ad_autoencoder,
    "streaming_wakeword": streaming_wakeword,
    "person_detect": person_detect,
}


#: Zoo models converted with per-tensor (not per-channel) FULLY_CONNECTED filters.
PER_TENSOR_DENSE = frozenset({"ad_autoencoder_per_tensor"})


def _convert(model, seed: int, per_tensor_dense: bool = False) -> bytes:
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    shape = tuple(model.inputs[0].shape)
    rng = np.random.default_rng(seed)

    def representative():
        for _ in range(8):
            yield [rng.uniform(-1, 1, shape).astype(np.float32)]

    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    fn = tf.function(lambda x: model(x, training=False),
                     input_signature=[tf.TensorSpec(shape, tf.float32)])
    frozen = convert_variables_to_constants_v2(fn.get_concrete_function())
    conv = tf.lite.TFLiteConverter.from_concrete_functions([frozen])
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    conv._experimental_disable_per_channel_quantization_for_dense_layers = per_tensor_dense
    return bytes(conv.convert())


def build(name: str, seed: int = 0) -> bytes:
    """int8 .tflite bytes of zoo model ``name`` (cached after the first build)."""
    if name not in MODELS:
        raise KeyError(f"unknown zoo model {name!r}; known: {', '.join(MODELS)}")
    path = ZOO_CACHE / f"{name}-s{seed}-v{ZOO_VERSION}.tflite"
    if path.exists():
        return path.read_bytes()
    keras = _keras()
    keras.utils.set_random_seed(seed)
    model = MODELS[name]()
    _randomize_bn(model, np.random.default_rng(seed))
    data = _convert(model, seed, per_tensor_dense=name in PER_TENSOR_DENSE)
    atomic_write_bytes(path, data)
    return data


#: The converter's built-in reference models (hilnas.models.reference), converted
#: with hilnas.convert (torch -> int8 TFLite, ~tens of seconds each, cached).
REFERENCE_MODELS: tuple[str, ...] = ("mobilenetv2_tiny", "mobilevit_tiny")


def build_reference(name: str) -> bytes:
    """int8 .tflite of a converter reference model (cached after the first build)."""
    if name not in REFERENCE_MODELS:
        raise KeyError(f"unknown reference model {name!r}; known: {', '.join(REFERENCE_MODELS)}")
    path = ZOO_CACHE / f"ref-{name}-v{ZOO_VERSION}.tflite"
    if path.exists():
        return path.read_bytes()
    from hilnas.convert import convert
    from hilnas.convert.calib import CALIB_SEED, synthetic_images
    from hilnas.models import reference

    shape = reference.INPUT_SHAPE
    model = getattr(reference, name)()
    calib = synthetic_images(32, shape, CALIB_SEED)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        result = convert(model, shape, calib, Path(tmp) / f"{name}.tflite")
        data = Path(result.tflite_path).read_bytes()
    atomic_write_bytes(path, data)
    return data
