"""Graph rewrites that make ordinary ViT idioms runnable on TFLM in int8 (issue #10).

Every rewrite here is driven by the graph (op types, shapes, constants), never by module
names, and is exact in float (the converter's float-agreement check still judges the
result against PyTorch). Each returns what it did as :class:`AppliedRewrite` records for
the conversion report.

* **Scalar constants -> initializers (ONNX, onnx2tf route).** ``torch.onnx.export`` writes
  a python float such as ``dim_head ** -0.5`` or tanh-GELU's ``0.044715`` as a 0-d
  ``Constant`` node. onnx2tf turns such a node into a bare python float, and when a Mul
  by it is the last op of a branch it becomes a Keras "output" that is not a layer: the
  "Output tensors of a Functional model must be the output of a TensorFlow `Layer` …
  Found: 0.3535…" failure. As initializers they are tensors like any weight.
* **Rank > 5 transposes lowered (TFLite).** MobileViT's unfold
  (``b d (h ph) (w pw) -> b (ph pw) (h w) d``) is a rank-6 transpose; TFLM's TRANSPOSE
  takes at most rank 5. :func:`plan_transpose` drops unit axes and merges axes that stay
  neighbours (the unfold becomes rank 5, or less), and if that is still too many, splits
  the permutation into rank-4 "move one axis" transposes. The reshapes feeding and
  reading the rank-6 tensor are fused with the new ones, so no rank-6 tensor is left.
  The litert route lowers its float model; the onnx2tf route lowers its int8 model (pure
  data movement, so the int8 values are unchanged): onnx2tf converts the rank-6 ONNX
  graph right but mis-guesses layouts in a graph lowered at the ONNX level (measured:
  float error 1.25 on a MobileViT block).
* **GELU builtin decomposed (TFLite, litert route).** litert-torch emits tanh GELU as one
  ``GELU`` builtin, which TFLM cannot run in int8; it becomes
  ``0.5 x (1 + tanh(sqrt(2/pi) x (1 + 0.044715 x^2)))`` in MUL/ADD/TANH, the same
  function. An exact (erf) GELU is refused naming ``--gelu tanh``.
* **Exact GELU -> tanh GELU (PyTorch, only with ``gelu='tanh'``).** Not exact: the
  converter measures and reports the float deviation it causes on the held-out inputs.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from hilnas.convert.report import AppliedRewrite
from hilnas.errors import CheckError, ConfigError

#: TFLM's TRANSPOSE refuses higher ranks ("Transpose op only supports 1D-5D input arrays").
MAX_TRANSPOSE_RANK = 5
GELU_MODES = ("none", "tanh")
GELU_OPTION_HINT = ("convert with --gelu tanh (API: convert(..., gelu='tanh')) to replace it"
                    " with tanh-approximate GELU; the float deviation is reported")
_GELU_A = math.sqrt(2.0 / math.pi)
_GELU_B = 0.044715


@dataclass(frozen=True)
class TransposeStep:
    """View the data as ``shape`` and transpose it by ``perm`` (both rank <= 5)."""

    shape: tuple[int, ...]
    perm: tuple[int, ...]


def plan_transpose(shape: tuple[int, ...], perm: tuple[int, ...],
                   max_rank: int = MAX_TRANSPOSE_RANK) -> list[TransposeStep]:
    """Steps whose composition equals ``transpose(x.reshape(shape), perm)`` (row-major).

    Unit axes carry no data and are dropped; input axes that stay neighbours in the output
    merge into one. A permutation still above ``max_rank`` is done as a sequence of
    "move one axis forward" transposes, each a rank-4 view ``[before, skipped, moved,
    after]`` permuted by ``(0, 2, 1, 3)``. An empty list means only a reshape is needed.
    """
    sizes, order = _canonical(shape, perm)
    rank = len(sizes)
    if order == list(range(rank)):
        return []
    if rank <= max_rank:
        return [TransposeStep(tuple(sizes), tuple(order))]
    steps: list[TransposeStep] = []
    current = list(range(rank))
    for j, axis in enumerate(order):
        i = current.index(axis)
        if i == j:
            continue
        view = (_prod(sizes, current[:j]), _prod(sizes, current[j:i]), sizes[axis],
                _prod(sizes, current[i + 1:]))
        steps.append(TransposeStep(view, (0, 2, 1, 3)))
        current = [*current[:j], axis, *current[j:i], *current[i + 1:]]
    return steps


def _prod(sizes: list[int], axes: list[int]) -> int:
    return int(np.prod([sizes[a] for a in axes], dtype=np.int64)) if axes else 1


def _canonical(shape: tuple[int, ...], perm: tuple[int, ...]) -> tuple[list[int], list[int]]:
    """(group sizes in input order, output order of the groups) with unit axes dropped."""
    kept = [a for a in range(len(shape)) if shape[a] != 1]
    pos = {a: k for k, a in enumerate(kept)}
    out = [pos[p] for p in perm if shape[p] != 1]
    groups: list[list[int]] = []
    for k in out:
        if groups and groups[-1][-1] + 1 == k:
            groups[-1].append(k)
        else:
            groups.append([k])
    by_input = sorted(range(len(groups)), key=lambda g: groups[g][0])
    sizes = [_prod([shape[a] for a in kept], groups[g]) for g in by_input]
    rank_of = {g: r for r, g in enumerate(by_input)}
    return sizes, [rank_of[g] for g in range(len(groups))]


def transpose_reference(x: np.ndarray, steps: list[TransposeStep],
                        out_shape: tuple[int, ...]) -> np.ndarray:
    """Run ``steps`` in numpy (what the rewritten graph computes); for tests and checks."""
    for step in steps:
        x = np.transpose(x.reshape(step.shape), step.perm)
    return x.reshape(out_shape)


# ---------------------------------------------------------------- PyTorch: --gelu tanh


def check_gelu_mode(gelu: str) -> str:
    if gelu not in GELU_MODES:
        raise ConfigError(f"--gelu {gelu!r}: choose from {list(GELU_MODES)} ('tanh' replaces"
                          " exact GELU with its tanh approximation before export)")
    return gelu


@contextmanager
def _tanh_gelu_mode() -> Iterator[None]:
    """While active, every ``F.gelu`` (nn.GELU included) computes the tanh approximation."""
    import torch
    from torch.overrides import TorchFunctionMode

    gelu = torch.nn.functional.gelu

    class _Mode(TorchFunctionMode):
        def __torch_function__(self, func: Callable, types: Any, args: tuple = (),
                               kwargs: dict | None = None) -> Any:
            kwargs = dict(kwargs or {})
            if func is gelu:
                kwargs["approximate"] = "tanh"
            return func(*args, **kwargs)

    with _Mode():
        yield


def tanh_gelu_model(model: Any) -> Any:
    """``model`` wrapped so that exact GELU is computed as tanh GELU.

    Driven by what runs, not by module types: every ``F.gelu`` call made during a forward
    pass (an nn.GELU module or the functional API) is switched to ``approximate='tanh'``.
    """
    from torch import nn

    class TanhGelu(nn.Module):
        def __init__(self, inner: nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, *args: Any) -> Any:
            with _tanh_gelu_mode():
                return self.inner(*args)

    return TanhGelu(model).eval()


def count_exact_gelu(model: Any, example: Any) -> int:
    """How many exact-GELU calls one forward pass of ``model`` makes."""
    import torch
    from torch.overrides import TorchFunctionMode

    gelu = torch.nn.functional.gelu
    calls = [0]

    class _Count(TorchFunctionMode):
        def __torch_function__(self, func: Callable, types: Any, args: tuple = (),
                               kwargs: dict | None = None) -> Any:
            kwargs = kwargs or {}
            if func is gelu and kwargs.get("approximate", "none") == "none":
                calls[0] += 1
            return func(*args, **kwargs)

    with torch.no_grad(), _Count():
        model(example)
    return calls[0]


# ---------------------------------------------------------------- ONNX (onnx2tf route)


def rewrite_onnx(model: Any) -> tuple[Any, list[AppliedRewrite]]:
    """Apply the ONNX rewrites in place; returns the model and what was applied."""
    applied: list[AppliedRewrite] = []
    n = _onnx_constants_to_initializers(model)
    if n:
        applied.append(AppliedRewrite(
            "constants_as_initializers", n, "Constant nodes (scalars such as an attention"
            " scale) made initializers, so onnx2tf keeps them as tensors"))
    return model, applied


def _onnx_constants_to_initializers(model: Any) -> int:
    from onnx import helper, numpy_helper

    graph = model.graph
    keep, moved = [], 0
    for node in graph.node:
        if node.op_type == "Constant" and len(node.attribute) == 1 and len(node.output) == 1:
            value = helper.get_attribute_value(node.attribute[0])
            if not hasattr(value, "dims"):  # value_float / value_int(s)
                value = numpy_helper.from_array(np.asarray(value), node.output[0])
            tensor = numpy_helper.from_array(numpy_helper.to_array(value), node.output[0])
            graph.initializer.append(tensor)
            moved += 1
        else:
            keep.append(node)
    del graph.node[:]
    graph.node.extend(keep)
    return moved


# ---------------------------------------------------------------- TFLite (litert route)


def rewrite_tflite(data: bytes, origin: str = "float model", gelu: bool = True
                   ) -> tuple[bytes, list[AppliedRewrite]]:
    """Lower rank > 5 transposes, and (``gelu``, float models) decompose GELU builtins.

    Lowering a transpose only moves data, so it is exact in an int8 model too: the new
    tensors copy the quantization of the tensor they view.
    """
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    from hilnas.convert.tflite_reader import read_model

    read_model(data, origin)  # container checks with byte-offset errors
    model = schema.ModelT.InitFromPackedBuf(bytearray(data), 0)
    applied: list[AppliedRewrite] = []
    for graph in model.subgraphs or []:
        edit = _TfliteEdit(model, graph)
        gelus = edit.decompose_gelus(origin) if gelu else 0
        transposes = edit.lower_transposes()
        if gelus:
            applied.append(AppliedRewrite(
                "gelu_decomposed", gelus, "tanh GELU builtin written as MUL/ADD/TANH"
                " (TFLM has no int8 GELU kernel)"))
        if transposes:
            applied.append(AppliedRewrite(
                "high_rank_transpose", len(transposes), "rank > 5 TRANSPOSE lowered to"
                " rank <= 5: " + "; ".join(transposes)))
            edit.compact_tensors(model.signatureDefs or [])
    if not applied:
        return data, applied
    import flatbuffers

    builder = flatbuffers.Builder(len(data) + 4096)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output()), applied


class _TfliteEdit:
    """Insert ops and tensors into one float subgraph (object API, indices stay valid)."""

    def __init__(self, model: Any, graph: Any) -> None:
        from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

        self.schema, self.model, self.graph = schema, model, graph
        self.model.buffers = self.model.buffers or []
        self._consts: dict[tuple[int, tuple[int, ...], bytes], int] | None = None

    def _shared_const(self, shape: tuple[int, ...], dtype: int, data: np.ndarray) -> int:
        """An unquantized constant (a reshape shape, a permutation), stored once per graph.

        litert writes identical constants once and the LUT predictor counts them once by
        content (lut/assemble.py); a rewrite that wrote one per inserted op made members
        carry 14-37 more tensors than predicted (hybrid-unfold). Existing constants of the
        same type, shape and bytes are reused too.
        """
        raw = np.ascontiguousarray(data).tobytes()
        if self._consts is None:
            self._consts = {}
            for i, t in enumerate(self.graph.tensors or []):
                buf = self.model.buffers[t.buffer] if t.buffer < len(self.model.buffers) else None
                q = t.quantization
                if buf is None or buf.data is None or len(buf.data) == 0 or (
                        q is not None and q.scale is not None and len(q.scale)):
                    continue
                shp = tuple(int(d) for d in (t.shape if t.shape is not None else ()))
                key = (int(t.type), shp, bytes(np.asarray(buf.data, np.uint8)))
                self._consts.setdefault(key, i)
        key = (int(dtype), tuple(int(d) for d in shape), raw)
        if key not in self._consts:
            self._consts[key] = self._tensor(shape, dtype, data)
        return self._consts[key]

    # -- building blocks
    def _opcode(self, builtin: int) -> int:
        codes = self.model.operatorCodes = self.model.operatorCodes or []
        for i, code in enumerate(codes):
            if max(code.builtinCode, code.deprecatedBuiltinCode) == builtin:
                return i
        code = self.schema.OperatorCodeT()
        code.builtinCode, code.deprecatedBuiltinCode = builtin, min(builtin, 127)
        code.version = 1
        codes.append(code)
        return len(codes) - 1

    def _tensor(self, shape: tuple[int, ...], dtype: int, data: np.ndarray | None = None,
                name: str = "", quantization: Any = None) -> int:
        buffer = self.schema.BufferT()
        if data is not None:
            buffer.data = np.frombuffer(np.ascontiguousarray(data).tobytes(), np.uint8)
        self.model.buffers.append(buffer)
        t = self.schema.TensorT()
        t.shape = np.asarray(shape, np.int32)
        # Unique names: ai-edge-quantizer keys its parameters by tensor name.
        unique = f"hilnas_rewrite/{len(self.graph.tensors)}/{name or 'const'}"
        t.type, t.buffer, t.name = dtype, len(self.model.buffers) - 1, unique.encode()
        t.quantization = quantization
        self.graph.tensors.append(t)
        return len(self.graph.tensors) - 1

    def _scalar(self, value: float, name: str) -> int:
        return self._tensor((1,), self.schema.TensorType.FLOAT32,
                            np.asarray([value], np.float32), name)

    def _like(self, tensor: int, name: str, shape: tuple[int, ...] | None = None) -> int:
        src = self.graph.tensors[tensor]
        return self._tensor(tuple(src.shape) if shape is None else shape, src.type, None, name,
                            copy.deepcopy(src.quantization))

    def _op(self, builtin: int, inputs: list[int], outputs: list[int],
            options: tuple[int, Any] | None = None) -> Any:
        op = self.schema.OperatorT()
        op.opcodeIndex = self._opcode(builtin)
        op.inputs = np.asarray(inputs, np.int32)
        op.outputs = np.asarray(outputs, np.int32)
        if options is not None:
            op.builtinOptionsType, op.builtinOptions = options
        return op

    def _binary(self, builtin: int, a: int, b: int, out: int) -> Any:
        s = self.schema
        opts = (s.BuiltinOptions.MulOptions, s.MulOptionsT()) if builtin == s.BuiltinOperator.MUL \
            else (s.BuiltinOptions.AddOptions, s.AddOptionsT())
        return self._op(builtin, [a, b], [out], opts)

    # RESHAPE and TRANSPOSE are written as litert writes its own: the shape or permutation
    # as the second input and no options table. ReshapeOptions.new_shape repeated the
    # shape input (TFLM and the engine read the tensor), and the ~20-40 B that each
    # options table cost per inserted op made unfold members 1.3% bigger than the LUT's
    # flash fit, which sees litert's option-less RESHAPE/TRANSPOSE everywhere else.
    def _reshape(self, src: int, shape: tuple[int, ...], out: int) -> Any:
        s = self.schema
        shape_t = self._shared_const((len(shape),), s.TensorType.INT32,
                                     np.asarray(shape, np.int32))
        return self._op(s.BuiltinOperator.RESHAPE, [src, shape_t], [out])

    def _transpose(self, src: int, perm: tuple[int, ...], out: int) -> Any:
        s = self.schema
        perm_t = self._shared_const((len(perm),), s.TensorType.INT32, np.asarray(perm, np.int32))
        return self._op(s.BuiltinOperator.TRANSPOSE, [src, perm_t], [out])

    def _builtin(self, op: Any) -> int:
        code = self.model.operatorCodes[op.opcodeIndex]
        return max(code.builtinCode, code.deprecatedBuiltinCode)

    def _replace(self, index: int, ops: list[Any]) -> None:
        self.graph.operators[index:index + 1] = ops

    def _readers(self, tensor: int) -> list[Any]:
        return [op for op in self.graph.operators if tensor in list(op.inputs)]

    def _producer(self, tensor: int) -> Any | None:
        return next((op for op in self.graph.operators if tensor in list(op.outputs)), None)

    # -- GELU
    def decompose_gelus(self, origin: str) -> int:
        s = self.schema
        count, i = 0, 0
        while i < len(self.graph.operators):
            op = self.graph.operators[i]
            if self._builtin(op) != s.BuiltinOperator.GELU:
                i += 1
                continue
            opts = op.builtinOptions
            if not (opts is not None and getattr(opts, "approximate", False)):
                name = self.graph.tensors[op.outputs[0]].name or b""
                raise CheckError("op_coverage", f"{origin}: op #{i} GELU (output"
                                 f" '{name.decode(errors='replace')}') is exact (erf) GELU,"
                                 f" which TFLM cannot run in int8; {GELU_OPTION_HINT}")
            ops = self._gelu_ops(int(op.inputs[0]), int(op.outputs[0]), count)
            self._replace(i, ops)
            i += len(ops)
            count += 1
        return count

    def _gelu_ops(self, x: int, y: int, k: int) -> list[Any]:
        """y = 0.5 x (1 + tanh(a x (1 + b x^2))): tanh GELU's own formula, in int8 ops."""
        s = self.schema
        mul, add = s.BuiltinOperator.MUL, s.BuiltinOperator.ADD
        t = [self._like(x, f"gelu{k}/{n}") for n in ("x2", "bx2", "1+bx2", "poly", "arg",
                                                    "tanh", "1+tanh", "half_x")]
        one = self._scalar(1.0, f"gelu{k}/one")
        return [
            self._binary(mul, x, x, t[0]),
            self._binary(mul, t[0], self._scalar(_GELU_B, f"gelu{k}/b"), t[1]),
            self._binary(add, t[1], one, t[2]),
            self._binary(mul, t[2], x, t[3]),
            self._binary(mul, t[3], self._scalar(_GELU_A, f"gelu{k}/a"), t[4]),
            self._op(s.BuiltinOperator.TANH, [t[4]], [t[5]]),
            self._binary(add, t[5], one, t[6]),
            self._binary(mul, x, self._scalar(0.5, f"gelu{k}/half"), t[7]),
            self._binary(mul, t[7], t[6], y),
        ]

    # -- transposes
    def lower_transposes(self) -> list[str]:
        s = self.schema
        done: list[str] = []
        for op in list(self.graph.operators):
            if self._builtin(op) != s.BuiltinOperator.TRANSPOSE:
                continue
            x, out = int(op.inputs[0]), int(op.outputs[0])
            shape = tuple(int(d) for d in self.graph.tensors[x].shape)
            if len(shape) <= MAX_TRANSPOSE_RANK:
                continue
            perm_buf = self.model.buffers[self.graph.tensors[int(op.inputs[1])].buffer]
            perm = tuple(int(p) for p in np.frombuffer(bytes(perm_buf.data), np.int32))
            done.append(self._lower_one(op, x, out, shape, perm))
        return done

    def _lower_one(self, op: Any, x: int, out: int, shape: tuple[int, ...],
                   perm: tuple[int, ...]) -> str:
        s = self.schema
        producer = self._producer(x)
        if producer is not None and self._builtin(producer) == s.BuiltinOperator.RESHAPE \
                and len(self._readers(x)) == 1 and x not in list(self.graph.outputs):
            x = int(producer.inputs[0])  # view the reshape's source directly
        steps = plan_transpose(shape, perm)
        ops, cur = [], x
        for k, step in enumerate(steps):
            view = self._like(cur, f"transpose_view{k}", step.shape)
            moved = self._like(cur, f"transpose_step{k}",
                               tuple(step.shape[p] for p in step.perm))
            ops += [self._reshape(cur, step.shape, view), self._transpose(view, step.perm, moved)]
            cur = moved
        out_shape = tuple(int(d) for d in self.graph.tensors[out].shape)
        readers = self._readers(out)
        if readers and out not in list(self.graph.outputs) and all(
                self._builtin(r) == s.BuiltinOperator.RESHAPE and int(r.inputs[0]) == out
                for r in readers):
            for r in readers:
                r.inputs[0] = cur
        else:
            ops.append(self._reshape(cur, out_shape, out))
        self._replace(self.graph.operators.index(op), ops)
        self._drop_dead()
        return (f"{list(shape)} perm {list(perm)} -> "
                + (" + ".join(f"{list(st.shape)} perm {list(st.perm)}" for st in steps)
                   or "reshape"))

    def compact_tensors(self, signatures: list[Any]) -> None:
        """Drop tensors no op, input or output uses (the replaced rank-6 ones), renumbering.

        A tensor nothing computes has no data; calibration reads every tensor and fails on
        it ("Tensor data is null"), and TFLM would still see its rank.
        """
        g = self.graph
        used = {int(i) for op in g.operators for i in [*op.inputs, *op.outputs] if i >= 0}
        used |= {int(i) for i in [*g.inputs, *g.outputs]}
        keep = sorted(used)
        new_index = {old: new for new, old in enumerate(keep)}

        def remap(values: Any) -> np.ndarray:
            return np.asarray([new_index[int(v)] if v >= 0 else -1 for v in values], np.int32)

        g.tensors = [g.tensors[i] for i in keep]
        for op in g.operators:
            op.inputs, op.outputs = remap(op.inputs), remap(op.outputs)
        g.inputs, g.outputs = remap(g.inputs), remap(g.outputs)
        for sig in signatures:
            for entry in [*(sig.inputs or []), *(sig.outputs or [])]:
                entry.tensorIndex = new_index[int(entry.tensorIndex)]

    def _drop_dead(self) -> None:
        """Remove ops whose outputs nothing reads (the replaced rank-6 reshape)."""
        while True:
            used = {int(i) for op in self.graph.operators for i in op.inputs}
            used |= {int(o) for o in self.graph.outputs}
            dead = [op for op in self.graph.operators
                    if not any(int(o) in used for o in op.outputs)]
            if not dead:
                return
            for op in dead:
                self.graph.operators.remove(op)
