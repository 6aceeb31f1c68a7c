"""Board bench: UART streaming rates, instructions per inference on M4, one CLI call's wall.

Prints measured figures (nothing is asserted here; tests/board asserts):

1. per emulated board, host->board bytes/s over the serial link
   * raw: a burst of non-SOF bytes (the firmware's SOF hunt swallows them at the
     UART's pace) followed by one PING; bytes / time-to-PONG
   * protocol: MODEL_CHUNK streaming (windowed, acknowledged, CRC'd frames)
   * overhead = 1 - protocol/raw (target <= 20 %)
2. instructions per inference (QEMU -icount, exact) of the sample and reference
   models on mps2-an386 (Cortex-M4), bit-exact vs TFLM
3. wall time of one ``hilnas profile`` process on a ~100 KB model on mps2-an386,
   board boot included (target <= 10 s)

Usage: .venv/bin/python bench/profile.py [--bytes N] [--boards a,b] [--json out.json]
The machine is shared: wall-clock figures are noisy, instruction counts are exact.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from hilnas.board import protocol as P
from hilnas.board.measure import run_on_session
from hilnas.board.profiles import REPO_ROOT, load_profile
from hilnas.board.sample_models import sample_model
from hilnas.board.session import BoardSession, open_board
from rich.console import Console
from rich.table import Table

EMULATED = ("mps2-an385", "mps2-an386", "mps2-an500", "mps2-an505")
REFERENCE_DIR = REPO_ROOT / ".hilnas-cache" / "reference-models"


def raw_rate(session: BoardSession, n_bytes: int) -> float:
    """Bytes/s the board swallows when they carry no framing at all."""
    client = session.client
    filler = bytes(n_bytes)  # 0x00 never starts a SOF
    t0 = time.perf_counter()
    client.transport.write(filler)
    client.receive(client.send(P.Op.PING, b"."), P.Op.PING, timeout=600)
    return n_bytes / (time.perf_counter() - t0)


def protocol_rate(session: BoardSession, n_bytes: int) -> float:
    """Payload bytes/s of MODEL_CHUNK streaming, acknowledgements included."""
    client = session.client
    blob = os.urandom(n_bytes)
    client.request(P.Op.MODEL_BEGIN, P.pack_model_begin(len(blob), P.crc32(blob)))
    t0 = time.perf_counter()
    client.stream_chunks(P.Op.MODEL_CHUNK, blob)
    return n_bytes / (time.perf_counter() - t0)


def bench_streaming(boards: list[str], n_bytes: int, pairs: int) -> list[dict]:
    """Alternate raw and protocol measurements so host-load drift hits both alike."""
    rows = []
    for name in boards:
        raws, protos = [], []
        with open_board(load_profile(name)) as session:
            for _ in range(pairs):
                raws.append(raw_rate(session, n_bytes))
                protos.append(protocol_rate(session, n_bytes))
        overheads = sorted(1 - p / r for r, p in zip(raws, protos, strict=True))
        rows.append(
            {"board": name, "raw_Bps": statistics.median(raws),
             "protocol_Bps": statistics.median(protos),
             "overhead": statistics.median(overheads), "overhead_max": overheads[-1],
             # Host load only ever slows a transfer: best-of-N is the least noisy figure.
             "raw_best_Bps": max(raws), "protocol_best_Bps": max(protos),
             "overhead_best": 1 - max(protos) / max(raws),
             "raw_all": raws, "protocol_all": protos}
        )  # fmt: skip
    return rows


def reference_models() -> dict[str, Path]:
    models = {name: sample_model(name) for name in ("tiny", "cnn100k")}
    for name in ("mbv2", "mobilevit"):
        path = REFERENCE_DIR / f"{name}.tflite"
        if not path.is_file():
            REFERENCE_DIR.mkdir(parents=True, exist_ok=True)
            cmd = [sys.executable, "-m", "hilnas.cli", "convert", "--model", name, "-o", str(path)]
            subprocess.run(cmd, check=False, capture_output=True)
        if path.is_file():
            models[name] = path
    return models


def bench_instructions(models: dict[str, Path]) -> list[dict]:
    rows = []
    with open_board(load_profile("mps2-an386")) as session:
        for name, path in models.items():
            # Semihosting bulk load: the count does not depend on how the model arrived.
            r = run_on_session(session, path, runs=2, warmup=1, check=True, bulk=True)
            top = max(r.ops, key=lambda op: op.value)
            rows.append(
                {"model": name, "bytes": r.model_bytes, "instructions": r.latency_median,
                 "arena": r.arena_bytes, "ops": r.n_ops, "top_op": top.name,
                 "top_share": sum(o.share for o in r.ops if o.name == top.name)}
            )  # fmt: skip
    return rows


def bench_cli_wall(model: Path) -> float:
    cmd = [str(Path(sys.executable).with_name("hilnas")), "profile", str(model), "--board",
           "mps2-an386", "--runs", "3", "--warmup", "1"]  # fmt: skip
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bytes", type=int, default=16 * 1024, help="bytes per rate measurement")
    ap.add_argument("--pairs", type=int, default=3, help="raw/protocol pairs per board")
    ap.add_argument("--boards", default=",".join(EMULATED))
    ap.add_argument("--parts", default="streaming,instructions,cli")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    console = Console()
    from hilnas.board.build import build_firmware

    for name in args.boards.split(","):  # build first so no build time leaks into figures
        build_firmware(load_profile(name))

    parts = set(args.parts.split(","))
    stream, instr, walls = [], [], []
    if "streaming" in parts:
        stream = bench_streaming(args.boards.split(","), args.bytes, args.pairs)
        print_streaming(console, stream, args)
    models = reference_models() if parts & {"instructions", "cli"} else {}
    if "instructions" in parts:
        instr = bench_instructions(models)
        print_instructions(console, instr)
    if "cli" in parts:
        model = models["cnn100k"]
        walls = [bench_cli_wall(model) for _ in range(3)]
        console.print(
            f"one `hilnas profile` call, {model.name} ({model.stat().st_size:,} bytes) on "
            f"mps2-an386, boot included: {min(walls):.2f} s best / {sorted(walls)[1]:.2f} s "
            f"median of 3 (target <= 10 s; load average {os.getloadavg()[0]:.1f} on a shared "
            "machine: noisy)"
        )
    if args.json:
        args.json.write_text(json.dumps(
            {"streaming": stream, "instructions": instr, "cli_wall_s": walls}, indent=1
        ))  # fmt: skip
    return 0


def print_streaming(console: Console, stream: list[dict], args: argparse.Namespace) -> None:
    t = Table(
        title=f"host->board streaming, {args.bytes} bytes per figure, median of {args.pairs} "
        f"alternating raw/protocol pairs (load average {os.getloadavg()[0]:.1f})"
    )
    cols = ("board", "raw B/s (median/best)", "protocol B/s (median/best)",
            "overhead: median pair / best-of (target <= 20%)", "worst pair")  # fmt: skip
    for col in cols:
        t.add_column(col, justify="right")
    for r in stream:
        t.add_row(r["board"], f"{r['raw_Bps']:,.0f} / {r['raw_best_Bps']:,.0f}",
                  f"{r['protocol_Bps']:,.0f} / {r['protocol_best_Bps']:,.0f}",
                  f"{r['overhead']:.1%} / {r['overhead_best']:.1%}",
                  f"{r['overhead_max']:.1%}")  # fmt: skip
    console.print(t)


def print_instructions(console: Console, instr: list[dict]) -> None:
    t = Table(title="instructions per inference on mps2-an386 (Cortex-M4, QEMU -icount, exact)")
    for col in ("model", "bytes", "instructions", "arena", "ops", "top op (share)"):
        t.add_column(col, justify="right")
    for r in instr:
        t.add_row(r["model"], f"{r['bytes']:,}", f"{r['instructions']:,.0f}", f"{r['arena']:,}",
                  str(r["ops"]), f"{r['top_op']} ({r['top_share']:.0%})")  # fmt: skip
    console.print(t)


if __name__ == "__main__":
    sys.exit(main())
