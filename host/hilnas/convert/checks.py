"""The converter's checks. Every route's output is judged by the same functions.

Each check returns a JSON-ready dict for the report and raises
:class:`~hilnas.errors.CheckError` naming the op or tensor at fault.

Float agreement tolerance (documented contract, also written into the report): for each
output tensor, ``max |tflite - torch| <= FLOAT_ATOL + FLOAT_RTOL * max |torch|``.
Float32 re-association and layout changes move outputs by ~1e-6 relative; the silent
onnx2tf mis-conversions seen in FACTS §3 move them by O(1). 1e-3 relative sits three
orders of magnitude above the first and below the second.

int8 quality (held-out inputs, TFLM vs PyTorch float): we report top-1 agreement and
max/mean absolute error, and fail when the mean absolute error exceeds
``INT8_MAX_MEAN_ERR_RATIO`` of the float output range, which only happens when
quantization is broken (wrong scales, saturated activations), not from ordinary rounding.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hilnas import tflm
from hilnas.convert.tflite_reader import ModelInfo, TensorInfo
from hilnas.errors import CheckError
from hilnas.tflm_ops import KNOWN_UNSUPPORTED, TFLM_INT8_OPS

FLOAT_ATOL = 1e-4
FLOAT_RTOL = 1e-3
INT8_MAX_MEAN_ERR_RATIO = 0.10
#: Ops whose weight tensor (input 1) must be quantized per output channel.
PER_CHANNEL_OPS = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D"})
WEIGHT_OPS = PER_CHANNEL_OPS | {"FULLY_CONNECTED"}


def _op_label(info: ModelInfo, op_index: int) -> str:
    op = info.ops[op_index]
    outs = ", ".join(f"'{info.tensors[i].name}'" for i in op.outputs if i >= 0)
    return f"op #{op.index} {op.name} (output {outs})"


def check_static_shapes(info: ModelInfo) -> dict:
    """Every tensor must have a fixed shape: TFLM plans the arena once, ahead of time."""
    for t in info.tensors:
        if t.is_dynamic:
            raise CheckError(
                "static_shapes",
                f"tensor '{t.name}' has dynamic shape {list(t.shape_signature)};"
                " TFLM needs every dimension fixed (give a static --input-shape and avoid"
                " data-dependent shapes)",
            )
    return {"passed": True, "tensors": len(info.tensors)}


def check_op_coverage(info: ModelInfo, stage: str) -> dict:
    """Every op must be in hilnas.tflm_ops.TFLM_INT8_OPS (the one list)."""
    for op in info.ops:
        if op.name in TFLM_INT8_OPS:
            continue
        key = "FLEX" if op.name.startswith(("FLEX", "CUSTOM")) else op.name
        reason = KNOWN_UNSUPPORTED.get(key, "not in hilnas.tflm_ops.TFLM_INT8_OPS")
        raise CheckError("op_coverage", f"{stage} model: {_op_label(info, op.index)}: {reason}")
    return {"passed": True, "ops": info.op_histogram()}


def _is_int8_ok(t: TensorInfo) -> bool:
    if t.dtype == "INT8":
        return True
    # int32 is legitimate for biases and shape/permutation/axis constants.
    return t.dtype == "INT32" and t.is_constant


def check_int8(info: ModelInfo) -> dict:
    """int8 I/O, int8 activations, int8 weights (per-channel for convolutions)."""
    for t in info.input_tensors() + info.output_tensors():
        if t.dtype != "INT8":
            raise CheckError("int8", f"model input/output tensor '{t.name}' is {t.dtype}, not INT8")
    per_channel = 0
    for op in info.ops:
        for idx in op.inputs + op.outputs:
            if idx >= 0 and not _is_int8_ok(info.tensors[idx]):
                t = info.tensors[idx]
                raise CheckError("int8", f"{_op_label(info, op.index)}: tensor '{t.name}' is"
                                 f" {t.dtype}{' (constant)' if t.is_constant else ''}")
        if op.name in WEIGHT_OPS:
            weight = info.tensors[op.inputs[1]]
            if op.name in PER_CHANNEL_OPS and not weight.per_channel and weight.shape[0] > 1:
                raise CheckError("int8", f"{_op_label(info, op.index)}: weights"
                                 f" '{weight.name}' are per-tensor, expected per-channel")
            per_channel += weight.per_channel
    weights = sum(1 for op in info.ops if op.name in WEIGHT_OPS)
    return {"passed": True, "weight_tensors": weights, "per_channel_weight_tensors": per_channel}


def _worst(diff: np.ndarray) -> tuple[tuple[int, ...], float]:
    flat = int(np.argmax(diff))
    return tuple(int(i) for i in np.unravel_index(flat, diff.shape)), float(diff.reshape(-1)[flat])


def match_layout(y: np.ndarray, ref_shape: tuple[int, ...]) -> np.ndarray:
    """Bring a TFLite output into PyTorch's layout (onnx2tf emits 4-D outputs as NHWC)."""
    if tuple(y.shape) == tuple(ref_shape):
        return y
    if y.ndim == 4 and tuple(np.transpose(y, (0, 3, 1, 2)).shape) == tuple(ref_shape):
        return np.transpose(y, (0, 3, 1, 2))
    raise CheckError("output_shape", f"TFLite output shape {list(y.shape)} does not match"
                     f" PyTorch output shape {list(ref_shape)}")


