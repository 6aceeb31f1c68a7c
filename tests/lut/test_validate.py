"""Accuracy statistics of ``hilnas lut validate`` (pure functions)."""

from __future__ import annotations

import numpy as np
import pytest
from hilnas.lut.validate import MemberResult, error_stats, save_plots, summarize


def test_error_stats_mape_max_and_rank_correlation() -> None:
    meas = np.array([100.0, 200.0, 300.0, 400.0])
    pred = np.array([101.0, 198.0, 300.0, 404.0])
    s = error_stats(pred, meas)
    assert s["mape_pct"] == pytest.approx((1 + 1 + 0 + 1) / 4)
    assert s["max_err_pct"] == pytest.approx(1.0)
    assert s["spearman"] == pytest.approx(1.0)
    assert error_stats(meas[::-1].copy(), meas)["spearman"] == pytest.approx(-1.0)


def _member(i: int, lat: float, arena: int, meas_arena: int) -> MemberResult:
    p = {"latency": lat, "arena_bytes": arena, "sram_bytes": arena + 10, "model_bytes": 1000,
         "n_ops": 5, "n_tensors": 9}
    q = {"latency": 100.0 * (i + 1), "arena_bytes": meas_arena, "sram_bytes": meas_arena + 10,
         "model_bytes": 1010, "n_ops": 5, "n_tensors": 9}
    return MemberResult(i, {}, p, q)


def test_summary_counts_exact_arenas_and_plots(tmp_path) -> None:
    ms = [_member(0, 100.0, 64, 64), _member(1, 210.0, 80, 96), _member(2, 300.0, 32, 32)]
    s = summarize(ms)
    assert s.arena_exact == 2 and s.counts_exact == 3
    assert s.latency["max_err_pct"] == pytest.approx(5.0)
    paths = save_plots(s, tmp_path / "v.png")
    assert [p.name for p in paths] == ["v.png", "v_sram.png", "v_flash.png"]
    assert all(p.stat().st_size > 1000 for p in paths)
