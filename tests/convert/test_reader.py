"""The flatbuffer reader: real models parse; corrupt bytes give errors that name the byte."""

from __future__ import annotations

from pathlib import Path

import pytest
import tflite_micro
from hilnas.cli import main
from hilnas.convert import checks, read_model
from hilnas.errors import CheckError, ConvertError

SINE = Path(tflite_micro.__file__).parent / "python" / "tflite_micro" / "sine_float.tflite"


def stderr_text(capsys: pytest.CaptureFixture[str]) -> str:
    """The CLI's error message with rich's line wrapping undone."""
    return " ".join(capsys.readouterr().err.split())


def test_reads_the_tflm_sine_example() -> None:
    info = read_model(SINE.read_bytes())
    assert info.op_histogram() == {"FULLY_CONNECTED": 3}
    assert info.input_tensors()[0].dtype == "FLOAT32"
    assert info.input_tensors()[0].shape == (1, 1)
    assert sum(t.is_constant for t in info.tensors) == 6  # 3 weights + 3 biases


def test_keras_batch_dimension_fails_the_static_shape_check() -> None:
    # The TFLM example was exported from Keras with a free batch dimension (-1).
    with pytest.raises(CheckError, match=r"static_shapes: tensor '.*' has dynamic shape \[-1, 1\]"):
        checks.check_static_shapes(read_model(SINE.read_bytes()))


def test_float_model_fails_the_int8_check() -> None:
    with pytest.raises(CheckError, match=r"int8: model input/output tensor '.*' is FLOAT32"):
        checks.check_int8(read_model(SINE.read_bytes()))


def test_too_short() -> None:
    with pytest.raises(ConvertError, match="5 bytes is too short"):
        read_model(b"hello", "x.tflite")


def test_wrong_identifier_names_the_bytes() -> None:
    with pytest.raises(ConvertError, match=r"bytes 4..7 are b'ONNX', expected file identifier"):
        read_model(b"\x10\x00\x00\x00ONNX" + bytes(16), "x.tflite")


def test_root_offset_past_the_end() -> None:
    with pytest.raises(ConvertError, match="root table offset 4096 at byte 0 points past the end"):
        read_model(b"\x00\x10\x00\x00TFL3" + bytes(8), "x.tflite")


@pytest.mark.parametrize("keep", [12, 40, 100, 300, 600])
def test_truncated_model_is_a_convert_error(keep: int) -> None:
    data = SINE.read_bytes()[:keep]
    with pytest.raises(ConvertError, match=r"x.tflite: "):
        read_model(data, "x.tflite")


def test_inspect_rejects_garbage(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"\x10\x00\x00\x00ONNX" + bytes(32))
    assert main(["inspect", str(bad)]) == 2
    assert "bytes 4..7" in stderr_text(capsys)


def test_inspect_missing_file(tmp_path: Path, capsys) -> None:
    assert main(["inspect", str(tmp_path / "none.tflite")]) == 2
    assert "cannot read" in stderr_text(capsys)
