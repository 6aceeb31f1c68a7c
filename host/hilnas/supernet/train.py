"""Supernet training: sandwich rule, in-place distillation, multi-architecture batches.

Each step trains the largest member on the labels, then the smallest and ``n_random``
random members on the largest one's soft predictions (in-place distillation, BigNAS/OFA):
the largest and smallest bound the space, random ones cover the middle. With
``archs_per_batch > 1`` every random member sees its own slice of the batch (ViT-ResNAS
multi-architectural sampling), which covers more of the space at the same cost.

Runs are folders: ``supernet.pt`` (the latest checkpoint, written atomically every epoch)
and ``history.json``. Restarting the same command resumes after the last finished epoch.
Uses CUDA with bfloat16 autocast when present, and is seeded throughout.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from hilnas.data import ImageDataset, load_dataset, resize
from hilnas.errors import ConfigError
from hilnas.fileio import atomic_write_json, atomic_write_with
from hilnas.space import Arch, get_space
from hilnas.supernet.supernet import Supernet, evaluate_arch

CKPT_NAME = "supernet.pt"
#: Seconds between plain progress lines when the output is not a terminal.
HEARTBEAT_S = 30.0


@dataclass
class TrainConfig:
    """Everything that defines a run; stored in the checkpoint and checked on resume."""

    space: str = "hybrid"
    data: str = "digits"
    data_path: str | None = None
    epochs: int = 20
    batch_size: int = 32
    lr: float = 1e-2
    weight_decay: float = 5e-4
    n_random: int = 2
    archs_per_batch: int = 1
    distill: bool = True
    max_shift: int = 1
    seed: int = 0
    extra: dict[str, Any] = field(default_factory=dict)  # free-form notes kept with the run


def seed_everything(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)


def pick_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def random_shift(x: torch.Tensor, max_shift: int, gen: torch.Generator) -> torch.Tensor:
    """Translate each image by up to ``max_shift`` pixels (background = -1): cheap augmentation."""
    if max_shift <= 0:
        return x
    n, _, h, w = x.shape
    padded = F.pad(x, (max_shift,) * 4, value=-1.0)
    offs = torch.randint(0, 2 * max_shift + 1, (n, 2), generator=gen)
    return torch.stack(
        [padded[i, :, dy : dy + h, dx : dx + w] for i, (dy, dx) in enumerate(offs.tolist())]
    )


def soft_cross_entropy(logits: torch.Tensor, target_probs: torch.Tensor) -> torch.Tensor:
    return -(target_probs * F.log_softmax(logits, dim=1)).sum(1).mean()


class SupernetTrainer:
    """Owns the supernet, optimiser, schedule and run folder of one training run."""

    def __init__(self, cfg: TrainConfig, run_dir: Path, data: ImageDataset | None = None) -> None:
        self.cfg = cfg
        self.run_dir = Path(run_dir)
        self.device = pick_device()
        seed_everything(cfg.seed)
        self.space = get_space(cfg.space)
        self.data = data or load_dataset(
            cfg.data, cfg.data_path, max(self.space.knob("resolution").choices), cfg.seed
        )
        if self.data.num_classes != self.space.num_classes:
            raise ConfigError(
                f"space {cfg.space!r} has {self.space.num_classes} classes, "
                f"dataset {self.data.name!r} has {self.data.num_classes}"
            )
        self.supernet = Supernet(self.space).to(self.device)
        self.opt = torch.optim.AdamW(
            self.supernet.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay
        )
        self.steps_per_epoch = -(-len(self.data.train_x) // cfg.batch_size)
        self.sched = torch.optim.lr_scheduler.OneCycleLR(
            self.opt, max_lr=cfg.lr, total_steps=cfg.epochs * self.steps_per_epoch, pct_start=0.15
        )
        self.rng = random.Random(cfg.seed)
        self.gen = torch.Generator().manual_seed(cfg.seed)
        self.epoch = 0
        self.history: list[dict[str, float]] = []
        self.images_seen = 0
        self.train_seconds = 0.0

    # ---------------------------------------------------------------- checkpoints
    @property
    def ckpt_path(self) -> Path:
        return self.run_dir / CKPT_NAME

    def save(self) -> None:
        state = {
            "config": asdict(self.cfg),
            "space": self.space.name,
            "epoch": self.epoch,
            "model": self.supernet.state_dict(),
            "opt": self.opt.state_dict(),
            "sched": self.sched.state_dict(),
            "rng": self.rng.getstate(),
            "gen": self.gen.get_state(),
            "torch_rng": torch.get_rng_state(),
            "history": self.history,
            "images_seen": self.images_seen,
            "train_seconds": self.train_seconds,
        }
        # Two atomic writes, deliberately not all-or-none: removing the checkpoint because
        # history.json failed would throw training away, and the checkpoint holds the
        # history too (the next epoch rewrites the JSON view).
        atomic_write_with(self.ckpt_path, lambda f: torch.save(state, f))
        atomic_write_json(self.run_dir / "history.json", self.history)

    def try_resume(self) -> bool:
        """Load ``supernet.pt`` from the run folder if present; refuse a different config."""
        if not self.ckpt_path.is_file():
            return False
        state = torch.load(self.ckpt_path, map_location=self.device, weights_only=False)
        if state["config"] != asdict(self.cfg):
            raise ConfigError(
                f"{self.ckpt_path} was trained with a different configuration "
                f"({state['config']}); use another run folder or --fresh"
            )
        self.supernet.load_state_dict(state["model"])
        self.opt.load_state_dict(state["opt"])
        self.sched.load_state_dict(state["sched"])
        self.rng.setstate(state["rng"])
        self.gen.set_state(state["gen"])
        torch.set_rng_state(state["torch_rng"])
        self.epoch = state["epoch"]
        self.history = state["history"]
        self.images_seen = state["images_seen"]
        self.train_seconds = state["train_seconds"]
        return True

    # ---------------------------------------------------------------- training
    def step_archs(self) -> list[Arch]:
        n = self.cfg.n_random * max(1, self.cfg.archs_per_batch)
        return [self.space.sample(self.rng) for _ in range(n)]

    def forward(self, x: torch.Tensor, arch: Arch) -> torch.Tensor:
        x = resize(x, self.space.resolution(arch))
        if self.device.type == "cuda":
            with torch.autocast("cuda", dtype=torch.bfloat16):
                return self.supernet(x, arch).float()
        return self.supernet(x, arch)

    def train_step(self, x: torch.Tensor, y: torch.Tensor) -> float:
        self.supernet.train()
        self.opt.zero_grad(set_to_none=True)
        logits = self.forward(x, self.space.largest())
        loss = F.cross_entropy(logits, y, label_smoothing=0.1)
        loss.backward()
        teacher = logits.detach().softmax(1)
        small = self.forward(x, self.space.smallest())
        self.student_loss(small, y, teacher).backward()
        chunks = max(1, self.cfg.archs_per_batch)
        for i, arch in enumerate(self.step_archs()):
            part = (
                slice(None)
                if chunks == 1
                else slice((i % chunks) * len(x) // chunks, (i % chunks + 1) * len(x) // chunks)
            )
            out = self.forward(x[part], arch)
            (self.student_loss(out, y[part], teacher[part]) / chunks).backward()
        self.opt.step()
        self.sched.step()
        return float(loss.detach())

    def student_loss(
        self, logits: torch.Tensor, y: torch.Tensor, teacher: torch.Tensor
    ) -> torch.Tensor:
        if self.cfg.distill:
            # Half labels, half teacher: early in a short run the teacher is near uniform
            # and pure distillation would hold the small members back with it.
            return 0.5 * soft_cross_entropy(logits, teacher) + 0.5 * F.cross_entropy(logits, y)
        return F.cross_entropy(logits, y, label_smoothing=0.1)

    def run_epoch(
        self, progress: Any = None, task: Any = None, heartbeat: Callable[[str], None] | None = None
    ) -> float:
        """One epoch; ``heartbeat`` gets a plain line every HEARTBEAT_S seconds (log files)."""
        order = torch.randperm(len(self.data.train_x), generator=self.gen)
        total, start = 0.0, time.perf_counter()
        last_beat = time.monotonic()
        for i in range(self.steps_per_epoch):
            idx = order[i * self.cfg.batch_size : (i + 1) * self.cfg.batch_size]
            x = random_shift(self.data.train_x[idx], self.cfg.max_shift, self.gen).to(self.device)
            total += self.train_step(x, self.data.train_y[idx].to(self.device))
            self.images_seen += len(idx)
            if progress is not None:
                progress.advance(task)
            if heartbeat is not None and time.monotonic() - last_beat >= HEARTBEAT_S:
                last_beat = time.monotonic()
                heartbeat(f"supernet {self.space.name}: epoch {self.epoch + 1}/{self.cfg.epochs}, "
                          f"step {i + 1}/{self.steps_per_epoch}, loss {total / (i + 1):.3f}")
        self.train_seconds += time.perf_counter() - start
        return total / self.steps_per_epoch

    def evaluate(self, arch: Arch, split: str = "val") -> float:
        return evaluate_arch(self.supernet, arch, self.data, split)

    def fit(
        self, show_progress: bool = True, stop_after: int | None = None
    ) -> list[dict[str, float]]:
        """Train the remaining epochs, checkpointing after each; returns the history.

        ``stop_after`` ends the call after that many epochs (as an interruption would);
        a later ``try_resume`` + ``fit`` carries on exactly where it stopped.
        """
        last = (
            self.cfg.epochs if stop_after is None else min(self.cfg.epochs, self.epoch + stop_after)
        )
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        columns = [
            TextColumn("[bold]supernet {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[info]}"),
        ]
        with Progress(*columns, disable=not show_progress) as progress:
            # Off a terminal (a log file, CI) rich draws no bar: print plain lines instead.
            plain = show_progress and not progress.console.is_terminal
            beat = progress.console.print if plain else None
            total = self.cfg.epochs * self.steps_per_epoch
            task = progress.add_task(
                self.space.name, total=total, completed=self.epoch * self.steps_per_epoch, info=""
            )
            while self.epoch < last:
                loss = self.run_epoch(progress, task, beat)
                self.epoch += 1
                record = {
                    "epoch": self.epoch,
                    "loss": round(loss, 4),
                    "val_largest": self.evaluate(self.space.largest()),
                    "val_smallest": self.evaluate(self.space.smallest()),
                    "images_per_s": round(self.images_seen / max(self.train_seconds, 1e-9), 1),
                }
                self.history.append(record)
                self.save()
                info = (f"loss {loss:.3f} val L {record['val_largest']:.3f} "
                        f"S {record['val_smallest']:.3f}")
                progress.update(task, info=info)
                if beat is not None:
                    beat(f"supernet {self.space.name}: epoch {self.epoch}/{self.cfg.epochs} done, "
                         f"{info}, {record['images_per_s']} img/s", highlight=False)
        return self.history


def train_supernet(
    cfg: TrainConfig, run_dir: Path, fresh: bool = False, show_progress: bool = True
) -> SupernetTrainer:
    """Train (or resume) a supernet run in ``run_dir``; the trainer holds the result."""
    trainer = SupernetTrainer(cfg, run_dir)
    if fresh and trainer.ckpt_path.exists():
        trainer.ckpt_path.unlink()
    trainer.try_resume()
    trainer.fit(show_progress)
    return trainer
