"""A small, torch-free reader for ``.tflite`` flatbuffers (ops, tensors, quantization).

It uses the schema bindings that ship with the ``tflite-micro`` package (no TensorFlow
import, so ``hilnas inspect`` and the board tools stay cheap) and checks the container
before handing it to them: a truncated or foreign file becomes a :class:`ConvertError`
that names the byte offset, never an ``IndexError`` from deep inside flatbuffers.
"""

from __future__ import annotations

import struct
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

from hilnas.errors import ConvertError

FILE_IDENTIFIER = b"TFL3"
#: Flatbuffers address everything with unsigned 32-bit offsets.
MAX_FLATBUFFER_BYTES = 2**31 - 1

#: TFLite BuiltinOperator code -> name (the oracle's builtin_op_names() hands out copies).
BUILTIN_OP_NAMES: dict[int, str] = {
    v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")
}
_TYPE_NAMES: dict[int, str] = {
    v: k for k, v in vars(schema.TensorType).items() if not k.startswith("_")
}


@dataclass(frozen=True)
class TensorInfo:
    """One tensor of the (first) subgraph, as the converter and the engine see it."""

    index: int
    name: str
    shape: tuple[int, ...]
    shape_signature: tuple[int, ...]
    dtype: str
    is_constant: bool
    scales: tuple[float, ...] = ()
    zero_points: tuple[int, ...] = ()
    quantized_dimension: int = 0

    @property
    def per_channel(self) -> bool:
        return len(self.scales) > 1

    @property
    def is_dynamic(self) -> bool:
        """True when a dimension is unknown (-1) at conversion time."""
        return any(d < 0 for d in self.shape_signature) or any(d < 0 for d in self.shape)


@dataclass(frozen=True)
class OpInfo:
    """One operator: its builtin name and the tensor indices it reads and writes."""

    index: int
    name: str
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]


@dataclass
class ModelInfo:
    """Everything ``inspect`` prints and the converter's checks need."""

    model_bytes: int
    ops: list[OpInfo] = field(default_factory=list)
    tensors: list[TensorInfo] = field(default_factory=list)
    inputs: tuple[int, ...] = ()
    outputs: tuple[int, ...] = ()
    subgraph_count: int = 1

    def op_histogram(self) -> dict[str, int]:
        return dict(sorted(Counter(op.name for op in self.ops).items()))

    def input_tensors(self) -> list[TensorInfo]:
        return [self.tensors[i] for i in self.inputs]

    def output_tensors(self) -> list[TensorInfo]:
        return [self.tensors[i] for i in self.outputs]

    def producer_of(self, tensor_index: int) -> OpInfo | None:
        return next((op for op in self.ops if tensor_index in op.outputs), None)


def _check_container(data: bytes, origin: str) -> None:
    """Reject what is obviously not a TFLite flatbuffer, naming the offending bytes."""
    if len(data) < 8:
        raise ConvertError(f"{origin}: {len(data)} bytes is too short for a .tflite (need >= 8)")
    if len(data) > MAX_FLATBUFFER_BYTES:
        raise ConvertError(f"{origin}: {len(data)} bytes exceeds the 2 GiB flatbuffer limit")
    ident = data[4:8]
    if ident != FILE_IDENTIFIER:
        raise ConvertError(
            f"{origin}: bytes 4..7 are {ident!r}, expected file identifier {FILE_IDENTIFIER!r}"
            " (not a TFLite flatbuffer)"
        )
    (root,) = struct.unpack_from("<I", data, 0)
    if root + 4 > len(data):
        raise ConvertError(
            f"{origin}: root table offset {root} at byte 0 points past the end"
            f" ({len(data)} bytes; file truncated?)"
        )


def _op_name(model: schema.ModelT, opcode_index: int) -> str:
    if not 0 <= opcode_index < len(model.operatorCodes or []):
        raise ConvertError(f"operator uses opcode index {opcode_index}, model has only "
                           f"{len(model.operatorCodes or [])} opcodes")
    code = model.operatorCodes[opcode_index]
    # Codes >= 127 live in builtinCode; deprecatedBuiltinCode keeps older ones.
    value = max(code.builtinCode, code.deprecatedBuiltinCode)
    if value == schema.BuiltinOperator.CUSTOM:
        custom = (code.customCode or b"").decode(errors="replace")
        return "FLEX" if custom.startswith("Flex") else f"CUSTOM:{custom}"
    return BUILTIN_OP_NAMES.get(value, f"UNKNOWN_{value}")


