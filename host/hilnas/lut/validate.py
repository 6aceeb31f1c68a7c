"""``hilnas lut validate``: predicted vs measured, end to end on the board.

N members are drawn (seeded) and spread over the size range: many random samples are
sorted by predicted latency and N are taken at evenly spaced ranks, so the check covers
small and large members, not just the middle. Each member is built (random weights,
the same BN treatment as the measurement chains), converted with the table's route and
leaned as the convert pipeline leans it, profiled on one board session, and compared:
latency (instructions), arena (bytes, must be exact), flash (lean model bytes), op and
tensor counts.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hilnas.lut.members import convert_members
from hilnas.lut.predict import Predictor
from hilnas.lut.table import LutTable

POOL_FACTOR = 40


@dataclass
class MemberResult:
    index: int
    arch: dict[str, Any]
    predicted: dict[str, Any]
    measured: dict[str, Any]


@dataclass
class Summary:
    samples: int
    latency: dict[str, float]
    sram: dict[str, float]
    flash: dict[str, float]
    arena_exact: int
    counts_exact: int
    members: list[MemberResult] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def error_stats(pred: np.ndarray, meas: np.ndarray) -> dict[str, float]:
    """MAPE and max |error| (percent of measured) and Spearman rank correlation."""
    from scipy.stats import spearmanr

    rel = np.abs(pred - meas) / np.maximum(np.abs(meas), 1e-12) * 100
    rho = float(spearmanr(pred, meas).statistic) if len(pred) > 2 else float("nan")
    return {"mape_pct": float(rel.mean()), "max_err_pct": float(rel.max()), "spearman": rho}


def pick_members(pred: Predictor, n: int, seed: int,
                 covered_only: bool = False) -> list[Any]:
    """``n`` members at evenly spaced ranks of predicted latency among ``40n`` samples.

    Members the board cannot load (op/tensor limits) are left out. ``covered_only``
    also leaves out members the table cannot predict yet (a build in progress); the
    count left out is reported by :func:`validate`.
    """
    space = pred.space
    rng = random.Random(seed)
    pool = [space.sample(rng) for _ in range(max(n * POOL_FACTOR, n))]
    if covered_only:
        pool = [a for a in pool if _covered(pred, a)]
    if not pool:
        raise ValueError("the table covers none of the sampled members")
    fast = pred.predict_many([space.encode(a) for a in pool])
    ok = fast.get("feasible_counts", np.ones(len(pool), dtype=bool))
    order = [i for i in np.argsort(fast["latency"], kind="stable") if ok[i]]
    if len(order) < n:
        raise ValueError(f"only {len(order)} of {len(pool)} samples fit the board")
    ranks = np.linspace(0, len(order) - 1, n).round().astype(int)
    return [pool[order[r]] for r in ranks]


def _covered(pred: Predictor, arch: Any) -> bool:
    from hilnas.lut.table import LutMissError

    try:
        pred.entries_for(arch)
    except LutMissError:
        return False
    return True


def validate(
    table: LutTable,
    samples: int,
    seed: int = 0,
    work: Path | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    covered_only: bool = False,
    jobs: int = 1,
) -> Summary:
    """Measure ``samples`` members spread over the size range and compare."""
    from hilnas.board.profiles import load_profile

    pred = Predictor(table, load_profile(table.board).budget())
    members = pick_members(pred, samples, seed, covered_only)
    return summarize(measure_members(pred, members, seed, work, progress, jobs))


def measure_members(
    pred: Predictor,
    members: list[Any],
    seed: int = 0,
    work: Path | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    jobs: int = 1,
) -> list[MemberResult]:
    """Convert (table's route; cached by content), then profile all on one board session
    (booted after the conversions, so it never waits on a converter), pair with predictions."""
    from hilnas.board.measure import run_on_session
    from hilnas.board.profiles import load_profile
    from hilnas.board.session import open_board
    from hilnas.lut.attribute import parse_chain
    from hilnas.lut.cache import lean_copy

    table = pred.table
    profile = load_profile(table.board)
    fw_ram = profile.budget().firmware_ram_bytes
    if work is not None:
        Path(work).mkdir(parents=True, exist_ok=True)
    paths = convert_members(pred, members, seed, work, jobs)
    results: list[MemberResult] = []
    with open_board(profile) as session:
        for i, (arch, path) in enumerate(zip(members, paths, strict=True)):
            p = pred.predict(arch)
            parsed = parse_chain(path.read_bytes(), table.meta["op_data_sizes"])
            r = run_on_session(session, lean_copy(path), runs=1, warmup=0, bulk=True)
            measured = {"latency": r.latency_median, "arena_bytes": r.arena_bytes,
                        "model_bytes": r.model_bytes, "n_ops": parsed.n_ops,
                        "n_tensors": parsed.n_tensors, "sram_bytes": r.arena_bytes + fw_ram}
            results.append(MemberResult(i, arch.to_json(), asdict(p), measured))
            if progress is not None:
                progress(i + 1, len(members),
                         f"latency {p.latency:.0f} predicted, {r.latency_median:.0f} measured")
    return results


def summarize(results: list[MemberResult]) -> Summary:
    def col(side: str, key: str) -> np.ndarray:
        return np.array([float(getattr(m, side)[key] or 0) for m in results])

    lat = error_stats(col("predicted", "latency"), col("measured", "latency"))
    sram = error_stats(col("predicted", "sram_bytes"), col("measured", "sram_bytes"))
    flash = error_stats(col("predicted", "model_bytes"), col("measured", "model_bytes"))
    arena_exact = sum(m.predicted["arena_bytes"] == m.measured["arena_bytes"] for m in results)
    counts_exact = sum(m.predicted["n_ops"] == m.measured["n_ops"]
                       and m.predicted["n_tensors"] == m.measured["n_tensors"] for m in results)
    return Summary(len(results), lat, sram, flash, arena_exact, counts_exact, results)


def save_plots(summary: Summary, png: Path) -> list[Path]:
    """One predicted-vs-measured scatter per figure: PNG, PNG stem + _sram, + _flash."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    for key, pkey, label in (("latency", "latency", "latency (instructions)"),
                             ("sram", "sram_bytes", "SRAM (bytes)"),
                             ("flash", "model_bytes", "model flash (bytes)")):
        x = [m.measured[pkey] for m in summary.members]
        y = [m.predicted[pkey] for m in summary.members]
        fig, ax = plt.subplots(figsize=(4.5, 4.5))
        ax.scatter(x, y, s=14)
        lo, hi = min(x + y), max(x + y)
        ax.plot([lo, hi], [lo, hi], color="grey", lw=0.8)
        s = getattr(summary, key)
        ax.set_title(f"{label}\nMAPE {s['mape_pct']:.2f}%, max {s['max_err_pct']:.2f}%, "
                     f"rho {s['spearman']:.4f}", fontsize=9)
        ax.set_xlabel("measured on the board")
        ax.set_ylabel("predicted from the LUT")
        fig.tight_layout()
        path = png if key == "latency" else png.with_name(f"{png.stem}_{key}{png.suffix}")
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths


def write_json(summary: Summary, path: Path) -> None:
    from hilnas.fileio import atomic_write_text

    atomic_write_text(path, json.dumps(summary.to_json(), indent=1) + "\n")


def now() -> float:
    return time.monotonic()
