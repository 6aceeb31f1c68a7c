"""ViT-ResNAS space: a multi-stage ViT with residual spatial reduction between stages.

Liao (2021): shorter token sequences in later stages, each reduction carrying a residual
shortcut, searched per stage over depth, embedding width, heads and MLP ratio. Here tokens
are the pixels of an NCHW map (so every layer is a 1x1 conv, BATCH_MATMUL or SOFTMAX on
TFLM), the patch embedding is a 4x4/stride-4 conv, positions come from a depthwise-conv
positional encoding (resolution-free, no learned table to resize), attention is global
(patch 1) and normalisation is BatchNorm folded into the projections.
"""

from __future__ import annotations

from collections.abc import Sequence

from hilnas.space.base import Arch, BlockSpec, Knob, SearchSpace
from hilnas.space.geometry import conv_out
from hilnas.space.hybrid import attention_spec, head_spec, stem_spec

PATCH = 4


class VitResNASSpace(SearchSpace):
    """Three transformer stages separated by residual 2x spatial reductions."""

    name = "vit-resnas"
    WIDTHS: tuple[tuple[int, ...], ...] = ((16, 24, 32), (32, 48, 64), (48, 64, 96))

    def __init__(
        self, resolutions: Sequence[int] = (32, 48), num_classes: int = 10, in_channels: int = 3
    ) -> None:
        self.resolutions = tuple(resolutions)
        super().__init__(num_classes, in_channels)

    def _knobs(self) -> list[Knob]:
        knobs = [Knob("resolution", self.resolutions)]
        for i, widths in enumerate(self.WIDTHS, start=1):
            knobs += [
                Knob(f"s{i}.depth", (1, 2, 3)),
                Knob(f"s{i}.width", widths),
                Knob(f"s{i}.heads", (1, 2, 4)),
                Knob(f"s{i}.mlp", (1.0, 2.0, 3.0)),
            ]
        return knobs

    def _blocks(self, arch: Arch) -> list[BlockSpec]:
        r = self.resolution(arch)
        blocks = [stem_spec(r, self.in_channels, int(arch["s1.width"]), PATCH, PATCH)]
        hwc = blocks[0].output_hwc
        for i in range(1, len(self.WIDTHS) + 1):
            width = int(arch[f"s{i}.width"])
            if i > 1:
                out = (conv_out(hwc[0], 3, 2), conv_out(hwc[1], 3, 2), width)
                blocks.append(BlockSpec("reduce", f"s{i}reduce", hwc, out, (("stride", 2),)))
                hwc = out
            blocks.append(BlockSpec("posconv", f"s{i}pos", hwc, hwc, (("kernel", 3),)))
            heads, mlp = int(arch[f"s{i}.heads"]), float(arch[f"s{i}.mlp"])
            for j in range(int(arch[f"s{i}.depth"])):
                blocks.append(attention_spec(f"s{i}b{j}", hwc, heads, mlp, 1))
        blocks.append(head_spec(hwc, self.num_classes))
        return blocks
