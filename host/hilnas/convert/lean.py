"""Lean flatbuffers: drop what neither TFLM nor the hilnas engine reads, and say where bytes go.

Both routes emit more than the model: litert-torch names every tensor after its full
``torch.export`` location path (53 KB of names in an 85 KB model), the quantizers keep
calibration min/max vectors, and there are signature defs, a description, metadata buffers
(``min_runtime_version``) and buffers that no tensor references. On a 1 MB-flash MCU that
overhead decides what fits, so :func:`lean_flatbuffer` rewrites the model with:

* tensor names removed (except the subgraph's inputs and outputs, which tools show);
* ``shape_signature`` removed where it equals ``shape`` (a dynamic one is kept, so the
  static-shape check still sees it), calibration ``min``/``max`` removed;
* signature defs, the description, the subgraph name and metadata removed (TFLM reads
  only ``OfflineMemoryAllocation`` metadata, which is kept);
* unreferenced buffers dropped and byte-identical constant buffers shared (flatbuffers
  allow it and both runtimes only read constants); buffer 0 stays the empty sentinel;
* identical quantization tables and shape vectors written once and referenced by offset.

Tensor and operator indices never change, so check messages can borrow the original
tensor names (:func:`with_names_of`). Constant data stays 16-byte aligned, as TFLite's own
writer aligns it (``force_align: 16`` in the schema). Whether TFLM and the engine still run
the result bit-identically is tested on real conversions (tests/convert/test_lean.py).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import flatbuffers
import numpy as np
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

from hilnas.convert.report import ByteSplit
from hilnas.convert.tflite_reader import FILE_IDENTIFIER, ModelInfo, read_model
from hilnas.errors import ConvertError

#: Metadata TFLM itself reads (offline arena plans); everything else is dropped.
KEPT_METADATA = frozenset({b"OfflineMemoryAllocation"})
_ALIGN = 16
_INT8, _INT32 = schema.TensorType.INT8, schema.TensorType.INT32


def _unpack(data: bytes, origin: str) -> schema.ModelT:
    read_model(data, origin)  # container checks with byte-offset errors
    return schema.ModelT.InitFromPackedBuf(bytearray(data), 0)


def _len(v: Any) -> int:
    return 0 if v is None else int(np.asarray(v).size)


def _string_bytes(s: Any) -> int:
    """A flatbuffer string: 4-byte length, the bytes, a NUL, padded to 4."""
    return 0 if not s else (4 + len(s) + 1 + 3) // 4 * 4


def _quant_payload(q: schema.QuantizationParametersT, seen: set[bytes]) -> int:
    """Scale (4 B each) and zero-point (8 B each) vector bytes of ``q`` not counted before.

    Counting each distinct vector once keeps the figure honest for a lean model, which
    stores identical vectors once (a bias and its weight share all-zero zero points).
    """
    total = 0
    for values, dtype in ((q.scale, "<f4"), (q.zeroPoint, "<i8")):
        raw = np.asarray(values if values is not None else [], dtype=dtype).tobytes()
        key = dtype.encode() + raw
        if raw and key not in seen:
            seen.add(key)
            total += len(raw)
    return total


def byte_split(data: bytes, origin: str = "model") -> ByteSplit:
    """Measure ``data``'s split into weights / biases / quantization / graph / other."""
    model = _unpack(data, origin)
    buffers = model.buffers or []
    seen: set[int] = set()
    quant_seen: set[bytes] = set()
    weights = biases = const_other = quant = other = 0
    for graph in model.subgraphs or []:
        other += _string_bytes(graph.name)
        for t in graph.tensors or []:
            other += _string_bytes(t.name)
            q = t.quantization
            if q is not None:
                quant += _quant_payload(q, quant_seen)
                other += 4 * (_len(q.min) + _len(q.max))
            if t.buffer in seen or not 0 < t.buffer < len(buffers):
                continue
            seen.add(t.buffer)
            n = _len(buffers[t.buffer].data)
            if t.type == _INT8:
                weights += n
            elif t.type == _INT32:
                biases += n
            else:
                const_other += n
    other += sum(_len(b.data) for i, b in enumerate(buffers) if i and i not in seen)
    other += _string_bytes(model.description)
    for sig in model.signatureDefs or []:
        other += _string_bytes(sig.signatureKey)
        other += sum(_string_bytes(m.name) for m in (sig.inputs or []) + (sig.outputs or []))
    for md in model.metadata or []:
        other += _string_bytes(md.name)
    return ByteSplit(len(data), weights, biases, const_other, quant, other)


