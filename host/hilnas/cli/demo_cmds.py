"""``hilnas demo``: the main job on the embedded default (see :mod:`hilnas.demo`)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "demo",
        help="the whole pipeline on the built-in dataset and the emulated board",
        description="Boot the emulated board, use its latency/memory LUT (built when "
        "missing), train the supernet on digits, search accuracy vs latency under the "
        "board's budgets, deploy the winner from flash and verify it on the device. "
        "Resumable: rerun after a kill and it continues.",
    )
    p.add_argument("--run-dir", type=Path, default=Path("runs/demo"))
    p.add_argument("--space", default="hybrid")
    p.add_argument("--board", default="mps2-an386")
    p.add_argument("--epochs", type=int, default=None,
                   help="supernet epochs (default: the supernet's default configuration)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--supernet", type=Path, default=None,
                   help="use this trained supernet checkpoint instead of training one")
    p.add_argument("--lut", type=Path, default=None,
                   help="lookup table (default: the shipped lut/<board>/<space>.json)")
    p.add_argument("--latency-ms", type=float, default=None,
                   help="latency budget (default: half the largest member's predicted latency)")
    p.add_argument("--sram-kb", type=float, default=256.0,
                   help="SRAM budget incl. the firmware's own RAM (default: a 256 KB MCU)")
    p.add_argument("--flash-kb", type=float, default=1024.0,
                   help="flash budget incl. the firmware (default: a 1 MB MCU)")
    p.add_argument("--evaluations", type=int, default=40,
                   help="search budget: architectures whose accuracy is evaluated")
    p.add_argument("--strategy", default="hyt")
    p.add_argument("--test-images", type=int, default=50,
                   help="test images the deployed model is verified on, on the device")
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from hilnas.demo import DemoConfig, run_demo

    run_demo(DemoConfig(run_dir=args.run_dir, space=args.space, board=args.board,
                        epochs=args.epochs, seed=args.seed, lut=args.lut,
                        supernet=args.supernet,
                        latency_ms=args.latency_ms, sram_kb=args.sram_kb,
                        flash_kb=args.flash_kb, evaluations=args.evaluations,
                        strategy=args.strategy, test_images=args.test_images))
    return 0
