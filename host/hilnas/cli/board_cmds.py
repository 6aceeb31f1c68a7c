"""CLI for the board stage: ``boards``, ``firmware build``, ``flash``, ``profile``.

Handlers import their heavy pieces lazily so that ``hilnas --help`` stays
instant; all user errors are HilnasError subclasses that the dispatcher prints.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from hilnas.errors import ConfigError
from hilnas.fileio import atomic_write_json


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("boards", help="list the boards (device profiles) hilnas knows")
    p.set_defaults(handler=cmd_boards)

    fw = subparsers.add_parser("firmware", help="build the board firmware")
    fw_sub = fw.add_subparsers(dest="firmware_command", metavar="ACTION")
    b = fw_sub.add_parser("build", help="build (or take from cache) the firmware for a board")
    b.add_argument("--board", required=True)
    b.add_argument("--force", action="store_true", help="rebuild even if cached")
    b.set_defaults(handler=cmd_firmware_build)
    c = fw_sub.add_parser(
        "config", help="write the CMake fragment (board facts from the profile) for a manual build"
    )
    c.add_argument("--board", required=True)
    c.add_argument("-o", "--output", type=Path, required=True, help="file for -DHN_BOARD_CONFIG=")
    c.set_defaults(handler=cmd_firmware_config)

    f = subparsers.add_parser("flash", help="flash the firmware onto a real board")
    f.add_argument("--board", required=True)
    f.add_argument("--tool", choices=("pyocd", "openocd", "st-flash"), default=None)
    f.add_argument("--probe", default=None, help="probe serial number when several are attached")
    f.add_argument("--elf", type=Path, default=None, help="image to flash (default: build it)")
    f.set_defaults(handler=cmd_flash)

    pr = subparsers.add_parser("profile", help="run a .tflite on a board and report figures")
    pr.add_argument("model", type=Path, metavar="MODEL.tflite")
    pr.add_argument("--board", required=True)
    pr.add_argument("--runs", type=int, default=10)
    pr.add_argument("--warmup", type=int, default=2)
    pr.add_argument("--input", type=Path, default=None, help=".npy input (int8 or float32)")
    pr.add_argument("--json", type=Path, default=None, help="write every figure here")
    pr.add_argument("--check", action="store_true", help="compare output with TFLM, bit-exact")
    pr.add_argument("--elf", type=Path, default=None, help="firmware image (default: build it)")
    pr.add_argument("--port", default=None, help="serial port (real boards; default: VID:PID)")
    pr.add_argument(
        "--bulk", action="store_true",
        help="emulated/host boards: load the model via semihosting instead of the UART",
    )  # fmt: skip
    pr.set_defaults(handler=cmd_profile)


def cmd_boards(args: argparse.Namespace) -> int:
    from hilnas.board.profiles import load_all_profiles

    table = Table(title="boards (device_profiles/*.yaml)")
    for col in ("board", "core", "clock", "SRAM", "flash", "transport", "flasher", "timing"):
        table.add_column(col)
    for p in load_all_profiles():
        t = p.transport
        link = {
            "emulator": f"qemu {t.machine}",
            "serial": f"USB {t.usb_vid or 0:04x}:{t.usb_pid or 0:04x} @{t.baud}",
            "pty": "pty",
        }[t.kind]
        table.add_row(
            p.name, p.core, f"{p.clock_hz / 1e6:g} MHz", f"{p.sram_bytes // 1024} KB",
            f"{p.flash_bytes // 1024} KB", link, p.flasher.default, p.timing_unit,
        )  # fmt: skip
    Console().print(table)
    return 0


def cmd_firmware_config(args: argparse.Namespace) -> int:
    from hilnas.board.build import write_firmware_config
    from hilnas.board.profiles import load_profile

    path = write_firmware_config(load_profile(args.board), args.output)
    Console().print(f"wrote {path}: pass -DHN_BOARD_CONFIG={path} to cmake")
    return 0


def cmd_firmware_build(args: argparse.Namespace) -> int:
    from hilnas.board.build import build_firmware
    from hilnas.board.profiles import load_profile

    image = build_firmware(load_profile(args.board), force=args.force)
    state = "cached" if image.cached else "built"
    Console().print(f"{state} {image.elf} (source hash {image.source_hash})")
    return 0


def cmd_flash(args: argparse.Namespace) -> int:
    from hilnas.board.build import build_firmware
    from hilnas.board.flash import flash
    from hilnas.board.profiles import load_profile

    profile = load_profile(args.board)
    if profile.is_emulated or profile.is_host:
        elf = args.elf or Path("hilnas_fw.elf")  # nothing is written; flash() explains why
    else:
        elf = args.elf or build_firmware(profile).elf
    Console().print(flash(profile, elf, tool=args.tool, probe=args.probe))
    return 0


def _figures_table(r: Any) -> Table:
    unit = r.timing_unit
    t = Table(title=f"{Path(r.model).name} on {r.board}", show_header=False)
    t.add_column("figure")
    t.add_column("value", justify="right")
    ident = r.identity
    rows = [
        ("board", f"{ident['board']} ({ident['core']}, {ident['cpu_hz'] / 1e6:g} MHz)"),
        ("firmware", f"{ident['firmware_version']} ({ident['git_hash']})"),
        ("timing unit", f"{unit} ({ident['timing_unit_text']})"),
        ("runs / warm-up", f"{r.runs} / {r.warmup}"),
        (f"latency min ({unit})", f"{r.latency_min:,.0f}"),
        (f"latency median ({unit})", f"{r.latency_median:,.0f}"),
        (f"latency max ({unit})", f"{r.latency_max:,.0f}"),
    ]
    if r.latency_ms_median is not None:
        rows.append(("latency median (ms)", f"{r.latency_ms_median:.3f}"))
    rows += [
        ("ops", str(r.n_ops)),
        ("arena bytes", f"{r.arena_bytes:,}"),
        ("stack high-water bytes", f"{r.stack_high_water:,}"),
        ("model bytes", f"{r.model_bytes:,}"),
        ("input bytes", f"{r.input_bytes:,}"),
        ("output bytes", f"{r.output_bytes:,}"),
        ("output CRC32", f"{r.output_crc32:08x}"),
        ("input", r.input_source),
        ("upload", f"{r.upload_s:.2f} s ({r.upload_bytes_per_s / 1e3:.1f} KB/s, {r.upload_path})"),
        ("boot + HELLO", f"{r.boot_s:.2f} s"),
        ("wall", f"{r.wall_s:.2f} s"),
        ("TFLM check", "bit-exact" if r.checked_against_tflm else "not requested (--check)"),
    ]
    for k, v in rows:
        t.add_row(k, v)
    return t


def _ops_table(r: Any) -> Table:
    """Per op type: how many, ticks converted to the board's unit, share of the total."""
    agg: dict[str, list[float]] = {}
    for op in r.ops:
        entry = agg.setdefault(op.name, [0, 0.0, 0.0])
        entry[0] += 1
        entry[1] += op.value
        entry[2] += op.share
    t = Table(title="per-op (last invoke)")
    for col in ("op", "count", r.timing_unit, "share"):
        t.add_column(col, justify="left" if col == "op" else "right")
    for name, (count, value, share) in sorted(agg.items(), key=lambda kv: -kv[1][1]):
        t.add_row(name, str(int(count)), f"{value:,.0f}", f"{share:.1%}")
    return t