def repeated_constants(data: bytes, origin: str = "model") -> int:
    """Unquantized constant tensors (shapes, permutations) repeating another's type, shape
    and bytes. Leaning shares their buffers, but each still costs a tensor table, and the
    LUT predictor counts such constants once by content (lut/assemble.py), as litert
    writes them: a repeat makes a member's tensor count and flash differ from the table's.
    """
    model = _unpack(data, origin)
    seen: set[tuple[int, tuple[int, ...], bytes]] = set()
    repeats = 0
    for graph in model.subgraphs or []:
        for t in graph.tensors or []:
            raw, q = model.buffers[t.buffer].data, t.quantization
            if raw is None or not _len(raw) or (q is not None and _len(q.scale)):
                continue
            key = (int(t.type), tuple(int(d) for d in t.shape), bytes(np.asarray(raw, np.uint8)))
            repeats += key in seen
            seen.add(key)
    return repeats


def graph_floor(data: bytes, origin: str = "model") -> int:
    """A lower bound on the graph bytes of *any* TFLite flatbuffer with ``data``'s graph.

    Why: the flash bound (weights + biases + quantization times ``LEAN_BOUND``) cannot
    hold for a model whose graph structure alone outweighs its parameters, and a reader
    needs to tell "lean left bytes on the table" from "the format needs them". Counted
    with every table, vector and option shared wherever the format allows and every
    default omitted: per tensor its vector slot, vtable offset and the fields TFLM reads
    (shape, a non-float type, a buffer, quantization); per distinct shape its vector; per
    distinct quantization table its table and per distinct scale or zero-point vector its
    length; per operator its slot, vtable offset, opcode index when not 0, its input and
    output vectors, and a reference to its options; per distinct options table its vtable
    offset; per distinct constant its buffer's slot, table, data offset and length; per operator
    code its slot, table and code. Padding, vtables and the header are left out, so the
    true minimum is larger.
    """
    model = _unpack(data, origin)
    floor = 12 * len(model.operatorCodes or [])
    buffers = model.buffers or []
    contents = {np.asarray(buffers[t.buffer].data, np.uint8).tobytes()
                for g in model.subgraphs or [] for t in g.tensors or []
                if 0 < t.buffer < len(buffers) and _len(buffers[t.buffer].data)}
    floor += 16 * len(contents)
    shapes: set[tuple[int, ...]] = set()
    quants: set[tuple[bytes, bytes, int]] = set()
    options: set[tuple[int, str]] = set()
    for graph in model.subgraphs or []:
        for t in graph.tensors or []:
            has_data = 0 < t.buffer < len(buffers) and bool(_len(buffers[t.buffer].data))
            floor += _tensor_floor(t, has_data, shapes, quants)
        for op in graph.operators or []:
            floor += 8 + 4 * (op.opcodeIndex != 0) + 16 + 4 * (_len(op.inputs) + _len(op.outputs))
            if op.builtinOptions is not None:
                floor += 5  # options type byte + offset
                options.add((int(op.builtinOptionsType), repr(vars(op.builtinOptions))))
    floor += sum(4 + 4 * len(s) for s in shapes if s)
    floor += sum(8 + 4 * bool(zero) + 4 * (axis != 0) for _, zero, axis in quants)
    floor += 4 * len({("s", q[0]) for q in quants} | {("z", q[1]) for q in quants if q[1]})
    return floor + 4 * len(options)


