"""LayerNorms found in a TFLite graph, and the int8 error of each one's output (issue #10).

A model-level int8 error hides where it comes from; LayerNorm is the usual suspect in a
ViT (a variance and a reciprocal square root in int8), so the report gives each one's own
error. LayerNorms are found from the graph, never from module names: both routes lower a
LayerNorm (``nn.LayerNorm``, ONNX ``LayerNormalization``, or one written by hand) to

    mu = MEAN(x); var = MEAN(SQUARED_DIFFERENCE(x, mu)); r = RSQRT(ADD(var, eps))

(litert reshapes ``mu`` between its MEAN and the SQUARED_DIFFERENCE) followed by
elementwise ops that combine ``x``, ``mu``, ``r`` and per-feature constants (the scale and
shift, in whatever algebraic order the route chose). :func:`find_layernorms` anchors
on that statistics chain and walks forward through the elementwise tail; the LN's output
is the one full-size tensor of the tail that the tail itself does not read.

The error is the int8 output (TFLM, dequantized with the tensor's own scale) against the
same LayerNorm's output in the float model (desktop float interpreter, which the float
check already holds to PyTorch), on the held-out inputs the float check uses. Float and
int8 graphs come from the same source, so their k-th LayerNorms correspond; a pair whose
sizes differ is not reported rather than reported wrongly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hilnas.convert.report import LayerNormError
from hilnas.convert.tflite_reader import ModelInfo, OpInfo

#: Ops the tail after RSQRT may consist of (the affine part and re-layouts of the stats).
_TAIL_OPS = frozenset({"MUL", "ADD", "SUB", "RESHAPE", "QUANTIZE", "DEQUANTIZE"})


@dataclass(frozen=True)
class LayerNormSite:
    """One LayerNorm in a graph: its input, its output and its RSQRT (for ordering)."""

    input: int
    output: int
    rsqrt_op: int


def _consumers(info: ModelInfo) -> dict[int, list[OpInfo]]:
    out: dict[int, list[OpInfo]] = {}
    for op in info.ops:
        for i in op.inputs:
            if i >= 0:
                out.setdefault(i, []).append(op)
    return out


def _numel(info: ModelInfo, tensor: int) -> int:
    return int(np.prod(info.tensors[tensor].shape, dtype=np.int64))


def _stats_input(info: ModelInfo, rsqrt: OpInfo, producers: dict[int, OpInfo]
                 ) -> tuple[int, set[int]] | None:
    """``x`` and the statistics tensors {mu, sq, var, var+eps} above one RSQRT, or None."""
    add = producers.get(rsqrt.inputs[0])
    if add is None or add.name != "ADD":
        return None
    var_t = next((i for i in add.inputs if not info.tensors[i].is_constant), None)
    var_op = producers.get(var_t) if var_t is not None else None
    if var_op is None or var_op.name != "MEAN":
        return None
    sq_op = producers.get(var_op.inputs[0])
    if sq_op is None or sq_op.name != "SQUARED_DIFFERENCE":
        return None
    for x, mu in (sq_op.inputs, sq_op.inputs[::-1]):
        stats = {mu, var_op.inputs[0], var_t, rsqrt.inputs[0]}
        mu_op = producers.get(mu)
        if mu_op is not None and mu_op.name == "RESHAPE":  # litert: MEAN drops the axis
            stats.add(mu_op.inputs[0])
            mu_op = producers.get(mu_op.inputs[0])
        if mu_op is not None and mu_op.name == "MEAN" and mu_op.inputs[0] == x:
            return x, stats
    return None


def find_layernorms(info: ModelInfo) -> list[LayerNormSite]:
    """Every LayerNorm of ``info``'s graph, in op order (see module doc)."""
    producers = {o: op for op in info.ops for o in op.outputs if o >= 0}
    consumers = _consumers(info)
    sites = []
    for rsqrt in info.ops:
        if rsqrt.name != "RSQRT":
            continue
        found = _stats_input(info, rsqrt, producers)
        if found is None:
            continue
        x, stats = found
        output = _tail_output(info, x, stats | {rsqrt.outputs[0]}, consumers)
        if output is not None:
            sites.append(LayerNormSite(x, output, rsqrt.index))
    return sites


def _tail_output(info: ModelInfo, x: int, region: set[int],
                 consumers: dict[int, list[OpInfo]]) -> int | None:
    """Grow the LN region through elementwise ops that read only it, ``x`` and constants."""
    region = set(region)
    # The scale and shift are per feature; a full-size constant added after the LN (a
    # position embedding) is not part of it.
    features = int(info.tensors[x].shape[-1]) if info.tensors[x].shape else 1
    tail_ops: list[OpInfo] = []
    grown = True
    while grown:
        grown = False
        for t in list(region):
            for op in consumers.get(t, []):
                if op in tail_ops or op.name not in _TAIL_OPS:
                    continue
                if op.name == "RESHAPE" and _numel(info, t) == _numel(info, x):
                    continue  # a re-layout of the result is the next layer's business
                ins = [i for i in op.inputs if i >= 0 and not info.tensors[i].is_constant]
                consts = [i for i in op.inputs[:2] if i >= 0 and info.tensors[i].is_constant]
                if all(i in region or i == x for i in ins) and all(
                        _numel(info, c) <= features for c in consts if op.name != "RESHAPE"):
                    tail_ops.append(op)
                    region.update(o for o in op.outputs if o >= 0)
                    grown = True
    read = {i for op in tail_ops for i in op.inputs}
    size = _numel(info, x)
    sinks = [o for op in tail_ops for o in op.outputs
             if o >= 0 and o not in read and _numel(info, o) == size]
    return sinks[0] if len(sinks) == 1 else None


def layernorm_errors(
    float_info: ModelInfo, float_values: dict[int, np.ndarray],
    int8_info: ModelInfo, int8_values: dict[int, np.ndarray],
    float_sites: Sequence[LayerNormSite], int8_sites: Sequence[LayerNormSite],
) -> tuple[LayerNormError, ...]:
    """Per-LayerNorm int8-vs-float error of the outputs; sites pair up by order.

    ``*_values`` map an output tensor index to its values on the same inputs (stacked on
    axis 0, int8 already dequantized). Pairs whose element counts differ are left out.
    """
    if len(float_sites) != len(int8_sites):
        return ()
    errors = []
    for k, (fs, qs) in enumerate(zip(float_sites, int8_sites, strict=True)):
        ref, got = float_values.get(fs.output), int8_values.get(qs.output)
        if ref is None or got is None or ref[0].size != got[0].size:
            continue
        n = min(ref.shape[0], got.shape[0])  # the float side may cover fewer inputs
        ref, got = ref[:n].reshape(-1).astype(np.float64), got[:n]
        diff = np.abs(got.reshape(-1).astype(np.float64) - ref)
        t = int8_info.tensors[qs.output]
        errors.append(LayerNormError(
            index=k, tensor=t.name or float_info.tensors[fs.output].name,
            shape=tuple(t.shape), max_abs_err=float(diff.max()),
            mean_abs_err=float(diff.mean()), float_range=float(np.ptp(ref)) or 1.0,
            samples=n))
    return tuple(errors)
