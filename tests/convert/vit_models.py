"""Vision transformers written the way public PyTorch code writes them (issue #10).

Nothing here is shaped for the converter: einops ``rearrange``/``Rearrange`` patch
unfold and fold, ``view``/``permute``, ``flatten(2).transpose(1, 2)``,
``nn.MultiheadAttention``, ``F.scaled_dot_product_attention``, ``nn.LayerNorm``, a
``dim_head ** -0.5`` python-float scale and (tanh or exact) GELU. Widths are small so that
a real conversion takes seconds; :func:`mobilevit_xxs` has MobileViT-XXS's widths for the
benchmark.
"""

from __future__ import annotations

import torch
from einops import rearrange
from einops.layers.torch import Rearrange
from torch import nn
from torch.nn import functional as F


def _seeded(model: nn.Module, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.Conv2d | nn.Linear):
            nn.init.kaiming_normal_(m.weight)
            if m.bias is not None:
                nn.init.normal_(m.bias, std=0.05)
        if isinstance(m, nn.LayerNorm | nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.1)
            nn.init.normal_(m.bias, 0.0, 0.1)
    return model.eval()


class Attention(nn.Module):
    """lucidrains-style attention: one qkv Linear, chunk, rearrange heads, python scale."""

    def __init__(self, dim: int, heads: int, dim_head: int) -> None:
        super().__init__()
        inner = heads * dim_head
        self.heads = heads
        self.scale = dim_head ** -0.5
        self.to_qkv = nn.Linear(dim, inner * 3, bias=False)
        self.to_out = nn.Linear(inner, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        qkv = self.to_qkv(x).chunk(3, dim=-1)
        q, k, v = (rearrange(t, "b p n (h d) -> b p h n d", h=self.heads) for t in qkv)
        attn = (q @ k.transpose(-1, -2) * self.scale).softmax(dim=-1)
        out = rearrange(attn @ v, "b p h n d -> b p n (h d)")
        return self.to_out(out)


class FeedForward(nn.Sequential):
    def __init__(self, dim: int, hidden: int, gelu: str) -> None:
        super().__init__(nn.Linear(dim, hidden), nn.GELU(approximate=gelu), nn.Linear(hidden, dim))


class Transformer(nn.Module):
    """Pre-norm blocks over ``b p n d`` tokens (p: pixel within patch, as in MobileViT)."""

    def __init__(self, dim: int, depth: int, heads: int, dim_head: int, mlp: int,
                 gelu: str) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            nn.ModuleList([nn.LayerNorm(dim), Attention(dim, heads, dim_head),
                           nn.LayerNorm(dim), FeedForward(dim, mlp, gelu)])
            for _ in range(depth))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for ln1, attn, ln2, ff in self.layers:
            x = x + attn(ln1(x))
            x = x + ff(ln2(x))
        return x


def _conv_bn(c_in: int, c_out: int, k: int = 3, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, k, stride, k // 2, bias=False),
                         nn.BatchNorm2d(c_out), nn.SiLU())


