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

Anchors are added only to a complete table (a build cut short by ``--limit`` or failed
chains has none) and recomputed on every build from the conversion cache.
"""

from __future__ import annotations

from typing import Any

from hilnas.lut.members import convert_members, flash_sample, parse_chain_lean
from hilnas.lut.predict import Predictor

#: Weights seed of anchor members (apart from validation's seeds 0..N-1).
ANCHOR_SEED = 7919


def anchor_members(space: Any) -> list[Any]:
    """The smallest member at each of the space's resolutions (one if it has no such knob)."""
    smallest = space.smallest()
    knob = next((k for k in space.knobs if k.name == "resolution"), None)
    if knob is None:
        return [smallest]
    return [space.make({**smallest.values, "resolution": r}) for r in knob.choices]


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
