"""A finished run's files: Pareto front (JSON + PNG), hypervolume curve (JSON + PNG), winner.

The evaluation log itself is written while the run goes (:mod:`.run`); everything here is
derived from it, so rewriting these files after a resume is always safe.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hilnas.fileio import atomic_write_json
from hilnas.search.run import EvalRecord, SearchResult


def summary(result: SearchResult) -> dict[str, Any]:
    ref = result.reference()
    curve = result.hypervolume_curve(ref)
    winner = result.winner()
    timings = result.timings
    return {
        "problem": result.problem.name,
        "strategy": result.strategy,
        "seed": result.seed,
        "budget": result.budget,
        "evaluations": len(result.records),
        "objectives": [
            {"name": o.name, "direction": o.direction, "source": o.source}
            for o in result.problem.objectives
        ],
        "constraints": dict(result.problem.constraints),
        "hypervolume_reference": {
            o.name: float(r * o.sign)
            for o, r in zip(result.problem.objectives, ref, strict=True)
        },
        "hypervolume": curve[-1] if curve else 0.0,
        "front": [r.to_json() for r in result.front()],
        "winner_rule": result.winner_rule(),
        "winner": winner.to_json() if winner else None,
        "evaluations_per_s": (
            result.live_evaluations / result.eval_seconds if result.eval_seconds > 0 else None
        ),
        "overhead_s_per_iteration": (
            float(np.mean([t["fit_s"] + t["optimise_s"] + t["select_s"] for t in timings]))
            if timings else None
        ),
    }


def write_outputs(result: SearchResult, out_dir: Path) -> dict[str, Any]:
    """front.json, hypervolume.json, winner.json and the two plots; returns the summary."""
    out_dir = Path(out_dir)
    info = summary(result)
    curve = result.hypervolume_curve(result.reference())
    atomic_write_json(out_dir / "front.json", info)
    atomic_write_json(
        out_dir / "hypervolume.json",
        {"reference": info["hypervolume_reference"], "hypervolume": curve},
    )
    atomic_write_json(
        out_dir / "winner.json", {"rule": info["winner_rule"], "winner": info["winner"]}
    )
    plot_front(result, out_dir / "front.png")
    plot_curves({result.strategy: [curve]}, "hypervolume", out_dir / "hypervolume.png")
    return info


def plot_front(result: SearchResult, path: Path) -> None:
    """Evaluated points (dominated in grey), the front, and the budget lines of the axes."""
    plt = _pyplot()
    objs = result.problem.objectives
    xi, yi = (1, 0) if len(objs) > 1 else (0, 0)
    fig, ax = plt.subplots(figsize=(6, 4.5))
    front_ids = {r.i for r in result.front()}
    pts = np.array([[r.objectives[objs[xi].name], r.objectives[objs[yi].name]]
                    for r in result.records]).reshape(-1, 2)
    on = np.array([r.i in front_ids for r in result.records], dtype=bool)
    ax.scatter(pts[~on, 0], pts[~on, 1], s=10, c="0.7", label="dominated")
    order = np.argsort(pts[on, 0])
    ax.plot(pts[on, 0][order], pts[on, 1][order], "o-", c="tab:red", ms=4, label="Pareto front")
    for axis, obj in (("x", objs[xi]), ("y", objs[yi])):
        bound = result.problem.constraints.get(obj.name)
        if bound is not None:
            line = ax.axvline if axis == "x" else ax.axhline
            line(bound, ls="--", c="tab:blue", label=f"budget {obj.name} <= {bound:g}")
    ax.set_xlabel(f"{objs[xi].name} ({objs[xi].direction})")
    ax.set_ylabel(f"{objs[yi].name} ({objs[yi].direction})")
    ax.set_title(f"{result.problem.name}: {result.strategy}, {len(result.records)} evaluations")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_curves(curves: Mapping[str, Sequence[Sequence[float]]], ylabel: str, path: Path) -> None:
    """One median curve per strategy (with min-max band over seeds) against evaluations."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, runs in curves.items():
        n = min(len(c) for c in runs)
        if n == 0:
            continue
        arr = np.array([c[:n] for c in runs])
        x = np.arange(1, n + 1)
        ax.plot(x, np.median(arr, axis=0), label=f"{name} (median of {len(runs)})")
        ax.fill_between(x, arr.min(axis=0), arr.max(axis=0), alpha=0.15)
    ax.set_xlabel("true evaluations")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def found_curve(records: Sequence[EvalRecord], true_front: set[tuple[int, ...]]) -> list[int]:
    """How many true Pareto points the first n evaluations contain, n = 1..len."""
    out, n = [], 0
    for r in records:
        n += r.x in true_front
        out.append(n)
    return out
