"""The main job end to end on the emulated board, with tiny budgets (issue: CI runs it).

A tiny ``hybrid`` supernet (only the smallest member trained, seconds), the shipped
``mps2-an386`` LUT, a HyT-Search whose latency budget admits only the smallest members,
and a deploy of the winner from flash, verified bit-exact with TFLM on the device. Every
stage is the one ``make demo`` runs; only the sizes are small.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.qemu,
    pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="no qemu-system-arm"),
]

BOARD, SPACE = "mps2-an386", "hybrid"


def test_demo_searches_deploys_from_flash_and_verifies(tiny_hybrid_supernet: Path,
                                                        tmp_path: Path) -> None:
    from hilnas.board.profiles import load_profile
    from hilnas.demo import DemoConfig, run_demo
    from hilnas.lut import Predictor, load_table
    from hilnas.lut.build import default_lut_path
    from hilnas.space import get_space

    lut = default_lut_path(BOARD, SPACE)
    predictor = Predictor(load_table(lut), load_profile(BOARD).budget())
    smallest = predictor.predict(get_space(SPACE).smallest())
    # A budget only the smallest members meet: the search must respect it, and the trained
    # smallest member converts cleanly.
    latency_ms = round(smallest.latency_ms * 1.02, 3)
    cfg = DemoConfig(run_dir=tmp_path / "demo", space=SPACE, board=BOARD,
                     supernet=tiny_hybrid_supernet, latency_ms=latency_ms, evaluations=3,
                     batch_size=3, test_images=5)
    summary = run_demo(cfg)

    assert summary["status"] == "verified on device"
    assert summary["test_images"] == 5
    evaluated = [json.loads(line) for line in
                 (cfg.run_dir / "search" / "evaluations.jsonl").read_text().splitlines()]
    assert 1 <= len(evaluated) <= 3
    for record in evaluated:  # nothing over budget was ever evaluated
        assert record["costs"]["latency_ms"] <= latency_ms
        assert record["costs"]["sram_bytes"] <= cfg.sram_kb * 1024
        assert record["costs"]["flash_bytes"] <= cfg.flash_kb * 1024
    figures = {c["figure"]: c for c in summary["predicted_vs_measured"]}
    assert figures, "the deploy compared no LUT prediction with a measurement"
    report = json.loads((cfg.run_dir / "deploy" / "report.json").read_text())
    assert report["device"]["images"] == 5
    written = {p.suffix for p in (cfg.run_dir / "deploy").iterdir()}
    assert {".elf", ".hex", ".bin", ".tflite", ".md", ".json"} <= written, written
    # Rerun: every stage resumes from its files and the deploy is reused, not redone.
    again = run_demo(cfg)
    assert again["winner"] == summary["winner"]
