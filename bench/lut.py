"""LUT bench: per shipped table, how it was built, how fast it predicts, how exact it is.

Prints, for every lut/<board>/<space>.json:

1. build: entries, chains' board time, build seconds and entries/min (from the header),
   arena mirror checks on the build's own chains;
2. predictions/s on one core: the batched fast path (latency, flash, op/tensor counts),
   the exact arena (planner mirror) one member at a time;
3. accuracy: the table's last ``hilnas lut validate`` (``<space>.validation.json`` next
   to it): latency / SRAM / flash MAPE, max error, Spearman; arena exact count.
   ``--validate N`` measures N fresh members on the board first (minutes).

Usage: .venv/bin/python bench/lut.py [--validate N] [--tables lut/mps2-an386/hybrid.json]
"""

from __future__ import annotations

import argparse
import json
import random
import time
import warnings
from pathlib import Path

from hilnas.lut.predict import Predictor
from hilnas.lut.table import load_table

ROOT = Path(__file__).resolve().parents[1]


def predictions_per_s(pred: Predictor, n_fast: int = 200_000, n_exact: int = 2_000) -> dict:
    space = pred.space
    rng = random.Random(0)
    vecs = [space.encode(space.sample(rng)) for _ in range(n_fast)]
    pred.predict_many(vecs[:2000])  # compile the stage tables once (cached afterwards)
    t = time.perf_counter()
    pred.predict_many(vecs)
    fast = n_fast / (time.perf_counter() - t)
    archs = [space.decode(v) for v in vecs[:n_exact]]
    t = time.perf_counter()
    for a in archs:
        pred.predict(a)
    exact = n_exact / (time.perf_counter() - t)
    return {"fast_per_s": fast, "exact_arena_per_s": exact}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tables", nargs="*", type=Path)
    ap.add_argument("--validate", type=int, default=0, help="measure N fresh members first")
    args = ap.parse_args()
    tables = args.tables or sorted((ROOT / "lut").glob("*/*.json"))
    tables = [t for t in tables if not t.name.endswith(".validation.json")]
    for path in tables:
        table = load_table(path)
        m = table.meta
        print(f"== {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
        secs = float(m.get("build_seconds", 0))
        print(f"build: {len(table.entries)} entries in {secs:.0f} s "
              f"({len(table.entries) / max(secs / 60, 1e-9):.1f} entries/min); arena mirror = "
              f"board on {m.get('arena_checks', 0) - len(m.get('arena_mismatches', []))}/"
              f"{m.get('arena_checks', 0)} build chains; flash fit worst chain "
              f"{table.fits.get('flash', {}).get('max_rel_err', 0) * 100:.2f}%")
        from hilnas.board.profiles import load_profile

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pred = Predictor(table, load_profile(table.board).budget())
        rates = predictions_per_s(pred)
        print(f"predictions/s (one core): batched latency/flash/ops {rates['fast_per_s']:,.0f}; "
              f"exact arena {rates['exact_arena_per_s']:,.0f}")
        vjson = path.with_name(f"{path.stem}.validation.json")
        if args.validate:
            from hilnas.lut.validate import validate, write_json

            write_json(validate(table, args.validate), vjson)
        if vjson.exists():
            v = json.loads(vjson.read_text())
            for key in ("latency", "sram", "flash"):
                s = v[key]
                print(f"{key:8s} MAPE {s['mape_pct']:.3f}%  max {s['max_err_pct']:.3f}%  "
                      f"Spearman {s['spearman']:.4f}  ({v['samples']} members on the board)")
            print(f"arena exact on {v['arena_exact']}/{v['samples']}, op/tensor counts exact on "
                  f"{v['counts_exact']}/{v['samples']}")
        else:
            print("accuracy: no validation yet (hilnas lut validate ... --json "
                  f"{vjson.name}, or --validate N)")


if __name__ == "__main__":
    main()
