"""Benchmark problems whose true Pareto fronts are known (enumerable, cheap, deterministic).

* :func:`zdt_grid`: ZDT1 on an integer grid — both objectives black-box; the front is the
  ``bounds[0]`` points with every other knob at its middle choice.
* :func:`board_like`: a NAS-shaped problem — accuracy saturates with capacity and has knob
  interactions (black-box), latency and memory are sums of per-knob costs (a LUT-like cost
  function) with hard budgets, as in ``hilnas search --board``.
* :func:`hybrid_table_rows`: a few hundred configurations of a reduced hybrid space with
  analytic MACs/parameters from its real block list and a structured accuracy model; written
  to CSV, it is the tabular benchmark the tests and ``bench/search.py`` use.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from hilnas.search.costs import block_macs
from hilnas.search.problem import Objective, Problem, Vector, VectorDomain


def _jitter(key: str, scale: float) -> float:
    """Deterministic pseudo-noise in [-scale, scale]: the same key, the same value."""
    digest = hashlib.sha256(key.encode()).digest()
    return (int.from_bytes(digest[:8], "little") / 2**64 * 2 - 1) * scale


def zdt_grid(bounds: Sequence[int] = (16, 5, 5, 5, 5)) -> Problem:
    """Discrete ZDT1: ``f1 = x0``, ``f2 = g (1 - sqrt(f1 / g))`` with ``g`` minimal at the
    middle choice of every other knob (odd bounds give an exact middle)."""
    domain = VectorDomain(bounds, name="zdt-grid")

    def evaluate(vs: Sequence[Vector]) -> list[dict[str, float]]:
        out = []
        for v in vs:
            f1 = v[0] / (bounds[0] - 1)
            rest = [x / (b - 1) - 0.5 for x, b in zip(v[1:], bounds[1:], strict=True)]
            g = 1 + 9 * sum(r * r for r in rest) / max(1, len(rest))
            out.append({"f1": f1, "f2": g * (1 - math.sqrt(f1 / g))})
        return out

    return Problem(
        domain,
        [Objective("f1", "min"), Objective("f2", "min")],
        evaluate,
        reference={"f1": 1.1, "f2": 10.0},
        name="zdt-grid",
    )


def board_like(
    bounds: Sequence[int] = (4, 4, 4, 3, 3, 3, 3), latency_budget: float = 0.6,
    sram_budget: float = 0.7,
) -> Problem:
    """Accuracy (black box) vs latency (cost) under latency and SRAM budgets."""
    domain = VectorDomain(bounds, name="board-like")
    d = len(bounds)
    lat_w = np.linspace(1.0, 0.4, d)
    mem_w = np.linspace(0.3, 1.0, d)

    def unit(v: Vector) -> np.ndarray:
        return np.array([x / (b - 1) for x, b in zip(v, bounds, strict=True)])

    def costs(vs: Sequence[Vector]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for v in vs:
            u = unit(v)
            row: dict[str, Any] = {
                "latency_ms": float(lat_w @ u / lat_w.sum() + 0.05 * u[0] * u[1]),
                "sram_bytes": float(mem_w @ (u**2) / mem_w.sum()),
            }
            if u[0] == 1 and u[-1] == 1:
                row["infeasible"] = "beyond the engine's op table"
            out.append(row)
        return out

    def evaluate(vs: Sequence[Vector]) -> list[dict[str, float]]:
        out = []
        for v in vs:
            u = unit(v)
            capacity = float(np.array([1.2, 1.0, 0.9, 0.7, 0.5, 0.4, 0.3])[:d] @ np.sqrt(u))
            synergy = 0.3 * u[0] * u[2] - 0.2 * (u[1] - u[3]) ** 2
            acc = 0.5 + 0.45 * (1 - math.exp(-(capacity + synergy)))
            out.append({"accuracy": acc + _jitter(f"board-like{v}", 0.003)})
        return out

    return Problem(
        domain,
        [Objective("accuracy", "max"), Objective("latency_ms", "min", "cost")],
        evaluate,
        costs_fn=costs,
        constraints={"latency_ms": latency_budget, "sram_bytes": sram_budget},
        reference={"accuracy": 0.5, "latency_ms": latency_budget},
        name="board-like",
    )


# ---------------------------------------------------------------------------- hybrid table
HYBRID_TABLE_KNOBS = {
    "resolution": (32, 40, 48),
    "s1.channels": (8, 12, 16),
    "s2.depth": (1, 2, 3),
    "s3.heads": (1, 2, 4),
    "s3.depth": (1, 2, 3),
}


def hybrid_table_rows(noise: float = 0.0005) -> list[dict[str, Any]]:
    """Rows of the reduced hybrid space (``HYBRID_TABLE_KNOBS``; others at their smallest),
    with MACs/parameters from the space's real block list and a structured accuracy model."""
    from itertools import product

    from hilnas.space import get_space

    space = get_space("hybrid")
    base = space.smallest().values
    rows = []
    for combo in product(*HYBRID_TABLE_KNOBS.values()):
        values = {**base, **dict(zip(HYBRID_TABLE_KNOBS, combo, strict=True))}
        arch = space.make(values)
        macs = params = 0.0
        for b in space.blocks(arch):
            m, p = block_macs(b.kind, b.input_hwc, b.output_hwc, dict(b.params))
            macs, params = macs + m, params + p
        key = ",".join(f"{k}={v}" for k, v in zip(HYBRID_TABLE_KNOBS, combo, strict=True))
        u = [i / (len(c) - 1) for i, c in zip(
            (c.index(x) for c, x in zip(HYBRID_TABLE_KNOBS.values(), combo, strict=True)),
            HYBRID_TABLE_KNOBS.values(), strict=True)]
        # resolution and width pay off; a second s2 block helps, a third hurts (over-fits);
        # more heads help only at the highest resolution; s3 depth is nearly wasted
        acc = (
            0.60
            + 0.05 * math.sqrt(u[0])
            + 0.04 * math.sqrt(u[1])
            + 0.012 * (u[2] == 0.5) - 0.004 * (u[2] == 1)
            + 0.015 * u[3] * (u[0] == 1) - 0.004 * u[3] * (u[0] < 1)
            + 0.002 * u[4]
            + _jitter(key, noise)
        )
        latency = macs / 2.5e4 * (1 + 0.08 * (combo[4] - 1)) + 0.3 * len(space.blocks(arch))
        rows.append(
            {
                **dict(zip(HYBRID_TABLE_KNOBS, combo, strict=True)),
                "accuracy": round(acc, 5),
                "latency_ms": round(latency, 4),
                "params": int(params),
                "macs": int(macs),
            }
        )
    return rows
