"""Small user-style models for the converter tests (loaded as ``file.py:factory``).

They are written with ordinary PyTorch idioms on purpose: the converter must cope with
what users bring, and fail with a specific message on what TFLM cannot run.
"""

from __future__ import annotations

import torch
from torch import nn


def _seeded(model: nn.Module, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.Conv2d | nn.Linear):
            nn.init.kaiming_normal_(m.weight)
    return model.eval()


class TinyCnn(nn.Module):
    """Two convs, global pool, linear head: converts fast, used for CLI round trips."""

    def __init__(self, act: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.act = act if act is not None else nn.ReLU()
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.fc = nn.Linear(16, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(self.conv2(self.act(self.conv1(x))))
        return self.fc(x.mean(dim=(2, 3)))


class TokenViT(nn.Module):
    """FACTS §3's user hybrid: flatten(2).transpose(1, 2) tokens from a 40x12x12 map,
    nn.Linear q/k/v, softmax attention, mean-pooled tokens."""

    def __init__(self, dim: int = 40) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, dim, 3, stride=2, padding=1)
        self.q, self.k, self.v = nn.Linear(dim, dim), nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.out = nn.Linear(dim, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = torch.relu(self.stem(x)).flatten(2).transpose(1, 2)
        a = torch.softmax(self.q(t) @ self.k(t).transpose(1, 2) / 40**0.5, dim=-1)
        return self.out((a @ self.v(t)).mean(dim=1))


class ExactGeluFunctional(TinyCnn):
    """Exact GELU through the functional API (no nn.GELU module to spot)."""

    def __init__(self) -> None:
        super().__init__(act=nn.Identity())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = nn.functional.gelu(self.conv1(x))
        return self.fc(self.conv2(x).mean(dim=(2, 3)))


class HandWrittenLayerNorm(nn.Module):
    """LayerNorm the textbook way (sqrt and a division): lowers to float-only SQRT/DIV."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.fc = nn.Linear(8, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = self.conv(x).flatten(2).transpose(1, 2)
        mu = t.mean(dim=-1, keepdim=True)
        var = ((t - mu) ** 2).mean(dim=-1, keepdim=True)
        t = (t - mu) / torch.sqrt(var + 1e-5)
        return self.fc(t.mean(dim=1))


class CallCounter(TinyCnn):
    """Adds how often forward ran: the traced graph freezes one count, eager moves on.

    A genuine float disagreement between the exported model and PyTorch, the kind the
    float-agreement check exists to catch.
    """

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return super().forward(x) + float(self.calls)


class DataDependentShape(TinyCnn):
    """Keeps only positive activations (torch.nonzero): the output shape depends on data."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv1(x).flatten()
        return y[torch.nonzero(y > 0).flatten()].sum().reshape(1, 1)


def tiny_cnn() -> nn.Module:
    return _seeded(TinyCnn())


def token_vit() -> nn.Module:
    return _seeded(TokenViT())


def exact_gelu_module() -> nn.Module:
    return _seeded(TinyCnn(act=nn.GELU()))


def exact_gelu_functional() -> nn.Module:
    return _seeded(ExactGeluFunctional())


def layernorm_float_ops() -> nn.Module:
    return _seeded(HandWrittenLayerNorm())


def call_counter() -> nn.Module:
    return _seeded(CallCounter())


def data_dependent_shape() -> nn.Module:
    return _seeded(DataDependentShape())


class WideCnn(nn.Module):
    """~57 K parameters at 16x16: enough weights that flatbuffer overhead is measurable
    against them (the lean-flatbuffer bound), still a few seconds per route."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(),
            nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(),
        )
        self.fc = nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.body(x).mean(dim=(2, 3)))


def wide_cnn() -> nn.Module:
    return _seeded(WideCnn())
