"""CLI for the convert stage: ``hilnas convert`` and ``hilnas inspect``.

``convert`` gets its model from a pluggable source (hilnas.convert.sources), so the
supernet's ``--arch/--ckpt`` can be added without touching the handler.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from hilnas.errors import ConvertError

if TYPE_CHECKING:
    from hilnas.convert.report import ConversionReport


def register(subparsers: argparse._SubParsersAction) -> None:
    c = subparsers.add_parser(
        "convert", help="PyTorch model -> checked full-int8 TFLite Micro model (+ JSON report)"
    )
    from hilnas.convert.sources import MODEL_SOURCES

    for source in MODEL_SOURCES:
        source.add_arguments(c)
    c.add_argument("--input-shape", default=None, help="static NCHW shape, e.g. 1x3x96x96"
                   " (built-in models default to 1x3x96x96)")
    c.add_argument("-o", "--output", type=Path, required=True, help="output .tflite path")
    c.add_argument("--calib", type=Path, default=None,
                   help="calibration set .npy (N x C x H x W float32); required for user models")
    c.add_argument("--heldout", type=Path, default=None,
                   help="held-out .npy for the int8 quality check (default: calibration set)")
    c.add_argument("--routes", default="auto",
                   help="conversion routes to try in order, e.g. litert,onnx2tf (default: auto"
                   " = onnx2tf,litert, or litert,onnx2tf for models with 4 or more attention"
                   " ops)")
    c.add_argument("--emit-c", action="store_true", help="also write <out>.c/.h embedding it")
    c.add_argument("--gelu", choices=("none", "tanh"), default="none",
                   help="'tanh' replaces exact GELU (no int8 TFLM kernel) with tanh-approximate"
                   " GELU before export and reports the float deviation (default: none)")
    c.set_defaults(handler=cmd_convert)

    i = subparsers.add_parser("inspect", help="show ops, tensors, quantization, TFLM arena")
    i.add_argument("model", type=Path, metavar="MODEL.tflite")
    i.add_argument("--tensors", action="store_true", help="list every tensor")
    i.add_argument("--json", action="store_true", help="print a JSON summary instead")
    i.set_defaults(handler=cmd_inspect)


def cmd_convert(args: argparse.Namespace) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TF's C++ info lines bury our output
    console = Console(stderr=True)
    with console.status("loading model") as status:
        from hilnas.convert import convert
        from hilnas.convert.sources import load_model

        loaded = load_model(args)
        routes = args.routes.strip()
        result = convert(
            loaded.module, loaded.input_shape, loaded.calib, args.output,  # type: ignore[arg-type]
            routes=routes, heldout=loaded.heldout, emit_c=args.emit_c,
            calib_source=loaded.calib_source, gelu=args.gelu,
            progress=lambda stage: status.update(f"{loaded.label}: {stage}"),
        )
    _print_conversion(Console(), result.report, result.tflite_path, result.report_path)
    return 0


def _print_conversion(console: Console, report: ConversionReport, tflite: Path,
                      report_path: Path) -> None:
    quality = report.int8_quality[0]
    table = Table(title=f"{tflite} (route {report.route})", show_header=False)
    table.add_row("model bytes", report.bytes_split.line())
    table.add_row("before leaning", f"{report.bytes_split_before.total:,} B (other"
                  f" {report.bytes_split_before.other:,}: names, metadata, unused buffers)")
    table.add_row("TFLM arena bytes", str(report.arena_bytes))
    table.add_row("input layout", report.input_layout)
    table.add_row("ops", ", ".join(f"{k} {v}" for k, v in report.op_histogram.items()))
    table.add_row("float max |err|", f"{report.float_max_abs_err[0]:.3g}")
    if quality.top1_agreement is not None:
        table.add_row("int8 top-1 agreement", f"{quality.top1_agreement:.3f}")
    table.add_row("int8 max/mean |err|",
                  f"{quality.max_abs_err:.4g} / {quality.mean_abs_err:.4g}")
    table.add_row("calibration", f"{report.calibration.samples} samples,"
                  f" {report.calibration.source}")
    for rw in report.rewrites:
        dev = "" if rw.float_max_abs_dev is None else (
            f" (float deviation max {rw.float_max_abs_dev:.3g}, mean {rw.float_mean_abs_dev:.3g})")
        table.add_row(f"rewrite {rw.name}", f"x{rw.count}{dev}")
    table.add_row("seconds", f"{report.timings_s['total']:.1f}")
    table.add_row("report", str(report_path))
    console.print(table)
    if report.layernorms:
        console.print(_layernorm_table(report))
    for attempt in report.attempts:
        if not attempt.passed:
            console.print(f"[yellow]route {attempt.route} failed:[/] {attempt.error}")


def _layernorm_table(report: ConversionReport) -> Table:
    """Each LayerNorm's int8 error (graph order), worst share of its range marked."""
    lns = report.layernorms or ()
    worst = max(lns, key=lambda e: e.mean_err_ratio)
    table = Table(title=f"LayerNorm int8 vs float ({lns[0].samples} held-out inputs)")
    for col in ("#", "output tensor", "shape", "max |err|", "mean |err|", "mean / range"):
        table.add_column(col)
    for e in lns:
        mark = " (worst)" if e is worst and len(lns) > 1 else ""
        table.add_row(str(e.index), e.tensor[:48] or "-", "x".join(map(str, e.shape)),
                      f"{e.max_abs_err:.4g}", f"{e.mean_abs_err:.4g}",
                      f"{e.mean_err_ratio:.4f}{mark}")
    return table


