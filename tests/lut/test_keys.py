"""Which blocks a space needs and which blocks the build measures."""

from __future__ import annotations

from hilnas.lut.keys import blocks_to_measure, entry_keys, enumerate_blocks
from hilnas.space import get_space
from hilnas.space.hybrid import attention_spec


def test_attention_is_split_into_core_and_ffn_keys() -> None:
    spec = attention_spec("s3b0", (6, 6, 24), heads=2, ffn=1.5, patch=2)
    core, ffn = entry_keys(spec)
    assert "ffn" not in core.split("-", 1)[1] and "heads:2" in core and "patch:2" in core
    assert ffn == "ffn-input:6x6x24-hidden:40"


def test_measured_blocks_cover_every_key_with_fewer_blocks() -> None:
    blocks = enumerate_blocks(get_space("hybrid"), patience=2000)
    keys = {k for b in blocks.values() for k in entry_keys(b)}
    chosen = blocks_to_measure(blocks, set())
    assert {k for b in chosen for k in entry_keys(b)} == keys
    assert len(chosen) < 0.7 * len(blocks)
    have = {k for b in chosen[:100] for k in entry_keys(b)}
    rest = blocks_to_measure(blocks, have)
    assert not have & {k for b in rest for k in entry_keys(b)} - keys
    assert {k for b in rest for k in entry_keys(b)} | have == keys
