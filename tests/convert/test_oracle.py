"""The one TFLM oracle (hilnas.tflm): runs, exact arena, raw bytes, one failure type."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tflite_micro
from hilnas import tflm
from hilnas.errors import ConvertError, TflmError

SINE = Path(tflite_micro.__file__).parent / "python" / "tflite_micro" / "sine_float.tflite"


def test_oracle_imports_neither_torch_nor_tensorflow() -> None:
    code = ("import sys, hilnas.tflm, hilnas.engine.check\n"
            "print(','.join(m for m in ('torch', 'tensorflow') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_runs_the_sine_example_and_raw_bytes_agree() -> None:
    data = SINE.read_bytes()
    (y,) = tflm.tflm_run(data, np.array([[np.pi / 2]], np.float32))
    assert y.dtype == np.float32 and abs(float(y[0, 0]) - 1.0) < 0.1
    raw = tflm.tflm_output_bytes(data, np.array([[np.pi / 2]], np.float32).tobytes())
    assert raw == y.tobytes()


def test_arena_is_exact_one_step_less_fails_to_load() -> None:
    data = SINE.read_bytes()
    need = tflm.tflm_arena_bytes(data)
    assert need > 0
    tflm.load(data, arena_size=need)
    with pytest.raises(TflmError, match=f"could not load the model \\(arena {need - 16} B\\)") as e:
        tflm.load(data, arena_size=need - 16)
    assert e.value.stage == "load" and isinstance(e.value, ConvertError)


def test_bad_inputs_raise_the_oracle_error_naming_the_input() -> None:
    data = SINE.read_bytes()
    with pytest.raises(TflmError, match=r"TFLM input 0: got shape \(1, 2\)") as e:
        tflm.tflm_run(data, np.zeros((1, 2), np.float32))
    assert e.value.stage == "input"
    with pytest.raises(TflmError, match="the inputs take 4 bytes, got 8"):
        tflm.tflm_output_bytes(data, bytes(8))
    with pytest.raises(TflmError, match=r"needs bytes 0\.\.3, got 2 bytes"):
        tflm.tflm_output_bytes(data, bytes(2))


def test_intermediate_tensors_need_preserve_all() -> None:
    data = SINE.read_bytes()
    plain = tflm.load(data)
    with pytest.raises(TflmError, match="preserve_all"):
        plain.tensor(0)
    kept = tflm.load(data, preserve_all=True)
    tflm.tflm_run(kept, np.array([[0.5]], np.float32))
    assert kept.tensor(0).size == 1


def test_op_names_are_the_schema_table() -> None:
    names = tflm.builtin_op_names()
    assert names[3] == "CONV_2D" and names[9] == "FULLY_CONNECTED"
    names[3] = "changed"
    assert tflm.builtin_op_names()[3] == "CONV_2D"
