"""Several strategies × seeds on one problem: hypervolume and Pareto points found per evaluation.

Used by ``hilnas search compare`` and ``bench/search.py``. The runs are in memory (each is
short); the figures and curves are written as one JSON plus two plots.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hilnas.fileio import atomic_write_json
from hilnas.search.problem import Problem, Vector
from hilnas.search.report import found_curve, plot_curves
from hilnas.search.run import run_search
from hilnas.search.tabular import true_front


def compare(
    make_problem: Callable[[], Problem],
    strategies: Sequence[str],
    seeds: Sequence[int],
    budget: int,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run every strategy with every seed; the true front comes from enumerating the problem."""
    problem = make_problem()
    front: set[Vector] = set(true_front(problem))
    ref = problem.reference_min()
    out: dict[str, Any] = {"problem": problem.name, "budget": budget, "seeds": list(seeds),
                           "true_front_size": len(front), "strategies": {}}
    for name in strategies:
        runs: dict[str, list[Any]] = {"hv": [], "found": [], "overhead_s": [], "seconds": []}
        for seed in seeds:
            t0 = time.perf_counter()
            result = run_search(make_problem(), name, budget, seed=seed,
                                **dict((options or {}).get(name, {})))
            runs["seconds"].append(time.perf_counter() - t0)
            ref_used = result.reference() if ref is None else ref
            runs["hv"].append(result.hypervolume_curve(ref_used))
            runs["found"].append(found_curve(result.records, front))
            runs["overhead_s"] += [t["fit_s"] + t["optimise_s"] + t["select_s"]
                                   for t in result.timings]
            if progress:
                progress(f"{problem.name} {name} seed {seed}: found "
                         f"{runs['found'][-1][-1]}/{len(front)}, hv {runs['hv'][-1][-1]:.4g}")
        finals = [c[-1] for c in runs["found"]]
        out["strategies"][name] = {
            **runs,
            "median_found": float(np.median(finals)),
            "median_found_fraction": float(np.median(finals)) / max(1, len(front)),
            "median_hypervolume": float(np.median([c[-1] for c in runs["hv"]])),
            "mean_overhead_s": float(np.mean(runs["overhead_s"])) if runs["overhead_s"] else None,
        }
    return out


def write_compare(result: Mapping[str, Any], out_dir: Path) -> None:
    out_dir = Path(out_dir)
    atomic_write_json(out_dir / "compare.json", result)
    strategies = result["strategies"]
    plot_curves({k: v["hv"] for k, v in strategies.items()}, "hypervolume",
                out_dir / "hypervolume.png")
    plot_curves({k: v["found"] for k, v in strategies.items()},
                f"true Pareto points found (of {result['true_front_size']})",
                out_dir / "pareto_found.png")
