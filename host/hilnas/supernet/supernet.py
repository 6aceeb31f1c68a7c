"""The weight-sharing supernet of a space (Once-for-All) and subnet extraction.

The supernet is the largest member of its space built from the same static blocks as every
subnet; :meth:`Supernet.forward` runs any member on its weights through the elastic
functions in :mod:`hilnas.supernet.layers`. :meth:`Supernet.extract` copies the inherited
weights into a fresh static network of the member (leading channels, centre kernel taps,
first blocks of each stage), so the result is a plain ``nn.Sequential`` of conv/BN/linear
layers that runs and converts without any supernet code. :func:`recalibrate_bn` then
re-estimates its BatchNorm statistics on a few training batches.
"""

from __future__ import annotations

import torch
from torch import nn

from hilnas.data.base import ImageDataset, resize
from hilnas.errors import SpaceError
from hilnas.space.base import Arch, SearchSpace
from hilnas.supernet.layers import ELASTIC


class Supernet(nn.Module):
    """Shared weights of every member of ``space`` (the largest network's parameters)."""

    def __init__(self, space: SearchSpace) -> None:
        super().__init__()
        self.space = space
        self.net = space.build(space.largest())

    def forward(self, x: torch.Tensor, arch: Arch) -> torch.Tensor:
        """Run member ``arch`` on ``x`` (already at the member's resolution)."""
        for spec in self.space.blocks(arch):
            x = ELASTIC[spec.kind](self.net.get_submodule(spec.name), x, spec)
        return x

    def extract(self, arch: Arch) -> nn.Sequential:
        """A standalone static network of ``arch`` carrying the inherited weights."""
        sub = self.space.build(arch)
        source = self.net.state_dict()
        target = sub.state_dict()
        for key, dst in target.items():
            if key not in source:
                raise SpaceError(f"supernet has no weight {key!r} for {self.space.name} member")
            target[key] = slice_like(source[key], dst.shape)
        sub.load_state_dict(target)
        return sub


def slice_like(src: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """Leading slice of ``src`` in every dim, centre crop in the kernel dims of 4-D weights."""
    index: list[slice] = []
    for dim, (big, small) in enumerate(zip(src.shape, shape, strict=True)):
        if small > big:
            raise SpaceError(f"cannot slice {tuple(src.shape)} to {tuple(shape)}")
        start = (big - small) // 2 if src.ndim == 4 and dim >= 2 else 0
        index.append(slice(start, start + small))
    return src[tuple(index)].clone()


@torch.no_grad()
def recalibrate_bn(
    model: nn.Module,
    data: ImageDataset,
    resolution: int,
    batches: int = 8,
    batch_size: int = 128,
    seed: int = 0,
) -> nn.Module:
    """Re-estimate BatchNorm running statistics of ``model`` on training images (OFA)."""
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None  # cumulative average over the calibration batches
    model.train()
    gen = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(data.train_x), generator=gen)
    device = next(model.parameters()).device
    for i in range(batches):
        idx = order[i * batch_size : (i + 1) * batch_size]
        if len(idx) == 0:
            break
        model(resize(data.train_x[idx], resolution).to(device))
    for bn in bns:
        bn.momentum = 0.1
    return model.eval()


@torch.no_grad()
def accuracy(
    model: nn.Module,
    data: ImageDataset,
    resolution: int,
    split: str = "test",
    batch_size: int = 256,
) -> float:
    """Top-1 accuracy of a static model on a split, in [0, 1]."""
    model.eval()
    x, y = data.split(split)
    device = next(model.parameters()).device
    correct = 0
    for i in range(0, len(x), batch_size):
        logits = model(resize(x[i : i + batch_size], resolution).to(device))
        correct += int((logits.argmax(1).cpu() == y[i : i + batch_size]).sum())
    return correct / max(1, len(x))


def evaluate_arch(supernet: Supernet, arch: Arch, data: ImageDataset, split: str = "val") -> float:
    """Supernet-inherited accuracy of ``arch``: extract, recalibrate BN, score."""
    res = supernet.space.resolution(arch)
    sub = recalibrate_bn(supernet.extract(arch), data, res)
    return accuracy(sub, data, res, split)
