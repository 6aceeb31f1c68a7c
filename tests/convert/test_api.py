"""API contracts other stages rely on: cheap TFLM oracle imports, stable names."""

from __future__ import annotations

import subprocess
import sys

import hilnas.convert as conv


def test_tflm_oracle_imports_neither_torch_nor_tensorflow() -> None:
    code = (
        "import sys\n"
        "from hilnas.convert import tflm_run, tflm_arena_bytes, read_model\n"
        "heavy = sorted(m for m in ('torch', 'tensorflow', 'onnx2tf') if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_public_names() -> None:
    for name in ("convert", "ConversionResult", "tflm_run", "tflm_arena_bytes", "read_model"):
        assert name in conv.__all__
        assert callable(getattr(conv, name))
