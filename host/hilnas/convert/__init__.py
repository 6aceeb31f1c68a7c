"""PyTorch -> checked full-int8 TFLite Micro models.

Public API (stable; other stages call it):

* :func:`convert` ``(model, input_shape, calib, out_path, *, routes=("onnx2tf", "litert"),
  heldout=None, emit_c=False) -> ConversionResult`` with ``.tflite_path``, ``.route``,
  ``.report`` (a typed, versioned :class:`ConversionReport`, also written as JSON next to
  the .tflite; read one back with ``ConversionReport.read(path)``), ``.arena_bytes``,
  ``.model_bytes``;
* :func:`tflm_run` ``(model_bytes, inputs) -> outputs`` and :func:`tflm_arena_bytes`
  ``(model_bytes) -> int``: the TFLM golden reference, re-exported from the one oracle
  :mod:`hilnas.tflm` (no torch import);
* :func:`read_model` for ops, tensors and quantization of any .tflite.

Everything is imported lazily: ``tflm_run`` never pulls in torch or TensorFlow, and the
CLI can import :mod:`hilnas.convert.sources` while ``hilnas --help`` stays instant.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "ConversionReport": "hilnas.convert.report",
    "ConversionResult": "hilnas.convert.pipeline",
    "convert": "hilnas.convert.pipeline",
    "ModelInfo": "hilnas.convert.tflite_reader",
    "read_model": "hilnas.convert.tflite_reader",
    "read_model_file": "hilnas.convert.tflite_reader",
    "tflm_arena_bytes": "hilnas.tflm",
    "tflm_run": "hilnas.tflm",
}

__all__ = [
    "ConversionReport",
    "ConversionResult",
    "ModelInfo",
    "convert",
    "read_model",
    "read_model_file",
    "tflm_arena_bytes",
    "tflm_run",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'hilnas.convert' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
