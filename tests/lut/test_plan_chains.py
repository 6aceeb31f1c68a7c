"""Packing blocks into measurement chains (no conversion, no board)."""

from __future__ import annotations

from hilnas.lut.build import (
    ADAPTER_OPS,
    OP_HEADROOM,
    OPS_ESTIMATE,
    UNFOLD_EXTRA_OPS,
    ops_estimate,
    plan_chains,
    split_chain,
)
from hilnas.lut.keys import blocks_to_measure, enumerate_blocks
from hilnas.space import get_space


def test_chains_cover_every_block_within_the_op_budget_and_split_in_halves() -> None:
    blocks = enumerate_blocks(get_space("cnn"), patience=2_000)
    pending = blocks_to_measure(blocks, set())
    chains = plan_chains(pending, list(blocks.values()), 256)
    budget = int(256 * OP_HEADROOM)
    for c in chains:
        assert c.blocks[0].name == "stem" and c.blocks[-1].kind == "head"
        assert sum(ops_estimate(b) + ADAPTER_OPS for b in c.blocks[1:-1]) <= budget
    measured = {b.signature() for c in chains for b in c.blocks}
    assert {b.signature() for b in pending} <= measured
    big = max(chains, key=lambda c: len(c.blocks))
    halves = split_chain(big)
    assert [h.blocks[0] for h in halves] == [big.blocks[0]] * 2
    assert [b for h in halves for b in h.blocks[1:-1]] == list(big.blocks[1:-1])
    assert len({h.key for h in halves} | {big.key}) == 3


def test_unfolding_attention_blocks_are_packed_with_their_extra_ops() -> None:
    """An unfold block with p > 1 brings its lowered permutes; p = 1 is plain attention."""
    blocks = enumerate_blocks(get_space("hybrid-unfold"), patience=2_000)
    attn = [b for b in blocks.values() if b.kind == "attention"]
    unfolding = [b for b in attn if b.param("patch") > 1]
    assert unfolding and len(unfolding) < len(attn)
    assert {ops_estimate(b) for b in unfolding} == {OPS_ESTIMATE["attention"] + UNFOLD_EXTRA_OPS}
    assert {ops_estimate(b) for b in attn if b.param("patch") == 1} == {OPS_ESTIMATE["attention"]}
    pooled = [b for b in enumerate_blocks(get_space("hybrid"), patience=2_000).values()
              if b.kind == "attention"]
    assert {ops_estimate(b) for b in pooled} == {OPS_ESTIMATE["attention"]}


def test_resuming_a_table_of_another_engine_is_refused(tmp_path) -> None:
    import pytest
    from hilnas.errors import ConfigError
    from hilnas.lut.build import build_table
    from hilnas.lut.table import LutTable

    out = tmp_path / "cnn.json"
    LutTable({"board": "mps2-an386", "space": "cnn", "route": "litert", "clock_hz": 1,
              "unit": "x", "engine_source_hash": "0000"}, {"k": {"latency": 1}}).save(out)
    with pytest.raises(ConfigError, match=r"engine_source_hash 0000.*--fresh"):
        build_table("mps2-an386", "cnn", out)
