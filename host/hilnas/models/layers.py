"""Building blocks of the reference models, chosen so that they lower to TFLM int8 ops.

Why these shapes (FACTS §2-3):

* stride-2 convolutions pad right/bottom only (:class:`ConvBNAct` with ``stride=2``), which
  is exactly TensorFlow's ``SAME`` padding for even inputs, so the converted graph has no
  extra PAD op setting the arena peak;
* activations are Hardswish (HARD_SWISH kernel) or tanh-approximate GELU, never exact GELU;
* attention blocks normalise with BatchNorm, which folds into the neighbouring layers
  instead of lowering to RSQRT (the worst int8 error source of LayerNorm).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def make_act(name: str) -> nn.Module:
    """Return an activation that has an int8 TFLM kernel (no exact GELU)."""
    if name == "hswish":
        return nn.Hardswish()
    if name == "relu6":
        return nn.ReLU6()
    if name == "relu":
        return nn.ReLU()
    if name == "gelu_tanh":
        return nn.GELU(approximate="tanh")
    if name == "identity":
        return nn.Identity()
    raise ValueError(f"unknown activation {name!r}; use hswish, relu6, relu, gelu_tanh")


class ConvBNAct(nn.Module):
    """Conv2d + BatchNorm2d + activation with TF-``SAME``-compatible padding.

    Stride 1 uses symmetric padding ``k // 2`` (SAME for odd k). Stride 2 pads only the
    right and bottom edge by ``k - 2`` (SAME for even input sizes), so onnx2tf and
    litert-torch both produce a bare CONV_2D / DEPTHWISE_CONV_2D without a PAD op.
    """

    def __init__(
        self, cin: int, cout: int, k: int = 3, stride: int = 1, groups: int = 1, act: str = "hswish"
    ) -> None:
        super().__init__()
        self.stride = stride
        self.k = k
        pad = k // 2 if stride == 1 else 0
        self.conv = nn.Conv2d(cin, cout, k, stride, pad, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.act = make_act(act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 2 and self.k > 1:
            extra = self.k - 2
            x = F.pad(x, (0, extra, 0, extra))
        return self.act(self.bn(self.conv(x)))


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1x1 expand, kxk depthwise, 1x1 project; residual when shapes match."""

    def __init__(
        self, cin: int, cout: int, stride: int = 1, expand: int = 4, k: int = 3, act: str = "hswish"
    ) -> None:
        super().__init__()
        hidden = cin * expand
        layers: list[nn.Module] = []
        if expand != 1:
            layers.append(ConvBNAct(cin, hidden, 1, act=act))
        layers.append(ConvBNAct(hidden, hidden, k, stride, groups=hidden, act=act))
        layers.append(ConvBNAct(hidden, cout, 1, act="identity"))
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return x + y if self.residual else y


class TokenBatchNorm(nn.BatchNorm1d):
    """BatchNorm over the feature axis of ``(B, N, D)`` tokens.

    Flattening to ``(B*N, D)`` lets the stock batch-norm op normalise the last axis without
    the two transposes ``nn.BatchNorm1d`` would need; in eval mode it is a per-feature
    affine map that converters fold into MUL/ADD or the next FULLY_CONNECTED.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        return super().forward(x.reshape(b * n, d)).reshape(b, n, d)


class Attention(nn.Module):
    """Multi-head self-attention on ``(B, N, D)`` tokens with separate ``nn.Linear`` q/k/v.

    Separate projections (rather than one fused qkv split three ways) lower to plain
    FULLY_CONNECTED ops; a fused qkv would need GATHER or SPLIT, which our engine lacks.
    """

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"attention dim {dim} is not divisible by {heads} heads")
        self.heads = heads
        self.head_dim = dim // heads
        self.scale = self.head_dim**-0.5
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.proj = nn.Linear(dim, dim)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        b, n, _ = x.shape
        return x.reshape(b, n, self.heads, self.head_dim).transpose(1, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        q = self._heads(self.q(x) * self.scale)
        k = self._heads(self.k(x))
        v = self._heads(self.v(x))
        attn = torch.softmax(q @ k.transpose(-2, -1), dim=-1)
        y = (attn @ v).transpose(1, 2).reshape(b, n, d)
        return self.proj(y)


class TransformerLayer(nn.Module):
    """Pre-norm transformer layer with BatchNorm instead of LayerNorm (see module doc)."""

    def __init__(self, dim: int, heads: int, ffn_ratio: float = 2.0, act: str = "hswish") -> None:
        super().__init__()
        hidden = int(dim * ffn_ratio)
        self.norm1 = TokenBatchNorm(dim)
        self.attn = Attention(dim, heads)
        self.norm2 = TokenBatchNorm(dim)
        self.ffn = nn.Sequential(nn.Linear(dim, hidden), make_act(act), nn.Linear(hidden, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.ffn(self.norm2(x))


class MobileViTBlock(nn.Module):
    """MobileViT-style block: local conv, global attention over pixels, fuse with the input.

    Tokens are the pixels of the feature map taken channels-last
    (``permute(0, 2, 3, 1).reshape(b, h * w, d)``) rather than the common
    ``flatten(2).transpose(1, 2)``: the values are identical, but on the NHWC tensors the
    converted graph works with the permute is a no-op, which halves the TRANSPOSE ops of the
    reference hybrid (16 -> 8). The block keeps the channel width and the spatial size.
    """

    def __init__(
        self, channels: int, dim: int, depth: int = 1, heads: int = 2,
        ffn_ratio: float = 2.0, act: str = "hswish",
    ) -> None:
        super().__init__()
        self.local = nn.Sequential(
            ConvBNAct(channels, channels, 3, groups=channels, act=act),
            ConvBNAct(channels, dim, 1, act="identity"),
        )
        self.layers = nn.Sequential(
            *[TransformerLayer(dim, heads, ffn_ratio, act) for _ in range(depth)]
        )
        self.project = ConvBNAct(dim, channels, 1, act=act)
        self.fuse = ConvBNAct(2 * channels, channels, 1, act=act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape
        y = self.local(x)
        d = y.shape[1]
        tokens = self.layers(y.permute(0, 2, 3, 1).reshape(b, h * w, d))
        y = tokens.reshape(b, h, w, d).permute(0, 3, 1, 2)
        return self.fuse(torch.cat([x, self.project(y)], dim=1))