def _tensor_info(index: int, t: schema.TensorT, model: schema.ModelT) -> TensorInfo:
    buffers = model.buffers or []
    if not 0 <= t.buffer < max(len(buffers), 1):
        raise ConvertError(f"tensor {index} refers to buffer {t.buffer}, model has {len(buffers)}")
    buf = buffers[t.buffer] if buffers else None
    is_const = buf is not None and (
        (buf.data is not None and len(buf.data) > 0) or (buf.size or 0) > 0
    )
    q = t.quantization
    scales = tuple(float(s) for s in (q.scale if q is not None and q.scale is not None else ()))
    zps = tuple(int(z) for z in (q.zeroPoint if q is not None and q.zeroPoint is not None else ()))
    shape = tuple(int(d) for d in (t.shape if t.shape is not None else ()))
    sig = tuple(int(d) for d in (t.shapeSignature if t.shapeSignature is not None else shape))
    # Lean models (hilnas.convert.lean) keep only the I/O tensors' names.
    name = t.name.decode(errors="replace") if isinstance(t.name, bytes) else str(t.name or "")
    return TensorInfo(
        index=index, name=name, shape=shape, shape_signature=sig,
        dtype=_TYPE_NAMES.get(t.type, f"TYPE_{t.type}"), is_constant=is_const,
        scales=scales, zero_points=zps,
        quantized_dimension=int(q.quantizedDimension) if q is not None else 0,
    )


def _check_index(idx: int, count: int, what: str) -> int:
    if not -1 <= idx < count:  # -1 marks an omitted optional input
        raise ConvertError(f"{what} refers to tensor {idx}, subgraph has {count} tensors")
    return int(idx)


def read_model(data: bytes, origin: str = "model") -> ModelInfo:
    """Parse ``data`` (a whole .tflite file) into a :class:`ModelInfo`.

    Only the first subgraph is described: TFLM runs subgraph 0, and our converter never
    emits control flow. ``origin`` (a path or label) prefixes every error message.
    """
    _check_container(data, origin)
    try:
        model = schema.ModelT.InitFromPackedBuf(bytearray(data), 0)
    except Exception as exc:  # flatbuffers raises bare struct/index errors on corrupt input
        raise ConvertError(f"{origin}: corrupt flatbuffer ({type(exc).__name__}: {exc})") from exc
    if not model.subgraphs:
        raise ConvertError(f"{origin}: flatbuffer has no subgraphs")
    try:
        return _describe(model, data, origin)
    except ConvertError as exc:
        raise ConvertError(f"{origin}: {exc}") from exc


def _describe(model: schema.ModelT, data: bytes, origin: str) -> ModelInfo:
    graph = model.subgraphs[0]
    tensors = [_tensor_info(i, t, model) for i, t in enumerate(graph.tensors or [])]
    n = len(tensors)
    ops = []
    for i, op in enumerate(graph.operators or []):
        ins = tuple(_check_index(int(x), n, f"op {i} input") for x in _as_list(op.inputs))
        outs = tuple(_check_index(int(x), n, f"op {i} output") for x in _as_list(op.outputs))
        ops.append(OpInfo(i, _op_name(model, op.opcodeIndex), ins, outs))
    return ModelInfo(
        model_bytes=len(data),
        ops=ops,
        tensors=tensors,
        inputs=tuple(_check_index(int(x), n, "subgraph input") for x in _as_list(graph.inputs)),
        outputs=tuple(_check_index(int(x), n, "subgraph output") for x in _as_list(graph.outputs)),
        subgraph_count=len(model.subgraphs),
    )


def _as_list(values: object) -> list[int]:
    if values is None:
        return []
    return list(np.asarray(values).reshape(-1))


def read_model_file(path: Path) -> ModelInfo:
    """Read and parse a .tflite file; a missing or unreadable path is a ConvertError."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ConvertError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return read_model(data, str(path))
