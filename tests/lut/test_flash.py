"""The lean flash model (hilnas.lut.flash) against the real lean flatbuffer writer: what it
counts once is what ``lean_flatbuffer`` stores once, and a fit on real chains holds."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import numpy as np
from hilnas.convert.lean import byte_split, lean_flatbuffer
from hilnas.lut.flash import (
    LEAN_MODEL,
    align,
    entry_parts,
    exact_part,
    fit,
    weighted_union,
    zp1_bytes,
)
from hilnas.lut.members import parse_chain_lean

MODEL = Path(__file__).parent / "data" / "hybrid_smallest_litert.tflite"


def _templates(parsed) -> list[dict]:
    return [dataclasses.asdict(t) for t in parsed.blocks.values()]


def test_lean_bytes_are_the_pipeline_writers_and_names_cost_nothing() -> None:
    raw = MODEL.read_bytes()
    parsed = parse_chain_lean(MODEL, {})
    assert parsed.lean_bytes == len(lean_flatbuffer(raw)) < len(raw)
    # attribution still works on the named file: several blocks, every op owned
    assert len(parsed.blocks) > 3 and len(parsed.op_block) == parsed.n_ops


def test_counted_constants_and_quantization_match_what_lean_stores() -> None:
    """Constant data and scale/zero-point payloads, shared as the model shares them, equal
    the lean model's own byte split (quantization: scales a block shares with another
    block are the only thing counted twice, a few bytes)."""
    parsed = parse_chain_lean(MODEL, {})
    split = byte_split(lean_flatbuffer(MODEL.read_bytes()))
    consts: dict[str, int] = {}
    scales = zps = 0
    seen_zp: set[str] = set()
    for k, tpl in enumerate(_templates(parsed)):
        tables: set[str] = set()
        for i, t in enumerate(tpl["tensors"]):
            if t["const"]:
                consts[t.get("shared") or t.get("key") or f"{k}.{i}"] = t["data_bytes"]
            if t.get("qt") and t["qt"] not in tables:
                tables.add(t["qt"])
                scales += 4 * t["scale_len"]
            if t.get("zp") and t["zp"] not in seen_zp and t["zp_len"] > 1:
                seen_zp.add(t["zp"])
                zps += 8 * t["zp_len"]
    assert sum(consts.values()) == split.weights + split.biases + split.constants_other
    ones = {t["zp"] for tpl in _templates(parsed) for t in tpl["tensors"]
            if t.get("zp_len") == 1}
    zps += 8 * len(ones)  # one-value zero points: counted here, modelled by the predictor
    assert split.quantization <= scales + zps <= split.quantization * 1.01


def test_shared_items_count_once_per_model() -> None:
    tpl = max(_templates(parse_chain_lean(MODEL, {})), key=lambda t: len(t["tensors"]))
    fixed, n_quant, n_zp1, items = entry_parts(tpl)
    assert fixed > 0 and n_quant > 0
    assert any(k.startswith("s:") for k in items) and any(k.startswith("z:") for k in items)
    # two copies of a block (two blocks of one signature): shapes and zero points are
    # stored once, their own constants and scales twice
    assert exact_part([tpl, tpl]) == (2 * fixed + sum(items.values()), 2 * n_quant, 2 * n_zp1)
    assert align(1) == 16 and align(32) == 32


def test_weighted_union_is_the_weight_sum_of_set_bits() -> None:
    rng = random.Random(1)
    n_bits = 150
    weights = np.array([rng.randrange(1, 500) for _ in range(n_bits)], dtype=float)
    rows = [rng.getrandbits(n_bits) for _ in range(40)]
    masks = np.array([[(m >> (64 * w)) & (2**64 - 1) for w in range(3)] for m in rows],
                     dtype=np.uint64)
    want = [sum(weights[b] for b in range(n_bits) if m >> b & 1) for m in rows]
    assert np.allclose(weighted_union(masks, weights), want)


def test_fit_recovers_the_per_op_tensor_and_table_bytes() -> None:
    rng = np.random.default_rng(0)
    ops, tensors, quant, zp1 = (rng.integers(5, 300, 30) for _ in range(4))
    exact = rng.integers(5_000, 300_000, 30)
    lean = exact + zp1_bytes(zp1) + 400 + 20 * ops + 48 * tensors + 22 * quant
    f = fit(np.column_stack([lean, exact, ops, tensors, quant, zp1]).astype(float))
    assert f["model"] == LEAN_MODEL and f["max_rel_err"] < 1e-9
    assert np.allclose([f["intercept"], f["per_op"], f["per_tensor"], f["per_quant"]],
                       [400, 20, 48, 22])


def test_lean_copy_is_written_once_beside_the_conversion(tmp_path) -> None:
    from hilnas.lut.cache import lean_copy

    src = tmp_path / "k.tflite"
    src.write_bytes(MODEL.read_bytes())
    out = lean_copy(src)
    assert out == tmp_path / "k.lean.tflite"
    assert out.read_bytes() == lean_flatbuffer(MODEL.read_bytes())
    stamp = out.stat().st_mtime_ns
    assert lean_copy(src) == out and out.stat().st_mtime_ns == stamp


def test_one_element_quantized_constants_are_one_tensor_per_value_and_quantization() -> None:
    """Attention's 1/sqrt(d) scale: blocks of one head width share the converter's tensor;
    the same int8 byte under another scale is another tensor, though lean stores the byte
    once. Weights are never keyed (per-layer data)."""
    from hilnas.lut.assemble import buffer_key, dedup_key
    from hilnas.lut.flash import tensor_fields

    def scale_const(scale: float) -> dict:
        return {"const": True, "key": "k127", "data_bytes": 1, "quant_bytes": 12,
                **tensor_fields((), [scale], [-128])}

    d8, d8_again, d16 = scale_const(0.00138648), scale_const(0.00138648), scale_const(0.00098)
    assert dedup_key(d8) == dedup_key(d8_again) != dedup_key(d16)
    assert buffer_key(d8) == buffer_key(d16) == "k127"
    weight = {"const": True, "key": "w", "data_bytes": 72, "quant_bytes": 40,
              **tensor_fields((8, 3, 3, 1), [0.01] * 8, [0] * 8)}
    assert dedup_key(weight) is None and buffer_key(weight) is None
    assert dedup_key({**weight, "shared": "w"}) == "w"  # shared by two blocks of a chain
    # two blocks of head width 8 and one of 16: two scale tensors, one stored byte
    _, _, _, items = entry_parts({"tensors": [d8, d16]})
    assert [k for k in items if k.startswith("c:")] == ["c:k127"]
