"""CIFAR-10 from the python pickle batches at a local path (never downloaded).

Expects ``data_batch_1..5`` and ``test_batch`` (the ``cifar-10-batches-py`` folder); a
missing or malformed file is reported by path.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import torch

from hilnas.data.base import ImageDataset, split_indices
from hilnas.errors import DataError

CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def _read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    if not path.is_file():
        raise DataError(f"{path}: CIFAR-10 batch file missing")
    try:
        with path.open("rb") as fh:
            batch = pickle.load(fh, encoding="bytes")
        data = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
        labels = np.asarray(batch[b"labels"], dtype=np.int64)
    except Exception as exc:  # pickle raises many types on corrupt input
        raise DataError(f"{path}: not a CIFAR-10 python batch ({exc})") from None
    if len(data) != len(labels):
        raise DataError(f"{path}: {len(data)} images but {len(labels)} labels")
    return data.astype(np.float32) / 127.5 - 1.0, labels


def load_cifar10(root: Path, seed: int = 0) -> ImageDataset:
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: CIFAR-10 folder does not exist")
    parts = [_read_batch(root / f"data_batch_{i}") for i in range(1, 6)]
    x = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    tx, ty = _read_batch(root / "test_batch")
    tr, va, _ = split_indices(y, (0.1, 0.0), seed)
    t = torch.from_numpy
    return ImageDataset("cifar10", CLASSES, t(x[tr]), t(y[tr]), t(x[va]), t(y[va]), t(tx), t(ty))
