"""Acceptance: both reference models convert, pass every check and run in real TFLM."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hilnas.convert import read_model, tflm_arena_bytes, tflm_run
from hilnas.convert.report import ConversionReport
from hilnas.errors import ConvertError
from hilnas.models import REFERENCE_MODELS
from hilnas.tflm import load
from hilnas.tflm_ops import TFLM_INT8_OPS

pytestmark = pytest.mark.slow
NAMES = sorted(REFERENCE_MODELS)
CHECKS = ("float_static_shapes", "float_op_coverage", "float_agreement", "op_coverage", "int8",
          "static_shapes", "tflm", "int8_quality")


@pytest.mark.parametrize("name", NAMES)
def test_reference_model_passes_every_check(reference_conversions: dict, name: str) -> None:
    result = reference_conversions[name]
    report = result.report
    assert result.route == report.route == "onnx2tf" and report.input_layout == "NHWC"
    assert all(report.checks[c]["passed"] for c in CHECKS), report.checks
    assert set(report.op_histogram) <= TFLM_INT8_OPS
    assert report.float_max_abs_err[0] < 1e-4
    quality = report.int8_quality[0]
    assert quality.top1_agreement is not None and quality.top1_agreement >= 0.75, quality
    assert json.loads(result.report_path.read_text()) == report.to_json()
    assert ConversionReport.read(result.report_path).to_json() == report.to_json()


@pytest.mark.parametrize("name", NAMES)
def test_reference_model_is_full_int8(reference_conversions: dict, name: str) -> None:
    data = reference_conversions[name].tflite_path.read_bytes()
    info = read_model(data)
    assert [t.dtype for t in info.input_tensors() + info.output_tensors()] == ["INT8", "INT8"]
    assert info.input_tensors()[0].shape == (1, 96, 96, 3)  # onnx2tf route: NHWC
    convs = [op for op in info.ops if op.name in {"CONV_2D", "DEPTHWISE_CONV_2D"}]
    assert convs and all(info.tensors[op.inputs[1]].per_channel for op in convs)
    assert reference_conversions[name].model_bytes == len(data)


@pytest.mark.parametrize("name", NAMES)
def test_arena_bytes_are_the_smallest_that_work(reference_conversions: dict, name: str) -> None:
    result = reference_conversions[name]
    data = result.tflite_path.read_bytes()
    assert tflm_arena_bytes(data) == result.arena_bytes
    out = tflm_run(load(data, arena_size=result.arena_bytes), np.zeros((1, 96, 96, 3), np.int8))
    assert out[0].shape == (1, 10) and out[0].dtype == np.int8
    with pytest.raises(ConvertError, match="TFLM could not load"):
        load(data, arena_size=result.arena_bytes - 1024)


def test_hybrid_has_attention_ops(reference_conversions: dict) -> None:
    ops = reference_conversions["mobilevit"].report.op_histogram
    assert ops["BATCH_MATMUL"] == 4 and ops["SOFTMAX"] == 2
    assert "PAD" not in ops  # right/bottom-only padding maps to SAME
    assert ops["TRANSPOSE"] <= 8  # channels-last tokens: only the attention-head transposes


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs a host C compiler")
def test_emitted_c_array_holds_the_exact_model(reference_conversions: dict, tmp_path: Path) -> None:
    result = reference_conversions["mbv2"]
    source, header = result.c_files
    data = result.tflite_path.read_bytes()
    main = tmp_path / "main.c"
    main.write_text(
        f'#include <stdio.h>\n#include "{header.name}"\n'
        "int main(void) {\n"
        "  if ((unsigned long)mbv2_model % 16u != 0) return 3;\n"
        "  fwrite(mbv2_model, 1, mbv2_model_len, stdout);\n"
        "  return mbv2_model_len == MBV2_MODEL_LEN ? 0 : 4;\n}\n"
    )
    exe = tmp_path / "dump"
    subprocess.run(["gcc", "-std=c11", "-Wall", "-Wextra", "-Werror", f"-I{header.parent}",
                    str(main), str(source), "-o", str(exe)], check=True)
    dumped = subprocess.run([str(exe)], check=True, capture_output=True).stdout
    assert dumped == data
