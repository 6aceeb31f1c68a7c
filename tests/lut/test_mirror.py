"""The planner mirror and block stitching against the real engine (host build).

The fixture is a real litert conversion of the hybrid space's smallest member; the host
engine's arena_required is the reference (same C planner as the board; op data sizes
read from the host library, whose pointers are 64-bit)."""

from __future__ import annotations

import ctypes
import dataclasses
from pathlib import Path

import pytest
from hilnas.engine.binding import Engine, load_library
from hilnas.lut.assemble import assemble
from hilnas.lut.attribute import parse_chain, split_template
from hilnas.lut.mirror import Buffer, greedy_place

MODEL = Path(__file__).parent / "data" / "hybrid_smallest_litert.tflite"
OPS = ("ADD", "AVERAGE_POOL_2D", "BATCH_MATMUL", "CONV_2D", "DEPTHWISE_CONV_2D",
       "FULLY_CONNECTED", "HARD_SWISH", "MEAN", "PAD", "RESHAPE", "SOFTMAX", "TRANSPOSE")


class _Impl(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("size", ctypes.c_uint32)]


@pytest.fixture(scope="module")
def host_sizes() -> dict[str, int]:
    lib = load_library()
    return {n: _Impl.in_dll(lib, f"hn_op_{n}").size for n in OPS}


def _templates(data: bytes, sizes: dict[str, int], split: bool) -> list[dict]:
    parsed = parse_chain(data, sizes)
    out = []
    for tpl in parsed.blocks.values():
        d = dataclasses.asdict(tpl)
        at = next((i for i, op in enumerate(d["ops"]) if op.get("marks")), None)
        out.extend(split_template(d, at) if split and at is not None else [d])
    return out


@pytest.mark.parametrize("split", [False, True])
def test_stitched_blocks_reproduce_engine_arena_and_counts(host_sizes, split) -> None:
    data = MODEL.read_bytes()
    net = assemble(_templates(data, host_sizes, split), 3 * 32 * 32)
    engine = Engine(data)
    assert net.planned_bytes() + net.persistent == engine.arena_required
    assert net.n_ops == engine.num_ops
    parsed = parse_chain(data, host_sizes)
    assert net.n_tensors == parsed.n_tensors


def test_blocks_are_attributed_by_module_name(host_sizes) -> None:
    parsed = parse_chain(MODEL.read_bytes(), host_sizes)
    assert list(parsed.blocks) == ["stem", "s1b0", "s2b0", "s3down", "s3b0", "s4down", "s4b0",
                                   "s5down", "s5b0", "head"]
    # the NHWC->NCHW transpose before the head's MEAN belongs to the head, not to s5b0
    assert [op["op"] for op in parsed.blocks["head"].ops] == [
        "TRANSPOSE", "MEAN", "FULLY_CONNECTED"]


def test_greedy_place_reuses_memory_of_dead_buffers() -> None:
    bufs = [Buffer(64, 0, 1), Buffer(64, 2, 3), Buffer(32, 1, 2)]
    assert greedy_place(bufs) == 96  # the second 64 reuses the first's offset
    assert (bufs[0].offset, bufs[1].offset, bufs[2].offset) == (0, 0, 64)


def test_engine_runs_litert_attention_bit_exact_with_tflm() -> None:
    """litert lowers attention's probabilities x values to FULLY_CONNECTED with a run-time
    filter; the engine must run it (no folded bias) exactly like TFLM."""
    import numpy as np
    from hilnas import tflm

    data = MODEL.read_bytes()
    x = np.random.default_rng(0).integers(-128, 128, (1, 3, 32, 32)).astype(np.int8)
    engine = Engine(data)
    engine.set_input(x)
    engine.invoke()
    ref = tflm.tflm_run(tflm.load(data), [x])[0]
    assert np.array_equal(engine.get_output().reshape(-1), np.asarray(ref).reshape(-1))
