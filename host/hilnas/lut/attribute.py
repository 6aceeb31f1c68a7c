"""Split a converted chain model into per-block templates (ops, tensors, memory needs).

The converters name every tensor after the PyTorch module path that produced it
(``.../Sequential/hilnas.space.blocks.MBConv_e3/...``), so the first child name in an
op's output tensor name says which block the op belongs to. Two fixes keep the
attribution identical between a measurement chain and a member:

* an op whose output name names no block (the graph output, e.g. ``serving_default_*``)
  belongs to the block of its first activation input;
* a layout op (TRANSPOSE) whose outputs are read only by a later block belongs to that
  block: litert emits the NHWC->NCHW transpose in front of the head's MEAN under the
  previous block's name, but it exists because of the head.

Each template lists the block's ops in order, its tensors (local ids; ``-1`` is the
block's input activation), per-op scratch/persistent bytes (:mod:`hilnas.lut.mirror`) and
the facts its flash bytes depend on (:mod:`hilnas.lut.flash`), so the predictor can rebuild a
whole network without converting it. Torch-free.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

from hilnas.errors import ConvertError
from hilnas.lut.flash import tensor_fields
from hilnas.lut.mirror import OpShapes, op_persistent_bytes, op_scratch_bytes

_OP_NAMES = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
_BLOCK_RE = re.compile(r"Sequential/[^/;]*?_([A-Za-z0-9]+)(?=[/;]|$)")
_DTYPE_BYTES = {0: 4, 1: 2, 2: 4, 3: 1, 4: 8, 6: 1, 7: 2, 9: 1, 10: 8, 16: 4}
LAYOUT_OPS = ("TRANSPOSE",)
#: Block of ops whose tensors name no block (a model that is not a chain: one template).
WHOLE_MODEL = "model"
#: Module names that open a separately keyed part of a block (attention's FFN).
SPLIT_MARKS = ("ConvBN_ffn1",)


@dataclass
class BlockTemplate:
    """One block as the converted network holds it."""

    block: str
    ops: list[dict[str, Any]] = field(default_factory=list)
    tensors: list[dict[str, Any]] = field(default_factory=list)  # local id = index
    output: int = -1
    const_bytes: int = 0
    name_bytes: int = 0  # tensor-name bytes without this block's own name tokens
    name_tokens: int = 0  # occurrences of this block's name inside tensor names
    quant_bytes: int = 0  # quantization vectors (scales, zero points) in the flatbuffer


@dataclass
class ParsedModel:
    model_bytes: int
    n_ops: int
    n_tensors: int
    op_names: list[str]
    op_block: list[str]
    blocks: dict[str, BlockTemplate]
    n_shared_consts: int
    #: bytes of the lean flatbuffer the convert pipeline writes (set by callers that lean it)
    lean_bytes: int = 0


def _name(t: Any) -> str:
    return t.name.decode(errors="replace") if isinstance(t.name, bytes) else str(t.name)


def _ints(v: Any) -> list[int]:
    return [] if v is None else [int(x) for x in np.asarray(v).reshape(-1)]


def _bytes_of(t: Any) -> int:
    n = 1
    for d in _ints(t.shape):
        n *= d
    return n * _DTYPE_BYTES.get(int(t.type), 1)


def block_of_name(name: str) -> str | None:
    m = _BLOCK_RE.search(name)
    return m.group(1) if m else None


def parse_chain(data: bytes, op_data_sizes: Mapping[str, int],
                block_names: set[str] | None = None) -> ParsedModel:
    """Attribute every op/tensor of ``data`` to a block; build the templates."""
    model = schema.ModelT.InitFromPackedBuf(bytearray(data), 0)
    graph = model.subgraphs[0]
    tensors = graph.tensors or []
    buffers = model.buffers or []
    ops = graph.operators or []
    names = [_op_name(model, op.opcodeIndex) for op in ops]
    ins = [_ints(op.inputs) for op in ops]
    outs = [_ints(op.outputs) for op in ops]
    const = [_is_const(t, buffers) for t in tensors]
    producer: dict[int, int] = {t: i for i, o in enumerate(outs) for t in o}
    consumers: dict[int, list[int]] = {}
    for i, inp in enumerate(ins):
        for t in inp:
            if t >= 0:
                consumers.setdefault(t, []).append(i)
    owner = _attribute(ops, tensors, ins, outs, const, producer, names, block_names)
    _move_layout_ops(owner, names, outs, consumers)
    order = list(dict.fromkeys(owner))
    templates = {b: BlockTemplate(b) for b in order}
    const_users: dict[int, set[str]] = {}
    for i, inp in enumerate(ins):
        for t in inp:
            if t >= 0 and const[t]:
                const_users.setdefault(t, set()).add(owner[i])
    local: dict[str, dict[int, int]] = {b: {} for b in order}
    graph_out = set(_ints(graph.outputs))
    for i, op in enumerate(ops):
        tpl, lmap = templates[owner[i]], local[owner[i]]
        op_in = []
        for t in ins[i]:
            if t < 0:
                op_in.append(-2)
            elif not const[t] and producer.get(t) is not None and owner[producer[t]] != owner[i]:
                op_in.append(-1)  # the block's input activation
            elif not const[t] and producer.get(t) is None:
                op_in.append(-1)  # graph input
            else:
                op_in.append(_local(t, lmap, tpl, tensors, buffers, const, const_users))
        op_out = [_local(t, lmap, tpl, tensors, buffers, const, const_users) for t in outs[i]]
        for t in outs[i]:
            users = consumers.get(t, [])
            if t in graph_out or any(owner[u] != owner[i] for u in users):
                tpl.output = lmap[t]
        shapes = _op_shapes(names[i], op, tensors, ins[i], outs[i])
        marks = [m for m in SPLIT_MARKS if any(m in _name(tensors[t]) for t in outs[i])]
        tpl.ops.append({
            "op": names[i], "in": op_in, "out": op_out, "marks": marks,
            "scratch": op_scratch_bytes(shapes),
            "persistent": op_persistent_bytes(shapes, op_data_sizes),
            "ticks": 0,
        })
    for b, tpl in templates.items():
        for t, lid in local[b].items():
            # every block name inside a tensor name (its own and, in fused names, its
            # neighbours'): a member's names differ from a chain's only there
            n = _name(tensors[t])
            tokens = _BLOCK_RE.findall(n)
            tpl.tensors[lid]["name_len"] = len(n) - sum(len(x) for x in tokens)
            tpl.tensors[lid]["name_tokens"] = len(tokens)
        finish_sums(tpl.__dict__)
    shared = sum(1 for users in const_users.values() if len(users) > 1)
    return ParsedModel(len(data), len(ops), len(tensors), names, owner, templates, shared)


def _quant_bytes(t: Any) -> int:
    """Flatbuffer bytes of a tensor's quantization vectors (float scales, int64 zero points)."""
    q = t.quantization
    if q is None:
        return 0
    return 4 * len(_ints(q.scale)) + 8 * len(_ints(q.zeroPoint))


