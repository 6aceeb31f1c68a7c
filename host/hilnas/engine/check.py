"""Compare the engine with TFLite Micro op by op.

TFLM runs with ``kPreserveAllTensors`` so every intermediate tensor can be
read after one invoke; the engine runs one op at a time and each op's
outputs are read right after it (before the planner lets a later op reuse
those bytes). The first op whose output differs is the one to debug.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from hilnas.engine.binding import Engine

_ARENA_RE = re.compile(rb"Arena allocation total (\d+) bytes")
TFLM_SLACK_ARENA = 4_000_000


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


@contextlib.contextmanager
def capture_c_stderr() -> Iterator[list[bytes]]:
    """Collect what C code writes to fd 2 (TFLM's allocation report)."""
    saved = os.dup(2)
    box: list[bytes] = []
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield box
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            box.append(tmp.read())


def tflm_interpreter(model: bytes, preserve: bool = False, arena_size: int | None = None):
    from tflite_micro.python.tflite_micro import runtime

    cfg = (runtime.InterpreterConfig.kPreserveAllTensors if preserve
           else runtime.InterpreterConfig.kAllocationRecording)
    return runtime.Interpreter.from_bytes(
        model, arena_size=arena_size or len(model) * 10 + TFLM_SLACK_ARENA,
        intrepreter_config=cfg)


def tflm_arena_bytes(interp) -> int:
    """TFLM's 'Arena allocation total' (call after invoke); -1 if not printed."""
    with capture_c_stderr() as box:
        interp.print_allocations()
    match = _ARENA_RE.search(box[0] if box else b"")
    return int(match.group(1)) if match else -1


def run_tflm(model: bytes, inputs: Sequence[np.ndarray], n_outputs: int
             ) -> tuple[list[np.ndarray], int]:
    interp = tflm_interpreter(model)
    for i, x in enumerate(inputs):
        interp.set_input(x, i)
    interp.invoke()
    outs = [np.array(interp.get_output(i)) for i in range(n_outputs)]
    return outs, tflm_arena_bytes(interp)


def _first_mismatch(eng: Engine, tflm, op: int) -> OpMismatch | None:
    for t in eng.op_outputs(op):
        mine = eng.tensor(t)
        ref = np.asarray(tflm.GetTensor(t, 0)["tensor_data"]).reshape(mine.shape)
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
    want, tflm_arena = run_tflm(model, inputs, eng.num_outputs)
    equal = all(g.tobytes() == w.astype(g.dtype).tobytes() for g, w in zip(got, want, strict=True))
    result = CheckResult(equal, got, want, eng.arena_required, tflm_arena)
    if equal and not all_ops:
        return result
    tflm = tflm_interpreter(model, preserve=True)
    for i, x in enumerate(inputs):
        tflm.set_input(x, i)
        eng.set_input(x, i)
    tflm.invoke()
    for op in range(eng.num_ops):
        eng.invoke_op(op)
        result.mismatch = _first_mismatch(eng, tflm, op)
        if result.mismatch is not None:
            break
        result.ops_compared += 1
    return result
