"""Prove a deployed model on the device: the right model, bit-exact outputs, real figures.

Three facts are established on the running board, never assumed:

1. the model the board runs is the one we converted (its size and CRC-32 as the board
   reports them after loading it from flash, or after the upload when streaming);
2. on every test image its int8 output equals the TFLM host runtime's byte for byte
   (TFLM is the oracle, FACTS §2); the first difference is named (image, byte, values);
3. latency (median of timed runs, per op too), the arena the engine used and the stack
   high-water mark, as the board measured them. A zero where a figure must be positive
   is a missing measurement, and fails.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hilnas import tflm
from hilnas.board.measure import op_figures, unit_per_tick
from hilnas.board.session import BoardSession
from hilnas.errors import BoardError, HilnasError

Log = Callable[[str], None]


class DeviceMismatchError(HilnasError):
    """The board's output differs from TFLM's on at least one test image."""

    def __init__(self, message: str, image: int, byte: int, board_value: int,
                 tflm_value: int, images_differing: int) -> None:
        super().__init__(message)
        self.image = image
        self.byte = byte
        self.board_value = board_value
        self.tflm_value = tflm_value
        self.images_differing = images_differing


class MissingMeasurementError(HilnasError):
    """The board did not report a figure the deploy report must contain."""


@dataclass
class OpTime:
    index: int
    name: str
    value: float  # board timing unit
    share: float


@dataclass
class DeviceResult:
    """Everything measured on the device for one deployed model."""

    board: str
    load_path: str  # "flash" (MODEL_BUILTIN) or "uart" (streamed into the RAM slot)
    model_bytes: int
    model_crc32: int
    images: int
    bit_exact_images: int
    device_correct: int
    tflm_correct: int
    timing_unit: str
    latency_median: float
    latency_min: float
    latency_max: float
    latency_ms_median: float | None
    runs: int
    arena_bytes: int
    stack_high_water: int
    n_ops: int
    ops: list[OpTime] = field(default_factory=list)
    identity: dict[str, Any] = field(default_factory=dict)

    @property
    def device_accuracy(self) -> float:
        return self.device_correct / self.images

    @property
    def tflm_accuracy(self) -> float:
        return self.tflm_correct / self.images


def _load(session: BoardSession, model: bytes, builtin: bool) -> None:
    """Load the model on the board and prove it is ``model`` (size + CRC-32)."""
    client, board = session.client, session.profile.name
    ident = client.identity
    assert ident is not None
    if builtin:
        if ident.builtin_model_bytes != len(model):
            raise BoardError(
                f"{board}: the firmware links a {ident.builtin_model_bytes:,} B model into "
                f"flash, the deployed model has {len(model):,} B (wrong image flashed?)"
            )
        load = client.load_builtin()
    else:
        load = client.load_model(model)
    if (load.model_bytes, load.model_crc32) != (len(model), zlib.crc32(model)):
        raise BoardError(
            f"{board}: the board loaded {load.model_bytes:,} B with crc32 "
            f"{load.model_crc32:#010x}; the deployed model is {len(model):,} B, crc32 "
            f"{zlib.crc32(model):#010x}"
        )


def _run_one(session: BoardSession, x: bytes, runs: int, warmup: int) -> tuple[bytes, Any]:
    client = session.client
    client.write_input(x)
    res = client.run(runs, warmup)
    out = client.read_output(res.output_bytes)
    if zlib.crc32(out) != res.output_crc32:
        raise BoardError(f"{session.profile.name}: READ_OUTPUT bytes do not match the RUN CRC")
    return out, res


def _first_difference(board_out: bytes, ref: bytes) -> tuple[int, int, int]:
    if len(board_out) != len(ref):
        return -1, len(board_out), len(ref)
    a, b = np.frombuffer(board_out, np.int8), np.frombuffer(ref, np.int8)
    i = int(np.flatnonzero(a != b)[0])
    return i, int(a[i]), int(b[i])


def _require_measured(board: str, **figures: float) -> None:
    missing = [name for name, value in figures.items() if not value or value <= 0]
    if missing:
        raise MissingMeasurementError(
            f"{board}: the board reported no {', '.join(missing)}; a deploy report is only "
            "written from figures the device measured"
        )


def verify_on_board(
    session: BoardSession,
    model: bytes,
    inputs: np.ndarray,
    labels: np.ndarray,
    *,
    builtin: bool,
    reference: bytes | None = None,
    runs: int = 5,
    warmup: int = 1,
    log: Log | None = None,
) -> DeviceResult:
    """Run ``inputs`` (int8, one row per image, model layout) on the board and check it.

    ``reference`` is the model TFLM runs as the oracle (default: ``model`` itself; a
    different one is how tests prove a mismatch is caught). The first image is run
    ``runs`` times after ``warmup`` for the latency figures; the others once each.
    """
    board = session.profile.name
    _load(session, model, builtin)
    ref_model = tflm.load(reference if reference is not None else model)
    device_correct = tflm_correct = exact = 0
    first: tuple[int, int, int, int] | None = None
    timed = None
    for i in range(len(inputs)):
        x = np.ascontiguousarray(inputs[i : i + 1])
        out, res = _run_one(session, x.tobytes(), runs if i == 0 else 1, warmup if i == 0 else 0)
        if i == 0:
            timed, records = res, session.client.read_ops()
        ref = b"".join(np.asarray(o).tobytes() for o in tflm.tflm_run(ref_model, x))
        if out == ref:
            exact += 1
        elif first is None:
            first = (i, *_first_difference(out, ref))
        device_correct += int(np.argmax(np.frombuffer(out, np.int8)) == int(labels[i]))
        tflm_correct += int(np.argmax(np.frombuffer(ref, np.int8)) == int(labels[i]))
        if log is not None and (i + 1) % 10 == 0:
            log(f"  {i + 1}/{len(inputs)} test images checked on {board}")
    if first is not None:
        image, byte, got, want = first
        where = (f"output size {got} B, TFLM's {want} B" if byte < 0
                 else f"byte {byte}: board {got}, TFLM {want}")
        raise DeviceMismatchError(
            f"{board}: on-device output differs from TFLM on {len(inputs) - exact} of "
            f"{len(inputs)} test images; first at image {image}, {where}",
            image, byte, got, want, len(inputs) - exact,
        )
    assert timed is not None
    scale = unit_per_tick(session)
    _require_measured(board, latency=timed.latency_median * scale, arena=timed.arena_bytes,
                      stack=timed.stack_high_water, ops=len(records))
    ident = session.client.identity
    assert ident is not None
    ms = None
    if ident.timing_unit in ("cycles", "ns") and ident.counter_hz:
        ms = timed.latency_median / ident.counter_hz * 1e3
    ops = [OpTime(f.index, f.name, f.value, f.share) for f in op_figures(session, records)]
    return DeviceResult(
        board=board, load_path="flash" if builtin else "uart", model_bytes=len(model),
        model_crc32=zlib.crc32(model), images=len(inputs), bit_exact_images=exact,
        device_correct=device_correct, tflm_correct=tflm_correct,
        timing_unit=ident.timing_unit, latency_median=timed.latency_median * scale,
        latency_min=timed.latency_min * scale, latency_max=timed.latency_max * scale,
        latency_ms_median=ms, runs=timed.runs, arena_bytes=timed.arena_bytes,
        stack_high_water=timed.stack_high_water, n_ops=timed.n_ops, ops=ops,
        identity={k: v for k, v in vars(ident).items()},
    )
