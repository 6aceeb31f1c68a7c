"""``hilnas lut build|validate|show``: board-measured latency/memory tables.

Handlers parse and print only; the work is in :mod:`hilnas.lut`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    lut = subparsers.add_parser("lut", help="latency/memory lookup tables measured on a board")
    sub = lut.add_subparsers(dest="lut_command", metavar="ACTION")
    b = sub.add_parser("build", help="measure every block of a space on a board (resumable)")
    b.add_argument("--board", default="mps2-an386")
    b.add_argument("--space", default="hybrid")
    b.add_argument("-o", "--out", type=Path, help="table path (default lut/BOARD/SPACE.json)")
    b.add_argument("--jobs", type=int, default=1,
                   help="converter processes and emulated boards run at once (default 1)")
    b.add_argument("--limit", type=int, help="measure at most this many new blocks (tests)")
    b.add_argument("--fresh", action="store_true",
                   help="start over instead of resuming (needed after an engine or converter "
                   "change; conversions still come from the cache)")
    b.add_argument("--port", help="serial port of a real board (several, comma-separated: "
                   "one board of the same kind on each)")
    b.set_defaults(handler=cmd_build)
    v = sub.add_parser("validate", help="predicted vs measured on random members")
    v.add_argument("--board", default=None, help="must match the table's board")
    v.add_argument("--lut", type=Path, required=True)
    v.add_argument("--samples", type=int, default=30)
    v.add_argument("--jobs", type=int, default=1,
                   help="converter processes for members not in the conversion cache")
    v.add_argument("--seed", type=int, default=0)
    v.add_argument("--json", type=Path, help="write every member's figures here")
    v.add_argument("--covered-only", action="store_true",
                   help="sample only members the (partial) table covers")
    v.add_argument("--plot", type=Path, help="PNG (latency; _sram/_flash PNGs beside it)")
    v.set_defaults(handler=cmd_validate)
    s = sub.add_parser("show", help="what a table covers and how it was built")
    s.add_argument("lut", type=Path)
    s.set_defaults(handler=cmd_show)


def _progress_bar(label: str):  # type: ignore[no-untyped-def]
    """A rich bar on a terminal; plain lines (with ETA) in logs."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    if not sys.stderr.isatty():
        return None
    return Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TextColumn("ETA"), TimeRemainingColumn(), transient=False)


def cmd_build(args: argparse.Namespace) -> int:
    from hilnas.lut.build import build_table, default_lut_path, print_progress

    out = args.out or default_lut_path(args.board, args.space)
    bar = _progress_bar(f"lut build {args.board}/{args.space}")
    if bar is None:
        report = build_table(args.board, args.space, out, args.jobs, limit=args.limit,
                             progress=print_progress, port=args.port, fresh=args.fresh)
    else:
        with bar:
            task = bar.add_task("chains", total=None)

            def progress(done: int, total: int, elapsed: float) -> None:
                bar.update(task, completed=done, total=total)

            report = build_table(args.board, args.space, out, args.jobs, limit=args.limit,
                                 progress=progress, port=args.port, fresh=args.fresh)
    rate = report.entries_new / (report.seconds / 60) if report.seconds else 0.0
    print(f"{report.table}: {report.entries_total} entries ({report.entries_new} new, "
          f"{report.chains} chains) in {report.seconds:.0f} s ({rate:.1f} entries/min); "
          f"arena mirror matched the board on {report.arena_checks - report.arena_mismatches}"
          f"/{report.arena_checks} chains")
    sp = report.split
    if sp:
        print(f"time: plan {sp.get('plan_s', 0):.0f} s, conversions {sp.get('converted', 0)} "
              f"({sp.get('convert_s', 0):.0f} s of converter time, "
              f"{sp.get('convert_cpu_s', 0):.0f} CPU s; {sp.get('cache_hits', 0)} "
              f"from the cache), board {sp.get('board_s', 0):.0f} s, recording "
              f"{sp.get('record_s', 0):.0f} s; wall {sp.get('total_s', 0):.0f} s")
    failed = report.failed_chains
    for key, err in failed.items():
        print(f"chain {key} failed: {err}", file=sys.stderr)
    return 0 if report.arena_mismatches == 0 and not failed else 1


