"""The compiled-segment arena path against the reference mirror and the real engine.

The reference is :func:`hilnas.lut.mirror.plan_arena` over the assembled network (checked
against the host engine's planner in test_mirror.py and against the board on every build
chain); the segment path must give the same bytes on every member, the C planner the
same bytes as the Python one, and the batched path the same figures as ``predict``."""

from __future__ import annotations

import random
import warnings
from pathlib import Path

import numpy as np
import pytest
from hilnas.board.profiles import load_profile
from hilnas.engine.binding import Engine
from hilnas.lut import Predictor, StaleTableWarning, load_table
from hilnas.lut.assemble import assemble
from hilnas.lut.cplan import SegmentPool, load
from hilnas.lut.segments import arena_of, compile_block, place, stitch

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "lut" / "mps2-an386" / "hybrid.json"


@pytest.fixture(scope="module")
def pred():
    table = load_table(TABLE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StaleTableWarning)
        return Predictor(table, load_profile(table.board).budget())


def _members(pred, n: int, seed: int) -> list:
    rng = random.Random(seed)
    return [pred.space.sample(rng) for _ in range(n)] + [pred.space.smallest(),
                                                        pred.space.largest()]


def test_segments_equal_the_reference_mirror_on_random_members(pred) -> None:
    for arch in _members(pred, 60, 11):
        pairs = pred.entries_for(arch)
        tpls = [e for _, e in pairs]
        in_bytes = int(np.prod(pairs[0][0].input_hwc))
        net = assemble(tpls, in_bytes)
        assert arena_of(tpls, in_bytes) == net.planned_bytes() + net.persistent


def test_c_planner_equals_python_placement(pred) -> None:
    if load() is None:
        pytest.skip("no C compiler: the Python placement is the only one")
    pool = SegmentPool()
    rows, expect = [], []
    for arch in _members(pred, 40, 12):
        keyed = pred.keyed_entries(arch)
        ids = pred.segment_ids(keyed, 0, len(keyed))
        segs = [pred.pool.segs[i] for i in ids]
        rows.append([pool.add(stitch(segs))])
        expect.append(place(stitch(segs)))
    assert pool.planned(np.array(rows)).tolist() == expect


def test_batched_arena_and_feasibility_equal_predict(pred) -> None:
    archs = _members(pred, 150, 13)
    out = pred.predict_many([pred.space.encode(a) for a in archs], arena=True)
    loaded = 0
    for i, arch in enumerate(archs):
        p = pred.predict(arch)
        assert out["arena_bytes"][i] == (-1 if p.arena_bytes is None else p.arena_bytes)
        assert bool(out["feasible"][i]) == p.feasible
        loaded += p.arena_bytes is not None
    assert 0 < loaded < len(archs)  # both loadable and over-the-limit members were checked


def test_segments_reproduce_the_host_engine_arena() -> None:
    """A real conversion, blocks compiled separately and stitched: the engine's bytes."""
    import ctypes
    import dataclasses

    from hilnas.engine.binding import load_library
    from hilnas.lut.attribute import parse_chain, split_template

    class Impl(ctypes.Structure):
        _fields_ = [("name", ctypes.c_char_p), ("size", ctypes.c_uint32)]

    data = (Path(__file__).parent / "data" / "hybrid_smallest_litert.tflite").read_bytes()
    lib = load_library()
    names = ("ADD", "AVERAGE_POOL_2D", "BATCH_MATMUL", "CONV_2D", "DEPTHWISE_CONV_2D",
             "FULLY_CONNECTED", "HARD_SWISH", "MEAN", "PAD", "RESHAPE", "SOFTMAX", "TRANSPOSE")
    sizes = {n: Impl.in_dll(lib, f"hn_op_{n}").size for n in names}
    tpls = []
    for tpl in parse_chain(data, sizes).blocks.values():
        d = dataclasses.asdict(tpl)
        at = next((i for i, op in enumerate(d["ops"]) if op.get("marks")), None)
        tpls.extend(split_template(d, at) if at is not None else [d])
    assert arena_of(tpls, 3 * 32 * 32) == Engine(data).arena_required
    seg = compile_block(tpls[0], 3 * 32 * 32, first=True, last=False)
    assert seg.open >= 0 and seg.tensors[0][1] == -1  # graph input first, output left open