def _op_name(model: Any, idx: int) -> str:
    code = model.operatorCodes[idx]
    return _OP_NAMES.get(max(code.builtinCode, code.deprecatedBuiltinCode), "UNKNOWN")


def _is_const(t: Any, buffers: list[Any]) -> bool:
    buf = buffers[t.buffer] if 0 <= t.buffer < len(buffers) else None
    return buf is not None and ((buf.data is not None and len(buf.data) > 0)
                                or (buf.size or 0) > 0)


def _attribute(ops: list[Any], tensors: list[Any], ins: list[list[int]],
               outs: list[list[int]], const: list[bool], producer: dict[int, int],
               names: list[str], block_names: set[str] | None) -> list[str]:
    owner: list[str] = []
    for i in range(len(ops)):
        b = None
        for t in outs[i]:
            b = block_of_name(_name(tensors[t]))
            if b is not None:
                break
        if b is not None and block_names is not None and b not in block_names:
            b = None
        if b is None:
            src = [producer[t] for t in ins[i] if t >= 0 and not const[t] and t in producer]
            fallback = owner[-1] if owner else WHOLE_MODEL
            b = owner[src[0]] if src else fallback
        owner.append(b)
    return owner


def _move_layout_ops(owner: list[str], names: list[str], outs: list[list[int]],
                     consumers: dict[int, list[int]]) -> None:
    for i in range(len(owner) - 1, -1, -1):
        if names[i] not in LAYOUT_OPS:
            continue
        users = {owner[u] for t in outs[i] for u in consumers.get(t, [])}
        if len(users) == 1:
            (b,) = users
            if b != owner[i]:
                owner[i] = b


