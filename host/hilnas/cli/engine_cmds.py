"""``hilnas engine``: run a .tflite on the host build of the C engine.

``hilnas engine run MODEL.tflite [--input in.npy ...] [--output out.npy] [--check]``
prints the arena the engine needs and per-op times; ``--check`` also runs
TFLite Micro on the same input and exits 1 on any byte difference, naming the
first op whose output differs.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import numpy as np

from hilnas.errors import ConfigError
from hilnas.fileio import atomic_write_bytes


def register(subparsers: argparse._SubParsersAction) -> None:
    group = subparsers.add_parser("engine", help="run models on the host build of the C engine")
    sub = group.add_subparsers(dest="engine_command", metavar="ACTION")
    run = sub.add_parser("run", help="run a .tflite once (random input unless --input)")
    run.add_argument("model", type=Path, help="int8 .tflite model")
    run.add_argument("--input", type=Path, action="append", default=[],
                     help=".npy input (repeat for several inputs; default: seeded random)")
    run.add_argument("--output", type=Path, help="write output 0 to this .npy")
    run.add_argument("--check", action="store_true",
                     help="compare with TFLite Micro; exit 1 on any mismatch")
    run.add_argument("--seed", type=int, default=0, help="seed of the random input")
    run.set_defaults(handler=run_model)
    group.set_defaults(handler=lambda _args: group.print_help() or 2)


def _read_model(path: Path) -> bytes:
    if not path.is_file():
        raise ConfigError(f"model file not found: {path}")
    return path.read_bytes()


def _inputs(eng, paths: list[Path], seed: int) -> list[np.ndarray]:
    if paths and len(paths) != eng.num_inputs:
        raise ConfigError(f"model has {eng.num_inputs} inputs, got {len(paths)} --input files")
    rng = np.random.default_rng(seed)
    arrays = []
    for i in range(eng.num_inputs):
        info = eng.input_info(i)
        if paths:
            try:
                x = np.load(paths[i])
            except (OSError, ValueError) as exc:
                raise ConfigError(f"cannot read {paths[i]}: {exc}") from exc
            if x.size != int(np.prod(info.shape)):
                raise ConfigError(f"{paths[i]}: shape {x.shape} does not fit input {i} "
                                  f"{info.shape}")
            arrays.append(x.astype(info.dtype).reshape(info.shape))
        elif np.issubdtype(info.dtype, np.integer):
            lim = np.iinfo(info.dtype)
            arrays.append(rng.integers(lim.min, lim.max + 1, info.shape, dtype=info.dtype))
        else:
            arrays.append(rng.standard_normal(info.shape).astype(info.dtype))
    return arrays


def _save_npy(path: Path, arr: np.ndarray) -> None:
    """Write through a temp file + rename: never a half-written output."""
    buf = io.BytesIO()
    np.save(buf, arr)
    atomic_write_bytes(path, buf.getvalue())


def _print_run(console, eng) -> None:
    from rich.table import Table

    table = Table(title=f"engine: {eng.num_ops} ops, arena {eng.arena_required} bytes")
    table.add_column("#", justify="right")
    table.add_column("op")
    table.add_column("time (us)", justify="right")
    total = 0
    for rec in eng.op_records():
        total += rec.ticks
        table.add_row(str(rec.index), rec.name, f"{rec.ticks / 1000:.1f}")
    table.add_row("", "total", f"{total / 1000:.1f}")
    console.print(table)


def run_model(args: argparse.Namespace) -> int:
    from rich.console import Console

    from hilnas.engine import Engine

    console = Console()
    model = _read_model(args.model)
    eng = Engine(model)
    inputs = _inputs(eng, args.input, args.seed)
    for i, x in enumerate(inputs):
        eng.set_input(x, i)
    eng.invoke()
    _print_run(console, eng)
    if args.output:
        _save_npy(args.output, eng.get_output(0))
        console.print(f"output 0 written to {args.output}")
    if not args.check:
        return 0
    return _check(console, model, inputs)


def _check(console, model: bytes, inputs: list[np.ndarray]) -> int:
    from hilnas.engine.check import compare_with_tflm

    res = compare_with_tflm(model, inputs)
    console.print(f"arena: engine {res.engine_arena} bytes, TFLM {res.tflm_arena} bytes")
    if res.outputs_equal:
        console.print("[green]check: outputs bit-exact with TFLite Micro[/]")
        return 0
    m = res.mismatch
    if m is None:
        console.print("[red]check: outputs differ from TFLite Micro (no single op isolated)[/]")
    else:
        console.print(f"[red]check: first differing op {m.op_index} {m.op_name}[/] (tensor "
                      f"{m.tensor}: {m.n_diff} elements differ, max |diff| {m.max_abs_diff}, "
                      f"first at element {m.first_element})")
    return 1
