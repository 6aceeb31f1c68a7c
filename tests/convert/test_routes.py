"""Route strategy: which route a user ViT takes (the fallback itself is exercised on
nn.MultiheadAttention in test_vit_idioms.py, which onnx2tf lowers to a float-only GATHER)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hilnas.convert import convert, read_model
from hilnas.convert.calib import synthetic_images
from hilnas.convert.report import RouteAttempt
from hilnas.tflm_ops import TFLM_INT8_OPS

VIT_SHAPE = (1, 3, 24, 24)  # 40 x 12 x 12 token map, as in FACTS §3


@pytest.mark.slow
def test_scalar_attention_scale_converts_on_onnx2tf(user_models, tmp_path: Path) -> None:
    """FACTS §3's token ViT (``/ 40 ** 0.5``) failed on onnx2tf until its scalar Constant
    nodes became initializers (hilnas.convert.rewrites); now the first route takes it."""
    calib = synthetic_images(16, VIT_SHAPE, seed=3)
    result = convert(user_models.token_vit(), VIT_SHAPE, calib, tmp_path / "vit.tflite")
    assert result.report.attempts == (RouteAttempt("onnx2tf", True),)
    assert "constants_as_initializers" in {r.name for r in result.report.rewrites}
    assert result.report.input_layout == "NHWC"
    info = read_model(result.tflite_path.read_bytes())
    assert set(info.op_histogram()) <= TFLM_INT8_OPS
    assert "BATCH_MATMUL" in info.op_histogram()
    assert result.report.checks["int8_quality"]["passed"]


@pytest.mark.slow
def test_single_route_and_json_report(user_models, tiny_calib: np.ndarray, tmp_path: Path) -> None:
    result = convert(user_models.tiny_cnn(), (1, 3, 16, 16), tiny_calib,
                     tmp_path / "t.tflite", routes=("litert",))
    assert result.route == "litert"
    assert result.report.attempts == (RouteAttempt("litert", True),)
    for stage in ("export_float", "float_checks", "quantize", "int8_checks", "tflm"):
        assert result.report.timings_s[f"litert.{stage}"] >= 0
    assert result.report_path == tmp_path / "t.json"


@pytest.mark.slow
def test_onnx2tf_route_never_touches_the_network(user_models, tiny_calib, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """onnx2tf downloads a calibration sample for 3-channel inputs unless we pre-empt it."""
    import socket

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    result = convert(user_models.tiny_cnn(), (1, 3, 16, 16), tiny_calib,
                     tmp_path / "t.tflite", routes=("onnx2tf",))
    assert result.route == "onnx2tf"
    assert result.report.timings_cpu_s["total"] > 0


@pytest.mark.slow
def test_repeated_conversions_in_one_process(user_models, tiny_calib, tmp_path: Path) -> None:
    """The search converts many subnets in one process: results must not drift."""
    first = convert(user_models.tiny_cnn(), (1, 3, 16, 16), tiny_calib, tmp_path / "a.tflite",
                    routes=("onnx2tf",))
    second = convert(user_models.tiny_cnn(), (1, 3, 16, 16), tiny_calib, tmp_path / "b.tflite",
                     routes=("onnx2tf",))
    assert first.tflite_path.read_bytes() == second.tflite_path.read_bytes()
    assert first.arena_bytes == second.arena_bytes


@pytest.mark.slow
def test_litert_models_with_large_weights_keep_them_inline_for_tflm(tmp_path: Path) -> None:
    """ai-edge-quantizer moves weights outside the flatbuffer past 256 KiB; TFLM ignores that
    and silently runs on empty weights, so the route must put them back inline."""
    import torch
    from hilnas import tflm
    from torch import nn

    torch.manual_seed(0)
    wide = nn.Sequential(
        nn.Conv2d(3, 512, 1), nn.Hardswish(),
        nn.Conv2d(512, 512, 1), nn.Hardswish(),  # 256 KiB of int8 weights each
        nn.Conv2d(512, 512, 1), nn.Hardswish(),
        nn.Conv2d(512, 10, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
    )  # fmt: skip
    shape = (1, 3, 4, 4)
    calib = synthetic_images(32, shape, seed=1)
    result = convert(wide, shape, calib, tmp_path / "wide.tflite", routes=("litert",))
    data = result.tflite_path.read_bytes()
    assert len(data) > 512 * 1024
    model = tflm.load(data)
    outs = [tflm.tflm_run(model, calib[i : i + 1])[0] for i in range(4)]
    assert len({o.tobytes() for o in outs}) > 1, "TFLM output does not depend on the input"
    assert result.report.checks["int8_quality"]["passed"]


def test_route_policy_counts_attention_ops_that_run(user_models) -> None:
    """The default order comes from the attention ops one forward pass makes (no export):
    litert first from ATTENTION_LITERT_FIRST on, onnx2tf first below it."""
    import importlib.util

    import torch
    from hilnas.convert.pipeline import (
        ATTENTION_LITERT_FIRST,
        ATTENTION_ROUTES,
        DEFAULT_ROUTES,
        _check_forward,
        route_policy,
    )
    from hilnas.models import REFERENCE_MODELS

    spec = importlib.util.spec_from_file_location(
        "hilnas_test_vit_models_policy", Path(__file__).parent / "vit_models.py")
    assert spec is not None and spec.loader is not None
    vit = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(vit)
    counts = {
        "mobilevit_xxs": (vit.mobilevit_xxs(), 128, 9),  # the bench's model
        "mobilevit_deep": (vit.mobilevit_deep(), 32, 6),
        "mha_vit": (vit.mha_vit(), 32, 1),  # nn.MultiheadAttention: one call
        "sdpa_vit": (vit.sdpa_vit(), 32, 1),
        "reference mobilevit": (REFERENCE_MODELS["mobilevit"](), 96, 2),
        "token_vit": (user_models.token_vit(), 24, 1),
        "tiny_cnn": (user_models.tiny_cnn(), 16, 0),
    }
    for name, (model, size, want) in counts.items():
        got = _check_forward(model.eval(), torch.zeros(1, 3, size, size))
        assert got == want, name
        assert route_policy(got) == (ATTENTION_ROUTES if want >= ATTENTION_LITERT_FIRST
                                     else DEFAULT_ROUTES), name
    assert route_policy(ATTENTION_LITERT_FIRST) == ("litert", "onnx2tf")
    assert route_policy(ATTENTION_LITERT_FIRST - 1) == ("onnx2tf", "litert")


def test_route_list_as_text_and_empty(user_models, tiny_calib: np.ndarray, tmp_path: Path) -> None:
    from hilnas.errors import ConfigError

    with pytest.raises(ConfigError, match="no conversion route given"):
        convert(user_models.tiny_cnn(), (1, 3, 16, 16), tiny_calib, tmp_path / "t.tflite",
                routes=" , ")
    with pytest.raises(Exception, match="unknown conversion route 'tflite'"):
        convert(user_models.tiny_cnn(), (1, 3, 16, 16), tiny_calib, tmp_path / "t.tflite",
                routes="litert,tflite")
