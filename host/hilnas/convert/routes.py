"""Conversion routes: torch module -> float .tflite -> full-int8 .tflite.

Each route is one entry of :data:`ROUTES`. The converter tries them in order and judges
every candidate with the *same* checks (hilnas.convert.checks); the first route whose
model passes them all wins. A route implements:

* ``export_float(model, example)`` -> :class:`FloatModel` (the float .tflite plus the
  route-private state its quantizer needs),
* ``quantize(float_model, calib)`` -> int8 .tflite bytes; ``calib`` is NCHW (PyTorch) and
  the route transposes it to its own input layout;
* ``release()`` frees library state between conversions (the search converts hundreds).

Why two routes (FACTS §3): onnx2tf gives NHWC graphs with few TRANSPOSE ops and uses
TensorFlow's mature int8 quantizer, but it is fragile on some ViT idioms and can silently
mis-convert; litert-torch follows torch.export exactly and keeps NCHW input.
"""

from __future__ import annotations

import contextlib
import io
import re
import tempfile
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from hilnas.convert.quantize import ai_edge_static_int8, tflite_converter_int8
from hilnas.convert.report import AppliedRewrite
from hilnas.errors import ConvertError


@dataclass
class FloatModel:
    """A float .tflite and what its quantizer needs; ``input_layout`` is NCHW or NHWC."""

    tflite: bytes
    input_layout: str
    state: Any = None
    #: Graph rewrites (hilnas.convert.rewrites) the route applied on its way here.
    rewrites: tuple[AppliedRewrite, ...] = ()


class Route(Protocol):
    name: str

    def export_float(self, model: nn.Module, example: torch.Tensor) -> FloatModel: ...

    def quantize(self, float_model: FloatModel, calib: np.ndarray) -> bytes: ...

    def release(self) -> None:
        """Free per-conversion state held by the route's libraries (called after each try)."""
        ...


def to_layout(x: np.ndarray, layout: str) -> np.ndarray:
    """NCHW (PyTorch) array -> the route's input layout (only 4-D inputs are permuted)."""
    if layout == "NHWC" and x.ndim == 4:
        return np.ascontiguousarray(np.transpose(x, (0, 2, 3, 1)))
    return x


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_GENERIC_ADVICE = ("Read this and deal with it", "Alternatively", "-kt or -kat", "-onwdt",
                   "parameter-replacement")


class _OutputTail:
    """Capture a tool's chatter (stdout) so that a failure can quote its last lines."""

    def __init__(self) -> None:
        self.buffer = io.StringIO()
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> _OutputTail:
        self._stack.enter_context(contextlib.redirect_stdout(self.buffer))
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def tail(self, lines: int = 2) -> str:
        """The first specific error lines (onnx2tf appends generic advice after them)."""
        plain = _ANSI.sub("", self.buffer.getvalue())
        text = [ln.strip() for ln in plain.splitlines() if ln.strip()]
        useful = [ln for ln in text if "error" in ln.lower()
                  and not any(g in ln for g in _GENERIC_ADVICE)] or text[-lines:]
        return " | ".join(useful[:lines])[:800]


class Onnx2TfRoute:
    """torch -> ONNX opset 17 (+onnxsim) -> onnx2tf Keras model (in process) -> TFLite."""

    name = "onnx2tf"

    def export_float(self, model: nn.Module, example: torch.Tensor) -> FloatModel:
        from hilnas.convert.export import export_onnx
        from hilnas.convert.rewrites import rewrite_onnx

        graph, applied = rewrite_onnx(export_onnx(model, example))
        keras_model = self._onnx2tf(graph, example)
        import tensorflow as tf

        converter = tf.lite.TFLiteConverter.from_keras_model(keras_model)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        try:
            flat = bytes(converter.convert())
        except Exception as exc:
            raise ConvertError(f"float TFLite conversion failed: {exc}".splitlines()[0]) from exc
        layout = "NHWC" if example.ndim == 4 else "NCHW"
        return FloatModel(flat, layout, keras_model, tuple(applied))

    def _onnx2tf(self, graph: Any, example: torch.Tensor) -> Any:
        import onnx2tf
        import onnx2tf.onnx2tf as onnx2tf_main

        # onnx2tf downloads a COCO sample for 3-channel image inputs; feed it ours instead
        # so that nothing ever touches the network.
        sample = to_layout(example.detach().numpy(), "NHWC").astype(np.float32)
        onnx2tf_main.download_test_image_data = lambda: sample
        with tempfile.TemporaryDirectory(prefix="hilnas-onnx2tf-") as tmp, _OutputTail() as out:
            try:
                return onnx2tf.convert(
                    onnx_graph=graph, output_folder_path=tmp, disable_model_save=True,
                    not_use_onnxsim=True, non_verbose=True, verbosity="error",
                )
            except (Exception, SystemExit) as exc:  # onnx2tf calls sys.exit(1) on errors
                detail = str(exc).splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise ConvertError(f"onnx2tf failed: {detail[:400]}; onnx2tf said: {out.tail()}") \
                    from exc

    def quantize(self, float_model: FloatModel, calib: np.ndarray) -> bytes:
        from hilnas.convert.rewrites import rewrite_tflite

        raw = tflite_converter_int8(float_model.state, to_layout(calib, float_model.input_layout))
        # onnx2tf keeps rank-6 transposes (the float check ran on them in the desktop
        # interpreter); TFLM needs rank <= 5, lowered here, exactly, in the int8 model.
        raw, applied = rewrite_tflite(raw, "int8 model", gelu=False)
        float_model.rewrites = (*float_model.rewrites, *applied)
        return raw

    def release(self) -> None:
        """Drop tf_keras' global graph state: without it RSS grows with every conversion."""
        import gc
        import sys

        if "tf_keras" in sys.modules:
            sys.modules["tf_keras"].backend.clear_session()
        gc.collect()


class LiteRtRoute:
    """torch.export via litert-torch -> float .tflite -> ai-edge-quantizer static int8."""

    name = "litert"

    def export_float(self, model: nn.Module, example: torch.Tensor) -> FloatModel:
        import litert_torch

        from hilnas.convert.rewrites import rewrite_tflite

        with _OutputTail() as out, contextlib.redirect_stderr(io.StringIO()):
            try:
                edge = litert_torch.convert(model, (example,))
                flat = bytes(edge.model_content())
            except Exception as exc:
                raise ConvertError(
                    f"litert-torch failed: {type(exc).__name__}: {str(exc)[:400]}"
                    f"; it said: {out.tail()}"
                ) from exc
        flat, applied = rewrite_tflite(flat, "float model")
        return FloatModel(flat, "NCHW", rewrites=tuple(applied))

    def quantize(self, float_model: FloatModel, calib: np.ndarray) -> bytes:
        with contextlib.redirect_stderr(io.StringIO()), _OutputTail():
            return ai_edge_static_int8(float_model.tflite, calib)

    def release(self) -> None:
        import gc

        gc.collect()


#: Name -> route; :func:`hilnas.convert.convert` tries them in the order it is given.
ROUTES: dict[str, Route] = {"onnx2tf": Onnx2TfRoute(), "litert": LiteRtRoute()}


def get_route(name: str) -> Route:
    try:
        return ROUTES[name]
    except KeyError:
        raise ConvertError(f"unknown conversion route {name!r}; choose from {sorted(ROUTES)}") \
            from None
