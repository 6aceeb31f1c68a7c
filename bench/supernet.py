"""Supernet ranking quality and training throughput (issue #5 acceptance).

Trains (or reuses) the default supernet on digits, then for >= 10 members spread over the
space compares the supernet-inherited accuracy with the accuracy of the same architecture
trained stand-alone from scratch for a few epochs (same recipe as the supernet: AdamW,
one-cycle lr 1e-2, batch 32), and prints Kendall's tau between the two rankings plus
training throughput (images/s on this machine's CPU).

Members: the smallest, the largest, and the rest at evenly spaced parameter-count
quantiles of 400 seeded random samples, so the set spans the space the way a search will
see it (uniform samples cluster in the middle, where accuracy differences are smaller than
the noise of a few-hundred-image split). Accuracies are on validation + test together.
With ``--convert-each`` every member is also converted with ``hilnas.convert.convert``
one by one (the full property sweep; slow: tens of seconds per member).

    .venv/bin/python bench/supernet.py [--space hybrid] [--ckpt runs/supernet/supernet.pt]
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/ holds a profile.py that would shadow the stdlib module torch imports (via cProfile).
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import argparse
import json
import random
import tempfile
import time

import torch
import torch.nn.functional as F
from hilnas.data import ImageDataset, calibration_set, heldout_set, resize
from hilnas.space import Arch, SearchSpace
from hilnas.supernet import TrainConfig, accuracy, load_supernet, train_supernet
from hilnas.supernet.train import random_shift
from rich.console import Console
from rich.table import Table
from scipy.stats import kendalltau


def train_standalone(
    space: SearchSpace, arch: Arch, data: ImageDataset, epochs: int, seed: int
) -> tuple[float, float]:
    """Train ``arch`` from scratch; returns (val accuracy, images/s)."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = space.build(arch)
    res = space.resolution(arch)
    cfg = TrainConfig()
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    bs = cfg.batch_size
    steps = -(-len(data.train_x) // bs)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, cfg.lr, total_steps=epochs * steps, pct_start=0.15
    )
    start, seen = time.perf_counter(), 0
    for _ in range(epochs):
        model.train()
        order = torch.randperm(len(data.train_x), generator=gen)
        for i in range(steps):
            idx = order[i * bs : (i + 1) * bs]
            x = resize(random_shift(data.train_x[idx], 1, gen), res)
            loss = F.cross_entropy(model(x), data.train_y[idx], label_smoothing=0.1)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            seen += len(idx)
    rate = seen / (time.perf_counter() - start)
    return heldout_accuracy(model, data, res), rate


def heldout_accuracy(model: torch.nn.Module, data: ImageDataset, res: int) -> float:
    """Top-1 on validation and test together (twice the images of either: less noise)."""
    n_val, n_test = len(data.val_x), len(data.test_x)
    both = accuracy(model, data, res, "val") * n_val + accuracy(model, data, res, "test") * n_test
    return both / (n_val + n_test)


def spread_members(space: SearchSpace, n: int, seed: int, pool: int = 400) -> list[Arch]:
    """Smallest, largest and ``n - 2`` members at evenly spaced parameter quantiles."""
    rng = random.Random(seed)
    sampled = {tuple(space.encode(a)): a for a in (space.sample(rng) for _ in range(pool))}
    ranked = sorted(sampled.values(), key=space.param_count)
    picks = [ranked[round(i * (len(ranked) - 1) / (n - 3))] for i in range(n - 2)]
    return [space.smallest(), *picks, space.largest()]


def convert_member(trained, arch: Arch, test_int8: bool = False) -> tuple[str, float | None]:  # type: ignore[no-untyped-def]
    """Convert one member (all converter checks); optionally its int8 test accuracy on TFLM."""
    from hilnas.convert import convert
    from hilnas.convert.accuracy import tflm_accuracy

    space, data = trained.space, trained.data
    res = space.resolution(arch)
    with tempfile.TemporaryDirectory() as tmp:
        result = convert(
            trained.extract(arch),
            space.input_shape(arch),
            calibration_set(data, res, 64),
            Path(tmp) / "m.tflite",
            heldout=heldout_set(data, res),
        )
        acc = None
        if test_int8:
            test_x, test_y = data.split("test")
            layout = result.report.input_layout
            x = resize(test_x, res).numpy()
            acc = tflm_accuracy(result.tflite_path, x, test_y.numpy(), layout)
        return f"{result.route} {result.model_bytes} B", acc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--space", default="hybrid")
    parser.add_argument("--ckpt", type=Path, help="existing supernet.pt (default: train one)")
    parser.add_argument("--run-dir", type=Path, default=Path("runs/bench-supernet"))
    parser.add_argument("--n", type=int, default=10, help="members to rank (>= 10)")
    parser.add_argument("--epochs", type=int, default=10, help="stand-alone epochs per member")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--convert-each", action="store_true")
    args = parser.parse_args()
    if args.n < 4:
        parser.error("--n must be at least 4 (smallest, largest and spread members)")
    if args.threads:
        torch.set_num_threads(args.threads)
    console = Console()
    ckpt = args.ckpt
    if ckpt is None:
        t0 = time.perf_counter()
        trainer = train_supernet(TrainConfig(space=args.space, seed=args.seed), args.run_dir)
        ckpt = trainer.ckpt_path
        console.print(f"supernet training wall time {time.perf_counter() - t0:.0f} s")
    trained = load_supernet(ckpt)
    space, data = trained.space, trained.data
    state = torch.load(ckpt, weights_only=False)
    history = state["history"]
    archs = spread_members(space, args.n, args.seed)
    table = Table(
        title=f"{space.name}: inherited vs stand-alone ({args.epochs} epochs) val+test accuracy"
    )
    for col in ("member", "params", "inherited", "stand-alone", "img/s", "convert"):
        table.add_column(col)
    inherited, standalone, rates = [], [], []
    status = console.status("")
    status.start()
    for i, arch in enumerate(archs):
        status.update(f"member {i + 1}/{len(archs)}: inherited accuracy, stand-alone training")
        inherited.append(heldout_accuracy(trained.extract(arch), data, space.resolution(arch)))
        acc, rate = train_standalone(space, arch, data, args.epochs, args.seed + i)
        standalone.append(acc)
        rates.append(rate)
        conv = convert_member(trained, arch)[0] if args.convert_each else "-"
        table.add_row(
            str(i), f"{space.param_count(arch):,}", f"{inherited[-1]:.3f}", f"{acc:.3f}",
            f"{rate:.0f}", conv,
        )
    status.update("largest member: convert, int8 accuracy on TFLM")
    largest = trained.extract(space.largest())
    route, int8_acc = convert_member(trained, space.largest(), test_int8=True)
    status.stop()
    tau = kendalltau(inherited, standalone).statistic
    console.print(table)
    summary = {
        "space": space.name,
        "members": len(archs),
        "kendall_tau": round(float(tau), 3),
        "largest_test_acc": round(accuracy(largest, data, space.resolution(space.largest())), 4),
        "largest_int8_tflm_test_acc": round(int8_acc or 0.0, 4),
        "largest_int8_model": route,
        "supernet_train_images_per_s": history[-1]["images_per_s"] if history else None,
        "supernet_train_seconds": round(state["train_seconds"], 1),
        "standalone_train_images_per_s": round(sum(rates) / len(rates), 1),
        "threads": torch.get_num_threads(),
    }
    console.print_json(json.dumps(summary))


if __name__ == "__main__":
    main()
