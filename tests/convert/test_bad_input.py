"""Bad input: each case fails with a specific message and leaves no output file behind."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from hilnas.cli import main
from hilnas.convert import convert
from hilnas.convert.sources import parse_shape
from hilnas.errors import CheckError, ConfigError, ConvertError, DataError

SHAPE = (1, 3, 16, 16)


def stderr_text(capsys: pytest.CaptureFixture[str]) -> str:
    """The CLI's error message with rich's line wrapping undone."""
    return " ".join(capsys.readouterr().err.split())


def assert_no_output(folder: Path) -> None:
    """Nothing half-written: no .tflite, no report, no temp files."""
    assert list(folder.iterdir()) == [], list(folder.iterdir())


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def test_exact_gelu_module_is_named(user_models, tiny_calib, out_dir: Path) -> None:
    with pytest.raises(CheckError, match=r"module 'act' is exact nn.GELU.*--gelu tanh"):
        convert(user_models.exact_gelu_module(), SHAPE, tiny_calib, out_dir / "m.tflite")
    assert_no_output(out_dir)


@pytest.mark.slow
def test_exact_gelu_functional_is_named_by_every_route(user_models, tiny_calib, out_dir) -> None:
    with pytest.raises(ConvertError) as err:
        convert(user_models.exact_gelu_functional(), SHAPE, tiny_calib, out_dir / "m.tflite")
    text = str(err.value)
    assert "[onnx2tf] op_coverage: ONNX node '/Erf' (Erf): exact GELU" in text
    assert "[litert] op_coverage: float model: op #" in text and "GELU" in text
    assert_no_output(out_dir)


@pytest.mark.slow
def test_layernorm_lowered_to_float_ops(user_models, tiny_calib, out_dir: Path) -> None:
    with pytest.raises(ConvertError) as err:
        convert(user_models.layernorm_float_ops(), SHAPE, tiny_calib, out_dir / "m.tflite")
    text = str(err.value)
    assert "(Sqrt): SQRT is float-only" in text and "LayerNorm" in text
    assert "[litert] op_coverage: float model: op #" in text and " SQRT " in text
    assert_no_output(out_dir)


@pytest.mark.slow
def test_float_disagreement_names_output_and_element(user_models, tiny_calib, out_dir) -> None:
    with pytest.raises(ConvertError) as err:
        convert(user_models.call_counter(), SHAPE, tiny_calib, out_dir / "m.tflite")
    text = str(err.value)
    for route in ("onnx2tf", "litert"):
        assert f"[{route}] float_agreement: output '" in text
    assert "differs from PyTorch at element [" in text and "> tolerance" in text
    assert_no_output(out_dir)


@pytest.mark.slow
def test_data_dependent_shape(user_models, tiny_calib, out_dir: Path) -> None:
    with pytest.raises(ConvertError, match=r"NonZero.*dynamic.*\[litert\]"):
        convert(user_models.data_dependent_shape(), SHAPE, tiny_calib, out_dir / "m.tflite")
    assert_no_output(out_dir)


@pytest.mark.parametrize("shape", [(1, 3, -1, 16), (1, 3, 0, 16), (1, 3, None, 16)])
def test_dynamic_input_shape(user_models, tiny_calib, out_dir: Path, shape) -> None:
    with pytest.raises(ConfigError, match=r"dynamic or invalid input shape .* dimension 2"):
        convert(user_models.tiny_cnn(), shape, tiny_calib, out_dir / "m.tflite")
    assert_no_output(out_dir)


@pytest.mark.parametrize("text", ["1x3xHx16", "1x3x-1x16", "1x3x?x16"])
def test_dynamic_shape_on_the_command_line(text: str) -> None:
    with pytest.raises(ConfigError, match="dimension 2"):
        parse_shape(text)


def test_unwritable_output_path(user_models, tiny_calib, tmp_path: Path) -> None:
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("a file where a folder should be")
    with pytest.raises(ConvertError, match=r"output path .*not_a_dir/m.tflite is not writable"):
        convert(user_models.tiny_cnn(), SHAPE, tiny_calib, blocker / "m.tflite")
    assert blocker.read_text() == "a file where a folder should be"


def test_output_path_is_a_directory(user_models, tiny_calib, out_dir: Path) -> None:
    target = out_dir / "model.tflite"
    target.mkdir()
    with pytest.raises(ConvertError, match="is a directory"):
        convert(user_models.tiny_cnn(), SHAPE, tiny_calib, target)


def test_missing_calibration_set(user_models, out_dir: Path) -> None:
    with pytest.raises(DataError, match="missing calibration set"):
        convert(user_models.tiny_cnn(), SHAPE, None, out_dir / "m.tflite")
    assert_no_output(out_dir)


def test_calibration_set_of_the_wrong_shape(user_models, out_dir: Path) -> None:
    bad = np.zeros((4, 3, 32, 32), np.float32)
    with pytest.raises(DataError, match=r"calibration set has shape \[4, 3, 32, 32\]"):
        convert(user_models.tiny_cnn(), SHAPE, bad, out_dir / "m.tflite")
    nan = np.zeros((2, *SHAPE[1:]), np.float32)
    nan[1, 2, 3, 4] = np.nan
    with pytest.raises(DataError, match=r"NaN/inf \(first at index \[1, 2, 3, 4\]\)"):
        convert(user_models.tiny_cnn(), SHAPE, nan, out_dir / "m.tflite")
    assert_no_output(out_dir)


def test_cli_user_model_without_calib(out_dir: Path, capsys, user_models) -> None:
    spec = f"{user_models.__file__}:tiny_cnn"
    rc = main(["convert", "--model", spec, "--input-shape", "1x3x16x16",
               "-o", str(out_dir / "m.tflite")])
    assert rc == 2
    assert "missing calibration set" in stderr_text(capsys)
    assert_no_output(out_dir)


def test_cli_calib_file_does_not_exist(out_dir: Path, capsys, user_models) -> None:
    rc = main(["convert", "--model", f"{user_models.__file__}:tiny_cnn", "--input-shape",
               "1x3x16x16", "--calib", str(out_dir / "nope.npy"), "-o", str(out_dir / "m.tflite")])
    assert rc == 2
    assert "missing calibration set" in stderr_text(capsys)


def test_cli_dynamic_shape(out_dir: Path, capsys, user_models) -> None:
    rc = main(["convert", "--model", f"{user_models.__file__}:tiny_cnn", "--input-shape",
               "1x3xHxW", "-o", str(out_dir / "m.tflite")])
    assert rc == 2
    assert "dynamic or invalid --input-shape '1x3xHxW': dimension 2" in stderr_text(capsys)


@pytest.mark.parametrize(("spec", "message"), [
    ("no_such_pkg.mod:f", "cannot import no_such_pkg.mod"),
    ("hilnas.models.reference:nope", "has no attribute 'nope'"),
    ("hilnas.models.reference", "expected pkg.module:factory"),
    ("hilnas.models.reference:INPUT_SHAPE", "not a torch.nn.Module"),
])
def test_cli_bad_model_spec(spec: str, message: str, out_dir: Path, capsys) -> None:
    rc = main(["convert", "--model", spec, "--input-shape", "1x3x16x16",
               "-o", str(out_dir / "m.tflite")])
    assert rc == 2
    assert message in stderr_text(capsys)


def test_input_shape_the_model_cannot_take(user_models, out_dir: Path) -> None:
    calib = np.zeros((2, 5, 16, 16), np.float32)
    with pytest.raises(ConfigError, match=r"forward pass fails on input shape \[1, 5, 16, 16\]"):
        convert(user_models.tiny_cnn(), (1, 5, 16, 16), calib, out_dir / "m.tflite")
    assert_no_output(out_dir)


@pytest.mark.slow
def test_unwritable_report_path_leaves_no_files(user_models, tiny_calib, out_dir: Path,
                                                capsys) -> None:
    """The report is written last; when it cannot be, the .tflite and C pair go too."""
    calib = out_dir.parent / "calib.npy"
    np.save(calib, tiny_calib)
    (out_dir / "m.json").mkdir()  # the report's name is taken by a folder
    rc = main(["convert", "--model", f"{user_models.__file__}:tiny_cnn", "--input-shape",
               "1x3x16x16", "--calib", str(calib), "--routes", "litert", "--emit-c",
               "-o", str(out_dir / "m.tflite")])
    assert rc == 2
    assert re.search(r"cannot write \S*m\.json", stderr_text(capsys))
    assert [p.name for p in out_dir.iterdir()] == ["m.json"]
    assert list((out_dir / "m.json").iterdir()) == []


def test_cli_exact_gelu_names_the_gelu_option(out_dir: Path, capsys, user_models,
                                              tiny_calib) -> None:
    calib = out_dir.parent / "calib.npy"
    np.save(calib, tiny_calib)
    rc = main(["convert", "--model", f"{user_models.__file__}:exact_gelu_module",
               "--input-shape", "1x3x16x16", "--calib", str(calib),
               "-o", str(out_dir / "m.tflite")])
    assert rc != 0
    assert "convert with --gelu tanh" in stderr_text(capsys)
    assert_no_output(out_dir)


@pytest.mark.slow
def test_cli_gelu_tanh_converts_exact_gelu_and_reports_it(out_dir: Path, capsys, user_models,
                                                          tiny_calib) -> None:
    from hilnas.convert.report import ConversionReport

    calib = out_dir.parent / "calib.npy"
    np.save(calib, tiny_calib)
    rc = main(["convert", "--model", f"{user_models.__file__}:exact_gelu_functional",
               "--input-shape", "1x3x16x16", "--calib", str(calib), "--routes", "litert",
               "--gelu", "tanh", "-o", str(out_dir / "m.tflite")])
    assert rc == 0
    assert "rewrite gelu_tanh" in " ".join(capsys.readouterr().out.split())
    report = ConversionReport.read(out_dir / "m.json")
    swap = report.rewrites[0]
    assert (swap.name, swap.count) == ("gelu_tanh", 1) and swap.float_max_abs_dev > 0
    assert "GELU" not in report.op_histogram
