"""Suite-wide test settings.

Subfolders mirror the package (tests/convert, tests/engine, tests/board, ...);
each may add its own conftest.py with fixtures for its area.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# TensorFlow's C++ logging drowns pytest's output; errors still show.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


TINY_SUPERNET_STEPS = 30


def train_tiny_supernet(run_dir: Path, space: str = "cnn", steps: int = TINY_SUPERNET_STEPS
                        ) -> Path:
    """A real supernet checkpoint in seconds: only the smallest member is trained.

    Full sandwich training (largest member every step) costs minutes on 2 cores even for one
    epoch; stages that deploy or convert the smallest member need its weights trained (an
    untrained member's near-constant logits fail the int8 quality check), not the rest.
    The file is the trainer's own checkpoint, so every loader reads it as usual.
    """
    import torch
    import torch.nn.functional as F
    from hilnas.supernet.train import SupernetTrainer, TrainConfig

    trainer = SupernetTrainer(TrainConfig(space=space, epochs=1, n_random=0), run_dir)
    arch = trainer.space.smallest()
    x, y = trainer.data.train_x, trainer.data.train_y
    trainer.supernet.train()
    for step in range(steps):
        idx = torch.arange(step * 32, step * 32 + 32) % len(x)
        trainer.opt.zero_grad(set_to_none=True)
        F.cross_entropy(trainer.forward(x[idx], arch), y[idx]).backward()
        trainer.opt.step()
    trainer.epoch = 1
    trainer.save()
    return trainer.ckpt_path


@pytest.fixture(scope="session")
def tiny_supernet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Session-wide tiny ``cnn`` supernet checkpoint (smallest member trained)."""
    return train_tiny_supernet(tmp_path_factory.mktemp("tiny-supernet"))


@pytest.fixture(scope="session")
def tiny_hybrid_supernet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Session-wide tiny ``hybrid`` supernet checkpoint (smallest member trained)."""
    return train_tiny_supernet(tmp_path_factory.mktemp("tiny-hybrid"), space="hybrid")
