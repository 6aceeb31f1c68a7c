"""The ``hybrid`` space's two patch operators: MobileViT's unfold (``hybrid-unfold``) is
exact unfold attention, and adding it left the pooled spaces byte-identical (shipped
tables and checkpoints are keyed on their block signatures and parameter names)."""

from __future__ import annotations

import hashlib
import random

import pytest
import torch
from hilnas.errors import SpaceError
from hilnas.space import get_space
from hilnas.space.blocks import unfold_attention_core
from hilnas.space.hybrid import HybridSpace, unfold_patch

#: sha256 of the block signatures of 402 seeded members (smallest, largest, 400 samples
#: of random.Random(2026)), computed on main before the unfold option existed.
FROZEN_SIGNATURES = {
    "hybrid": "f37e155a9ef75784ee1cbc45969f8fcf99947a233d87728339c23970b4f91c2e",
    "hybrid-vww": "27919e64f63845a9fe1df4e62afb9b30183840cfbf481c73f5c7aeec296c0240",
}
#: sha256 of "name:shape" lines of the largest ``hybrid`` member's state_dict (494 keys),
#: computed on main before the unfold option existed.
FROZEN_STATE_DICT = "ed81f09daa51b0634b5272671239e4b6ec71b48eb40355592e12e974bf1de232"


def _signature_digest(name: str) -> str:
    space = get_space(name)
    rng = random.Random(2026)
    archs = [space.smallest(), space.largest()] + [space.sample(rng) for _ in range(400)]
    text = "\n".join("|".join(space.block_signatures(a)) for a in archs)
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.parametrize("name", sorted(FROZEN_SIGNATURES))
def test_pooled_spaces_keep_their_signatures(name: str) -> None:
    assert _signature_digest(name) == FROZEN_SIGNATURES[name]
    space = get_space(name)
    for spec in space.blocks(space.largest()):
        if spec.kind == "attention":
            assert [k for k, _ in spec.params] == ["heads", "ffn", "patch"]


def test_pooled_member_keeps_its_parameter_names() -> None:
    model = get_space("hybrid").build(get_space("hybrid").largest())
    text = "\n".join(f"{k}:{tuple(v.shape)}" for k, v in model.state_dict().items())
    assert hashlib.sha256(text.encode()).hexdigest() == FROZEN_STATE_DICT


def test_unfold_space_differs_only_in_its_attention_params() -> None:
    """Same knobs, same blocks and weight shapes; attention blocks add ("unfold", 1) and
    may use another (clamped) patch, so no table key is shared with the pooled space."""
    pooled, unfold = get_space("hybrid"), get_space("hybrid-unfold")
    assert [(k.name, k.choices) for k in pooled.knobs] == [(k.name, k.choices)
                                                           for k in unfold.knobs]
    rng = random.Random(3)
    for _ in range(50):
        arch = pooled.sample(rng)
        a, b = pooled.blocks(arch), unfold.blocks(unfold.make(arch.values))
        assert [(s.kind, s.name, s.input_hwc, s.output_hwc, s.n_params) for s in a] == [
            (s.kind, s.name, s.input_hwc, s.output_hwc, s.n_params) for s in b]
        for sa, sb in zip(a, b, strict=True):
            if sa.kind == "attention":
                assert sb.params[:2] == sa.params[:2] and sb.params[3:] == (("unfold", 1),)
                assert sb.signature().endswith("-unfold:1")
            else:
                assert sa == sb
    with pytest.raises(SpaceError, match="patch_op 'conv'"):
        HybridSpace(patch_op="conv")


@pytest.mark.parametrize(("side", "knob", "want"), [
    (4, 1, 1), (4, 2, 2), (4, 4, 2),  # 32 px, stride 8: 4 tokens per group at most
    (2, 2, 1), (2, 4, 1),  # 32 px, stride 16: one token per group is refused
    (6, 2, 2), (6, 4, 3),  # 48 px, stride 8: 3 divides 6, 4 does not
    (3, 4, 1), (5, 4, 1),  # 40/48 px maps with no divisor leaving 2x2 tokens
    (8, 4, 4), (12, 4, 4), (10, 4, 2),
])
def test_unfold_patch_clamp(side: int, knob: int, want: int) -> None:
    assert unfold_patch((side, side, 8), knob) == want


def test_unfold_patches_every_map_of_the_space() -> None:
    space = get_space("hybrid-unfold")
    rng = random.Random(5)
    seen = set()
    for arch in [space.largest()] + [space.sample(rng) for _ in range(200)]:
        for spec in space.blocks(arch):
            if spec.kind == "attention":
                h, w, _ = spec.input_hwc
                p = spec.param("patch")
                assert h % p == 0 and w % p == 0 and (p == 1 or min(h, w) // p >= 2)
                seen.add(p)
    assert seen == {1, 2, 3}


def _reference_unfold(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, heads: int,
                      p: int) -> torch.Tensor:
    """Loop form of the definition: each (head, i mod p, j mod p) group attends alone."""
    out = torch.zeros_like(q)
    dh = q.shape[1] // heads
    for b in range(q.shape[0]):
        for h in range(heads):
            ch = slice(h * dh, (h + 1) * dh)
            for i in range(p):
                for j in range(p):
                    qg, kg, vg = (t[b, ch, i::p, j::p].reshape(dh, -1).T for t in (q, k, v))
                    attn = torch.softmax(qg @ kg.T * dh**-0.5, dim=-1)
                    out[b, ch, i::p, j::p] = (attn @ vg).T.reshape(out[b, ch, i::p, j::p].shape)
    return out


@pytest.mark.parametrize(("side", "c", "heads", "p"), [
    (4, 16, 2, 2), (6, 16, 4, 3), (6, 8, 1, 2), (4, 8, 2, 1), (8, 24, 2, 4),
])
def test_unfold_attention_equals_its_definition(side: int, c: int, heads: int, p: int) -> None:
    gen = torch.Generator().manual_seed(side * 100 + p)
    q, k, v = (torch.randn(2, c, side, side, generator=gen) for _ in range(3))
    got = unfold_attention_core(q, k, v, heads, p)
    torch.testing.assert_close(got, _reference_unfold(q, k, v, heads, p), rtol=1e-5, atol=1e-5)


def test_unfold_refuses_a_patch_that_does_not_divide_the_map() -> None:
    x = torch.zeros(1, 8, 5, 5)
    with pytest.raises(SpaceError, match="patch 2 does not divide the 5x5"):
        unfold_attention_core(x, x, x, 2, 2)
