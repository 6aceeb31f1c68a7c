"""Supernet: extraction is exact, extracted nets are standalone, training checkpoints and
resumes bit-exactly, and the public load_subnet / CLI entry points work on a real run."""

from __future__ import annotations

import json
import pickle
import random
from pathlib import Path

import pytest
import torch
from hilnas.cli import main
from hilnas.data import load_dataset
from hilnas.data.base import ImageDataset
from hilnas.errors import ConfigError
from hilnas.space import get_space, save_arch
from hilnas.supernet import Supernet, load_subnet, load_supernet, recalibrate_bn
from hilnas.supernet.train import SupernetTrainer, TrainConfig


@pytest.mark.parametrize("name", ["hybrid", "hybrid-unfold", "vit-resnas", "cnn"])
def test_extracted_subnet_computes_exactly_what_the_supernet_computes(name: str) -> None:
    torch.manual_seed(0)
    space = get_space(name)
    supernet = Supernet(space).train()
    for m in supernet.modules():  # zero-init branches would hide attention from the check
        if isinstance(m, torch.nn.BatchNorm2d):
            torch.nn.init.normal_(m.weight, 1.0, 0.2)
    rng = random.Random(0)
    archs = [space.smallest(), space.largest(), space.sample(rng), space.sample(rng)]
    if name == "hybrid-unfold":  # the largest uses patch 3 at 48 px; patch 2 at 32 px too
        archs.append(space.make({**space.largest().values, "resolution": 32}))
    for arch in archs:
        x = torch.randn(3, *space.input_shape(arch)[1:])
        sub = supernet.extract(arch).train()  # batch-statistics BN on both sides
        torch.testing.assert_close(sub(x), supernet(x, arch), rtol=1e-4, atol=1e-4)


def test_extracted_subnet_is_standalone_and_smaller() -> None:
    space = get_space("cnn")
    supernet = Supernet(space)
    sub = supernet.extract(space.smallest())
    blob = pickle.dumps(sub)
    assert b"hilnas.supernet" not in blob  # no supernet class or reference inside
    n_sub = sum(p.numel() for p in sub.parameters())
    assert n_sub < sum(p.numel() for p in supernet.parameters()) / 10
    # elastic kernel: a 3x3 member inherits the centre of the 7x7 supernet kernel
    w_big = supernet.net.get_submodule("s1b0.dw.conv").weight
    w_small = sub.get_submodule("s1b0.dw.conv").weight
    assert torch.equal(w_small, w_big[: w_small.shape[0], :, 2:5, 2:5])


def test_bn_recalibration_sets_running_stats_from_data() -> None:
    space = get_space("cnn")
    data = load_dataset("digits")
    sub = Supernet(space).extract(space.smallest())
    bn = sub.get_submodule("stem.bn")
    assert torch.equal(bn.running_mean, torch.zeros_like(bn.running_mean))
    recalibrate_bn(sub, data, 32, batches=2)
    assert not sub.training
    assert float(bn.running_mean.abs().sum()) > 0
    assert bn.momentum == 0.1


def _tiny_data() -> ImageDataset:
    d = load_dataset("digits")
    return ImageDataset(
        "digits",
        d.classes,
        d.train_x[:64],
        d.train_y[:64],
        d.val_x[:32],
        d.val_y[:32],
        d.test_x[:32],
        d.test_y[:32],
    )


TINY = dict(space="vit-resnas", epochs=2, batch_size=32, n_random=1, archs_per_batch=2)


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("run")
    trainer = SupernetTrainer(TrainConfig(**TINY), run, data=_tiny_data())
    trainer.fit(show_progress=False)
    return run


@pytest.mark.slow
def test_interrupted_training_resumes_to_the_same_weights(trained_run: Path, tmp_path) -> None:
    first = SupernetTrainer(TrainConfig(**TINY), tmp_path, data=_tiny_data())
    first.fit(show_progress=False, stop_after=1)
    assert json.loads((tmp_path / "history.json").read_text())[0]["epoch"] == 1
    second = SupernetTrainer(TrainConfig(**TINY), tmp_path, data=_tiny_data())
    assert second.try_resume() and second.epoch == 1
    second.fit(show_progress=False)
    straight = torch.load(trained_run / "supernet.pt", weights_only=False)["model"]
    for key, value in second.supernet.state_dict().items():
        torch.testing.assert_close(value, straight[key], msg=key)
    other = TrainConfig(**{**TINY, "lr": TrainConfig().lr / 3})
    with pytest.raises(ConfigError, match="different configuration"):
        SupernetTrainer(other, tmp_path, data=_tiny_data()).try_resume()


@pytest.mark.slow
def test_load_subnet_and_cli_eval(trained_run: Path, tmp_path, capsys) -> None:
    space = get_space("vit-resnas")
    arch = space.smallest()
    save_arch(arch, tmp_path / "a.json")
    loaded = load_subnet(tmp_path / "a.json", trained_run / "supernet.pt")
    assert loaded.input_shape == (1, 3, 32, 32) and loaded.arch == arch
    assert loaded.calib.shape == (64, 3, 32, 32)
    assert loaded.heldout.shape[1:] == (3, 32, 32) and len(loaded.heldout) > 0
    out = loaded.module(torch.from_numpy(loaded.calib[:2]))
    assert not loaded.module.training and out.shape == (2, 10)
    acc = load_supernet(trained_run / "supernet.pt").evaluate(arch, "test")
    assert (
        main(
            [
                "supernet",
                "eval",
                "--ckpt",
                str(trained_run / "supernet.pt"),
                str(tmp_path / "a.json"),
            ]
        )
        == 0
    )
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert 0.0 <= printed["accuracy"] <= 1.0
    assert (
        abs(
            printed["accuracy"]
            - round(load_supernet(trained_run / "supernet.pt").evaluate(arch, "test"), 4)
        )
        < 1e-9
    )
    assert 0.0 <= acc <= 1.0
    save_arch(get_space("cnn").smallest(), tmp_path / "c.json")
    with pytest.raises(ConfigError, match="'cnn' architecture but"):
        load_subnet(tmp_path / "c.json", trained_run / "supernet.pt")
    assert (
        main(["supernet", "eval", "--ckpt", str(tmp_path / "nope.pt"), str(tmp_path / "a.json")])
        == 2
    )
