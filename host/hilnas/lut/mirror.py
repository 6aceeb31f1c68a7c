"""A Python mirror of the engine's memory plan (firmware/engine/src/planner.c, interpreter.c).

Why a mirror and not a sum: the arena peak is a packing problem over buffer lifetimes, so
it is not additive over blocks. The predictor rebuilds the converted network's buffer list
from the table's per-block templates and runs the same greedy placement as the engine:

* every non-constant tensor is a buffer alive from its first writer to its last reader
  (graph inputs from -1, graph outputs to n_ops), 16-byte aligned;
* a RESHAPE whose input dies at the reshape reuses the input's buffer (no copy);
* every op's scratch is a buffer alive during that op only;
* buffers are placed largest first (stable), each at the lowest offset that overlaps no
  placed buffer alive at the same time;
* persistent op data (op_data_size of the kernel, per-channel multipliers, shifts and
  folded biases) sits at the arena top: aligned sizes summed.

The per-op scratch/persistent rules mirror each kernel's prepare(); they are applied once,
at build time, to the converted measurement models, and the results stored per op in the
table, so the predictor only runs the placement.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

ALIGN = 16
RESHAPE = "RESHAPE"
#: Scratch tables: SOFTMAX >= 1024 elements (256 x int32), SQUARED_DIFFERENCE >= 1024
#: (2 x 256 x int16). The NL unary ops (HARD_SWISH, LOGISTIC, TANH, RSQRT) keep their
#: 256-entry table in op data (persistent, sized by the ELF's op data sizes), no scratch.
SOFTMAX_TABLE_MIN = 1024
SQDIFF_TABLE_MIN = 1024


def align(n: int) -> int:
    return (n + ALIGN - 1) & ~(ALIGN - 1)


def _elements(shape: Sequence[int]) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n


@dataclass(frozen=True)
class OpShapes:
    """What an op's prepare() sizes its memory from."""

    name: str
    in_shapes: tuple[tuple[int, ...], ...]
    out_shapes: tuple[tuple[int, ...], ...]
    filter_channels: int = 0  # weight quantization channels (>1 = per channel)
    adj_x: bool = False
    adj_y: bool = False
    dilation_w: int = 1  # CONV_2D


#: conv.c HN_TILE_MAX_TAPS.
CONV_TILE_MAX_TAPS = 256


def op_scratch_bytes(op: OpShapes) -> int:
    """Scratch bytes the kernel asks for in prepare()."""
    if op.name == "SOFTMAX":
        return 256 * 4 if _elements(op.in_shapes[0]) >= SOFTMAX_TABLE_MIN else 0
    if op.name == "SQUARED_DIFFERENCE":
        return 2 * 256 * 2 if _elements(op.out_shapes[0]) >= SQDIFF_TABLE_MIN else 0
    if op.name == "MEAN":
        return _elements(op.out_shapes[0]) * 4
    if op.name == "BATCH_MATMUL":
        return _batch_matmul_scratch(op)
    if op.name == "CONV_2D":
        return _conv_tile_scratch(op)
    return 0


def _conv_tile_scratch(op: OpShapes) -> int:
    """conv.c's two-pixel int16 im2col: 4 bytes a tap (2 pixels x int16) when dilation_w
    is 1, the filter spans every input channel (one group) and the window has at most
    ``CONV_TILE_MAX_TAPS`` taps; other convolutions keep the scratch-free path."""
    _, k_h, k_w, filter_in_c = (int(d) for d in op.in_shapes[1])
    taps = k_h * k_w * filter_in_c
    if op.dilation_w != 1 or filter_in_c != int(op.in_shapes[0][-1]) or taps > CONV_TILE_MAX_TAPS:
        return 0
    return 4 * taps


