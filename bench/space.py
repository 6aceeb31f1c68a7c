"""Search-space throughput: analytic parameter counts and block unrolling per second.

The constrained search asks ``space.param_count(arch)`` and ``space.blocks(arch)`` for
hundreds of thousands of candidates, so these must be fast and torch-free (issue 8: at
least 50,000 parameter counts/s on ``hybrid``; building an ``nn.Module`` per count gave 58/s).
Candidates are distinct seeded samples. "first pass" starts with empty block caches (every
new block is built and counted once); "steady" repeats the same candidates, which is what a
long search sees once its blocks are known. Each rate is given three ways, because on a
shared machine wall time mostly measures the neighbours: wall (whole pass), cpu (process
time) and best_chunk (the fastest run of 50 consecutive candidates, short enough to run
without being preempted: the machine's own speed). ``--torch N`` also times the old way
(build the model, sum ``numel``) on N members, for comparison.

    .venv/bin/python bench/space.py [--space hybrid] [--n 50000] [--torch 20]
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/ holds a profile.py that would shadow the stdlib module torch imports (via cProfile).
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import argparse
import json
import random
import time
from collections.abc import Callable, Sequence
from typing import Any

CHUNK = 50


def rates(fn: Callable[[Any], object], items: Sequence[Any]) -> dict[str, int]:
    """Calls per second over ``items``: wall, CPU and best chunk (see module doc)."""
    best = float("inf")
    w0, c0 = time.perf_counter(), time.process_time()
    for start in range(0, len(items), CHUNK):
        t0 = time.perf_counter()
        for item in items[start : start + CHUNK]:
            fn(item)
        best = min(best, (time.perf_counter() - t0) / len(items[start : start + CHUNK]))
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    return {"wall": round(len(items) / wall), "cpu": round(len(items) / cpu),
            "best_chunk": round(1 / best)}


def per_second(fn: Callable[[Any], object], items: Sequence[Any]) -> float:
    t0 = time.perf_counter()
    for item in items:
        fn(item)
    return len(items) / (time.perf_counter() - t0)


def bench_space(name: str, n: int, torch_n: int) -> dict[str, Any]:
    from hilnas.space import get_space

    space = get_space(name)
    rng = random.Random(0)
    archs = [space.sample(rng) for _ in range(n)]
    row: dict[str, Any] = {"space": name, "candidates": n}
    row["param_counts_per_s_first_pass"] = rates(space.param_count, archs)
    row["param_counts_per_s_steady"] = rates(space.param_count, archs)
    row["blocks_per_s"] = rates(space.blocks, archs)
    if torch_n:
        def torch_count(arch: Any) -> int:
            return sum(p.numel() for p in space.build(arch).parameters())

        row["torch_counts_per_s"] = round(per_second(torch_count, archs[:torch_n]), 1)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--space", action="append", help="space name (repeatable; default all)")
    parser.add_argument("--n", type=int, default=50_000, help="distinct candidates per space")
    parser.add_argument("--torch", type=int, default=0, metavar="N",
                        help="also time building the nn.Module for N members")
    args = parser.parse_args()
    t0 = time.perf_counter()
    import hilnas.space

    import_s = time.perf_counter() - t0
    names = args.space or hilnas.space.list_spaces()
    print(json.dumps({"import_hilnas_space_s": round(import_s, 3),
                      "torch_imported": "torch" in sys.modules}))
    for name in names:
        print(json.dumps(bench_space(name, args.n, args.torch)), flush=True)


if __name__ == "__main__":
    main()