class MobileViTBlock(nn.Module):
    """MobileViT's block with the einops unfold/fold of the public implementation."""

    def __init__(self, channels: int, dim: int, depth: int, patch: int, mlp: int,
                 gelu: str = "tanh", unfold: str = "einops") -> None:
        super().__init__()
        self.ph = self.pw = patch
        self.unfold = unfold
        self.local = nn.Sequential(_conv_bn(channels, channels), _conv_bn(channels, dim, 1))
        self.transformer = Transformer(dim, depth, 4, 8, mlp, gelu)
        self.proj = _conv_bn(dim, channels, 1)
        self.fuse = _conv_bn(2 * channels, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.local(x)
        _, _, h, w = y.shape
        if self.unfold == "einops":
            y = rearrange(y, "b d (h ph) (w pw) -> b (ph pw) (h w) d", ph=self.ph, pw=self.pw)
            y = self.transformer(y)
            y = rearrange(y, "b (ph pw) (h w) d -> b d (h ph) (w pw)",
                          h=h // self.ph, w=w // self.pw, ph=self.ph, pw=self.pw)
        else:  # the same unfold with view/permute
            b, d = y.shape[:2]
            nh, nw = h // self.ph, w // self.pw
            y = y.view(b, d, nh, self.ph, nw, self.pw).permute(0, 3, 5, 2, 4, 1)
            y = self.transformer(y.reshape(b, self.ph * self.pw, nh * nw, d))
            y = y.view(b, self.ph, self.pw, nh, nw, d).permute(0, 5, 3, 1, 4, 2)
            y = y.reshape(b, d, h, w)
        return self.fuse(torch.cat([x, self.proj(y)], dim=1))


class MobileViT(nn.Module):
    """Stem, a stride-2 stage, one MobileViT block per listed stage, pooled linear head."""

    def __init__(self, channels: tuple[int, ...], dims: tuple[int, ...], depths: tuple[int, ...],
                 classes: int = 10, gelu: str = "tanh", unfold: str = "einops",
                 conv_stages: tuple[int, ...] = ()) -> None:
        super().__init__()
        layers: list[nn.Module] = [_conv_bn(3, channels[0], 3, 2)]
        c_prev = channels[0]
        for c in conv_stages:
            layers.append(_conv_bn(c_prev, c, 3, 2))
            c_prev = c
        for c, d, n in zip(channels[1:], dims, depths, strict=True):
            layers += [_conv_bn(c_prev, c, 3, 2),
                       MobileViTBlock(c, d, n, 2, 2 * d, gelu, unfold)]
            c_prev = c
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(c_prev, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x).mean(dim=(2, 3)))


class PlainViT(nn.Module):
    """lucidrains' simple ViT: Rearrange patch embedding, LayerNorm, 4 heads, cls pooling."""

    def __init__(self, image: int = 32, patch: int = 8, dim: int = 32, depth: int = 1,
                 gelu: str = "tanh", classes: int = 10) -> None:
        super().__init__()
        n = (image // patch) ** 2
        self.to_patch = nn.Sequential(
            Rearrange("b c (h p1) (w p2) -> b (h w) (p1 p2 c)", p1=patch, p2=patch),
            nn.LayerNorm(patch * patch * 3), nn.Linear(patch * patch * 3, dim),
            nn.LayerNorm(dim))
        self.pos = nn.Parameter(torch.randn(1, n, dim) * 0.1)
        self.transformer = Transformer(dim, depth, 4, dim // 4, 2 * dim, gelu)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = self.to_patch(x) + self.pos
        t = self.transformer(t.unsqueeze(1)).squeeze(1)
        return self.head(self.norm(t).mean(dim=1))


class TorchAttentionViT(nn.Module):
    """Conv stem, ``flatten(2).transpose(1, 2)`` tokens, nn.MultiheadAttention or SDPA."""

    def __init__(self, dim: int = 32, heads: int = 4, attention: str = "mha") -> None:
        super().__init__()
        self.heads = heads
        self.attention = attention
        self.stem = nn.Sequential(_conv_bn(3, 16, 3, 2), _conv_bn(16, dim, 3, 2))
        self.norm = nn.LayerNorm(dim)
        self.mha = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.mlp = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, 2 * dim),
                                 nn.GELU(approximate="tanh"), nn.Linear(2 * dim, dim))
        self.head = nn.Linear(dim, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = self.stem(x).flatten(2).transpose(1, 2)
        u = self.norm(t)
        if self.attention == "mha":
            a = self.mha(u, u, u, need_weights=False)[0]
        else:
            b, n, d = u.shape
            q, k, v = self.qkv(u).view(b, n, 3, self.heads, d // self.heads).permute(
                2, 0, 3, 1, 4)
            a = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, n, d)
        t = t + a
        t = t + self.mlp(t)
        return self.head(t.mean(dim=1))


def mobilevit_einops() -> nn.Module:
    return _seeded(MobileViT((8, 16), (24,), (1,)))


def mobilevit_view_permute() -> nn.Module:
    return _seeded(MobileViT((8, 16), (24,), (1,), unfold="view"))


def plain_vit_tanh() -> nn.Module:
    return _seeded(PlainViT(gelu="tanh"))


def plain_vit_exact() -> nn.Module:
    return _seeded(PlainViT(gelu="none"))


def mha_vit() -> nn.Module:
    return _seeded(TorchAttentionViT(attention="mha"))


def sdpa_vit() -> nn.Module:
    return _seeded(TorchAttentionViT(attention="sdpa"))


def mobilevit_xxs() -> nn.Module:
    """MobileViT-XXS widths (channels 16-24-48-64-80, d 64/80/96, depths 2/4/3), for the
    conversion-time benchmark at 128x128 (MV2 blocks simplified to strided convs)."""
    return _seeded(MobileViT((16, 48, 64, 80), (64, 80, 96), (2, 4, 3), conv_stages=(24,)))


def mobilevit_deep() -> nn.Module:
    """Narrow but deep (6 transformer layers): more ops than the firmware default of 256."""
    return _seeded(MobileViT((8, 16), (16,), (6,)))
