"""Flash anchors: a space's smallest members, converted whole, in the flash fit.

Why: chains are packed as full as the engine's op limit allows (fewer conversions), so
every chain of a space has about the same op, tensor and quantization-table counts
(cnn: 117-196 ops), while members are much smaller (cnn: 34-76 ops). The least-squares
part of the flash model (:mod:`hilnas.lut.flash`: intercept + per op + per tensor + per
table) was then extrapolated far below the data it was fitted on: on 30 cnn members it
under-predicted every one, by up to 1.04 % (the smallest). The smallest member at each
resolution, converted once (cached like every conversion) and sized by its lean copy,
pins the low end; with three of them the same members stay within 0.2 %. No board time:
flash is the file's size.

Random members (:data:`RANDOM_PER_RESOLUTION` at each resolution, seeded) join them
because chains can also differ from members in *mix*: ``hybrid-unfold`` chains are
packed with unfold/fold reshapes and transposes in proportions no member has, and their
op and tensor counts move together, so the fit traded bytes per op against bytes per
tensor (56 B/op and 12 B/tensor, where the format needs >= 20 B a tensor): 30 random
members were predicted up to 1.2 % high. Members in the fit break that tie.

Anchors are added only to a complete table (a build cut short by ``--limit`` or failed
chains has none) and recomputed on every build from the conversion cache.
"""

from __future__ import annotations

import random
from typing import Any

from hilnas.lut.members import convert_members, flash_sample, parse_chain_lean
from hilnas.lut.predict import Predictor

#: Weights seed of anchor members (apart from validation's seeds 0..N-1).
ANCHOR_SEED = 7919


#: Seeded random members per resolution, beside the smallest (see the module doc).
RANDOM_PER_RESOLUTION = 2


def anchor_members(space: Any, random_per_resolution: int = RANDOM_PER_RESOLUTION
                   ) -> list[Any]:
    """The smallest member at each of the space's resolutions (one if it has no such knob),
    then ``random_per_resolution`` seeded random members at each."""
    rng = random.Random(ANCHOR_SEED)
    smallest = space.smallest()
    knob = next((k for k in space.knobs if k.name == "resolution"), None)
    resolutions = [None] if knob is None else list(knob.choices)
    fixed = [smallest if r is None else space.make({**smallest.values, "resolution": r})
             for r in resolutions]
    drawn = [space.sample(rng) for _ in range(random_per_resolution * len(resolutions))]
    at = [r for r in resolutions for _ in range(random_per_resolution)]
    return fixed + [a if r is None else space.make({**a.values, "resolution": r})
                    for a, r in zip(drawn, at, strict=True)]


def anchor_samples(pred: Predictor, jobs: int = 1) -> list[dict[str, Any]]:
    """One flash sample per anchor member (:func:`hilnas.lut.members.flash_sample`), with
    its arch."""
    members = anchor_members(pred.space)
    paths = convert_members(pred, members, ANCHOR_SEED, None, jobs)
    out = []
    for arch, path in zip(members, paths, strict=True):
        parsed = parse_chain_lean(path, pred.table.meta["op_data_sizes"])
        out.append({"arch": arch.to_json(), "sample": flash_sample(parsed)})
    return out
