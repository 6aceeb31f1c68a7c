"""The deploy report: a typed, versioned record (report.json) and its Markdown rendering.

``report.md`` embeds its plots as PNG data URIs (latency per op, each budget as a bar of
what is used), so the one file travels whole; the same PNGs are also written beside it.
Nothing here measures anything: it renders the :class:`DeployReport` that
:func:`hilnas.deploy.deploy` filled from the device.
"""

from __future__ import annotations

import base64
import io
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hilnas.errors import ConfigError
from hilnas.fileio import atomic_write_bytes, atomic_write_json, atomic_write_text

SCHEMA_VERSION = 1
#: At most this many ops get their own bar; the rest are summed as "other".
PLOT_TOP_OPS = 20


@dataclass
class Comparison:
    """A predicted figure next to the measured one."""

    figure: str
    predicted: float
    measured: float
    unit: str
    source: str

    @property
    def error(self) -> float | None:
        """(predicted - measured) / measured; None when nothing was measured."""
        return None if not self.measured else (self.predicted - self.measured) / self.measured

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "error": self.error}


@dataclass
class DeployReport:
    """Everything one deploy established, written as report.json (``schema_version``)."""

    board: str
    board_description: str
    emulated: bool
    flash_note: str
    arch: dict[str, Any]
    supernet: str
    route: str
    load_path: str
    test_images: int
    test_split: str
    accuracy: dict[str, float]
    conversion: dict[str, Any]
    budget: list[dict[str, Any]]
    memory: dict[str, Any]
    memory_checks: list[dict[str, Any]]
    device: dict[str, Any]
    comparisons: list[Comparison] = field(default_factory=list)
    finetune: list[dict[str, float]] = field(default_factory=list)
    lut: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    status: str = "verified on device"
    created_utc: str = ""
    schema_version: int = SCHEMA_VERSION

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["comparisons"] = [c.to_json() for c in self.comparisons]
        return data