def _tensor_floor(t: schema.TensorT, has_data: bool, shapes: set[tuple[int, ...]],
                  quants: set[tuple[bytes, bytes, int]]) -> int:
    """``t``'s own bytes in :func:`graph_floor` (an activation may use the empty buffer 0,
    so only a constant pays for its buffer field); records its shape and quantization."""
    shape = tuple(int(d) for d in (t.shape if t.shape is not None else []))
    shapes.add(shape)
    own = 8 + 4 * bool(shape) + (t.type != schema.TensorType.FLOAT32) + 4 * has_data
    q = t.quantization
    if q is None or not _len(q.scale):
        return own
    zero = np.asarray(q.zeroPoint if q.zeroPoint is not None else [], "<i8").tobytes()
    quants.add((np.asarray(q.scale, "<f4").tobytes(), zero, int(q.quantizedDimension)))
    return own + 4


def lean_flatbuffer(data: bytes, origin: str = "model") -> bytes:
    """``data`` without what TFLM and the engine never read (see module doc)."""
    model = _unpack(data, origin)
    if model.externalBuffers or any(b.offset for b in model.buffers or []):
        raise ConvertError(f"{origin}: constant data stored outside the flatbuffer; inline"
                           " it first (hilnas.convert.quantize.inline_external_buffers)")
    for graph in model.subgraphs or []:
        _lean_graph(graph)
    model.description = None
    model.signatureDefs = None
    kept = [m for m in model.metadata or [] if bytes(m.name or b"") in KEPT_METADATA]
    model.metadata = kept or None
    model.metadataBuffer = None
    _remap_buffers(model)
    builder = _Builder(max(1024, len(data) // 2))
    root = model.Pack(builder)
    builder.Finish(root, file_identifier=FILE_IDENTIFIER)
    return bytes(builder.Output())


def _lean_graph(graph: schema.SubGraphT) -> None:
    io = {int(i) for i in np.asarray(graph.inputs if graph.inputs is not None else [])}
    io |= {int(i) for i in np.asarray(graph.outputs if graph.outputs is not None else [])}
    graph.name = None
    for i, t in enumerate(graph.tensors or []):
        if i not in io:
            t.name = None
        if t.shapeSignature is not None and np.array_equal(
                np.asarray(t.shapeSignature), np.asarray(t.shape if t.shape is not None else [])):
            t.shapeSignature = None
        if t.quantization is not None:
            t.quantization.min = t.quantization.max = None


def _remap_buffers(model: schema.ModelT) -> None:
    """Keep buffer 0, referenced buffers, and one copy of identical constant data."""
    buffers = model.buffers or [schema.BufferT()]
    tensors = [t for g in model.subgraphs or [] for t in g.tensors or []]
    variable = {t.buffer for t in tensors if t.isVariable}
    for md in model.metadata or []:
        variable.add(md.buffer)  # never merged with tensor data
    new: list[schema.BufferT] = [_AlignedBuffer(None)]
    index: dict[int, int] = {0: 0}
    by_content: dict[bytes, int] = {}

    def place(old: int) -> int:
        if old in index:
            return index[old]
        raw = buffers[old].data
        content = b"" if raw is None else np.asarray(raw, dtype=np.uint8).tobytes()
        if not content and old not in variable:
            index[old] = 0
            return 0
        if old not in variable and content in by_content:
            index[old] = by_content[content]
            return index[old]
        new.append(_AlignedBuffer(content))
        index[old] = len(new) - 1
        if old not in variable:
            by_content[content] = index[old]
        return index[old]

    for md in model.metadata or []:
        md.buffer = place(md.buffer)
    for t in tensors:
        if not 0 <= t.buffer < len(buffers):
            raise ConvertError(f"tensor refers to buffer {t.buffer}, model has {len(buffers)}")
        t.buffer = place(t.buffer)
        t.__class__ = _SharedTensor
        if t.quantization is not None:
            t.quantization.__class__ = _SharedQuantization
    model.buffers = new


class _Builder(flatbuffers.Builder):
    """A builder that writes identical vectors and quantization tables only once."""

    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.shared: dict[tuple, int] = {}


class _AlignedBuffer(schema.BufferT):
    """A Buffer whose data starts on a 16-byte boundary (TFLite's force_align: 16)."""

    def __init__(self, content: bytes | None) -> None:
        super().__init__()
        self.content = content

    def Pack(self, builder: flatbuffers.Builder) -> int:
        data = None
        if self.content:
            n = len(self.content)
            builder.StartVector(1, n, _ALIGN)
            builder.head -= n
            builder.Bytes[builder.head:builder.head + n] = self.content
            data = builder.EndVector()
        schema.BufferStart(builder)
        if data is not None:
            schema.BufferAddData(builder, data)
        return schema.BufferEnd(builder)


def _shared_vector(builder: _Builder, values: Any, dtype: str) -> int:
    arr = np.ascontiguousarray(np.asarray(values, dtype=dtype).reshape(-1))
    key = (dtype, arr.tobytes())
    if key not in builder.shared:
        builder.shared[key] = builder.CreateNumpyVector(arr)
    return builder.shared[key]


class _SharedQuantization(schema.QuantizationParametersT):
    """Quantization parameters packed once per distinct content (min/max already gone)."""

    def Pack(self, builder: _Builder) -> int:
        if self.details is not None:  # custom/blockwise details: no sharing, schema packer
            return super().Pack(builder)
        scale = None if self.scale is None else _shared_vector(builder, self.scale, "<f4")
        zero = None if self.zeroPoint is None else _shared_vector(builder, self.zeroPoint, "<i8")
        key = ("quant", scale, zero, int(self.quantizedDimension))
        if key not in builder.shared:
            schema.QuantizationParametersStart(builder)
            if scale is not None:
                schema.QuantizationParametersAddScale(builder, scale)
            if zero is not None:
                schema.QuantizationParametersAddZeroPoint(builder, zero)
            schema.QuantizationParametersAddQuantizedDimension(builder, self.quantizedDimension)
            builder.shared[key] = schema.QuantizationParametersEnd(builder)
        return builder.shared[key]


class _SharedTensor(schema.TensorT):
    """A tensor whose shape vector is shared with every tensor of the same shape."""

    def Pack(self, builder: _Builder) -> int:
        shape = self.shape
        if shape is not None:
            self.shape = None  # packed below as a shared vector
        try:
            if shape is None or self.sparsity is not None or self.variantTensors is not None:
                self.shape = shape
                return super().Pack(builder)
            shape_off = _shared_vector(builder, shape, "<i4")
            quant = self.quantization.Pack(builder) if self.quantization is not None else None
            sig = (None if self.shapeSignature is None
                   else _shared_vector(builder, self.shapeSignature, "<i4"))
            name = builder.CreateString(self.name) if self.name else None
            schema.TensorStart(builder)
            schema.TensorAddShape(builder, shape_off)
            schema.TensorAddType(builder, self.type)
            schema.TensorAddBuffer(builder, self.buffer)
            if name is not None:
                schema.TensorAddName(builder, name)
            if quant is not None:
                schema.TensorAddQuantization(builder, quant)
            schema.TensorAddIsVariable(builder, self.isVariable)
            if sig is not None:
                schema.TensorAddShapeSignature(builder, sig)
            schema.TensorAddHasRank(builder, self.hasRank)
            schema.TensorAddExternalBuffer(builder, self.externalBuffer)
            return schema.TensorEnd(builder)
        finally:
            self.shape = shape


def with_names_of(lean: ModelInfo, original: ModelInfo) -> ModelInfo:
    """``lean`` with the original's tensor names, so check messages still name tensors.

    Valid because :func:`lean_flatbuffer` never renumbers tensors.
    """
    if len(lean.tensors) != len(original.tensors):
        raise ConvertError(f"lean model has {len(lean.tensors)} tensors, original"
                           f" {len(original.tensors)}")
    tensors = [dataclasses.replace(t, name=o.name) for t, o in zip(lean.tensors, original.tensors,
                                                                     strict=True)]
    return dataclasses.replace(lean, tensors=tensors)
