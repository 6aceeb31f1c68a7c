"""CLI round trip on a user model file, and the TFLM oracle helpers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hilnas.cli import main
from hilnas.convert import read_model, tflm_run
from hilnas.convert.report import ConversionReport, SampleSet
from hilnas.errors import ConvertError
from hilnas.tflm import load
from hilnas.tflm_ops import TFLM_INT8_OPS


@pytest.mark.slow
def test_cli_convert_then_inspect(user_models, tiny_calib, tmp_path: Path, capsys) -> None:
    calib = tmp_path / "calib.npy"
    np.save(calib, tiny_calib)
    out = tmp_path / "models" / "tiny.tflite"
    rc = main(["convert", "--model", f"{user_models.__file__}:tiny_cnn", "--input-shape",
               "1x3x16x16", "--calib", str(calib), "-o", str(out), "--emit-c"])
    assert rc == 0
    assert {p.name for p in out.parent.iterdir()} == {"tiny.tflite", "tiny.json", "tiny.c",
                                                      "tiny.h"}
    report = ConversionReport.read(out.with_suffix(".json"))
    assert report.calibration == SampleSet(16, str(calib))
    assert report.c_files == ("tiny.c", "tiny.h") and report.tflite == "tiny.tflite"
    capsys.readouterr()
    assert main(["inspect", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["arena_bytes"] == report.arena_bytes > 0
    assert summary["model_bytes"] == out.stat().st_size
    assert set(summary["op_histogram"]) <= TFLM_INT8_OPS
    assert main(["inspect", str(out), "--tensors"]) == 0
    text = capsys.readouterr().out
    assert "CONV_2D" in text and "per-channel x8" in text and "TFLM arena" in text


@pytest.mark.slow
def test_tflm_run_quantizes_float_inputs_like_the_model(tiny_conversion) -> None:
    data = tiny_conversion.tflite_path.read_bytes()
    model = load(data)
    details = model.input_details(0)
    scale = float(details["quantization_parameters"]["scales"][0])
    zp = int(details["quantization_parameters"]["zero_points"][0])
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=tuple(details["shape"])).astype(np.float32)
    q = np.clip(np.round(x / scale) + zp, -128, 127).astype(np.int8)
    (from_float,) = tflm_run(model, x)
    (from_int8,) = tflm_run(data, q)
    assert from_float.dtype == np.int8
    np.testing.assert_array_equal(from_float, from_int8)


@pytest.mark.slow
def test_tflm_run_rejects_wrong_shapes(tiny_conversion) -> None:
    data = tiny_conversion.tflite_path.read_bytes()
    shape = read_model(data).input_tensors()[0].shape
    with pytest.raises(ConvertError, match=r"TFLM input 0: got shape \(1, 3, 16, 16\)"):
        tflm_run(data, np.zeros((1, 3, 16, 16), np.int8))
    with pytest.raises(ConvertError, match="got 2 inputs, model has 1"):
        tflm_run(data, [np.zeros(shape, np.int8)] * 2)
