"""Lean flatbuffers (issue #10 item 5): smaller files that TFLM and the engine run unchanged.

Real conversions on both routes: the lean model must stay within LEAN_BOUND x (weights +
biases + quantization), and TFLM's outputs and arena, and the engine's outputs, must be
bit-identical to the route's own model on random inputs.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import torch
from hilnas import tflm
from hilnas.convert.lean import byte_split, graph_floor, lean_flatbuffer
from hilnas.convert.report import LEAN_BOUND
from hilnas.convert.tflite_reader import read_model
from hilnas.errors import ConvertError

from tests.convert.conftest import TINY_SHAPE

#: A real litert conversion (the hybrid space's smallest member) shipped for the LUT tests.
HYBRID_SMALLEST = Path(__file__).parents[1] / "lut" / "data" / "hybrid_smallest_litert.tflite"


def _route_output(route_name: str, model: torch.nn.Module, calib: np.ndarray) -> bytes:
    """What a route emits before the pipeline leans it (export + quantize, no checks)."""
    from hilnas.convert.routes import get_route

    route = get_route(route_name)
    try:
        fm = route.export_float(model, torch.from_numpy(calib[:1].copy()))
        return route.quantize(fm, calib)
    finally:
        route.release()


@pytest.fixture(scope="module", params=["onnx2tf", "litert"])
def wide_raw(request: pytest.FixtureRequest, user_models: ModuleType,
             tiny_calib: np.ndarray) -> bytes:
    return _route_output(request.param, user_models.wide_cnn(), tiny_calib)


def _assert_runs_identically(raw: bytes, lean: bytes, inputs: int = 3) -> None:
    """TFLM outputs and arena, and the engine's outputs, are the same on random inputs."""
    from hilnas.engine.check import compare_with_tflm

    detail = tflm.input_details(raw)[0]
    rng = np.random.default_rng(11)
    for _ in range(inputs):
        x = rng.integers(-128, 128, size=detail["shape"], dtype=np.int8)
        assert tflm.tflm_output_bytes(lean, x.tobytes()) == tflm.tflm_output_bytes(raw, x.tobytes())
    assert tflm.tflm_arena_bytes(lean) == tflm.tflm_arena_bytes(raw)
    check = compare_with_tflm(lean, [x], all_ops=True)
    assert check.outputs_equal and check.mismatch is None


def _assert_same_graph(raw: bytes, lean: bytes) -> None:
    before, after = read_model(raw), read_model(lean)
    assert [(o.name, o.inputs, o.outputs) for o in after.ops] == \
        [(o.name, o.inputs, o.outputs) for o in before.ops]
    for b, a in zip(before.tensors, after.tensors, strict=True):
        assert (a.shape, a.dtype, a.is_constant, a.scales, a.zero_points,
                a.quantized_dimension) == (b.shape, b.dtype, b.is_constant, b.scales,
                                           b.zero_points, b.quantized_dimension)
    io = set(before.inputs) | set(before.outputs)
    assert [t.name for t in after.tensors if t.index in io] == \
        [t.name for t in before.tensors if t.index in io]
    assert not any(t.name for t in after.tensors if t.index not in io)


@pytest.mark.slow
def test_route_output_leans_within_bound_and_runs_bit_identically(wide_raw: bytes) -> None:
    lean = lean_flatbuffer(wide_raw)
    before, after = byte_split(wide_raw), byte_split(lean)
    assert after.ratio <= LEAN_BOUND, after.line()
    assert after.total < before.total
    # Leaning never loses a weight, bias or quantization parameter.
    assert (after.weights, after.biases, after.quantization) == \
        (before.weights, before.biases, before.quantization)
    assert after.other <= 128, after.line()  # only the I/O tensors' names are left
    assert graph_floor(wide_raw) == graph_floor(lean) <= after.graph
    _assert_same_graph(wide_raw, lean)
    _assert_runs_identically(wide_raw, lean)


def test_litert_hybrid_member_names_dominate_and_lean_runs_bit_identically() -> None:
    raw = HYBRID_SMALLEST.read_bytes()
    lean = lean_flatbuffer(raw)
    before, after = byte_split(raw), byte_split(lean)
    # litert-torch's location-path tensor names are most of a small member's file.
    assert before.other > before.total // 2
    assert after.total < before.total // 3
    assert lean_flatbuffer(lean) == lean  # idempotent: nothing left to drop
    _assert_same_graph(raw, lean)
    _assert_runs_identically(raw, lean)


def test_graph_floor_bounds_any_file_of_the_graph_and_lean_comes_near_it() -> None:
    raw = HYBRID_SMALLEST.read_bytes()
    lean = lean_flatbuffer(raw)
    floor = graph_floor(raw)
    assert graph_floor(lean) == floor  # a property of the graph, not of the file
    after = byte_split(lean)
    assert floor <= after.graph <= 1.3 * floor, (floor, after.line())
    # 97 ops and 179 tensors for 3 k parameters: no TFLite file of this graph can meet
    # the flash bound, which is why bench/convert.py prints the floor beside it.
    assert (after.payload + floor) / after.payload > 2 * LEAN_BOUND


def test_pipeline_writes_and_reports_the_lean_model(tiny_conversion) -> None:
    data = tiny_conversion.tflite_path.read_bytes()
    report = tiny_conversion.report
    assert report.bytes_split == byte_split(data)
    assert report.bytes_split.total == report.model_bytes == len(data)
    assert report.bytes_split_before.total > report.model_bytes
    assert report.bytes_split_before.payload == report.bytes_split.payload
    assert lean_flatbuffer(data) == data
    assert "lean" in " ".join(report.timings_s)
    assert read_model(data).input_tensors()[0].shape[1:] in (TINY_SHAPE[1:], (16, 16, 3))


def test_lean_rejects_what_is_not_a_flatbuffer() -> None:
    with pytest.raises(ConvertError, match=r"junk.tflite: bytes 4\.\.7"):
        lean_flatbuffer(b"\x00" * 64, "junk.tflite")
