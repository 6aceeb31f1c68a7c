"""``hilnas demo``: the main job on the embedded default (see :mod:`hilnas.demo`)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "demo",
        help="the whole pipeline on the built-in dataset and the emulated board",
        description="Train the supernet on digits, convert its largest subnet to int8, "
        "measure it in TFLM and profile it on an emulated Cortex-M board. Resumable.",
    )
    p.add_argument("--run-dir", type=Path, default=Path("runs/demo"))
    p.add_argument("--space", default="hybrid")
    p.add_argument("--board", default="mps2-an386")
    p.add_argument("--epochs", type=int, default=None,
                   help="supernet epochs (default: the supernet's default configuration)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-params", type=int, default=250_000,
                   help="parameter budget of the deployed subnet (int8: ~1 byte each)")
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from hilnas.demo import DemoConfig, run_demo

    run_demo(DemoConfig(run_dir=args.run_dir, space=args.space, board=args.board,
                        epochs=args.epochs, seed=args.seed,
                        max_params=args.max_params))
    return 0
