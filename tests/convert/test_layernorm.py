"""Each LayerNorm's int8 error in the conversion report, found from the graph (issue #10).

Real conversions of a small ViT (5 LayerNorms, one followed by a position-embedding add)
on both routes. The found output tensors are held to PyTorch's LayerNorm outputs (taken
with hooks here, in the test only: the converter never looks at module types), so a walk
that stops one op early or late fails.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import torch
from hilnas.convert import convert
from hilnas.convert.calib import synthetic_images
from hilnas.convert.checks import float_tensors
from hilnas.convert.layernorm import find_layernorms
from hilnas.convert.report import ConversionReport
from hilnas.convert.routes import get_route
from hilnas.convert.tflite_reader import read_model
from torch import nn

SHAPE = (1, 3, 32, 32)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    return synthetic_images(8, SHAPE, seed=3), synthetic_images(6, SHAPE, seed=4)


@pytest.fixture(scope="module")
def litert_vit(vit_models: ModuleType, data, tmp_path_factory: pytest.TempPathFactory):
    calib, heldout = data
    out = tmp_path_factory.mktemp("ln") / "vit.tflite"
    return convert(vit_models.plain_vit_tanh(), SHAPE, calib, out, routes=("litert",),
                   heldout=heldout)


def _torch_layernorm_outputs(model: nn.Module, x: np.ndarray) -> list[np.ndarray]:
    outs: list[np.ndarray] = []
    hooks = [m.register_forward_hook(lambda _m, _i, y: outs.append(y.detach().numpy()))
             for m in model.modules() if isinstance(m, nn.LayerNorm)]
    with torch.no_grad():
        model(torch.from_numpy(x))
    for h in hooks:
        h.remove()
    return outs


def test_found_layernorm_outputs_are_pytorchs(vit_models: ModuleType, data) -> None:
    """The float graph's LN outputs equal PyTorch's (5 LNs, the position add excluded)."""
    model = vit_models.plain_vit_tanh()
    x = data[1][:1]
    fm = get_route("litert").export_float(model, torch.from_numpy(data[0][:1].copy()))
    sites = find_layernorms(read_model(fm.tflite))
    assert len(sites) == 5
    got = float_tensors(fm.tflite, x, [s.output for s in sites])
    want = _torch_layernorm_outputs(model, x)
    assert len(want) == 5
    # The converter may fold a LN's scale into the next Linear and its shift into a
    # following constant add (here the position embedding): each found output must be
    # PyTorch's LN output up to a per-feature affine map. The tensor one op too late (the
    # position add, different for every token) or too early (the statistics) is not.
    for site, ref in zip(sites, want, strict=True):
        y = got[site.output].reshape(-1, ref.shape[-1]).astype(np.float64)
        r = ref.reshape(-1, ref.shape[-1]).astype(np.float64)
        for j in range(r.shape[1]):
            a, b = np.polyfit(r[:, j], y[:, j], 1)
            assert np.max(np.abs(a * r[:, j] + b - y[:, j])) < 1e-3, (site, j)


def test_report_has_each_layernorm_error(litert_vit, tmp_path: Path) -> None:
    report = litert_vit.report
    assert report.layernorms is not None and len(report.layernorms) == 5
    assert [e.index for e in report.layernorms] == list(range(5))
    for e in report.layernorms:
        assert e.samples == 4  # the float check's held-out inputs
        assert 0 < e.mean_abs_err <= e.max_abs_err
        assert e.mean_err_ratio < 0.1, e  # int8 tracks the float LN output
        assert e.shape[-1] in (32, 192)
    # JSON: written next to the model, read back exactly; a file without the field
    # (older converter) reads as "not measured".
    again = ConversionReport.read(litert_vit.report_path)
    assert again.layernorms == report.layernorms
    data = json.loads(litert_vit.report_path.read_text())
    del data["layernorms"]
    old = tmp_path / "old.json"
    old.write_text(json.dumps(data))
    assert ConversionReport.read(old).layernorms is None


def test_cli_prints_layernorm_table(litert_vit) -> None:
    from hilnas.cli.convert_cmds import _print_conversion
    from rich.console import Console

    console = Console(record=True, width=160)
    _print_conversion(console, litert_vit.report, litert_vit.tflite_path,
                      litert_vit.report_path)
    text = console.export_text()
    assert "LayerNorm int8 vs float (4 held-out inputs)" in text
    assert "(worst)" in text
    worst = max(litert_vit.report.layernorms, key=lambda e: e.mean_err_ratio)
    assert f"{worst.mean_abs_err:.4g}" in text


def test_no_layernorm_no_rows(tiny_conversion) -> None:
    assert tiny_conversion.report.layernorms == ()


@pytest.mark.slow
def test_onnx2tf_route_reports_layernorms(vit_models: ModuleType, data, tmp_path: Path) -> None:
    calib, heldout = data
    result = convert(vit_models.plain_vit_tanh(), SHAPE, calib, tmp_path / "o.tflite",
                     routes=("onnx2tf",), heldout=heldout)
    lns = result.report.layernorms
    assert lns is not None and len(lns) == 5
    assert all(0 < e.mean_err_ratio < 0.1 for e in lns)
