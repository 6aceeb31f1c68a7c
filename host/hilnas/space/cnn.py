"""MCUNet-style MBConv baseline space, to compare hybrids with CNNs under the same budgets.

TinyNAS/OFA knobs: per block kernel (3/5/7) and expand ratio (3/4/6), per stage depth and
width. Per-block knobs of blocks beyond a stage's depth do not change the network; they are
declared with ``active_if`` so :meth:`SearchSpace.size` counts distinct networks only.
"""

from __future__ import annotations

from collections.abc import Sequence

from hilnas.space.base import Arch, BlockSpec, Knob, SearchSpace
from hilnas.space.blocks import conv_out
from hilnas.space.hybrid import head_spec, mbconv_spec

MAX_DEPTH = 3


class CnnSpace(SearchSpace):
    """Stem conv, four MBConv stages (strides 1, 2, 2, 1), pooled linear head."""

    name = "cnn"
    STAGES: tuple[tuple[int, tuple[int, ...]], ...] = (
        (1, (8, 12, 16)),
        (2, (16, 24, 32)),
        (2, (24, 32, 48)),
        (1, (32, 48, 64)),
    )

    def __init__(
        self,
        resolutions: Sequence[int] = (32, 40, 48),
        num_classes: int = 10,
        in_channels: int = 3,
    ) -> None:
        self.resolutions = tuple(resolutions)
        super().__init__(num_classes, in_channels)

    def _knobs(self) -> list[Knob]:
        knobs = [Knob("resolution", self.resolutions), Knob("stem.width", (8, 12, 16))]
        for i, (_, widths) in enumerate(self.STAGES, start=1):
            knobs += [Knob(f"s{i}.depth", (1, 2, 3)), Knob(f"s{i}.width", widths)]
            for j in range(MAX_DEPTH):
                gate = (f"s{i}.depth", j + 1)
                knobs += [
                    Knob(f"s{i}b{j}.kernel", (3, 5, 7), active_if=gate),
                    Knob(f"s{i}b{j}.expand", (3, 4, 6), active_if=gate),
                ]
        return knobs

    def _blocks(self, arch: Arch) -> list[BlockSpec]:
        r = self.resolution(arch)
        stem = int(arch["stem.width"])
        hwc = (conv_out(r, 3, 2), conv_out(r, 3, 2), stem)
        blocks = [
            BlockSpec("conv", "stem", (r, r, self.in_channels), hwc, (("kernel", 3), ("stride", 2)))
        ]
        for i, (stride, _) in enumerate(self.STAGES, start=1):
            width = int(arch[f"s{i}.width"])
            for j in range(int(arch[f"s{i}.depth"])):
                k, e = int(arch[f"s{i}b{j}.kernel"]), int(arch[f"s{i}b{j}.expand"])
                blocks.append(mbconv_spec(f"s{i}b{j}", hwc, width, e, k, stride if j == 0 else 1))
                hwc = blocks[-1].output_hwc
        blocks.append(head_spec(hwc, self.num_classes))
        return blocks
