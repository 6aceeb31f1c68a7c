"""Fine-tuning an extracted member with the supernet's recipe."""

from __future__ import annotations

import pytest
import torch
from hilnas.data import load_dataset
from hilnas.data.base import ImageDataset
from hilnas.deploy.finetune import finetune
from hilnas.space import get_space
from hilnas.supernet import Supernet
from hilnas.supernet.train import TrainConfig


@pytest.mark.slow
def test_finetune_trains_the_member_in_place_and_reports_each_epoch() -> None:
    d = load_dataset("digits")
    data = ImageDataset(d.name, d.classes, d.train_x[:96], d.train_y[:96], d.val_x[:32],
                        d.val_y[:32], d.test_x[:8], d.test_y[:8])
    space = get_space("cnn")
    arch = space.smallest()
    module = Supernet(space).extract(arch)
    before = {k: v.clone() for k, v in module.state_dict().items()}
    lines: list[str] = []
    history = finetune(module, data, space.resolution(arch), TrainConfig(space="cnn"), 2,
                       lines.append)
    assert [h["epoch"] for h in history] == [1, 2] and all(0 <= h["val"] <= 1 for h in history)
    assert lines[-1].startswith("fine-tune epoch 2/2: loss")
    changed = [k for k, v in module.state_dict().items() if not torch.equal(v, before[k])]
    assert any(k.endswith("weight") for k in changed) and not module.training