def cmd_validate(args: argparse.Namespace) -> int:
    from hilnas.errors import ConfigError
    from hilnas.lut.table import load_table
    from hilnas.lut.validate import save_plots, validate, write_json

    table = load_table(args.lut)
    if args.board and args.board != table.board:
        raise ConfigError(f"{args.lut} was built on {table.board}, not {args.board}")

    def progress(done: int, total: int, text: str) -> None:
        print(f"member {done}/{total}: {text}", file=sys.stderr, flush=True)

    summary = validate(table, args.samples, args.seed, progress=progress,
                       covered_only=args.covered_only, jobs=args.jobs)
    print(f"{'#':>3} {'lat pred':>12} {'lat meas':>12} {'err%':>6} {'arena pred':>10} "
          f"{'arena meas':>10} {'flash pred':>10} {'flash meas':>10} ops")
    for m in summary.members:
        p, q = m.predicted, m.measured
        err = (p["latency"] - q["latency"]) / q["latency"] * 100
        print(f"{m.index:>3} {p['latency']:>12.0f} {q['latency']:>12.0f} {err:>6.2f} "
              f"{p['arena_bytes']!s:>10} {q['arena_bytes']:>10} {p['model_bytes']:>10} "
              f"{q['model_bytes']:>10} {p['n_ops']}/{q['n_ops']}")
    for key in ("latency", "sram", "flash"):
        s = getattr(summary, key)
        print(f"{key:8s} MAPE {s['mape_pct']:.3f}%  max {s['max_err_pct']:.3f}%  "
              f"Spearman {s['spearman']:.4f}")
    print(f"arena exact on {summary.arena_exact}/{summary.samples}; op/tensor counts exact on "
          f"{summary.counts_exact}/{summary.samples}")
    if args.json:
        write_json(summary, args.json)
    if args.plot:
        for path in save_plots(summary, args.plot):
            print(f"plot: {path}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from collections import Counter

    from hilnas.lut.table import load_table

    t = load_table(args.lut)
    m = t.meta
    kinds = Counter(e.get("kind", "?") for e in t.entries.values())
    print(f"{args.lut}: {t.space} on {t.board}, schema {m.get('schema')}, built {m.get('created')}")
    by_kind = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
    print(f"  entries: {len(t.entries)} ({by_kind})")
    print(f"  timing: {m.get('unit')} at {m.get('clock_hz')} Hz; runs {m.get('runs')}, "
          f"warm-up {m.get('warmup')}; {m.get('statistic')}")
    versions = ", ".join(f"{k} {v}" for k, v in m.get("converter_versions", {}).items())
    print(f"  route: {m.get('route')} ({versions})")
    print(f"  engine sources {m.get('engine_source_hash')}, firmware "
          f"{m.get('firmware_source_hash')}, flags {' '.join(m.get('build_flags', []))}")
    print(f"  compiler: {m.get('compiler')}; board profile sha256 "
          f"{m.get('board_profile_sha256')}")
    print(f"  build: {m.get('build_seconds')} s; arena mirror checked on {m.get('arena_checks')} "
          f"chains, {len(m.get('arena_mismatches', []))} mismatches")
    last = m.get("last_build")
    if last:
        print(f"  last build run: {last.get('chains')} chains, {last.get('converted')} converted "
              f"({last.get('convert_s')} s converter time), {last.get('cache_hits')} from the "
              f"conversion cache, board {last.get('board_s')} s on {last.get('boards')} "
              f"board(s), wall {last.get('total_s')} s")
    f = t.fits.get("flash", {})
    if f:
        print(f"  flash fit: {f.get('intercept', 0):.0f} B + {f.get('per_op', 0):.1f} B/op + "
              f"{f.get('per_tensor', 0):.1f} B/tensor; worst chain "
              f"{f.get('max_rel_err', 0) * 100:.2f}%")
    return 0
