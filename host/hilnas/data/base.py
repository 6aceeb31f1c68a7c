"""In-memory image datasets with a fixed train/val/test split.

Everything hilnas trains on fits in memory (digits, VWW-like folders at MCU resolutions,
CIFAR-10), so a dataset is three float tensors at a base resolution plus labels; batches
are resized to each subnet's input resolution on the fly (elastic resolution, OFA).
Images are NCHW float32 scaled to [-1, 1]; that is also what calibration sets contain.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F


@dataclass
class ImageDataset:
    """Images (N, C, H, W) in [-1, 1] and int64 labels, split once with a fixed seed."""

    name: str
    classes: list[str]
    train_x: torch.Tensor
    train_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def channels(self) -> int:
        return int(self.train_x.shape[1])

    def split(self, which: str) -> tuple[torch.Tensor, torch.Tensor]:
        return {
            "train": (self.train_x, self.train_y),
            "val": (self.val_x, self.val_y),
            "test": (self.test_x, self.test_y),
        }[which]


def resize(x: torch.Tensor, resolution: int) -> torch.Tensor:
    """Bilinear resize of an NCHW batch (no-op at the same size)."""
    if x.shape[-1] == resolution and x.shape[-2] == resolution:
        return x
    return F.interpolate(x, size=(resolution, resolution), mode="bilinear", align_corners=False)


def split_indices(
    labels: np.ndarray, fractions: tuple[float, float], seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stratified train/val/test indices: ``fractions`` = (val, test) share of each class."""
    rng = np.random.default_rng(seed)
    parts: list[list[int]] = [[], [], []]
    for cls in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == cls))
        n_val = round(len(idx) * fractions[0])
        n_test = round(len(idx) * fractions[1])
        parts[1] += idx[:n_val].tolist()
        parts[2] += idx[n_val : n_val + n_test].tolist()
        parts[0] += idx[n_val + n_test :].tolist()
    return tuple(np.sort(np.array(p, dtype=np.int64)) for p in parts)  # type: ignore[return-value]


def from_arrays(
    name: str,
    classes: list[str],
    images: np.ndarray,
    labels: np.ndarray,
    seed: int = 0,
    fractions: tuple[float, float] = (0.15, 0.2),
) -> ImageDataset:
    """Build a dataset from NCHW float images in [-1, 1] with a stratified split."""
    tr, va, te = split_indices(labels, fractions, seed)
    x = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32))
    y = torch.from_numpy(labels.astype(np.int64))
    return ImageDataset(name, classes, x[tr], y[tr], x[va], y[va], x[te], y[te])


def calibration_set(data: ImageDataset, resolution: int, n: int = 64, seed: int = 0) -> np.ndarray:
    """``n`` training images at ``resolution`` (NCHW float32) for int8 calibration.

    Drawn from the training split only, so test accuracy after quantization stays honest.
    """
    gen = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(data.train_x), generator=gen)[: min(n, len(data.train_x))]
    return resize(data.train_x[idx], resolution).numpy().astype(np.float32)


def heldout_set(data: ImageDataset, resolution: int, n: int = 128) -> np.ndarray:
    """The first ``n`` validation images at ``resolution`` (NCHW float32).

    Used for the converter's int8-vs-float quality check: real inputs the calibration never
    saw, so the check measures what deployment will see rather than the calibration fit.
    """
    return resize(data.val_x[:n], resolution).numpy().astype(np.float32)
