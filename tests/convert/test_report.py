"""The conversion report record: JSON round trip, schema and field validation."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from hilnas.convert.report import (
    REPORT_SCHEMA,
    ByteSplit,
    ConversionReport,
    LayerNormError,
    OutputQuality,
    RouteAttempt,
    SampleSet,
    TensorSummary,
)
from hilnas.errors import ConfigError


def sample_report() -> ConversionReport:
    return ConversionReport(
        tflite="m.tflite", route="litert", input_layout="NCHW",
        input_shape_nchw=(1, 3, 16, 16),
        input=TensorSummary("x", (1, 3, 16, 16), "INT8", 0.0078125, -1),
        outputs=(TensorSummary("y", (1, 10), "INT8", 0.1, 3),),
        model_bytes=4096, arena_bytes=1504, op_histogram={"CONV_2D": 2, "MEAN": 1},
        float_max_abs_err=(1.5e-6,),
        int8_quality=(OutputQuality(0, 0.2, 0.01, 4.0, 0.875), OutputQuality(1, 0.1, 0.02, 2.0)),
        calibration=SampleSet(16, "calib.npy"), heldout=SampleSet(8, "separate"),
        attempts=(RouteAttempt("onnx2tf", False, "boom"), RouteAttempt("litert", True)),
        bytes_split=ByteSplit(4096, 2000, 400, 0, 600, 0),
        bytes_split_before=ByteSplit(9000, 2000, 400, 0, 600, 4500),
        checks={"tflm": {"passed": True, "arena_bytes": 1504}},
        timings_s={"total": 1.5}, timings_cpu_s={"total": 2.5}, c_files=("m.c", "m.h"),
    )


def test_json_round_trip_is_exact(tmp_path: Path) -> None:
    report = sample_report()
    data = report.to_json()
    assert data["schema"] == REPORT_SCHEMA and data["input_layout"] == "NCHW"
    assert ConversionReport.from_json(json.loads(json.dumps(data))) == report
    path = tmp_path / "m.json"
    path.write_text(json.dumps(data))
    assert ConversionReport.read(path) == report


def test_other_schema_and_missing_fields_are_named(tmp_path: Path) -> None:
    data = sample_report().to_json()
    old = {k: v for k, v in data.items() if k not in ("schema", "input_layout")} | {"version": 1}
    with pytest.raises(ConfigError,
                       match=f"field 'schema' is 1, this hilnas reads {REPORT_SCHEMA}"):
        ConversionReport.from_json(old)
    with pytest.raises(ConfigError, match="field 'arena_bytes' is missing"):
        ConversionReport.from_json({k: v for k, v in data.items() if k != "arena_bytes"})
    with pytest.raises(ConfigError, match="field 'model_bytes' is str, expected int"):
        ConversionReport.from_json(data | {"model_bytes": "4096"})
    with pytest.raises(ConfigError, match="input_layout 'NWHC'"):
        replace(sample_report(), input_layout="NWHC")
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data | {"calibration": {"samples": 3}}))
    with pytest.raises(ConfigError, match=r"bad.json: .*source"):
        ConversionReport.read(path)
    path.write_text("[1]")
    with pytest.raises(ConfigError, match="conversion report must be a JSON object, not list"):
        ConversionReport.read(path)


def test_layernorm_errors_round_trip_and_stay_optional() -> None:
    """``layernorms`` is additive: old files (no field) read as None, i.e. not measured;
    the schema number did not change, so readers that predate the field still read new
    files (they ignore it)."""
    lns = (LayerNormError(0, "ln0", (1, 16, 32), 0.12, 0.01, 4.0, 4),
           LayerNormError(1, "ln1", (1, 16, 32), 0.3, 0.04, 5.0, 4))
    report = replace(sample_report(), layernorms=lns)
    data = json.loads(json.dumps(report.to_json()))
    back = ConversionReport.from_json(data)
    assert back == report and back.layernorms[1].mean_err_ratio == pytest.approx(0.008)
    assert data["schema"] == 4
    assert ConversionReport.from_json({k: v for k, v in data.items()
                                       if k != "layernorms"}).layernorms is None
    assert ConversionReport.from_json(data | {"layernorms": []}).layernorms == ()
    with pytest.raises(ConfigError, match="field 'layernorms' is str, expected list"):
        ConversionReport.from_json(data | {"layernorms": "none"})
