"""Profiling on real firmware: boots, bit-exact outputs vs TFLM, repeatable counts, CLI.

Emulated boards run under QEMU with -icount: counts are instructions and exactly
repeatable, so these tests compare them with ``==``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hilnas.board.measure import (
    Measurement,
    OutputMismatchError,
    check_against_tflm,
    prepare_input,
    run_on_session,
)
from hilnas.board.profiles import REPO_ROOT, load_profile
from hilnas.cli import main as cli_main
from hilnas.errors import ConfigError
from hilnas.tflm import tflm_output_bytes

pytestmark = [pytest.mark.qemu, pytest.mark.slow]

EMULATED = ("mps2-an385", "mps2-an386", "mps2-an500", "mps2-an505")
REFERENCE_DIR = REPO_ROOT / ".hilnas-cache" / "reference-models"


@pytest.mark.parametrize("name", EMULATED)
def test_emulated_board_boots_says_hello_and_runs_a_model(
    board_pool: Any, sample_models: dict, name: str
) -> None:
    session = board_pool.get(name)
    ident = session.client.identity
    prof = load_profile(name)
    assert (ident.board, ident.core) == (name, prof.core)
    assert ident.timing_unit == "instructions" and ident.calib_ticks > 0
    assert ident.slot_bytes == prof.model_slot_bytes
    assert ident.max_payload >= 256 and ident.window >= 1
    assert session.client.ping(bytes(range(200))) == bytes(range(200))
    result = run_on_session(session, sample_models["tiny"], runs=3, warmup=1, check=True)
    # icount is exact; the only jitter is the SysTick phase (one tick = 40-50 instructions).
    assert 0 < result.latency_ticks_max - result.latency_ticks_min <= 1 or (
        result.latency_ticks_min == result.latency_ticks_max > 0
    )
    assert ident.calib_ticks == pytest.approx(
        1e6 * ident.counter_hz * 2 ** prof.transport.icount_shift / 1e9, rel=0.01
    ), "HELLO calib_ticks disagrees with the -icount formula"
    assert [op.name for op in result.ops] == [
        "CONV_2D", "MAX_POOL_2D", "RESHAPE", "FULLY_CONNECTED", "SOFTMAX"
    ]  # fmt: skip


def test_two_launches_give_identical_counts(sample_models: dict) -> None:
    """Same firmware, same model, same input, fresh QEMU each time: identical ticks."""
    from hilnas.board.measure import profile_model

    prof = load_profile("mps2-an386")
    a, b = (profile_model(sample_models["tiny"], prof, runs=3, warmup=1) for _ in range(2))
    assert (a.latency_ticks_min, a.latency_ticks_max) == (b.latency_ticks_min, b.latency_ticks_max)
    assert [op.ticks for op in a.ops] == [op.ticks for op in b.ops]
    assert a.output == b.output


def test_cnn100k_bit_exact_and_repeatable_on_m4(board_pool: Any, sample_models: dict) -> None:
    session = board_pool.get("mps2-an386")
    first = run_on_session(session, sample_models["cnn100k"], runs=2, warmup=1, check=True)
    assert first.checked_against_tflm
    assert first.n_ops == len(first.ops) == 10
    assert 0 < first.arena_bytes < 200_000 and first.stack_high_water > 0
    assert abs(sum(op.share for op in first.ops) - 1.0) < 1e-9
    # A second RUN of the loaded model: same output; within one boot only the
    # SysTick phase differs, so at most one tick per measurement.
    again = session.client.run(2, 1)
    assert again.output_crc32 == first.output_crc32
    assert abs(again.latency_median - first.latency_ticks_median) <= 1
    ticks = [t for _, t in session.client.read_ops()]
    assert all(abs(a - b.ticks) <= 1 for a, b in zip(ticks, first.ops, strict=True))


def _reference_model(name: str) -> Path:
    path = REFERENCE_DIR / f"{name}.tflite"
    if not path.is_file():
        REFERENCE_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "hilnas.cli", "convert", "--model", name, "-o", str(path)],
            check=True,
            capture_output=True,
        )
    return path


@pytest.mark.parametrize("name", ["mbv2", "mobilevit"])
def test_reference_models_bit_exact_on_m4(board_pool: Any, name: str) -> None:
    """Loaded through the semihosting bulk path: the UART path is tested on cnn100k."""
    result = run_on_session(
        board_pool.get("mps2-an386"), _reference_model(name), runs=1, warmup=0, check=True,
        bulk=True,
    )  # fmt: skip
    assert result.checked_against_tflm and result.latency_median > 0
    assert result.upload_path == "host-file"


def test_bulk_path_gives_the_same_model_as_the_uart(board_pool: Any, sample_models: dict) -> None:
    session = board_pool.get("mps2-an386")
    uart = run_on_session(session, sample_models["tiny"], runs=1, warmup=0, check=True)
    bulk = run_on_session(session, sample_models["tiny"], runs=1, warmup=0, check=True, bulk=True)
    assert bulk.output == uart.output and bulk.model_crc32 == uart.model_crc32
    assert abs(bulk.latency_ticks_median - uart.latency_ticks_median) <= 1


def test_check_names_first_differing_byte(sample_models: dict) -> None:
    model = sample_models["tiny"].read_bytes()
    data, _ = prepare_input(model, 64, None)
    good = tflm_output_bytes(model, data)
    check_against_tflm("b", model, data, good)
    bad = bytearray(good)
    bad[7] = (bad[7] + 1) & 0xFF
    with pytest.raises(OutputMismatchError, match="first at byte 7") as info:
        check_against_tflm("b", model, data, bytes(bad))
    assert info.value.index == 7


def test_input_npy_float_is_quantized_int8_is_taken_and_bad_shape_named(
    tmp_path: Path, sample_models: dict
) -> None:
    model = sample_models["tiny"].read_bytes()
    f32 = tmp_path / "x.npy"
    np.save(f32, np.zeros((1, 8, 8, 1), np.float32))
    data, source = prepare_input(model, 64, f32)
    assert "quantized" in source and len(data) == 64 and len(set(data)) == 1
    i8 = tmp_path / "i.npy"
    np.save(i8, np.arange(64, dtype=np.int8).reshape(1, 8, 8, 1))
    assert prepare_input(model, 64, i8)[0] == bytes(range(64))
    wrong = tmp_path / "w.npy"
    np.save(wrong, np.zeros((3, 3), np.float32))
    with pytest.raises(ConfigError, match=r"shape \[3, 3\].*\[1, 8, 8, 1\]"):
        prepare_input(model, 64, wrong)


def test_cli_profile_json_has_every_figure(tmp_path: Path, sample_models: dict) -> None:
    out = tmp_path / "p.json"
    rc = cli_main(
        ["profile", str(sample_models["tiny"]), "--board", "mps2-an386", "--runs", "3",
         "--warmup", "1", "--check", "--json", str(out)]
    )  # fmt: skip
    assert rc == 0
    data = json.loads(out.read_text())
    for key in ("latency_min", "latency_median", "latency_max", "arena_bytes",
                "stack_high_water", "model_bytes", "output_bytes", "output_crc32", "ops",
                "identity", "input_source", "timing_unit"):  # fmt: skip
        assert key in data, key
    assert len(data["output"]) == data["output_bytes"]
    assert data["identity"]["board"] == "mps2-an386" and data["checked_against_tflm"]
    assert 0 < data["boot_s"] <= data["wall_s"]  # bench/profile.py reports the wall figure
    assert Measurement.from_json(data, source=str(out)).to_json() == data


def test_cli_errors_are_clean(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert cli_main(["profile", str(tmp_path / "none.tflite"), "--board", "host"]) == 2
    assert "does not exist" in " ".join(capsys.readouterr().err.split())  # rich wraps lines
    model = tmp_path / "m.tflite"
    model.write_bytes(b"x")
    assert cli_main(["profile", str(model), "--board", "nope"]) == 2
    assert "unknown board 'nope'" in " ".join(capsys.readouterr().err.split())


FLOAT_IO = REPO_ROOT / "firmware" / "fuzz" / "corpus" / "float_io.tflite"


def test_float_io_model_profiles_bit_exact_with_and_without_input(
    board_pool: Any, tmp_path: Path
) -> None:
    """float32 in (QUANTIZE) and out (DEQUANTIZE): generated inputs are real floats, a
    float .npy is taken as is, and the board's bytes equal TFLM's either way."""
    session = board_pool.get("mps2-an386")
    generated = run_on_session(session, FLOAT_IO, runs=1, warmup=0, check=True)
    assert generated.checked_against_tflm and "float32" in generated.input_source
    x = tmp_path / "x.npy"
    np.save(x, np.array([[-1.5, 0.25, 2.0], [0.0, -0.1, 7.5]], np.float32))
    given = run_on_session(session, FLOAT_IO, runs=1, warmup=0, input_path=x, check=True)
    assert given.checked_against_tflm and "float32" in given.input_source
    assert given.output_dtypes == ["float32"] and len(given.output) == 6
    assert given.output[0] == 0.0 and given.output[5] > 0.5  # RELU of -1.5; 7.5 saturates


def test_input_errors_name_what_is_wrong(tmp_path: Path) -> None:
    model = FLOAT_IO.read_bytes()
    wrong_dtype = tmp_path / "i.npy"
    np.save(wrong_dtype, np.zeros((2, 3), np.int8))
    data, source = prepare_input(model, 24, wrong_dtype)  # integers cast to the float input
    assert len(data) == 24 and "cast to float32" in source
    with pytest.raises(ConfigError, match=r"shape \[6, 2\].*does not fit.*\[2, 3\]"):
        bad = tmp_path / "b.npy"
        np.save(bad, np.zeros((6, 2), np.float32))
        prepare_input(model, 24, bad)
    with pytest.raises(ConfigError, match=r"reports 6 input bytes.*take 24"):
        prepare_input(model, 6, None)
    text = tmp_path / "s.npy"
    np.save(text, np.array([["a", "b", "c"], ["d", "e", "f"]]))
    with pytest.raises(ConfigError, match=r"not a number type.*float32"):
        prepare_input(model, 24, text)
