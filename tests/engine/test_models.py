"""Whole-model bit-exactness and arena size against TFLite Micro.

MLPerf Tiny architectures (random weights, int8) from hilnas.engine.zoo and the
converter's reference models (hilnas.models.reference through hilnas.convert):
every output byte must equal TFLM's on several random inputs, and the arena
the engine plans must not exceed TFLM's "Arena allocation total".
"""

from __future__ import annotations

import numpy as np
import pytest
from hilnas.engine import Engine, zoo
from hilnas.engine.check import compare_with_tflm

pytestmark = pytest.mark.slow

SEEDS = (0, 1, 2)


def _random_inputs(model: bytes, seed: int) -> list[np.ndarray]:
    eng = Engine(model, timing=False)
    rng = np.random.default_rng(seed)
    return [rng.integers(-128, 128, eng.input_info(i).shape, dtype=np.int8)
            for i in range(eng.num_inputs)]


def _assert_matches_tflm(model: bytes) -> None:
    """Outputs and every intermediate tensor equal TFLM's, for several inputs."""
    n_ops = Engine(model, timing=False).num_ops
    for seed in SEEDS:
        res = compare_with_tflm(model, _random_inputs(model, seed), all_ops=True)
        assert res.outputs_equal, f"first differing op: {res.mismatch}"
        assert res.mismatch is None, f"intermediate differs: {res.mismatch}"
        assert res.ops_compared == n_ops
        assert 0 < res.engine_arena <= res.tflm_arena, (res.engine_arena, res.tflm_arena)


@pytest.mark.parametrize("name", sorted(zoo.MODELS))
def test_mlperf_tiny_model(name: str) -> None:
    _assert_matches_tflm(zoo.build(name))


@pytest.mark.parametrize("name", zoo.REFERENCE_MODELS)
def test_converter_reference_model(name: str) -> None:
    _assert_matches_tflm(zoo.build_reference(name))


def test_arena_report_before_running() -> None:
    """The required arena is known from a load without any arena."""
    model = zoo.build("kws_ds_cnn")
    need = Engine(model).arena_required
    eng = Engine(model, arena_size=need)
    assert eng.arena_required == need
