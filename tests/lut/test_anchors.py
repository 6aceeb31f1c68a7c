"""Flash anchors: which members pin the flash fit's low end, and that the fit uses them."""

from __future__ import annotations

import numpy as np
from hilnas.lut.anchors import RANDOM_PER_RESOLUTION, anchor_members
from hilnas.lut.flash import LEAN_MODEL, model_bytes, zp1_bytes
from hilnas.lut.predict import fit_flash
from hilnas.lut.table import LutTable
from hilnas.space import get_space


def test_anchors_are_the_smallest_member_and_seeded_random_ones_at_every_resolution() -> None:
    for name in ("hybrid", "cnn", "vit-resnas"):
        space = get_space(name)
        members = anchor_members(space)
        knob = next(k for k in space.knobs if k.name == "resolution")
        n = len(knob.choices)
        assert len(members) == n * (1 + RANDOM_PER_RESOLUTION)
        assert [m["resolution"] for m in members[:n]] == list(knob.choices)
        smallest = space.smallest().values
        for m in members[:n]:
            assert {k: v for k, v in m.values.items() if k != "resolution"} == \
                {k: v for k, v in smallest.items() if k != "resolution"}
        drawn = members[n:]
        assert sorted(m["resolution"] for m in drawn) == \
            sorted(list(knob.choices) * RANDOM_PER_RESOLUTION)
        assert all(m.values != smallest for m in drawn)
        assert anchor_members(space) == members  # seeded: a rebuild converts the same ones
        assert anchor_members(space, 0) == members[:n]


def _sample(rng: np.random.Generator, ops: int, exact: float | None = None) -> list[float]:
    """A model of ``ops`` ops whose one-value zero points are all distinct (16 B each),
    where the fit models them as draws from ``ZP_POOL`` values: the fitted linear part must
    absorb the difference, which it can only do over the op range it has seen."""
    tensors, quant = round(2.2 * ops) + int(rng.integers(0, 3)), 2 * ops + int(rng.integers(0, 3))
    exact = float(rng.integers(20_000, 400_000)) if exact is None else exact
    y = exact + 16.0 * ops + 450.0 + 9.0 * ops + 52.0 * tensors + 19.0 * quant
    return [y, exact, ops, tensors, quant, ops]


def test_fit_with_anchors_predicts_small_members_chains_alone_cannot() -> None:
    rng = np.random.default_rng(3)
    chains = [_sample(rng, int(rng.integers(170, 197))) for _ in range(40)]
    anchors = [{"arch": {}, "sample": _sample(rng, ops)} for ops in (34, 41, 48)]
    member = _sample(rng, 38, exact=30_000.0)  # small as the smallest cnn member

    def err(fits: dict) -> float:
        f = fit_flash(LutTable({}, {}, fits, None))
        return abs(model_bytes(f, *member[1:]) - member[0]) / member[0]

    alone = {"flash_samples": chains, "flash_model": LEAN_MODEL}
    assert err(alone) > 0.005  # the extrapolation the anchors exist for
    assert err({**alone, "flash_anchors": anchors}) < 0.25 * err(alone)
    assert zp1_bytes(0) == 0.0
