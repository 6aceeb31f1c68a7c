"""Static PyTorch blocks that every space is made of, all int8-TFLM-friendly by construction.

Why these shapes (FACTS §2-3):

* Convolutions with stride > 1 pad exactly like TensorFlow ``SAME`` (extra row/column at
  the bottom/right), so converters emit a bare CONV_2D without a PAD op raising the arena peak.
* Activations are Hardswish (HARD_SWISH kernel); exact GELU has no int8 TFLM kernel.
* Attention normalises with BatchNorm folded into the q/k/v/proj 1x1 convolutions (no
  LayerNorm, hence no RSQRT/SQRT/DIV), works on NCHW maps with 1x1 convs instead of
  ``nn.Linear`` on flattened tokens. The "patch size" knob makes attention cost fall with
  p²: either keys/values are reduced with an average pool (AVERAGE_POOL_2D), or tokens are
  grouped by MobileViT's unfold (a rank-7 reshape/permute that the converter lowers to
  rank <= 5 TRANSPOSE ops) — see :mod:`hilnas.space.hybrid`.
* Heads only change a reshape, so elastic heads share every weight.

Geometry (output sizes, padding, parameter counts) lives torch-free in
:mod:`hilnas.space.geometry`; :meth:`SearchSpace.build` imports this module lazily, so
``import hilnas.space`` never imports torch. Modules here are plain ``nn`` layers with
fixed sizes: an extracted subnet is one of these networks and needs no supernet code to
run or convert. Parameter names follow the block names of
:class:`~hilnas.space.base.BlockSpec`, which is how the supernet hands weights over.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

from hilnas.errors import SpaceError
from hilnas.space.base import BlockSpec
from hilnas.space.geometry import same_pad


class ConvBN(nn.Module):
    """Conv2d (no bias) + BatchNorm2d + optional Hardswish, with TF-SAME padding."""

    def __init__(
        self,
        cin: int,
        cout: int,
        k: int = 1,
        stride: int = 1,
        depthwise: bool = False,
        act: bool = True,
    ) -> None:
        super().__init__()
        self.k, self.stride = k, stride
        groups = cin if depthwise else 1
        pad = k // 2 if stride == 1 else 0
        self.conv = nn.Conv2d(cin, cout, k, stride, pad, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.act = nn.Hardswish() if act else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride > 1 and self.k > self.stride:
            x = F.pad(x, same_pad(self.k, self.stride, x.shape[2], x.shape[3]))
        return self.act(self.bn(self.conv(x)))


def zero_init_branch(last: ConvBN) -> None:
    """Start a residual branch at zero (its last BN scale = 0), so every block begins as the
    identity (Goyal et al. 2017; BigNAS). Measured on digits: the smallest hybrid member
    reaches 78% instead of 34% after 5 epochs, and in a supernet a member that skips blocks
    stays close to one that runs them, which is what makes elastic depth share well."""
    nn.init.zeros_(last.bn.weight)


class MBConv(nn.Module):
    """Inverted residual (MobileNetV2/MCUNet): 1x1 expand, kxk depthwise, 1x1 project."""

    def __init__(self, cin: int, cout: int, hidden: int, k: int, stride: int) -> None:
        super().__init__()
        self.expand = ConvBN(cin, hidden, 1)
        self.dw = ConvBN(hidden, hidden, k, stride, depthwise=True)
        self.project = ConvBN(hidden, cout, 1, act=False)
        self.residual = stride == 1 and cin == cout
        if self.residual:
            zero_init_branch(self.project)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.project(self.dw(self.expand(x)))
        return x + y if self.residual else y


def attention_core(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, heads: int) -> torch.Tensor:
    """Multi-head attention between NCHW maps: queries at every pixel, keys/values pooled.

    Shapes stay 4-D (B, heads, head_dim, tokens) so the converted graph is RESHAPE,
    BATCH_MATMUL, SOFTMAX and TRANSPOSE only.
    """
    b, c, h, w = q.shape
    m = k.shape[2] * k.shape[3]
    dh = c // heads
    qt = q.reshape(b, heads, dh, h * w).transpose(2, 3)  # B, heads, N, dh
    kt = k.reshape(b, heads, dh, m)  # B, heads, dh, M
    vt = v.reshape(b, heads, dh, m).transpose(2, 3)  # B, heads, M, dh
    attn = torch.softmax(torch.matmul(qt * dh**-0.5, kt), dim=-1)  # B, heads, N, M
    out = torch.matmul(attn, vt)  # B, heads, N, dh
    return out.transpose(2, 3).reshape(b, c, h, w)


def unfold_attention_core(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, heads: int, patch: int
) -> torch.Tensor:
    """MobileViT's unfold attention between NCHW maps (Mehta & Rastegari 2022).

    Pixel (i, j) attends to every pixel with the same (i mod p, j mod p): the map is cut
    into p x p patches, tokens are grouped by their position inside the patch, and each of
    the heads * p² groups of (H/p)(W/p) tokens runs full attention. Written as the usual
    reshape -> permute (rank 7) -> reshape, which the converter lowers to rank <= 5
    TRANSPOSE ops; keys are permuted straight into (dh, tokens) order so q @ k needs no
    extra transpose. ``patch`` must divide H and W; p = 1 is :func:`attention_core`.
    """
    if patch == 1:
        return attention_core(q, k, v, heads)
    b, c, h, w = q.shape
    if h % patch or w % patch:
        raise SpaceError(f"unfold patch {patch} does not divide the {h}x{w} attention map")
    p, dh = patch, c // heads
    nh, nw = h // p, w // p
    groups, n = heads * p * p, nh * nw

    def patches(t: torch.Tensor) -> torch.Tensor:  # B, heads, dh, H/p, p, W/p, p
        return t.reshape(b, heads, dh, nh, p, nw, p)

    qt = patches(q).permute(0, 1, 4, 6, 3, 5, 2).reshape(b, groups, n, dh)
    kt = patches(k).permute(0, 1, 4, 6, 2, 3, 5).reshape(b, groups, dh, n)
    vt = patches(v).permute(0, 1, 4, 6, 3, 5, 2).reshape(b, groups, n, dh)
    attn = torch.softmax(torch.matmul(qt * dh**-0.5, kt), dim=-1)  # B, groups, n, n
    out = torch.matmul(attn, vt).reshape(b, heads, p, p, nh, nw, dh)
    return out.permute(0, 1, 6, 4, 2, 5, 3).reshape(b, c, h, w)  # fold back


class AttentionBlock(nn.Module):
    """Transformer block on a feature map: multi-head attention (pooled keys/values, or
    MobileViT's unfold when ``unfold``), then a 1x1-conv FFN. Both variants have the same
    modules, so their parameter names and shapes are the same."""

    def __init__(self, c: int, heads: int, hidden: int, patch: int, unfold: bool = False) -> None:
        super().__init__()
        if c % heads:
            raise SpaceError(f"attention width {c} is not divisible by {heads} heads")
        self.heads, self.patch, self.unfold = heads, patch, unfold
        self.q = ConvBN(c, c, 1, act=False)
        self.k = ConvBN(c, c, 1, act=False)
        self.v = ConvBN(c, c, 1, act=False)
        self.proj = ConvBN(c, c, 1, act=False)
        self.ffn1 = ConvBN(c, hidden, 1)
        self.ffn2 = ConvBN(hidden, c, 1, act=False)
        zero_init_branch(self.proj)
        zero_init_branch(self.ffn2)

    def pooled(self, x: torch.Tensor) -> torch.Tensor:
        p = min(self.patch, x.shape[2], x.shape[3])
        return F.avg_pool2d(x, p, p) if p > 1 else x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.unfold:
            y = unfold_attention_core(self.q(x), self.k(x), self.v(x), self.heads, self.patch)
        else:
            kv = self.pooled(x)
            y = attention_core(self.q(x), self.k(kv), self.v(kv), self.heads)
        x = x + self.proj(y)
        return x + self.ffn2(self.ffn1(x))


class PosConv(nn.Module):
    """Conditional positional encoding (depthwise 3x3 residual): works at any resolution."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.dw = ConvBN(c, c, 3, depthwise=True, act=False)
        zero_init_branch(self.dw)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.dw(x)


class Reduce(nn.Module):
    """ViT-ResNAS residual spatial reduction: strided 3x3 conv plus a strided 1x1 shortcut."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.main = ConvBN(cin, cout, 3, 2, act=False)
        self.skip = ConvBN(cin, cout, 1, 2, act=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x) + self.skip(x)


class Head(nn.Module):
    """Global average pool (MEAN) + FULLY_CONNECTED classifier."""

    def __init__(self, cin: int, classes: int) -> None:
        super().__init__()
        self.fc = nn.Linear(cin, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x.mean(dim=(2, 3)))


def make_block(spec: BlockSpec) -> nn.Module:
    """The static module for one BlockSpec (shapes from the spec, settings from its params)."""
    cin, cout = spec.input_hwc[2], spec.output_hwc[2]
    p = dict(spec.params)
    if spec.kind == "conv":
        return ConvBN(cin, cout, p["kernel"], p["stride"])
    if spec.kind == "mbconv":
        return MBConv(cin, cout, p["expand"], p["kernel"], p["stride"])
    if spec.kind == "attention":
        return AttentionBlock(cin, p["heads"], p["ffn"], p["patch"], bool(p.get("unfold", 0)))
    if spec.kind == "posconv":
        return PosConv(cin)
    if spec.kind == "reduce":
        return Reduce(cin, cout)
    if spec.kind == "head":
        return Head(cin, cout)
    raise SpaceError(f"block {spec.name}: unknown kind {spec.kind!r}")


def build_network(blocks: list[BlockSpec]) -> nn.Sequential:
    """A plain nn.Sequential whose child names are the block names."""
    return nn.Sequential(OrderedDict((b.name, make_block(b)) for b in blocks))

