"""Weight-sharing supernets: train once, read any member's accuracy off without training it.

Public API (used by the converter CLI, the search and the demo):

``load_subnet(arch_json_path, ckpt_path) -> LoadedSubnet``
    The member described by the arch JSON as a standalone static ``nn.Module`` (plain
    conv/BN/linear layers, eval mode) carrying weights inherited from the supernet
    checkpoint with BatchNorm recalibrated on training data; its NCHW input shape with
    batch 1; a float32 NCHW calibration array drawn from the training split and a held-out
    array from the validation split (the checkpoint records which dataset). This is what
    ``hilnas convert --arch A --ckpt C`` feeds to :func:`hilnas.convert.convert`.

``load_supernet(ckpt_path) -> TrainedSupernet``
    The trained supernet with its dataset: ``.evaluate(arch, split)`` gives the inherited
    accuracy (extract + BN recalibration + score), ``.extract(arch)`` the static module.

``train_supernet(TrainConfig, run_dir)``
    Sandwich-rule training with in-place distillation, resumable (see :mod:`.train`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from hilnas.data import ImageDataset, calibration_set, heldout_set, load_dataset
from hilnas.errors import ConfigError
from hilnas.space import Arch, SearchSpace, get_space, load_arch
from hilnas.supernet.supernet import Supernet, accuracy, evaluate_arch, recalibrate_bn
from hilnas.supernet.train import TrainConfig, train_supernet


@dataclass
class TrainedSupernet:
    """A supernet checkpoint together with the dataset it was trained on."""

    supernet: Supernet
    data: ImageDataset
    config: TrainConfig

    @property
    def space(self) -> SearchSpace:
        return self.supernet.space

    def extract(self, arch: Arch, recalibrate: bool = True) -> nn.Module:
        sub = self.supernet.extract(self.space.validate(arch))
        if recalibrate:
            recalibrate_bn(sub, self.data, self.space.resolution(arch))
        return sub.eval()

    def evaluate(self, arch: Arch, split: str = "val") -> float:
        """Inherited top-1 accuracy in [0, 1] (``val`` for search, ``test`` for reports)."""
        return evaluate_arch(self.supernet, self.space.validate(arch), self.data, split)


def load_supernet(ckpt_path: Path) -> TrainedSupernet:
    ckpt_path = Path(ckpt_path)
    if not ckpt_path.is_file():
        raise ConfigError(f"{ckpt_path}: supernet checkpoint does not exist")
    try:
        state = torch.load(ckpt_path, map_location="cpu", weights_only=False)
        cfg = TrainConfig(**state["config"])
        model_state = state["model"]
    except Exception as exc:  # torch.load raises many types on a corrupt file
        raise ConfigError(f"{ckpt_path}: not a hilnas supernet checkpoint ({exc})") from None
    space = get_space(cfg.space)
    data = load_dataset(cfg.data, cfg.data_path, max(space.knob("resolution").choices), cfg.seed)
    supernet = Supernet(space)
    supernet.load_state_dict(model_state)
    return TrainedSupernet(supernet.eval(), data, cfg)


@dataclass
class LoadedSubnet:
    """One member ready for conversion: static module, input shape and its data sets."""

    module: nn.Module
    input_shape: tuple[int, ...]
    calib: np.ndarray
    heldout: np.ndarray
    arch: Arch
    dataset: str


def load_subnet(arch_json_path: Path, ckpt_path: Path, calib_size: int = 64) -> LoadedSubnet:
    """Static subnet with inherited, BN-recalibrated weights plus calibration/held-out sets."""
    space, arch = load_arch(Path(arch_json_path))
    trained = load_supernet(ckpt_path)
    if trained.space.name != space.name:
        raise ConfigError(
            f"{arch_json_path} is a {space.name!r} architecture but {ckpt_path} is a "
            f"{trained.space.name!r} supernet"
        )
    res = space.resolution(arch)
    return LoadedSubnet(
        module=trained.extract(arch),
        input_shape=space.input_shape(arch),
        calib=calibration_set(trained.data, res, calib_size, trained.config.seed),
        heldout=heldout_set(trained.data, res),
        arch=arch,
        dataset=trained.config.data,
    )


__all__ = [
    "LoadedSubnet",
    "Supernet",
    "TrainConfig",
    "TrainedSupernet",
    "accuracy",
    "evaluate_arch",
    "load_subnet",
    "load_supernet",
    "recalibrate_bn",
    "train_supernet",
]
