"""HyT-NAS hybrid space: MobileNetV2 conv stages, then MobileViT-style attention stages.

Five stages as in HyT-NAS's released encoding (FACTS §1): stages 1-2 are MV2 blocks
(depth, expand ratio, channels), stages 3-5 open with a strided MV2 block (its expand ratio
is the stage's "expand" knob) followed by attention blocks (depth, channel growth, heads,
FFN ratio, patch size). Scaled to microcontroller inputs: channels start at 8-16 and grow
by x1-x2. Widths are multiples of 8 so every head count (1, 2, 4) divides them.

The "patch" knob (1, 2 or 4 pixels) trades attention cost for reach in one of two ways,
fixed per space by ``patch_op``:

* ``"pool"`` (``hybrid``, ``hybrid-vww``): keys/values are average-pooled over p x p
  windows (AVERAGE_POOL_2D), queries stay at every pixel. This was the only variant while
  the converter could not lower rank > 5 transposes; its block signatures, module names and
  converted graphs are frozen, because shipped tables and checkpoints are keyed on them.
* ``"unfold"`` (``hybrid-unfold``): MobileViT's unfold (Mehta & Rastegari 2022): pixel
  (i, j) attends to every pixel with the same (i mod p, j mod p), i.e. tokens are grouped
  by their position inside the p x p patch and each group of (H/p)(W/p) tokens runs full
  multi-head attention. The rank-7 reshape/permute pair is lowered to rank <= 5 TRANSPOSE
  ops by the converter (hilnas.convert.rewrites). Its attention BlockSpecs carry an extra
  ``("unfold", 1)`` param, so their table keys never collide with the pooled ones.

Both variants cost the same in attention matmuls (N x N/p² pooled, p² groups of (N/p²)²
unfolded) and share every weight shape, so one set of weights runs either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from hilnas.errors import SpaceError
from hilnas.space.base import Arch, BlockSpec, Knob, SearchSpace
from hilnas.space.geometry import conv_out


def make_divisible(value: float, divisor: int = 8) -> int:
    """Round a channel count to the nearest multiple of ``divisor`` (never below it)."""
    return max(divisor, int(value / divisor + 0.5) * divisor)


#: The spec constructors are memoised: a space has a few thousand distinct blocks, and
#: reusing their (immutable) BlockSpec objects reuses each one's cached parameter count,
#: which is what makes SearchSpace.param_count fast enough for a search.
_SPEC_CACHE = 65536


@lru_cache(maxsize=_SPEC_CACHE)
def mbconv_spec(
    name: str, hwc: tuple[int, int, int], cout: int, expand: float, k: int, stride: int
) -> BlockSpec:
    h, w, cin = hwc
    out = (conv_out(h, k, stride), conv_out(w, k, stride), cout)
    hidden = make_divisible(cin * expand)
    return BlockSpec(
        "mbconv", name, hwc, out, (("expand", hidden), ("kernel", k), ("stride", stride))
    )


@lru_cache(maxsize=_SPEC_CACHE)
def attention_spec(
    name: str, hwc: tuple[int, int, int], heads: int, ffn: float, patch: int,
    patch_op: str = "pool",
) -> BlockSpec:
    hidden = make_divisible(hwc[2] * ffn)
    if patch_op == "unfold":
        params = (("heads", heads), ("ffn", hidden), ("patch", unfold_patch(hwc, patch)),
                  ("unfold", 1))
        return BlockSpec("attention", name, hwc, hwc, params)
    # Keep at least 2x2 pooled key/value tokens: a softmax over one key is a constant and
    # litert-torch lowers that degenerate case without a SOFTMAX op (REDUCE_MAX etc.).
    patch = min(patch, max(1, min(hwc[0], hwc[1]) // 2))
    params = (("heads", heads), ("ffn", hidden), ("patch", patch))
    return BlockSpec("attention", name, hwc, hwc, params)


def unfold_patch(hwc: tuple[int, int, int], patch: int) -> int:
    """The patch an unfold block really uses on an H x W map for the knob value ``patch``.

    The largest p <= ``patch`` that divides both H and W and leaves at least 2 x 2 tokens
    per group (H/p >= 2 and W/p >= 2); p = 1 (always allowed) is plain full attention.
    Why: the unfold needs whole patches (MobileViT resizes the map instead, which would add
    a RESIZE op and change the features), and a group of one token makes a softmax over
    one key, a constant that litert-torch lowers without a SOFTMAX op. On this space's
    maps (stride 8 and 16): 32 px -> 4x4 maps use p in {1, 2, 2} for the knob (1, 2, 4)
    and 2x2 maps p = 1; 48 px -> 6x6 maps {1, 2, 3}, 3x3 maps 1; 40 px -> 5x5 and 3x3
    maps are full attention whatever the knob (no divisor leaves 2x2 tokens).
    """
    h, w = hwc[0], hwc[1]
    for p in range(patch, 1, -1):
        if h % p == 0 and w % p == 0 and h // p >= 2 and w // p >= 2:
            return p
    return 1


@lru_cache(maxsize=_SPEC_CACHE)
def stem_spec(resolution: int, cin: int, cout: int, k: int, stride: int) -> BlockSpec:
    """The stem convolution on the ``resolution`` x ``resolution`` input."""
    side = conv_out(resolution, k, stride)
    return BlockSpec("conv", "stem", (resolution, resolution, cin), (side, side, cout),
                     (("kernel", k), ("stride", stride)))


@lru_cache(maxsize=_SPEC_CACHE)
def head_spec(hwc: tuple[int, int, int], classes: int) -> BlockSpec:
    return BlockSpec("head", "head", hwc, (1, 1, classes), (("classes", classes),))


class HybridSpace(SearchSpace):
    """HyT-NAS (MobileViT-like) hybrid conv + attention space.

    ``patch_op`` picks what the patch knob does: ``"pool"`` (key/value pooling, the
    default and the ``hybrid`` space) or ``"unfold"`` (MobileViT's unfold); see the module
    docstring. Knobs and weight shapes are the same for both.
    """

    PATCH_OPS = ("pool", "unfold")

    name = "hybrid"
    #: (stride, is_attention) of the five stages; the stem has stride 2.
    STAGES: tuple[tuple[int, bool], ...] = ((1, False), (2, False), (2, True), (1, True), (2, True))

    def __init__(
        self,
        resolutions: Sequence[int] = (32, 40, 48),
        num_classes: int = 10,
        in_channels: int = 3,
        patch_op: str = "pool",
    ) -> None:
        if patch_op not in self.PATCH_OPS:
            raise SpaceError(f"patch_op {patch_op!r} is not one of {list(self.PATCH_OPS)}")
        self.resolutions = tuple(resolutions)
        self.patch_op = patch_op
        super().__init__(num_classes, in_channels)
        #: Knob names per stage, spelled once (unrolling runs once per candidate).
        self._stage_knobs = tuple(
            (f"s{i}.depth", f"s{i}.expand", f"s{i}.heads", f"s{i}.ffn", f"s{i}.patch")
            for i in range(1, len(self.STAGES) + 1)
        )
        self._growth_knobs = tuple(f"s{i}.growth" for i in range(2, len(self.STAGES) + 1))

    def _knobs(self) -> list[Knob]:
        knobs = [Knob("resolution", self.resolutions)]
        for i, (_, attn) in enumerate(self.STAGES, start=1):
            knobs.append(Knob(f"s{i}.depth", (1, 2, 3)))
            knobs.append(Knob(f"s{i}.expand", (1, 2, 4)))
            if i == 1:
                knobs.append(Knob("s1.channels", (8, 12, 16)))
            else:
                growth = (1.0, 1.5, 2.0) if i <= 3 else (1.0, 1.25, 1.5)
                knobs.append(Knob(f"s{i}.growth", growth))
            if attn:
                knobs.append(Knob(f"s{i}.heads", (1, 2, 4)))
                knobs.append(Knob(f"s{i}.ffn", (1.0, 1.5, 2.0)))
                knobs.append(Knob(f"s{i}.patch", (1, 2, 4)))
        return knobs

    def stage_channels(self, arch: Arch) -> list[int]:
        v = arch.values
        return list(_widths(int(v["s1.channels"]), tuple(v[g] for g in self._growth_knobs)))

    def _blocks(self, arch: Arch) -> list[BlockSpec]:
        v = arch.values
        widths = self.stage_channels(arch)
        blocks = [stem_spec(self.resolution(arch), self.in_channels, widths[0], 3, 2)]
        stages = zip(self.STAGES, widths, self._stage_knobs, strict=True)
        for i, ((stride, attn), cout, names) in enumerate(stages, start=1):
            depth, expand, heads, ffn, patch = names
            attention = (int(v[heads]), float(v[ffn]), int(v[patch])) if attn else None
            blocks += _stage_blocks(i, blocks[-1].output_hwc, cout, stride, int(v[depth]),
                                    float(v[expand]), attention, self.patch_op)
        blocks.append(head_spec(blocks[-1].output_hwc, self.num_classes))
        return blocks


@lru_cache(maxsize=_SPEC_CACHE)
def _widths(first: int, growths: tuple[float, ...]) -> tuple[int, ...]:
    """Stage widths: ``first``, then each grown by its factor (multiples of 8)."""
    widths = [first]
    for growth in growths:
        widths.append(make_divisible(widths[-1] * float(growth)))
    return tuple(widths)


@lru_cache(maxsize=4 * _SPEC_CACHE)
def _stage_blocks(
    i: int, hwc: tuple[int, int, int], cout: int, stride: int, depth: int, expand: float,
    attention: tuple[int, float, int] | None, patch_op: str = "pool",
) -> tuple[BlockSpec, ...]:
    """Stage ``i``: MV2 blocks, or a strided MV2 block then ``depth`` attention blocks
    (``attention`` = heads, FFN ratio, patch; ``patch_op`` = "pool" or "unfold")."""
    names = block_names(i, depth)
    if attention is None:
        blocks = []
        for j, name in enumerate(names):
            blocks.append(mbconv_spec(name, hwc, cout, expand, 3, stride if j == 0 else 1))
            hwc = blocks[-1].output_hwc
        return tuple(blocks)
    down = mbconv_spec(f"s{i}down", hwc, cout, expand, 3, stride)
    heads, ffn, patch = attention
    return (down, *(attention_spec(name, down.output_hwc, heads, ffn, patch, patch_op)
                    for name in names))


@lru_cache(maxsize=256)
def block_names(stage: int, depth: int) -> tuple[str, ...]:
    """``s{stage}b0`` ... (module names shared by the static model and the supernet)."""
    return tuple(f"s{stage}b{j}" for j in range(depth))
