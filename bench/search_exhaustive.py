"""Build bench/data/hybrid_exhaustive.csv: a reduced hybrid space evaluated exhaustively.

The acceptance of issue #12 needs a problem whose true Pareto front is known because
every member was evaluated: this one is a reduced ``hybrid`` space at resolution 32 (the
knobs in ``KNOBS``, every other knob at its smallest choice), with encodings that build
the same network (same block list) kept once; accuracy is each member's
supernet-inherited validation accuracy (BN recalibrated) from a checkpoint trained with
the project's trainer on the built-in digits data, latency/SRAM/flash are predicted by the
shipped LUT ``lut/mps2-an386/hybrid.json``. A sidecar JSON records how it was made.

    hilnas supernet train --space hybrid --data digits --epochs 8 --seed 0 --threads 1 \\
        --run-dir RUN
    PYTHONPATH=host .venv/bin/python bench/search_exhaustive.py --supernet RUN/supernet.pt
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import itertools
import json
import math
import platform
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "data" / "hybrid_exhaustive.csv"
LUT = ROOT / "lut" / "mps2-an386" / "hybrid.json"
BOARD = "mps2-an386"
RESOLUTION = 32
KNOBS: dict[str, tuple[Any, ...]] = {
    "s1.channels": (8, 12, 16),
    "s2.depth": (1, 2, 3),
    "s2.expand": (1, 2, 4),
    "s3.depth": (1, 2, 3),
    "s3.heads": (1, 2, 4),
    "s4.depth": (1, 2, 3),
}
COST_COLUMNS = ("latency_ms", "sram_bytes", "flash_bytes")


def distinct_members(space: Any) -> list[Any]:
    """One arch per distinct network (block list), in knob-product order."""
    base = {**space.smallest().values, "resolution": RESOLUTION}
    seen: dict[tuple[str, ...], Any] = {}
    for combo in itertools.product(*KNOBS.values()):
        arch = space.make({**base, **dict(zip(KNOBS, combo, strict=True))})
        seen.setdefault(tuple(space.block_signatures(arch)), arch)
    return list(seen.values())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--supernet", type=Path, required=True, help="supernet checkpoint")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("-o", "--out", type=Path, default=OUT)
    args = ap.parse_args()

    import torch
    from hilnas.board.profiles import load_profile
    from hilnas.lut import Predictor, load_table
    from hilnas.search.costs import LutCosts
    from hilnas.space import get_space
    from hilnas.supernet import load_supernet

    torch.set_num_threads(args.threads)
    space = get_space("hybrid")
    archs = distinct_members(space)
    costs = LutCosts(Predictor(load_table(LUT), load_profile(BOARD).budget()))(archs)
    trained = load_supernet(args.supernet)
    rows = []
    t0 = time.perf_counter()
    for i, (arch, cost) in enumerate(zip(archs, costs, strict=True)):
        if "infeasible" in cost:
            raise SystemExit(f"member {i} {arch.values}: {cost['infeasible']}")
        rows.append({
            **{k: arch[k] for k in KNOBS},
            "accuracy": round(float(trained.evaluate(arch, "val")), 6),
            **{c: round(cost[c], 4) for c in COST_COLUMNS},
            "params": space.param_count(arch),
        })
        if (i + 1) % 50 == 0:
            print(f"{i + 1}/{len(archs)} members, {time.perf_counter() - t0:.0f} s", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    ckpt = args.supernet.read_bytes()
    state = torch.load(args.supernet, map_location="cpu", weights_only=False)
    meta = {
        "what": "reduced hybrid space evaluated exhaustively (issue #12 acceptance problem)",
        "space": "hybrid", "resolution": RESOLUTION, "knobs": {k: list(v) for k, v in
                                                                  KNOBS.items()},
        "other_knobs": "smallest choice", "members": len(rows),
        "encodings": math.prod(len(v) for v in KNOBS.values()),
        "dedupe": "encodings with the same block list (block_signatures) kept once",
        "accuracy": "supernet-inherited top-1 on the digits validation split, BN recalibrated",
        "supernet": {"config": state.get("config"), "epoch": state.get("epoch"),
                     "sha256": hashlib.sha256(ckpt).hexdigest(),
                     "recipe": "hilnas supernet train --space hybrid --data digits --epochs 8 "
                               "--seed 0 --threads 1 --run-dir RUN"},
        "costs": {"lut": str(LUT.relative_to(ROOT)), "board": BOARD,
                  "sha256": hashlib.sha256(LUT.read_bytes()).hexdigest(),
                  "columns": list(COST_COLUMNS)},
        "command": "PYTHONPATH=host .venv/bin/python bench/search_exhaustive.py "
                   "--supernet RUN/supernet.pt",
        "seconds": round(time.perf_counter() - t0, 1),
        "versions": {"python": platform.python_version(), "torch": torch.__version__},
    }
    args.out.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"{len(rows)} members -> {args.out} ({meta['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "host"))
    raise SystemExit(main())