def cmd_inspect(args: argparse.Namespace) -> int:
    from hilnas.convert.tflite_reader import read_model_file
    from hilnas.tflm import tflm_arena_bytes

    info = read_model_file(args.model)
    try:
        arena: int | str = tflm_arena_bytes(args.model.read_bytes())
    except ConvertError as exc:
        arena = f"TFLM cannot load it: {exc}"
    if args.json:
        print(json.dumps(_inspect_summary(info, arena), indent=2))
        return 0 if isinstance(arena, int) else 1
    console = Console()
    console.print(f"[bold]{args.model}[/]: {info.model_bytes} bytes, {len(info.ops)} ops,"
                  f" {len(info.tensors)} tensors, TFLM arena: {arena}")
    console.print(_ops_table(info))
    rows = info.tensors if args.tensors else info.input_tensors() + info.output_tensors()
    console.print(_tensor_table(rows, "tensors" if args.tensors else "inputs / outputs"))
    return 0 if isinstance(arena, int) else 1


def _quant_text(t: object) -> str:
    scales, zps = t.scales, t.zero_points  # type: ignore[attr-defined]
    if not scales:
        return "-"
    if len(scales) > 1:
        return f"per-channel x{len(scales)} (axis {t.quantized_dimension})"  # type: ignore[attr-defined]
    return f"scale {scales[0]:.6g} zp {zps[0] if zps else 0}"


def _ops_table(info: object) -> Table:
    table = Table(title="ops")
    for col in ("#", "op", "inputs", "outputs"):
        table.add_column(col)
    for op in info.ops:  # type: ignore[attr-defined]
        table.add_row(str(op.index), op.name, " ".join(map(str, op.inputs)),
                      " ".join(map(str, op.outputs)))
    return table


def _tensor_table(tensors: list, title: str) -> Table:
    table = Table(title=title)
    for col in ("#", "name", "shape", "type", "quantization", "const"):
        table.add_column(col)
    for t in tensors:
        table.add_row(str(t.index), t.name[:60], "x".join(map(str, t.shape)), t.dtype,
                      _quant_text(t), "yes" if t.is_constant else "")
    return table


def _inspect_summary(info: object, arena: int | str) -> dict:
    return {
        "model_bytes": info.model_bytes,  # type: ignore[attr-defined]
        "arena_bytes": arena if isinstance(arena, int) else None,
        "tflm_error": None if isinstance(arena, int) else arena,
        "op_histogram": info.op_histogram(),  # type: ignore[attr-defined]
        "ops": [{"index": o.index, "op": o.name, "inputs": list(o.inputs),
                 "outputs": list(o.outputs)} for o in info.ops],  # type: ignore[attr-defined]
        "tensors": [{"index": t.index, "name": t.name, "shape": list(t.shape), "dtype": t.dtype,
                     "scales": list(t.scales), "zero_points": list(t.zero_points),
                     "constant": t.is_constant} for t in info.tensors],  # type: ignore[attr-defined]
    }
