"""Float -> full-int8 quantization steps shared by the routes.

Both produce: int8 input and output, int8 activations, int8 weights (per-channel for
convolutions and fully-connected layers where the quantizer supports it), int32 biases.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from hilnas.errors import ConvertError


def representative(calib: np.ndarray) -> Iterator[list[np.ndarray]]:
    """Yield calibration samples one at a time (batch 1), as TFLiteConverter wants."""
    for i in range(calib.shape[0]):
        yield [calib[i : i + 1].astype(np.float32)]


def tflite_converter_int8(keras_model: Any, calib: np.ndarray) -> bytes:
    """Quantize a Keras model with TFLiteConverter restricted to TFLITE_BUILTINS_INT8.

    Restricting the op set makes the converter fail (rather than fall back to float) on
    any op without an int8 kernel.
    """
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(keras_model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.representative_dataset = lambda: representative(calib)
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    try:
        return bytes(converter.convert())
    except Exception as exc:
        raise ConvertError(f"TFLiteConverter int8 quantization failed: {_first_line(exc)}") from exc


def ai_edge_static_int8(float_model: bytes, calib: np.ndarray) -> bytes:
    """Quantize a float .tflite with ai-edge-quantizer's static int8 recipe (w8/a8)."""
    from ai_edge_litert.interpreter import Interpreter
    from ai_edge_quantizer import quantizer, recipe

    signatures = Interpreter(model_content=float_model).get_signature_list()
    if len(signatures) != 1:
        raise ConvertError(f"expected one signature in the float model, found {list(signatures)}")
    key, sig = next(iter(signatures.items()))
    if len(sig["inputs"]) != 1:
        raise ConvertError(f"ai-edge-quantizer route supports one input, got {sig['inputs']}")
    name = sig["inputs"][0]
    try:
        qt = quantizer.Quantizer(float_model)
        qt.load_quantization_recipe(recipe.static_wi8_ai8())
        samples = [{name: calib[i : i + 1].astype(np.float32)} for i in range(calib.shape[0])]
        result = qt.calibrate({key: samples})
        quantized = bytes(qt.quantize(result).quantized_model)
    except Exception as exc:
        raise ConvertError(f"ai-edge-quantizer failed: {_first_line(exc)}") from exc
    return inline_external_buffers(quantized)


def inline_external_buffers(model: bytes) -> bytes:
    """Move constant data stored after the flatbuffer (``Buffer.offset/size``) back inline.

    ai-edge-quantizer writes every constant buffer of >= 1 KiB outside the flatbuffer once
    they total 256 KiB or more. TFLite Micro ignores ``Buffer.offset``: it runs such a
    model on empty weights and returns input-independent outputs without any error
    (measured: the largest hybrid member gave one constant output, 9.7% accuracy, while
    desktop TFLite and our engine were right). Inline buffers are what TFLM, our engine
    and a firmware image all read.
    """
    from ai_edge_litert.tools import flatbuffer_utils

    raw = flatbuffer_utils.convert_bytearray_to_object(bytearray(model))
    if not any(buffer.offset for buffer in raw.buffers or []):
        return model
    # read_model_from_bytearray resolves offset buffers into inline data.
    inline = flatbuffer_utils.read_model_from_bytearray(bytearray(model))
    return bytes(flatbuffer_utils.convert_object_to_bytearray(inline))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    lines = [ln for ln in text.splitlines() if ln.strip()]
    # TF converter errors put the useful 'error: ... op ...' lines after a long preamble.
    useful = [ln.strip() for ln in lines if "error" in ln.lower()]
    picked = useful[:3] if useful else lines[:3]
    return f"{type(exc).__name__}: " + " | ".join(picked)[:800]