def read_report(path: Path) -> DeployReport:
    """Load a report.json written by :func:`write_report` (a resumed job reuses it)."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: not a readable deploy report ({exc})") from None
    version = data.get("schema_version") if isinstance(data, dict) else None
    if version != SCHEMA_VERSION:
        raise ConfigError(f"{path}: deploy report schema_version {version!r}, this hilnas "
                          f"reads {SCHEMA_VERSION}")
    comparisons = [Comparison(**{k: v for k, v in c.items() if k != "error"})
                   for c in data.pop("comparisons")]
    return DeployReport(**data, comparisons=comparisons)


# ---------------------------------------------------------------- plots
def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return buf.getvalue()


def latency_plot(ops: list[dict[str, Any]], unit: str) -> bytes:
    """Horizontal bars: time of each op (the largest ones), in the board's unit."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ranked = sorted(ops, key=lambda o: o["value"], reverse=True)
    shown = ranked[:PLOT_TOP_OPS]
    labels = [f"#{o['index']} {o['name']}" for o in shown]
    values = [o["value"] for o in shown]
    rest = sum(o["value"] for o in ranked[PLOT_TOP_OPS:])
    if rest:
        labels.append(f"other {len(ranked) - PLOT_TOP_OPS} ops")
        values.append(rest)
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(values) + 1.2))
    ax.barh(range(len(values)), values, color="#4477aa")
    ax.set_yticks(range(len(values)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(f"latency ({unit})")
    ax.set_title("measured latency per op (first test image)")
    return _png(fig)


def budget_plot(figures: list[dict[str, Any]]) -> bytes:
    """One bar per budget: share of the board's figure the model uses (100% = limit)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [f["name"] for f in figures]
    shares = [100.0 * f["needed"] / f["available"] if f["available"] else 0.0 for f in figures]
    colors = ["#228833" if s <= 100 else "#cc3311" for s in shares]
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(names) + 1.2))
    ax.barh(range(len(names)), shares, color=colors)
    ax.axvline(100, color="black", linewidth=1)
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("% of the board's budget")
    ax.set_title("budgets: used / available")
    for i, f in enumerate(figures):
        ax.text(min(shares[i], 100) + 1, i, f"{f['needed']:,} / {f['available']:,} {f['unit']}",
                va="center", fontsize=7)
    ax.set_xlim(0, max(125.0, max(shares, default=0) * 1.1))
    return _png(fig)


# ---------------------------------------------------------------- markdown
def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2%}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def render_markdown(report: DeployReport, plots: dict[str, bytes]) -> str:
    dev, acc = report.device, report.accuracy
    unit = dev["timing_unit"]
    ms = dev.get("latency_ms_median")
    lat = f"{dev['latency_median']:,.0f} {unit}" + (f" ({ms:.2f} ms)" if ms else "")
    parts = [
        f"# Deploy report: {report.arch.get('space')} member on {report.board}",
        "",
        f"**Status: {report.status}.** {report.board_description}. "
        f"Model loaded from **{report.load_path}**; {report.flash_note}.",
        "",
        "## Verification on the device",
        "",
        _table(["figure", "value"], [
            ["test images (first of the test split)", f"{report.test_images}"],
            ["outputs bit-exact with TFLM", f"{dev['bit_exact_images']} of {dev['images']}"],
            ["top-1 accuracy, device", _pct(acc.get("device"))],
            ["top-1 accuracy, int8 TFLM (host)", _pct(acc.get("tflm"))],
            ["top-1 accuracy, float (PyTorch)", _pct(acc.get("float"))],
            ["latency, median of runs", f"{lat}, {dev['runs']} runs"],
            ["tensor arena used", f"{dev['arena_bytes']:,} B"],
            ["stack high-water", f"{dev['stack_high_water']:,} B"],
            ["model", f"{dev['model_bytes']:,} B, crc32 {dev['model_crc32']:#010x}, "
                      f"route {report.route}"],
        ]),
        "",
        "## Budgets",
        "",
        "Checked before building (from the converted model) and after measuring "
        "(from the ELF and the board):",
        "",
        _table(["figure", "needed / used", "board", "headroom", "source"], [
            [f["name"], f"{f['needed']:,} {f['unit']}", f"{f['available']:,} {f['unit']}",
             f"{f['available'] - f['needed']:,} {f['unit']}", f["source"]]
            for f in report.budget + report.memory_checks
        ]),
        "",
        f"![budgets]({_data_uri(plots['budgets'])})",
        "",
    ]
    if report.comparisons:
        parts += ["## Predicted vs measured", "", _table(
            ["figure", "predicted", "measured", "error", "prediction from"],
            [[c.figure, f"{c.predicted:,.0f} {c.unit}", f"{c.measured:,.0f} {c.unit}",
              _pct(c.error), c.source] for c in report.comparisons]), ""]
    parts += ["## Latency per op", "", f"![latency per op]({_data_uri(plots['latency'])})", ""]
    if report.finetune:
        parts += ["## Fine-tuning", "", _table(["epoch", "loss", "val accuracy"], [
            [str(r["epoch"]), f"{r['loss']:.3f}", _pct(r["val"])] for r in report.finetune]), ""]
    parts += ["## Artifacts", "", *[f"- `{name}`: {what}" for what, name in
                                     report.artifacts.items()], ""]
    if report.notes:
        parts += ["## Notes", "", *[f"- {n}" for n in report.notes], ""]
    return "\n".join(parts)


def write_report(report: DeployReport, out_dir: Path) -> dict[str, Path]:
    """Write report.json, report.md and the plot PNGs into ``out_dir``."""
    plots = {
        "latency": latency_plot(report.device["ops"], report.device["timing_unit"]),
        "budgets": budget_plot(report.budget + report.memory_checks),
    }
    paths = {"json": out_dir / "report.json", "md": out_dir / "report.md"}
    for name, png in plots.items():
        paths[name] = out_dir / f"plot_{name}.png"
        atomic_write_bytes(paths[name], png)
    atomic_write_json(paths["json"], report.to_json())
    atomic_write_text(paths["md"], render_markdown(report, plots))
    return paths
