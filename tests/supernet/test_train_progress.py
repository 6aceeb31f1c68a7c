"""Supernet training shows progress in a log file too, not only on a terminal."""

from __future__ import annotations

from pathlib import Path

import pytest
from hilnas.data import load_dataset
from hilnas.data.base import ImageDataset
from hilnas.supernet import train as train_mod
from hilnas.supernet.train import SupernetTrainer, TrainConfig


@pytest.mark.slow
def test_training_prints_plain_progress_lines_when_output_is_not_a_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    d = load_dataset("digits")
    data = ImageDataset(d.name, d.classes, d.train_x[:64], d.train_y[:64], d.val_x[:16],
                        d.val_y[:16], d.test_x[:16], d.test_y[:16])
    monkeypatch.setattr(train_mod, "HEARTBEAT_S", 0.0)  # a line after every step
    cfg = TrainConfig(space="cnn", epochs=1, batch_size=32, n_random=0)
    trainer = SupernetTrainer(cfg, tmp_path, data=data)
    # What is printed is under test, not the optimisation (tests/supernet covers that):
    # skipping the arithmetic keeps this test at a second instead of minutes on 2 cores.
    monkeypatch.setattr(trainer, "train_step", lambda x, y: 1.0)
    monkeypatch.setattr(trainer, "evaluate", lambda arch, split="val": 0.5)
    trainer.fit(show_progress=True)
    out = capsys.readouterr().out  # captured: not a terminal
    assert "supernet cnn: epoch 1/1, step 1/2, loss" in out
    assert "supernet cnn: epoch 1/1, step 2/2, loss" in out
    assert "supernet cnn: epoch 1/1 done, loss" in out and "img/s" in out