def cmd_profile(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    from hilnas.board.measure import profile_model
    from hilnas.board.profiles import load_profile

    if args.runs < 1 or args.warmup < 0:
        raise ConfigError(f"--runs must be >= 1 and --warmup >= 0 (got {args.runs}, {args.warmup})")
    if not args.model.is_file():
        raise ConfigError(f"model file {args.model} does not exist")
    profile = load_profile(args.board)
    console = Console(stderr=True)
    elf = args.elf
    if elf is None and profile.transport.kind != "serial":
        from hilnas.board.build import build_firmware

        with console.status(f"firmware for {profile.name} (built once, then cached)"):
            elf = build_firmware(profile).elf
    with Progress(
        "[progress.description]{task.description}", BarColumn(), DownloadColumn(),
        TransferSpeedColumn(), console=console, transient=True,
    ) as bar:  # fmt: skip
        task = bar.add_task(f"upload to {profile.name}", total=args.model.stat().st_size)
        result = profile_model(
            args.model, profile, runs=args.runs, warmup=args.warmup, input_path=args.input,
            check=args.check, elf=elf, port=args.port, bulk=args.bulk,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )  # fmt: skip
    out = Console()
    out.print(_figures_table(result))
    out.print(_ops_table(result))
    if args.json:
        atomic_write_json(args.json, result.to_json(), indent=1)
        out.print(f"wrote {args.json}")
    return 0
