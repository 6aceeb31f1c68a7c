"""Elastic forward passes over the static max-size blocks of :mod:`hilnas.space.blocks`.

The supernet *is* the largest network of its space; these functions run any smaller member
on its weights by slicing: leading output/input channels (OFA width), the centre of a
larger kernel (OFA elastic kernel), the first ``depth`` blocks of a stage (they are simply
not called), heads via a reshape. BatchNorm uses batch statistics while training; the
running statistics of an extracted subnet are recalibrated afterwards (OFA), because shared
running statistics are wrong for every subnet but one.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from hilnas.space.base import BlockSpec
from hilnas.space.blocks import (
    AttentionBlock,
    ConvBN,
    Head,
    MBConv,
    PosConv,
    Reduce,
    attention_core,
    same_pad,
    unfold_attention_core,
)


def conv_bn(m: ConvBN, x: torch.Tensor, cout: int, k: int | None = None) -> torch.Tensor:
    """ConvBN on the first ``cout`` filters, the input's channels and the centre k x k taps."""
    cin = x.shape[1]
    depthwise = m.conv.groups > 1
    weight = m.conv.weight[:cout] if depthwise else m.conv.weight[:cout, :cin]
    k = k or m.k
    big = weight.shape[-1]
    if k < big:
        start = (big - k) // 2
        weight = weight[:, :, start : start + k, start : start + k]
    if m.stride > 1 and k > m.stride:
        x = F.pad(x, same_pad(k, m.stride, x.shape[2], x.shape[3]))
        pad = 0
    else:
        pad = k // 2 if m.stride == 1 else 0
    y = F.conv2d(x, weight, None, m.stride, pad, groups=cout if depthwise else 1)
    y = F.batch_norm(y, None, None, m.bn.weight[:cout], m.bn.bias[:cout], True, 0.0, m.bn.eps)
    return m.act(y)


def elastic_conv(m: nn.Module, x: torch.Tensor, spec: BlockSpec) -> torch.Tensor:
    assert isinstance(m, ConvBN)
    return conv_bn(m, x, spec.output_hwc[2], spec.param("kernel"))


def elastic_mbconv(m: nn.Module, x: torch.Tensor, spec: BlockSpec) -> torch.Tensor:
    assert isinstance(m, MBConv)
    hidden, k, cout = spec.param("expand"), spec.param("kernel"), spec.output_hwc[2]
    y = conv_bn(m.expand, x, hidden)
    y = conv_bn(m.dw, y, hidden, k)
    y = conv_bn(m.project, y, cout)
    residual = spec.param("stride") == 1 and x.shape[1] == cout
    return x + y if residual else y


def elastic_attention(m: nn.Module, x: torch.Tensor, spec: BlockSpec) -> torch.Tensor:
    """Pooled or unfold attention (the spec's ``unfold`` param) on the leading channels:
    both variants use the same q/k/v/proj/FFN weights, only the token grouping differs."""
    assert isinstance(m, AttentionBlock)
    c, p, heads = x.shape[1], spec.param("patch"), spec.param("heads")
    if dict(spec.params).get("unfold", 0):
        q, k, v = conv_bn(m.q, x, c), conv_bn(m.k, x, c), conv_bn(m.v, x, c)
        y = unfold_attention_core(q, k, v, heads, p)
    else:
        kv = F.avg_pool2d(x, p, p) if p > 1 else x
        q, k, v = conv_bn(m.q, x, c), conv_bn(m.k, kv, c), conv_bn(m.v, kv, c)
        y = attention_core(q, k, v, heads)
    x = x + conv_bn(m.proj, y, c)
    return x + conv_bn(m.ffn2, conv_bn(m.ffn1, x, spec.param("ffn")), c)


def elastic_posconv(m: nn.Module, x: torch.Tensor, spec: BlockSpec) -> torch.Tensor:
    assert isinstance(m, PosConv)
    return x + conv_bn(m.dw, x, x.shape[1])


def elastic_reduce(m: nn.Module, x: torch.Tensor, spec: BlockSpec) -> torch.Tensor:
    assert isinstance(m, Reduce)
    cout = spec.output_hwc[2]
    return conv_bn(m.main, x, cout) + conv_bn(m.skip, x, cout)


def elastic_head(m: nn.Module, x: torch.Tensor, spec: BlockSpec) -> torch.Tensor:
    assert isinstance(m, Head)
    return F.linear(x.mean(dim=(2, 3)), m.fc.weight[:, : x.shape[1]], m.fc.bias)


ELASTIC: dict[str, Callable[[nn.Module, torch.Tensor, BlockSpec], torch.Tensor]] = {
    "conv": elastic_conv,
    "mbconv": elastic_mbconv,
    "attention": elastic_attention,
    "posconv": elastic_posconv,
    "reduce": elastic_reduce,
    "head": elastic_head,
}
