"""`hilnas engine run`: real model, real TFLM check, real exit codes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import oplib
import pytest
from hilnas.cli import main
from hilnas.engine import Engine


@pytest.fixture(scope="module")
def small_model(tmp_path_factory) -> Path:
    import tensorflow as tf

    rng = np.random.default_rng(0)
    k = tf.constant(rng.standard_normal((3, 3, 3, 8)).astype(np.float32))
    w = tf.constant(rng.standard_normal((8 * 4 * 4, 5)).astype(np.float32))

    def fn(x):
        y = tf.nn.relu(tf.nn.conv2d(x, k, 2, "SAME"))
        y = tf.nn.avg_pool2d(y, 2, 2, "VALID")
        return tf.matmul(tf.reshape(y, (1, -1)), w)

    path = tmp_path_factory.mktemp("m") / "small.tflite"
    path.write_bytes(oplib.convert(fn, [(1, 16, 16, 3)]))
    return path


def test_run_with_input_output_and_check(small_model: Path, tmp_path: Path, capsys) -> None:
    x = np.random.default_rng(3).integers(-128, 128, (1, 16, 16, 3), dtype=np.int8)
    np.save(tmp_path / "in.npy", x)
    out = tmp_path / "out.npy"
    rc = main(["engine", "run", str(small_model), "--input", str(tmp_path / "in.npy"),
               "--output", str(out), "--check"])
    text = capsys.readouterr().out
    assert rc == 0, text
    assert "bit-exact" in text and "CONV_2D" in text
    want, _ = oplib.run_tflm(small_model.read_bytes(), [x])
    assert np.load(out).tobytes() == want[0].tobytes()


def test_check_names_first_differing_op(small_model: Path, monkeypatch, capsys) -> None:
    """Corrupt the engine's AVERAGE_POOL_2D output (op 1): --check must exit 1
    and name op 1, not the later ops that inherit the error."""
    real_invoke_op = Engine.invoke_op

    def corrupt(eng: Engine, op: int) -> None:
        real_invoke_op(eng, op)
        if op == 1:
            t = eng.op_outputs(1)[0]
            eng.poke(t, eng.tensor(t) ^ np.int8(1))

    def invoke_all(eng: Engine) -> None:
        for op in range(eng.num_ops):
            corrupt(eng, op)

    monkeypatch.setattr(Engine, "invoke_op", corrupt)
    monkeypatch.setattr(Engine, "invoke", invoke_all)
    rc = main(["engine", "run", str(small_model), "--check"])
    text = capsys.readouterr().out
    assert rc == 1
    assert "first differing op 1 AVERAGE_POOL_2D" in text


def test_missing_model_is_a_clean_error(tmp_path: Path, capsys) -> None:
    rc = main(["engine", "run", str(tmp_path / "nope.tflite")])
    assert rc == 2
    assert "model file not found" in capsys.readouterr().err


def test_bad_input_shape_is_a_clean_error(small_model: Path, tmp_path: Path, capsys) -> None:
    np.save(tmp_path / "bad.npy", np.zeros((3, 3), np.int8))
    rc = main(["engine", "run", str(small_model), "--input", str(tmp_path / "bad.npy")])
    assert rc == 2
    assert "does not fit input 0" in capsys.readouterr().err
