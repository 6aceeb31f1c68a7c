"""LUT bench: per shipped table, how it was built, how fast it predicts, how exact it is.

Prints, for every lut/<board>/<space>.json:

1. build: entries, chains' board time, build seconds and entries/min (from the header),
   arena mirror checks on the build's own chains;
2. predictions/s on one core: the batched fast path (latency, flash, op/tensor counts)
   and the batched exact arena (planner mirror, C), on fresh members after a first pass
   that compiles the stage tables; ``predict`` one member at a time;
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

import numpy as np
from hilnas.lut.predict import Predictor
from hilnas.lut.table import load_table

ROOT = Path(__file__).resolve().parents[1]


def _vectors(pred: Predictor, n: int, seed: int) -> np.ndarray:
    space = pred.space
    rng = random.Random(seed)
    return np.array([space.encode(space.sample(rng)) for _ in range(n)])


def _keys(pred: Predictor) -> int:
    fast = pred._fast
    return 0 if fast is None else sum(len(t.rows) for t in fast.tables.values())


def predictions_per_s(pred: Predictor, n_fast: int = 200_000, n_arena: int = 20_000,
                      n_single: int = 300) -> dict:
    """Rates on one core. The batched path compiles a stage's sums the first time a
    stage key is seen (a decode of the member, ~0.5 ms); a search meets the same keys
    again and again, so the steady rate is timed on fresh members after a first pass of
    the same size (the first pass's rate is printed too). Rates are per CPU second of
    this process (``process_time``): one core's rate, even on a shared machine."""
    out: dict[str, float] = {}
    for name, n, arena, seeds in (("fast", n_fast, False, (0, 1)),
                                  ("arena", n_arena, True, (2, 3))):
        first, fresh = (_vectors(pred, n, s) for s in seeds)
        t = time.process_time()
        pred.predict_many(first, arena=arena)
        out[f"{name}_first_pass_per_s"] = n / (time.process_time() - t)
        keys = _keys(pred)
        t = time.process_time()
        pred.predict_many(fresh, arena=arena)
        out[f"{name}_per_s"] = n / (time.process_time() - t)
        out[f"{name}_new_keys"] = _keys(pred) - keys
    archs = [pred.space.decode(v) for v in _vectors(pred, n_single, 4)]
    t = time.process_time()
    for a in archs:
        pred.predict(a)
    out["single_per_s"] = n_single / (time.process_time() - t)
    out["stage_keys"] = _keys(pred)
    return out


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
        last = m.get("last_build")
        if last:
            print(f"last build run: {last.get('chains')} chains, {last.get('converted')} converted "
                  f"({last.get('convert_s')} s converter time), {last.get('cache_hits')} from the "
                  f"conversion cache, board {last.get('board_s')} s on {last.get('boards')} "
                  f"board(s), wall {last.get('total_s')} s")
        print(f"build: {len(table.entries)} entries in {secs:.0f} s "
              f"({len(table.entries) / max(secs / 60, 1e-9):.1f} entries/min); arena mirror = "
              f"board on {m.get('arena_checks', 0) - len(m.get('arena_mismatches', []))}/"
              f"{m.get('arena_checks', 0)} build chains; flash fit worst chain "
              f"{table.fits.get('flash', {}).get('max_rel_err', 0) * 100:.2f}%")
        from hilnas.board.profiles import load_profile

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pred = Predictor(table, load_profile(table.board).budget())
        r = predictions_per_s(pred)
        print(f"predictions/s (one core, batched, fresh members): latency/flash/ops "
              f"{r['fast_per_s']:,.0f} ({r['fast_new_keys']:,.0f} new stage keys met); exact "
              f"arena (+ all of those) {r['arena_per_s']:,.0f} ({r['arena_new_keys']:,.0f} new)")
        print(f"  first pass, compiling stage keys: {r['fast_first_pass_per_s']:,.0f}/s and "
              f"{r['arena_first_pass_per_s']:,.0f}/s with arena ({r['stage_keys']:,.0f} stage "
              f"keys in all); one member at a time (predict): {r['single_per_s']:,.0f}/s")
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