def _local(t: int, lmap: dict[int, int], tpl: BlockTemplate, tensors: list[Any],
           buffers: list[Any], const: list[bool], const_users: dict[int, set[str]]) -> int:
    if t in lmap:
        return lmap[t]
    tt = tensors[t]
    entry: dict[str, Any] = {"bytes": _bytes_of(tt), "const": const[t],
                             "quant_bytes": _quant_bytes(tt)}
    q = tt.quantization
    entry.update(tensor_fields(_ints(tt.shape), q.scale if q is not None else None,
                               q.zeroPoint if q is not None else None))
    if const[t]:
        data = buffers[tt.buffer].data
        raw = bytes(np.asarray(data, dtype=np.uint8)) if data is not None else b""
        entry["data_bytes"] = len(raw)
        entry["key"] = hashlib.sha1(raw + repr(_ints(tt.shape)).encode()).hexdigest()[:16]
        if len(const_users.get(t, ())) > 1:
            # shared by several blocks in the converted graph: counted once per network
            entry["shared"] = entry["key"]
    lmap[t] = len(tpl.tensors)
    tpl.tensors.append(entry)
    return lmap[t]


def _op_shapes(name: str, op: Any, tensors: list[Any], ins: list[int],
               outs: list[int]) -> OpShapes:
    in_shapes = tuple(tuple(_ints(tensors[t].shape)) if t >= 0 else () for t in ins)
    out_shapes = tuple(tuple(_ints(tensors[t].shape)) for t in outs)
    filt = 0
    if len(ins) > 1 and ins[1] >= 0:
        q = tensors[ins[1]].quantization
        filt = len(_ints(q.scale)) if q is not None and q.scale is not None else 0
    adj_x = adj_y = False
    if name == "BATCH_MATMUL" and op.builtinOptions is not None:
        adj_x = bool(getattr(op.builtinOptions, "adjX", False))
        adj_y = bool(getattr(op.builtinOptions, "adjY", False))
    dil_w = 1
    if name == "CONV_2D" and op.builtinOptions is not None:
        dil_w = int(getattr(op.builtinOptions, "dilationWFactor", 1) or 1)
    return OpShapes(name, in_shapes, out_shapes, filt, adj_x, adj_y, dil_w)


def finish_sums(tpl: dict[str, Any]) -> None:
    """Recompute a template's constant/name byte sums from its tensors."""
    tpl["const_bytes"] = sum(t.get("data_bytes", 0) for t in tpl["tensors"]
                             if t.get("shared") is None)
    tpl["name_bytes"] = sum(t.get("name_len", 0) for t in tpl["tensors"])
    tpl["name_tokens"] = sum(t.get("name_tokens", 0) for t in tpl["tensors"])
    tpl["quant_bytes"] = sum(t.get("quant_bytes", 0) for t in tpl["tensors"]
                             if t.get("shared") is None)


def split_template(tpl: dict[str, Any], at: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Cut a block template before op ``at`` into two templates that chain.

    The second part's reads of first-part tensors become its input (-1); that must be a
    single tensor (the first part's output). A constant both parts read is marked
    shared, so an assembled network counts it once.
    """
    first_ops, second_ops = tpl["ops"][:at], tpl["ops"][at:]
    used_first = {x for op in first_ops for x in op["in"] + op["out"] if x >= 0}
    produced_first = {x for op in first_ops for x in op["out"]}
    bridge = {x for op in second_ops for x in op["in"] if x in produced_first}
    if len(bridge) != 1:
        raise ConvertError(f"cannot split block at op {at}: {len(bridge)} tensors cross")
    (out_first,) = bridge
    for x in {x for op in second_ops for x in op["in"] if x >= 0} & used_first:
        if tpl["tensors"][x]["const"]:
            tpl["tensors"][x]["shared"] = tpl["tensors"][x].get("key")

    def part(ops: list[dict[str, Any]], external: set[int], output: int) -> dict[str, Any]:
        ids = [x for x in dict.fromkeys(y for op in ops for y in op["in"] + op["out"])
               if x >= 0 and x not in external]
        remap = {old: new for new, old in enumerate(ids)}
        remap.update({x: -1 for x in external})
        new_ops = [{**op, "in": [remap.get(x, x) for x in op["in"]],
                    "out": [remap[x] for x in op["out"]]} for op in ops]
        out = {"ops": new_ops, "tensors": [dict(tpl["tensors"][x]) for x in ids],
               "output": remap[output]}
        finish_sums(out)
        return out

    return part(first_ops, set(), out_first), part(second_ops, {out_first}, tpl["output"])


