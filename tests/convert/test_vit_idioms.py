"""ViTs written in the usual PyTorch idioms convert to full int8 and run in TFLM (issue #10).

Real conversions of the small models in vit_models.py: each must pass every converter
check (float agreement included), run in TFLM, and the engine's outputs and every op's
output must be bit-exact with TFLM's. The rewrites that made it possible are in the report.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from hilnas import tflm
from hilnas.convert import convert
from hilnas.convert.calib import synthetic_images
from hilnas.convert.lean import repeated_constants
from hilnas.convert.rewrites import plan_transpose, transpose_reference
from hilnas.convert.tflite_reader import read_model
from hilnas.errors import CheckError, ConfigError


def _sets(size: int) -> tuple[tuple[int, ...], np.ndarray, np.ndarray]:
    shape = (1, 3, size, size)
    return shape, synthetic_images(8, shape, seed=3), synthetic_images(4, shape, seed=4)


@pytest.mark.parametrize("shape,perm", [
    ((1, 24, 8, 2, 8, 2), (0, 3, 5, 2, 4, 1)),  # MobileViT unfold
    ((1, 2, 2, 8, 8, 24), (0, 5, 3, 1, 4, 2)),  # and fold
    ((2, 3, 4, 5, 6, 7), (5, 3, 1, 4, 0, 2)),   # nothing to drop or merge: rank-4 moves
    ((2, 3, 2, 3, 2, 3, 2), (6, 0, 5, 1, 4, 2, 3)),
])
def test_plan_transpose_equals_numpy_within_rank_5(shape, perm) -> None:
    x = np.arange(int(np.prod(shape))).reshape(shape)
    steps = plan_transpose(shape, perm)
    assert steps and all(len(s.shape) <= 5 and len(s.perm) == len(s.shape) for s in steps)
    want = np.transpose(x, perm)
    assert np.array_equal(transpose_reference(x, steps, want.shape), want)


def test_plan_transpose_every_small_permutation() -> None:
    for rank in range(1, 8):
        shape = tuple(2 + (a % 2) for a in range(rank))
        x = np.arange(int(np.prod(shape))).reshape(shape)
        for perm in itertools.islice(itertools.permutations(range(rank)), 0, None, 7):
            steps = plan_transpose(shape, perm)
            want = np.transpose(x, perm)
            assert all(len(s.shape) <= 5 for s in steps)
            assert np.array_equal(transpose_reference(x, steps, want.shape), want), (shape, perm)


def _assert_engine_matches_tflm(int8: bytes) -> None:
    from hilnas.engine.check import compare_with_tflm

    detail = tflm.input_details(int8)[0]
    x = np.random.default_rng(5).integers(-128, 128, size=detail["shape"], dtype=np.int8)
    check = compare_with_tflm(int8, [x], all_ops=True)
    assert check.outputs_equal and check.mismatch is None, check.mismatch


def _view_ops_with_options(data: bytes) -> int:
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(bytearray(data), 0)
    views = {schema.BuiltinOperator.RESHAPE, schema.BuiltinOperator.TRANSPOSE}
    return sum(1 for g in model.subgraphs for op in g.operators
               if model.operatorCodes[op.opcodeIndex].builtinCode in views
               and op.builtinOptions is not None)


DEFAULT = ("onnx2tf", "litert")
CASES = [  # factory, input size, routes tried, route expected, rewrites it must report
    ("mobilevit_einops", 64, ("onnx2tf",), "onnx2tf",
     {"constants_as_initializers", "high_rank_transpose"}),
    ("mobilevit_einops", 32, ("litert",), "litert", {"high_rank_transpose", "gelu_decomposed"}),
    ("mobilevit_view_permute", 32, DEFAULT, "onnx2tf",
     {"constants_as_initializers", "high_rank_transpose"}),
    ("plain_vit_tanh", 32, DEFAULT, "onnx2tf", {"constants_as_initializers"}),
    # onnx2tf lowers nn.MultiheadAttention to a float-only GATHER: the fallback to litert.
    ("mha_vit", 32, DEFAULT, "litert", {"gelu_decomposed"}),
    # onnx2tf emits a rank-5 STRIDED_SLICE for SDPA's qkv split, which TFLM refuses (late).
    ("sdpa_vit", 32, ("litert",), "litert", {"gelu_decomposed"}),
]


@pytest.mark.slow
@pytest.mark.parametrize("factory,size,routes,route,rewrites", CASES,
                         ids=[f"{c[0]}-{c[1]}-{c[3]}" for c in CASES])
def test_vit_idiom_converts_to_int8_and_engine_is_bit_exact(
        vit_models: ModuleType, tmp_path: Path, factory: str, size: int,
        routes: tuple[str, ...], route: str, rewrites: set[str]) -> None:
    shape, calib, heldout = _sets(size)
    result = convert(getattr(vit_models, factory)(), shape, calib, tmp_path / "m.tflite",
                     heldout=heldout, routes=routes)
    report = result.report
    assert report.route == route and report.attempts[-1].passed
    assert all(not a.passed and a.error for a in report.attempts[:-1])
    assert rewrites <= {r.name for r in report.rewrites}
    assert "GELU" not in report.op_histogram and report.op_histogram["TANH"] >= 1
    assert all(r.float_max_abs_dev is None for r in report.rewrites)  # all exact in float
    assert max(len(t.shape) for t in read_model(result.tflite_path.read_bytes()).tensors) <= 5
    if route == "litert":  # the LUT predictor counts shared constants once (lut/assemble.py)
        assert repeated_constants(result.tflite_path.read_bytes()) == 0
        # ...and fits flash on litert's option-less RESHAPE/TRANSPOSE, as the rewrite writes
        assert _view_ops_with_options(result.tflite_path.read_bytes()) == 0
    _assert_engine_matches_tflm(result.tflite_path.read_bytes())


@pytest.mark.slow
def test_exact_gelu_vit_needs_the_gelu_option(vit_models: ModuleType, tmp_path: Path) -> None:
    shape, calib, heldout = _sets(32)
    with pytest.raises(CheckError, match="--gelu tanh") as refused:
        convert(vit_models.plain_vit_exact(), shape, calib, tmp_path / "a.tflite",
                routes=("litert",))
    assert "exact" in str(refused.value)
    result = convert(vit_models.plain_vit_exact(), shape, calib, tmp_path / "b.tflite",
                     heldout=heldout, routes=("litert",), gelu="tanh")
    swap = next(r for r in result.report.rewrites if r.name == "gelu_tanh")
    assert swap.count == 1  # one transformer block, one GELU
    assert 0 < swap.float_mean_abs_dev <= swap.float_max_abs_dev < 0.05
    _assert_engine_matches_tflm(result.tflite_path.read_bytes())


def test_tanh_gelu_model_is_never_told_to_use_tanh_gelu(vit_models: ModuleType) -> None:
    """An error may not advise what the model already does (cheap: no conversion)."""
    import torch
    from hilnas.convert.rewrites import count_exact_gelu

    x = torch.zeros(1, 3, 32, 32)
    assert count_exact_gelu(vit_models.plain_vit_tanh(), x) == 0
    assert count_exact_gelu(vit_models.plain_vit_exact(), x) == 1


def test_unknown_gelu_mode_is_refused(vit_models: ModuleType, tmp_path: Path) -> None:
    shape, calib, _ = _sets(32)
    with pytest.raises(ConfigError, match="--gelu 'erf'"):
        convert(vit_models.plain_vit_tanh(), shape, calib, tmp_path / "m.tflite", gelu="erf")


@pytest.mark.slow
def test_host_engine_runs_a_model_past_the_firmware_op_limit(
        vit_models: ModuleType, tmp_path: Path) -> None:
    """The host engine's HN_MAX_OPS is a build parameter with a generous default.

    Converted with the default route policy: 6 attention ops put litert first.
    """
    from hilnas.engine.build import HOST_MAX_OPS

    shape, calib, _ = _sets(32)
    result = convert(vit_models.mobilevit_deep(), shape, calib, tmp_path / "m.tflite")
    assert [a.route for a in result.report.attempts] == ["litert"]
    ops = sum(result.report.op_histogram.values())
    assert 256 < ops <= HOST_MAX_OPS
    _assert_engine_matches_tflm(result.tflite_path.read_bytes())
