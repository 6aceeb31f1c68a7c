"""Compare the engine with TFLite Micro op by op.

TFLM (the one oracle, :mod:`hilnas.tflm`) runs with every tensor preserved so each
intermediate tensor can be read after one invoke; the engine runs one op at a time and
each op's outputs are read right after it (before the planner lets a later op reuse
those bytes). The first op whose output differs is the one to debug.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from hilnas import tflm
from hilnas.engine.binding import Engine


@dataclass
class OpMismatch:
    """First op whose output differs from TFLM."""

    op_index: int
    op_name: str
    tensor: int
    n_diff: int
    max_abs_diff: int
    first_element: int


@dataclass
class CheckResult:
    outputs_equal: bool
    engine_outputs: list[np.ndarray]
    tflm_outputs: list[np.ndarray]
    engine_arena: int
    tflm_arena: int
    mismatch: OpMismatch | None = None
    ops_compared: int = 0
    notes: list[str] = field(default_factory=list)


def _first_mismatch(eng: Engine, reference: tflm.TflmModel, op: int) -> OpMismatch | None:
    for t in eng.op_outputs(op):
        mine = eng.tensor(t)
        ref = reference.tensor(t).reshape(mine.shape)
        if mine.tobytes() == ref.astype(mine.dtype).tobytes():
            continue
        a = mine.reshape(-1).astype(np.float64)
        b = ref.reshape(-1).astype(np.float64)
        bad = np.flatnonzero(a != b)
        name = eng.op_records()[op].name
        return OpMismatch(op, name, t, int(bad.size), int(np.max(np.abs(a - b))), int(bad[0]))
    return None


def compare_with_tflm(model: bytes, inputs: Sequence[np.ndarray],
                      all_ops: bool = False) -> CheckResult:
    """Run both interpreters on ``inputs``; locate the first differing op.

    With ``all_ops=True`` every op's output is compared even when the final
    outputs agree (whole-model tests: a random-weight net can have an output
    that barely depends on its input, its intermediates always do).
    """
    eng = Engine(model)
    for i, x in enumerate(inputs):
        eng.set_input(x, i)
    eng.invoke()
    got = [eng.get_output(i) for i in range(eng.num_outputs)]
    want = tflm.tflm_run(model, inputs)
    equal = all(g.tobytes() == w.astype(g.dtype).tobytes() for g, w in zip(got, want, strict=True))
    result = CheckResult(equal, got, want, eng.arena_required, tflm.tflm_arena_bytes(model))
    if equal and not all_ops:
        return result
    reference = tflm.load(model, preserve_all=True)
    tflm.tflm_run(reference, inputs)
    for i, x in enumerate(inputs):
        eng.set_input(x, i)
    for op in range(eng.num_ops):
        eng.invoke_op(op)
        result.mismatch = _first_mismatch(eng, reference, op)
        if result.mismatch is not None:
            break
        result.ops_compared += 1
    return result
