"""Block geometry without torch: output sizes, TF-SAME padding, analytic parameter counts.

The search, the latency tables and the CLI ask these questions hundreds of thousands of
times, so they must not build an ``nn.Module`` per question (that measured 58 counts/s on
``hybrid``) or even import torch. The torch modules in :mod:`hilnas.space.blocks` use the
same padding rule from here, and a test checks :func:`block_param_count` against
``sum(p.numel())`` of the built modules over seeded members of every space.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from hilnas.errors import SpaceError

if TYPE_CHECKING:
    from hilnas.space.base import BlockSpec


def same_total(size: int, k: int, stride: int) -> int:
    """Total padding TensorFlow ``SAME`` adds along one axis."""
    return max((-(-size // stride) - 1) * stride + k - size, 0)


def same_pad(k: int, stride: int, h: int, w: int) -> tuple[int, int, int, int]:
    """F.pad amounts (left, right, top, bottom) reproducing TF ``SAME`` exactly.

    The extra row/column goes bottom/right as in TensorFlow, so converters map the
    padded conv onto a ``SAME`` conv; the output is ``ceil(size / stride)``.
    """
    th, tw = same_total(h, k, stride), same_total(w, k, stride)
    return (tw // 2, tw - tw // 2, th // 2, th - th // 2)


def conv_out(size: int, k: int, stride: int) -> int:
    """Spatial output size of a ``ConvBN`` (TF SAME: ceil(size / stride))."""
    if stride == 1:
        return size
    if k <= stride:
        return (size - k) // stride + 1
    return -(-size // stride)


def conv_bn_params(cin: int, cout: int, k: int = 1, depthwise: bool = False) -> int:
    """Conv2d without bias plus BatchNorm's scale and shift (running stats are buffers)."""
    per_filter = k * k if depthwise else cin * k * k
    return cout * per_filter + 2 * cout


def _conv(cin: int, cout: int, p: dict[str, int]) -> int:
    return conv_bn_params(cin, cout, p["kernel"])


def _mbconv(cin: int, cout: int, p: dict[str, int]) -> int:
    hidden = p["expand"]
    return (conv_bn_params(cin, hidden) + conv_bn_params(hidden, hidden, p["kernel"], True)
            + conv_bn_params(hidden, cout))


def _attention(c: int, _: int, p: dict[str, int]) -> int:
    qkv_proj = 4 * conv_bn_params(c, c)
    return qkv_proj + conv_bn_params(c, p["ffn"]) + conv_bn_params(p["ffn"], c)


def _posconv(c: int, _: int, p: dict[str, int]) -> int:
    return conv_bn_params(c, c, p.get("kernel", 3), depthwise=True)


def _reduce(cin: int, cout: int, _: dict[str, int]) -> int:
    return conv_bn_params(cin, cout, 3) + conv_bn_params(cin, cout, 1)


def _head(cin: int, classes: int, _: dict[str, int]) -> int:
    return cin * classes + classes  # nn.Linear with bias


#: Parameter count of each block kind from (input channels, output channels, params);
#: mirrors the module constructors of hilnas.space.blocks.make_block.
_PARAMS: dict[str, Callable[[int, int, dict[str, int]], int]] = {
    "conv": _conv,
    "mbconv": _mbconv,
    "attention": _attention,
    "posconv": _posconv,
    "reduce": _reduce,
    "head": _head,
}


def block_param_count(spec: BlockSpec) -> int:
    """Trainable parameters of one :class:`~hilnas.space.base.BlockSpec`'s module."""
    count = _PARAMS.get(spec.kind)
    if count is None:
        raise SpaceError(f"block {spec.name}: unknown kind {spec.kind!r}")
    return count(spec.input_hwc[2], spec.output_hwc[2], dict(spec.params))


def param_count(blocks: Iterable[BlockSpec]) -> int:
    """Trainable parameters of a network made of ``blocks`` (~ its int8 flash bytes)."""
    return sum(block_param_count(b) for b in blocks)
