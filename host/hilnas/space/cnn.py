"""MCUNet-style MBConv baseline space, to compare hybrids with CNNs under the same budgets.

TinyNAS/OFA knobs: per block kernel (3/5/7) and expand ratio (3/4/6), per stage depth and
width. Per-block knobs of blocks beyond a stage's depth do not change the network; they are
declared with ``active_if`` so :meth:`SearchSpace.size` counts distinct networks only.
"""

from __future__ import annotations

from collections.abc import Sequence

from hilnas.space.base import Arch, BlockSpec, Knob, SearchSpace
from hilnas.space.hybrid import block_names, head_spec, mbconv_spec, stem_spec

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
        #: (width, depth, [(kernel, expand) per block]) knob names, spelled once.
        self._stage_knobs = tuple(
            (f"s{i}.width", f"s{i}.depth",
             tuple((f"s{i}b{j}.kernel", f"s{i}b{j}.expand") for j in range(MAX_DEPTH)))
            for i in range(1, len(self.STAGES) + 1)
        )

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
        v = arch.values
        blocks = [stem_spec(self.resolution(arch), self.in_channels, int(v["stem.width"]), 3, 2)]
        stages = zip(self.STAGES, self._stage_knobs, strict=True)
        for i, ((stride, _), (width, depth, per_block)) in enumerate(stages, start=1):
            names = block_names(i, int(v[depth]))
            for j, (name, (kernel, expand)) in enumerate(zip(names, per_block, strict=False)):
                blocks.append(mbconv_spec(name, blocks[-1].output_hwc, int(v[width]),
                                          int(v[expand]), int(v[kernel]), stride if j == 0 else 1))
        blocks.append(head_spec(blocks[-1].output_hwc, self.num_classes))
        return blocks