def check_float_agreement(
    float_tflite: bytes, layout_inputs: np.ndarray, torch_outputs: Sequence[np.ndarray],
) -> dict:
    """Float TFLite (desktop interpreter) vs PyTorch on the same inputs, output by output."""
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_content=float_tflite)
    interp.allocate_tensors()
    in_detail = interp.get_input_details()[0]
    outs = interp.get_output_details()
    if len(outs) != len(torch_outputs):
        raise CheckError("float_agreement", f"TFLite has {len(outs)} outputs, PyTorch"
                         f" {len(torch_outputs)}")
    got: list[list[np.ndarray]] = [[] for _ in outs]
    for i in range(layout_inputs.shape[0]):
        interp.set_tensor(in_detail["index"], layout_inputs[i : i + 1].astype(np.float32))
        interp.invoke()
        for k, d in enumerate(outs):
            got[k].append(interp.get_tensor(d["index"]).copy())
    results = []
    for k, d in enumerate(outs):
        ref = torch_outputs[k]
        y = match_layout(np.concatenate(got[k]), ref.shape)
        diff = np.abs(y - ref)
        tol = FLOAT_ATOL + FLOAT_RTOL * float(np.max(np.abs(ref)))
        where, worst = _worst(diff)
        results.append({"output": d["name"], "max_abs_err": worst, "tolerance": tol})
        if not worst <= tol:  # also catches NaN
            raise CheckError(
                "float_agreement",
                f"output '{d['name']}' differs from PyTorch at element {list(where)}:"
                f" tflite {float(y[where]):.6g} vs torch {float(ref[where]):.6g}"
                f" (|err| {worst:.3g} > tolerance {tol:.3g} = {FLOAT_ATOL} + {FLOAT_RTOL}"
                f" * max|torch|); the float conversion is wrong",
            )
    return {"passed": True, "atol": FLOAT_ATOL, "rtol": FLOAT_RTOL, "samples":
            int(layout_inputs.shape[0]), "outputs": results}


def _dequantize_tensor(raw: np.ndarray, t: TensorInfo) -> np.ndarray:
    """An int8 activation tensor (per-tensor quantized) in float; float ones pass through."""
    if not t.scales or np.issubdtype(raw.dtype, np.floating):
        return raw.astype(np.float32).reshape(t.shape)
    zp = t.zero_points[0] if t.zero_points else 0
    return ((raw.astype(np.float32) - zp) * t.scales[0]).reshape(t.shape)


def check_tflm(int8_tflite: bytes) -> dict:
    """Load the model in the real TFLM interpreter and measure the exact arena it needs."""
    arena = tflm.tflm_arena_bytes(int8_tflite)
    return {"passed": True, "arena_bytes": arena, "model_bytes": len(int8_tflite)}


