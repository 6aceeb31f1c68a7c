"""HyT-NAS hybrid space: MobileNetV2 conv stages, then MobileViT-style attention stages.

Five stages as in HyT-NAS's released encoding (DESIGN.md §1): stages 1-2 are MV2 blocks
(depth, expand ratio, channels), stages 3-5 open with a strided MV2 block (its expand ratio
is the stage's "expand" knob) followed by attention blocks (depth, channel growth, heads,
FFN ratio, patch size). Scaled to microcontroller inputs: channels start at 8-16 and grow
by x1-x2, and "patch size" is the key/value pooling window (1, 2 or 4 pixels) — the
MobileViT unfold would need 6-D transposes, which neither onnx2tf nor TFLM handle well,
whereas pooling keeps the same cost trade-off (tokens per attention fall with p²) in
AVERAGE_POOL_2D. Widths are multiples of 8 so every head count (1, 2, 4) divides them.
"""

from __future__ import annotations

from collections.abc import Sequence

from hilnas.space.base import Arch, BlockSpec, Knob, SearchSpace
from hilnas.space.blocks import conv_out


def make_divisible(value: float, divisor: int = 8) -> int:
    """Round a channel count to the nearest multiple of ``divisor`` (never below it)."""
    return max(divisor, int(value / divisor + 0.5) * divisor)


def mbconv_spec(
    name: str, hwc: tuple[int, int, int], cout: int, expand: float, k: int, stride: int
) -> BlockSpec:
    h, w, cin = hwc
    out = (conv_out(h, k, stride), conv_out(w, k, stride), cout)
    hidden = make_divisible(cin * expand)
    return BlockSpec(
        "mbconv", name, hwc, out, (("expand", hidden), ("kernel", k), ("stride", stride))
    )


def attention_spec(
    name: str, hwc: tuple[int, int, int], heads: int, ffn: float, patch: int
) -> BlockSpec:
    hidden = make_divisible(hwc[2] * ffn)
    # Keep at least 2x2 pooled key/value tokens: a softmax over one key is a constant and
    # litert-torch lowers that degenerate case without a SOFTMAX op (REDUCE_MAX etc.).
    patch = min(patch, max(1, min(hwc[0], hwc[1]) // 2))
    params = (("heads", heads), ("ffn", hidden), ("patch", patch))
    return BlockSpec("attention", name, hwc, hwc, params)


def head_spec(hwc: tuple[int, int, int], classes: int) -> BlockSpec:
    return BlockSpec("head", "head", hwc, (1, 1, classes), (("classes", classes),))


class HybridSpace(SearchSpace):
    """HyT-NAS (MobileViT-like) hybrid conv + attention space."""

    name = "hybrid"
    #: (stride, is_attention) of the five stages; the stem has stride 2.
    STAGES: tuple[tuple[int, bool], ...] = ((1, False), (2, False), (2, True), (1, True), (2, True))

    def __init__(
        self,
        resolutions: Sequence[int] = (32, 40, 48),
        num_classes: int = 10,
        in_channels: int = 3,
    ) -> None:
        self.resolutions = tuple(resolutions)
        super().__init__(num_classes, in_channels)

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
        widths = [int(arch["s1.channels"])]
        for i in range(2, len(self.STAGES) + 1):
            widths.append(make_divisible(widths[-1] * float(arch[f"s{i}.growth"])))
        return widths

    def _blocks(self, arch: Arch) -> list[BlockSpec]:
        r = self.resolution(arch)
        widths = self.stage_channels(arch)
        stem_out = (conv_out(r, 3, 2), conv_out(r, 3, 2), widths[0])
        blocks = [
            BlockSpec(
                "conv", "stem", (r, r, self.in_channels), stem_out, (("kernel", 3), ("stride", 2))
            )
        ]
        hwc = stem_out
        for i, ((stride, attn), cout) in enumerate(zip(self.STAGES, widths, strict=True), start=1):
            depth, expand = int(arch[f"s{i}.depth"]), float(arch[f"s{i}.expand"])
            if attn:
                blocks.append(mbconv_spec(f"s{i}down", hwc, cout, expand, 3, stride))
                hwc = blocks[-1].output_hwc
                heads, ffn, patch = (
                    int(arch[f"s{i}.heads"]),
                    float(arch[f"s{i}.ffn"]),
                    int(arch[f"s{i}.patch"]),
                )
                for j in range(depth):
                    blocks.append(attention_spec(f"s{i}b{j}", hwc, heads, ffn, patch))
            else:
                for j in range(depth):
                    blocks.append(
                        mbconv_spec(f"s{i}b{j}", hwc, cout, expand, 3, stride if j == 0 else 1)
                    )
                    hwc = blocks[-1].output_hwc
        blocks.append(head_spec(hwc, self.num_classes))
        return blocks