def _batch_matmul_scratch(op: OpShapes) -> int:
    lhs, rhs = op.in_shapes[0], op.in_shapes[1]
    rank = max(len(lhs), len(rhs))

    def dim(shape: tuple[int, ...], i: int) -> int:
        lead = rank - len(shape)
        return 1 if i < lead else int(shape[i - lead])

    rows = dim(lhs, rank - 1 if op.adj_x else rank - 2)
    depth = dim(lhs, rank - 2 if op.adj_x else rank - 1)
    cols = dim(rhs, rank - 2 if op.adj_y else rank - 1)
    return cols * 4 + (rows * depth if op.adj_x else 0) + (0 if op.adj_y else cols * depth)


def op_persistent_bytes(op: OpShapes, op_data_sizes: Mapping[str, int]) -> int:
    """Persistent arena bytes: aligned op data plus the kernel's own allocations."""
    total = align(op_data_sizes.get(op.name, 0)) if op_data_sizes.get(op.name, 0) else 0
    if op.name in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        oc = int(op.out_shapes[0][-1])
        total += align(4 * oc) + align(oc) + align(4 * oc)
    elif op.name == "FULLY_CONNECTED":
        od = int(op.out_shapes[0][-1])
        if op.filter_channels > 1:  # per-channel multipliers and shifts (no folded bias)
            total += align(4 * od) + align(od)
    return total


@dataclass
class Buffer:
    size: int
    first: int
    last: int
    offset: int = 0


def plan_arena(
    n_ops: int,
    op_names: Sequence[str],
    op_inputs: Sequence[Sequence[int]],
    op_outputs: Sequence[Sequence[int]],
    tensor_bytes: Sequence[int],
    tensor_const: Sequence[bool],
    graph_inputs: Sequence[int],
    graph_outputs: Sequence[int],
    scratch: Sequence[int],
) -> int:
    """Planned bytes (activations + scratch) exactly as planner.c places them."""
    n_t = len(tensor_bytes)
    first = [None] * n_t
    last = [None] * n_t
    for t in graph_inputs:
        first[t] = last[t] = -1
    for op in range(n_ops):
        for t in op_inputs[op]:
            if t < 0 or tensor_const[t]:
                continue
            last[t] = op
        for t in op_outputs[op]:
            if first[t] is None:
                first[t] = op
            if last[t] is None or last[t] < op:
                last[t] = op
    for t in graph_outputs:
        if not tensor_const[t]:
            last[t] = n_ops
    alias = [-1] * n_t
    io = set(graph_inputs) | set(graph_outputs)
    for op in range(n_ops):
        if op_names[op] != RESHAPE or not op_inputs[op] or len(op_outputs[op]) != 1:
            continue
        ti, to = op_inputs[op][0], op_outputs[op][0]
        if ti < 0 or tensor_const[ti] or tensor_bytes[ti] != tensor_bytes[to]:
            continue
        if ti == to or last[ti] != op or ti in io or to in io:
            continue
        root = alias[ti] if alias[ti] >= 0 else ti
        alias[to] = root
        if last[root] < last[to]:  # type: ignore[operator]
            last[root] = last[to]
    buffers: list[Buffer] = []
    for t in range(n_t):
        if tensor_const[t] or alias[t] >= 0 or first[t] is None:
            continue
        size = align(tensor_bytes[t])
        if size:
            buffers.append(Buffer(size, first[t], last[t]))  # type: ignore[arg-type]
    for op in range(n_ops):
        size = align(scratch[op])
        if size:
            buffers.append(Buffer(size, op, op))
    return greedy_place(buffers)


def greedy_place(buffers: list[Buffer]) -> int:
    """Largest first (stable), lowest non-overlapping offset: planner.c's first_fit."""
    order = sorted(buffers, key=lambda b: -b.size)
    placed: list[Buffer] = []
    total = 0
    for me in order:
        alive = [o for o in placed if not (o.last < me.first or me.last < o.first)]
        cand = 0
        moved = True
        while moved:
            moved = False
            for o in alive:
                if cand < o.offset + o.size and o.offset < cand + me.size:
                    cand = o.offset + o.size
                    moved = True
        me.offset = cand
        placed.append(me)
        total = max(total, cand + me.size)
    return total