def float_tensors(float_tflite: bytes, layout_inputs: np.ndarray, keep: Sequence[int]
                  ) -> dict[int, np.ndarray]:
    """Values of the float model's tensors ``keep`` on each input, stacked on axis 0.

    Run without the default (XNNPACK) delegate: a delegated partition does not expose its
    intermediate tensors.
    """
    if not keep:
        return {}
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interp = Interpreter(
        model_content=float_tflite, experimental_preserve_all_tensors=True,
        experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interp.allocate_tensors()
    index = interp.get_input_details()[0]["index"]
    got: dict[int, list[np.ndarray]] = {t: [] for t in keep}
    for i in range(layout_inputs.shape[0]):
        interp.set_tensor(index, layout_inputs[i : i + 1].astype(np.float32))
        interp.invoke()
        for t in keep:
            got[t].append(interp.get_tensor(t).copy())
    return {t: np.stack(v) for t, v in got.items()}


def _preserve_arena(info: ModelInfo) -> int:
    """An arena that holds every tensor at once (TFLM's preserve-all mode), with slack."""
    need = sum(-(-int(np.prod(t.shape, dtype=np.int64)) * 4 // 16) * 16
               for t in info.tensors if not t.is_constant)
    return max(tflm.PROBE_ARENA_BYTES, need + tflm.PROBE_ARENA_BYTES // 4)


def check_int8_quality(
    int8_tflite: bytes, layout_inputs: np.ndarray, torch_outputs: Sequence[np.ndarray],
    keep: Sequence[int] = (), info: ModelInfo | None = None,
    kept: dict[int, np.ndarray] | None = None,
) -> dict:
    """TFLM int8 vs PyTorch float on held-out inputs: top-1 agreement, max/mean abs error.

    ``keep`` (with ``info``, the model's :class:`ModelInfo`) names intermediate tensors to
    read from the same TFLM runs, dequantized, stacked over inputs into ``kept``: the
    per-LayerNorm errors come from here at no extra inference. Keeping tensors only
    changes TFLM's memory plan (preserve-all), not a kernel or an output.
    """
    preserve = bool(keep) and info is not None and kept is not None
    model = (tflm.load(int8_tflite, _preserve_arena(info), preserve_all=True)  # type: ignore[arg-type]
             if preserve else tflm.load(int8_tflite))
    got: list[list[np.ndarray]] = [[] for _ in range(model.n_outputs)]
    values: dict[int, list[np.ndarray]] = {t: [] for t in keep} if preserve else {}
    for i in range(layout_inputs.shape[0]):
        outs = tflm.tflm_run(model, layout_inputs[i : i + 1].astype(np.float32))
        for k, y in enumerate(outs):
            got[k].append(tflm.dequantize(y, model.output_details(k)))
        for t, v in values.items():
            v.append(_dequantize_tensor(model.tensor(t), info.tensors[t]))  # type: ignore[union-attr]
    if kept is not None:
        kept.update({t: np.stack(v) for t, v in values.items()})
    results = []
    for k, ref in enumerate(torch_outputs):
        y = match_layout(np.concatenate(got[k]), ref.shape)
        diff = np.abs(y - ref)
        span = float(np.max(ref) - np.min(ref)) or 1.0
        entry = {
            "output": k, "max_abs_err": float(diff.max()), "mean_abs_err": float(diff.mean()),
            "float_range": span,
        }
        if ref.ndim == 2 and ref.shape[1] > 1:
            entry["top1_agreement"] = float(np.mean(np.argmax(y, 1) == np.argmax(ref, 1)))
        results.append(entry)
        if entry["mean_abs_err"] > INT8_MAX_MEAN_ERR_RATIO * span:
            raise CheckError(
                "int8_quality",
                f"output {k}: int8 mean abs error {entry['mean_abs_err']:.4g} exceeds"
                f" {INT8_MAX_MEAN_ERR_RATIO} x float range {span:.4g}; quantization is broken"
                " (check the calibration set matches the input distribution)",
            )
    return {"passed": True, "samples": int(layout_inputs.shape[0]),
            "max_mean_err_ratio": INT8_MAX_MEAN_ERR_RATIO, "outputs": results}
