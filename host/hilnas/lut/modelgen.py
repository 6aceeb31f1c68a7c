"""Torch models the LUT builder converts: measurement chains and validation members.

A measurement model is a chain of table entries whose shapes connect, with cheap
adapters (a 1x1 ConvBN, stride 1 or 2, no activation) where they do not. Every child is
named (``e<k>`` for entries, ``a<k>`` for adapters) so the converter's tensor names say
which block an op came from (:mod:`hilnas.lut.attribute`). Members and measurement
models get the same weight treatment (random BN affine terms, so no branch is a
constant zero that a converter could fold away), hence the same converted op sequences.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from hilnas.convert.routes import get_route
from hilnas.space.base import BlockSpec
from hilnas.space.blocks import ConvBN, make_block
from hilnas.space.geometry import conv_out

CALIB_SAMPLES = 8


class Adapter(nn.Module):
    """1x1 ConvBN (stride 1 or 2), then zero padding up to ``size`` when the next block
    needs a larger map than the chain has reached (a strided block is followed by
    another one at the same input size). Its ops are the adapter's, never a block's."""

    def __init__(self, cin: int, cout: int, stride: int, size: int | None = None) -> None:
        super().__init__()
        self.conv = ConvBN(cin, cout, 1, stride, act=False)
        self.size = size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        if self.size is not None and self.size > y.shape[2]:
            grow = self.size - y.shape[2]
            y = F.pad(y, (0, grow, 0, grow))
        return y


def adapters_between(
    src: tuple[int, int, int], dst: tuple[int, int, int]
) -> list[tuple[int, int, int, int | None]]:
    """(cin, cout, stride, pad_to) adapters turning ``src`` into ``dst``.

    Strided 1x1 convs shrink the map while it is at least twice the target; one adapter
    changes the channels; zero padding grows a map that is smaller than the target.
    """
    if src == dst:
        return []
    h, _, c = src
    steps: list[tuple[int, int, int, int | None]] = []
    while conv_out(h, 1, 2) >= dst[0] and h > dst[0]:
        steps.append((c, dst[2], 2, None))
        h, c = conv_out(h, 1, 2), dst[2]
    if h != dst[0] or not steps:
        steps.append((c, dst[2], 1, dst[0] if h < dst[0] else None))
    return steps


def randomize_bn(model: nn.Module, seed: int) -> nn.Module:
    """Give every BatchNorm non-degenerate affine terms and statistics."""
    gen = torch.Generator().manual_seed(seed)
    for mod in model.modules():
        if isinstance(mod, nn.BatchNorm2d):
            n = mod.num_features
            mod.weight.data = torch.rand(n, generator=gen) + 0.5
            mod.bias.data = torch.rand(n, generator=gen) * 0.2 - 0.1
            mod.running_mean.data = torch.rand(n, generator=gen) * 0.2 - 0.1
            mod.running_var.data = torch.rand(n, generator=gen) + 0.5
    return model.eval()


def chain_model(chain: list[BlockSpec], seed: int = 0) -> tuple[nn.Module, list[str]]:
    """nn.Sequential of ``chain`` (adapters inserted); returns it and the entry child names."""
    torch.manual_seed(seed)
    children: list[tuple[str, nn.Module]] = []
    names: list[str] = []
    prev: tuple[int, int, int] | None = None
    n_adapt = 0
    for k, spec in enumerate(chain):
        if prev is not None:
            steps = adapters_between(prev, spec.input_hwc)
            for cin, cout, stride, pad_to in steps:
                children.append((f"a{n_adapt}", Adapter(cin, cout, stride, pad_to)))
                n_adapt += 1
        children.append((f"e{k}", make_block(spec)))
        names.append(f"e{k}")
        prev = spec.output_hwc
    return randomize_bn(nn.Sequential(OrderedDict(children)), seed), names


def calibration(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform(-1.0, 1.0, (CALIB_SAMPLES, *shape[1:])).astype(np.float32)


def convert_plain(model: nn.Module, shape: tuple[int, ...], route: str, out: Path,
                  seed: int = 0) -> bytes:
    """Float export + int8 quantization on ``route``, without the pipeline's checks.

    Measurement models only need the op sequence the route produces; the checks (float
    agreement, TFLM run, int8 quality) would double the build time and prove nothing
    about latency. Members in validation go through the same function, so both sides
    see the same converter code.
    """
    r = get_route(route)
    calib = calibration(shape, seed)
    try:
        fm = r.export_float(model, torch.from_numpy(calib[:1].copy()))
        data = r.quantize(fm, calib)
    finally:
        r.release()
    from hilnas.fileio import atomic_write_bytes

    atomic_write_bytes(out, data)
    return data
