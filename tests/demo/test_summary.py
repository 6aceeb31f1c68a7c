"""The demo's closing summary, printed from a summary.json (no search or board needed)."""

from __future__ import annotations

from typing import Any

from hilnas import demo


def _comparison(figure: str, predicted: float, measured: float, source: str) -> dict[str, Any]:
    return {"figure": figure, "predicted": predicted, "measured": measured, "unit": "B",
            "source": source, "error": (predicted - measured) / measured}


def test_a_figure_predicted_two_ways_names_each_source(monkeypatch: Any) -> None:
    summary = {
        "evaluations": 2, "budgets": {"sram_bytes": 262144}, "accuracy_supernet_val": 0.9,
        "accuracy_test_subset": {"device": 1.0}, "test_images": 50, "status": "verified",
        "report": "r.md", "wall_s": 1.0,
        "front": [{"accuracy": 0.9, "latency_ms": 78.0}],
        "predicted_vs_measured": [
            _comparison("tensor arena", 131_936, 130_864, "host build of the engine"),
            _comparison("tensor arena", 130_864, 130_864, "LUT hybrid.json"),
            _comparison("model", 192_209, 191_920, "LUT hybrid.json"),
        ],
    }
    monkeypatch.setattr(demo.console, "width", 160)  # one table row per line
    with demo.console.capture() as out:
        demo.print_summary(summary)
    text = out.get()
    assert "tensor arena (host build of the engine): predicted / measured" in text
    assert "tensor arena (LUT hybrid.json)" in text
    assert "model: predicted / measured" in text  # a figure given once keeps its plain label
