"""Which blocks a space can contain: every distinct signature, at every resolution.

Spaces are declarative (knobs -> blocks), and a block's signature depends on only a few
knobs, so uniform sampling reaches every signature quickly; sampling stops once
``patience`` samples in a row brought nothing new (hybrid: 1,560 signatures, saturated
after ~60,000 samples, a few seconds). Each knob's every choice is also forced once on
top of a random member, so rare corners are not left to chance. A signature the build
missed is still caught at prediction time (:class:`~hilnas.lut.table.LutMissError`).
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the predictor imports this module; keep it free of the space's imports
    from hilnas.space.base import BlockSpec, SearchSpace

DEFAULT_PATIENCE = 40_000
MAX_SAMPLES = 1_000_000


def enumerate_blocks(space: SearchSpace, seed: int = 0, patience: int = DEFAULT_PATIENCE,
                     max_samples: int = MAX_SAMPLES) -> dict[str, BlockSpec]:
    """signature -> BlockSpec for every block any member of ``space`` contains."""
    rng = random.Random(seed)
    found: dict[str, BlockSpec] = {}

    def add(arch: object) -> bool:
        new = False
        for b in space.blocks(arch):  # type: ignore[arg-type]
            key = b.signature()
            if key not in found:
                found[key] = b
                new = True
        return new

    for knob in space.knobs:
        for value in knob.choices:
            base = dict(space.sample(rng).values)
            base[knob.name] = value
            add(space.make(base))
    quiet = 0
    for _ in range(max_samples):
        quiet = 0 if add(space.sample(rng)) else quiet + 1
        if quiet >= patience:
            break
    return dict(sorted(found.items()))


def _without(spec: BlockSpec, param: str) -> str:
    h, w, c = spec.input_hwc
    ho, wo, co = spec.output_hwc
    parts = [spec.kind, f"input:{h}x{w}x{c}", f"output:{ho}x{wo}x{co}"]
    parts += [f"{k}:{v}" for k, v in spec.params if k != param]
    return "-".join(parts)


def entry_keys(spec: BlockSpec) -> list[str]:
    """Table keys a block is predicted from.

    An attention block is two entries: its attention part (shapes, heads, patch) and its
    FFN (shapes, hidden width). Each part's ops depend only on its own settings, so
    measuring every (heads, patch) once and every FFN width once per shape covers all
    combinations: a third of the conversions of one entry per signature.
    """
    if spec.kind == "attention" and any(k == "ffn" for k, _ in spec.params):
        h, w, c = spec.input_hwc
        return [_without(spec, "ffn"), f"ffn-input:{h}x{w}x{c}-hidden:{spec.param('ffn')}"]
    return [spec.signature()]


def blocks_to_measure(blocks: dict[str, BlockSpec], have: set[str]) -> list[BlockSpec]:
    """A small set of blocks whose entries cover every key not in ``have``.

    Blocks are grouped by their first key; each uncovered group sends one variant,
    preferring one whose other keys (an FFN width) are still uncovered too.
    """
    covered = set(have)
    groups: dict[str, list[BlockSpec]] = {}
    for spec in blocks.values():
        groups.setdefault(entry_keys(spec)[0], []).append(spec)
    chosen: list[BlockSpec] = []
    for first, variants in groups.items():
        if first in covered:
            continue
        best = max(variants, key=lambda b: sum(k not in covered for k in entry_keys(b)))
        chosen.append(best)
        covered.update(entry_keys(best))
    for spec in blocks.values():  # parts no chosen block brought
        keys = entry_keys(spec)
        if any(k not in covered for k in keys):
            chosen.append(spec)
            covered.update(keys)
    return chosen
