"""The arena mirror, compiled per block: fast and still byte-exact with the engine's planner.

:func:`hilnas.lut.mirror.plan_arena` rebuilds a member's whole tensor list and computes
every lifetime and RESHAPE alias from scratch (about 5 ms a member). But a converted
member is a chain: a block's tensors live inside the block, except the activation that
flows from one block into the next. So each block is compiled once (:func:`compile_block`)
into a :class:`Segment`: its buffers with lifetimes relative to its first op, the one
buffer still open at its end (its output, or the root its output aliases), and how long
it keeps its input's buffer alive. Stitching segments (:func:`stitch`) only shifts op
indices and closes each open buffer at the next block's last read; the result is the
same buffer list, in the same order, as ``plan_arena`` builds, and the same greedy
placement (:mod:`hilnas.lut.cplan`, C; or :func:`place` here) gives the same bytes.

Exactness rests on facts plan_arena's rules imply for a chain: the block's input is
read only by this block after it is produced; its output is read by the next block (so
it never dies inside its own block, and a RESHAPE reading it cannot alias); the graph
input and output (first/last block) are never aliased. A block compiled as first or
last is a separate variant.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hilnas.lut.mirror import RESHAPE, Buffer, align, greedy_place

NONE = -(1 << 30)  #: "no read of the input in this segment"
_BIG = 1 << 30  #: the output's last use before the next block is known


@dataclass
class Segment:
    """A block (or a run of stitched blocks) ready to stitch.

    ``tensors`` are (aligned size, first op, last op) in tensor order; ``open`` indexes
    the buffer the next segment extends (-1: the segment passes its input's buffer
    through); ``in_last`` is the last op keeping the input's buffer alive (NONE: none).
    """

    n_ops: int
    tensors: list[tuple[int, int, int]] = field(default_factory=list)
    scratch: list[tuple[int, int]] = field(default_factory=list)  # (aligned size, op)
    open: int = -1
    in_last: int = NONE
    persistent: int = 0
    out_bytes: int = 0


def compile_block(tpl: Mapping[str, Any], in_bytes: int, first: bool, last: bool) -> Segment:
    """One block template -> Segment (``first``: reads the graph input; ``last``: writes
    the graph output). ``in_bytes``: bytes of the activation flowing in."""
    ops = tpl["ops"]
    tens = tpl["tensors"]
    n, m = len(ops), len(tens)
    inp = m  # local id of the block's input activation
    size = [int(t["bytes"]) for t in tens] + [in_bytes]
    const = [bool(t["const"]) for t in tens] + [False]
    first_use: list[int | None] = [None] * (m + 1)
    last_use: list[int | None] = [None] * (m + 1)
    first_use[inp] = last_use[inp] = -1

    def tid(x: int) -> int:
        return inp if x == -1 else x

    for i, op in enumerate(ops):
        for x in op["in"]:
            if x == -2 or const[tid(x)]:
                continue
            last_use[tid(x)] = i
        for x in op["out"]:
            t = tid(x)
            if first_use[t] is None:
                first_use[t] = i
            if last_use[t] is None or last_use[t] < i:  # type: ignore[operator]
                last_use[t] = i
    out = tid(int(tpl["output"]))
    loc = list(last_use)  # lifetimes with the output's local last (no next block yet)
    if last:
        last_use[out] = loc[out] = n
    else:
        last_use[out] = _BIG
    io = ({inp} if first else set()) | ({out} if last else set())
    alias = [-1] * (m + 1)
    for i, op in enumerate(ops):
        if op["op"] != RESHAPE or not op["in"] or len(op["out"]) != 1 or op["in"][0] == -2:
            continue
        ti, to = tid(op["in"][0]), tid(op["out"][0])
        if const[ti] or size[ti] != size[to] or ti == to or last_use[ti] != i:
            continue
        if ti in io or to in io:
            continue
        root = alias[ti] if alias[ti] >= 0 else ti
        alias[to] = root
        if last_use[root] < last_use[to]:  # type: ignore[operator]
            last_use[root] = last_use[to]
        if loc[root] < loc[to]:  # type: ignore[operator]
            loc[root] = loc[to]
    seg = Segment(n, out_bytes=size[out])
    if first:
        seg.tensors.append((align(in_bytes), -1, int(last_use[inp])))  # type: ignore[arg-type]
    else:
        read = loc[inp]
        seg.in_last = read if read is not None and read >= 0 else NONE
    for t in range(m):
        if const[t] or alias[t] >= 0 or first_use[t] is None:
            continue
        s = align(size[t])
        if not s:
            continue
        if last_use[t] == _BIG:
            seg.open = len(seg.tensors)
        seg.tensors.append((s, int(first_use[t]), int(loc[t])))  # type: ignore[arg-type]
    if not last and seg.open < 0 and not (alias[out] == inp or out == inp):
        raise ValueError("block output has no buffer of its own and does not alias its input")
    for i, op in enumerate(ops):
        s = align(int(op["scratch"]))
        if s:
            seg.scratch.append((s, i))
        seg.persistent += int(op["persistent"])
    return seg


def stitch(parts: Sequence[Segment]) -> Segment:
    """Concatenate segments in execution order into one (itself stitchable)."""
    out = Segment(0)
    tens: list[list[int]] = []
    open_at = -1  # -1: the combined input's buffer is still the open one
    for seg in parts:
        off = out.n_ops
        if seg.in_last != NONE:
            if open_at >= 0:
                tens[open_at][2] = max(tens[open_at][2], seg.in_last + off)
            else:
                out.in_last = max(out.in_last, seg.in_last + off)
        base = len(tens)
        tens.extend([s, f + off, lst + off] for s, f, lst in seg.tensors)
        out.scratch.extend((s, op + off) for s, op in seg.scratch)
        if seg.open >= 0:
            open_at = base + seg.open
        out.n_ops += seg.n_ops
        out.persistent += seg.persistent
        out.out_bytes = seg.out_bytes
    out.tensors = [(s, f, lst) for s, f, lst in tens]
    out.open = open_at
    return out


def place(seg: Segment) -> int:
    """Planned bytes of a whole member's segment (planner.c's greedy placement)."""
    bufs = [Buffer(s, f, lst) for s, f, lst in seg.tensors]
    bufs += [Buffer(s, op, op) for s, op in seg.scratch]
    return greedy_place(bufs)


def arena_of(templates: Sequence[Mapping[str, Any]], input_bytes: int) -> int:
    """Arena bytes (planned + persistent) of the member the templates make, via segments."""
    segs = []
    in_bytes = input_bytes
    for k, tpl in enumerate(templates):
        segs.append(compile_block(tpl, in_bytes, k == 0, k == len(templates) - 1))
        in_bytes = segs[-1].out_bytes
    whole = stitch(segs)
    return place(whole) + whole.persistent
