"""Optional fine-tuning of an extracted subnet before it is deployed.

Inherited weights are shared with every other member of the supernet; a few epochs on
the member alone usually recover a little accuracy. The recipe is the supernet's own
(:class:`~hilnas.supernet.TrainConfig`: AdamW, weight decay, one-cycle schedule, label
smoothing, random-shift augmentation, batch size), at a tenth of its peak learning rate:
the weights start trained, and the full rate would first throw that away.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from hilnas.data import ImageDataset, resize
from hilnas.supernet.supernet import accuracy
from hilnas.supernet.train import TrainConfig, random_shift, seed_everything

#: Fine-tuning peak learning rate relative to the supernet's.
LR_SCALE = 0.1


def finetune(
    module: nn.Module,
    data: ImageDataset,
    resolution: int,
    cfg: TrainConfig,
    epochs: int,
    log: Callable[[str], None] | None = None,
) -> list[dict[str, float]]:
    """Train ``module`` in place for ``epochs``; returns one record per epoch.

    A line per epoch goes to ``log`` (loss and validation accuracy), so that a log file
    shows progress as well as a terminal does.
    """
    seed_everything(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    steps = -(-len(data.train_x) // cfg.batch_size)
    lr = cfg.lr * LR_SCALE
    opt = torch.optim.AdamW(module.parameters(), lr=lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * steps,
                                                pct_start=0.15)
    history = []
    for epoch in range(1, epochs + 1):
        module.train()
        order = torch.randperm(len(data.train_x), generator=gen)
        total = 0.0
        for i in range(steps):
            idx = order[i * cfg.batch_size : (i + 1) * cfg.batch_size]
            x = resize(random_shift(data.train_x[idx], cfg.max_shift, gen), resolution)
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(module(x), data.train_y[idx], label_smoothing=0.1)
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach())
        val = accuracy(module, data, resolution, "val")
        history.append({"epoch": epoch, "loss": round(total / steps, 4), "val": val})
        if log is not None:
            log(f"fine-tune epoch {epoch}/{epochs}: loss {total / steps:.3f}, val {val:.2%}")
    module.eval()
    return history
