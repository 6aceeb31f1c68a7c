"""PyTorch -> ONNX (opset 17) -> simplified ONNX, in process, for the onnx2tf route.

Why simplify here: onnxsim folds constant ``Pad`` nodes into the following ``Conv``'s
``pads`` (what right/bottom-only padding exports as). onnx2tf runs onnxsim only as a
subprocess on a file; handing it an already simplified graph (``not_use_onnxsim=True``)
saves that process and avoids onnx2tf's mis-transposed PAD on the channel axis.
"""

from __future__ import annotations

import io
import warnings

import onnx
import torch
from torch import nn

from hilnas.convert.rewrites import GELU_OPTION_HINT
from hilnas.errors import CheckError, ConvertError

OPSET = 17
INPUT_NAME = "input"

#: ONNX ops that betray a layer with no int8 TFLM kernel, with the fix to suggest.
_FLOAT_ONLY_ONNX_OPS: dict[str, str] = {
    "Erf": "exact GELU (Erf) has no int8 TFLM kernel; " + GELU_OPTION_HINT,
    "Sqrt": "SQRT is float-only on TFLM (typical of a hand-written LayerNorm); use BatchNorm",
    "Div": "DIV of two activations is float-only on TFLM (typical of a hand-written"
    " LayerNorm); use BatchNorm or multiply by a constant",
    "NonZero": "NonZero gives a data-dependent (dynamic) shape; TFLM needs static shapes",
}


def export_onnx(model: nn.Module, example: torch.Tensor) -> onnx.ModelProto:
    """Export ``model`` with a static input shape and return the simplified graph."""
    buf = io.BytesIO()
    # nn.MultiheadAttention's eval fast path is one fused aten op that no ONNX opset has;
    # with it off the module exports as the MatMul/Softmax graph it computes.
    fastpath = torch.backends.mha.get_fastpath_enabled()
    try:
        torch.backends.mha.set_fastpath_enabled(False)
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                model, (example,), buf, opset_version=OPSET, dynamo=False,
                input_names=[INPUT_NAME], do_constant_folding=True,
            )
    except Exception as exc:
        raise ConvertError(f"torch.onnx.export failed: {type(exc).__name__}: {exc}") from exc
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)
    graph = onnx.load_from_string(buf.getvalue())
    reject_float_only_nodes(graph, "Erf")  # before onnxsim, which may rewrite it
    # The rest after simplification: a Sqrt of a static shape (F.scaled_dot_product_attention's
    # scale) folds to a constant there.
    graph = simplify(graph)
    reject_float_only_nodes(graph)
    return graph


def simplify(graph: onnx.ModelProto) -> onnx.ModelProto:
    import onnxsim

    try:
        simplified, ok = onnxsim.simplify(graph)
    except Exception as exc:
        raise ConvertError(f"onnxsim failed: {type(exc).__name__}: {exc}") from exc
    if not ok:
        raise ConvertError("onnxsim could not validate the simplified ONNX graph")
    return simplified


def reject_float_only_nodes(graph: onnx.ModelProto, only: str | None = None) -> None:
    """Fail early, naming the ONNX node, on layers that can never be int8 on TFLM.

    onnx2tf would otherwise quietly replace e.g. ``Erf`` with a polynomial, giving a model
    that is not the one the user trained.
    """
    const_outputs = {n.output[0] for n in graph.graph.node if n.op_type == "Constant"}
    const_outputs |= {init.name for init in graph.graph.initializer}
    for node in graph.graph.node:
        reason = _FLOAT_ONLY_ONNX_OPS.get(node.op_type)
        if reason is None or (only is not None and node.op_type != only):
            continue
        if node.op_type == "Div" and len(node.input) > 1 and node.input[1] in const_outputs:
            continue  # division by a constant becomes a MUL
        raise CheckError("op_coverage", f"ONNX node '{node.name}' ({node.op_type}): {reason}")
