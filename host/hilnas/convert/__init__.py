"""PyTorch -> checked full-int8 TFLite Micro models.

Public API (stable; other stages call it):

* :func:`convert` ``(model, input_shape, calib, out_path, *, routes=("onnx2tf", "litert"),
  heldout=None, emit_c=False) -> ConversionResult`` with ``.tflite_path``, ``.route``,
  ``.report`` (also written as JSON next to the .tflite), ``.arena_bytes``,
  ``.model_bytes``;
* :func:`tflm_run` ``(model_bytes, inputs) -> outputs`` and :func:`tflm_arena_bytes`
  ``(model_bytes) -> int``: the TFLM golden reference (no torch import);
* :func:`read_model` for ops, tensors and quantization of any .tflite.

torch and TensorFlow are imported lazily so that ``tflm_run`` stays cheap.
"""

from __future__ import annotations

from typing import Any

from hilnas.convert.tflite_reader import ModelInfo, read_model, read_model_file
from hilnas.convert.tflm import tflm_arena_bytes, tflm_run

__all__ = [
    "ConversionResult",
    "ModelInfo",
    "convert",
    "read_model",
    "read_model_file",
    "tflm_arena_bytes",
    "tflm_run",
]


def __getattr__(name: str) -> Any:
    if name in {"convert", "ConversionResult"}:
        from hilnas.convert import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'hilnas.convert' has no attribute {name!r}")
