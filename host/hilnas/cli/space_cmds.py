"""``hilnas space`` and ``hilnas supernet`` command groups.

``space show|sample`` inspect a search space and write arch JSON files; ``supernet
train|eval`` train a weight-sharing supernet into a run folder (resumable) and read a
member's inherited accuracy off a checkpoint.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    _register_space(subparsers)
    _register_supernet(subparsers)


def _register_space(subparsers: argparse._SubParsersAction) -> None:
    space = subparsers.add_parser("space", help="inspect search spaces, sample architectures")
    sub = space.add_subparsers(dest="space_command", metavar="ACTION")
    show = sub.add_parser("show", help="knobs, size and smallest/largest members of a space")
    show.add_argument("--space", required=True, help="space name (see `hilnas space show --list`)")
    show.set_defaults(handler=cmd_space_show)
    sample = sub.add_parser("sample", help="random architectures as arch JSON")
    sample.add_argument("--space", required=True)
    sample.add_argument("--n", type=int, default=1, help="how many (default 1)")
    sample.add_argument("--seed", type=int, default=0)
    sample.add_argument("-o", "--out-dir", type=Path, help="write arch_<i>.json files here")
    sample.set_defaults(handler=cmd_space_sample)


def _register_supernet(subparsers: argparse._SubParsersAction) -> None:
    sn = subparsers.add_parser("supernet", help="train / evaluate a weight-sharing supernet")
    sub = sn.add_subparsers(dest="supernet_command", metavar="ACTION")
    train = sub.add_parser("train", help="train a supernet (resumes an unfinished run)")
    train.add_argument("--space", default="hybrid")
    train.add_argument("--data", default="digits", help="digits (built in), folder or cifar10")
    train.add_argument("--data-path", help="dataset folder for --data folder/cifar10")
    train.add_argument("--run-dir", type=Path, default=Path("runs/supernet"))
    train.add_argument("--epochs", type=int)
    train.add_argument("--batch-size", type=int)
    train.add_argument("--lr", type=float)
    train.add_argument("--n-random", type=int, help="random subnets per step (sandwich rule)")
    train.add_argument(
        "--archs-per-batch", type=int, help="split the batch over this many random subnets"
    )
    train.add_argument("--no-distill", action="store_true", help="random subnets learn labels")
    train.add_argument("--seed", type=int)
    train.add_argument("--threads", type=int, help="torch CPU threads (default: torch's)")
    train.add_argument("--fresh", action="store_true", help="discard a checkpoint in --run-dir")
    train.set_defaults(handler=cmd_supernet_train)
    ev = sub.add_parser("eval", help="inherited accuracy of an architecture")
    ev.add_argument("--ckpt", type=Path, required=True, help="supernet.pt of a run")
    ev.add_argument("arch", type=Path, nargs="+", help="arch JSON file(s)")
    ev.add_argument("--split", default="test", choices=("val", "test"))
    ev.set_defaults(handler=cmd_supernet_eval)


def cmd_space_show(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from hilnas.space import get_space

    space = get_space(args.space)
    table = Table(title=f"space {space.name}: {space.size():,} networks")
    table.add_column("knob")
    table.add_column("choices")
    for knob in space.knobs:
        gate = f"  (if {knob.active_if[0]} >= {knob.active_if[1]})" if knob.active_if else ""
        table.add_row(knob.name, ", ".join(str(c) for c in knob.choices) + gate)
    console = Console()
    console.print(table)
    for label, arch in (("smallest", space.smallest()), ("largest", space.largest())):
        console.print(f"[bold]{label}[/]: {len(space.blocks(arch))} blocks")
        for sig in space.block_signatures(arch):
            console.print(f"  {sig}", highlight=False)
    return 0


def cmd_space_sample(args: argparse.Namespace) -> int:
    from hilnas.space import get_space, save_arch

    space = get_space(args.space)
    rng = random.Random(args.seed)
    for i in range(args.n):
        arch = space.sample(rng)
        if args.out_dir:
            path = Path(args.out_dir) / f"arch_{i}.json"
            save_arch(arch, path)
            print(path)
        else:
            print(json.dumps(arch.to_json()))
    return 0


def cmd_supernet_train(args: argparse.Namespace) -> int:
    import torch

    from hilnas.supernet.train import TrainConfig, train_supernet

    if args.threads:
        torch.set_num_threads(args.threads)
    overrides = {
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "n_random": args.n_random,
        "archs_per_batch": args.archs_per_batch,
        "seed": args.seed,
    }
    cfg = TrainConfig(space=args.space, data=args.data, data_path=args.data_path)
    for key, value in overrides.items():
        if value is not None:
            setattr(cfg, key, value)
    cfg.distill = not args.no_distill
    trainer = train_supernet(cfg, args.run_dir, fresh=args.fresh)
    last = trainer.history[-1] if trainer.history else {}
    print(f"checkpoint {trainer.ckpt_path} ({json.dumps(last)})")
    return 0


def cmd_supernet_eval(args: argparse.Namespace) -> int:
    from hilnas.space import load_arch
    from hilnas.supernet import load_supernet

    trained = load_supernet(args.ckpt)
    for path in args.arch:
        _, arch = load_arch(path)
        acc = trained.evaluate(arch, args.split)
        print(json.dumps({"arch": str(path), "split": args.split, "accuracy": round(acc, 4)}))
    return 0
