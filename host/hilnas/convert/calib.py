"""Deterministic synthetic calibration/held-out images for built-in models.

The lead's data module is not ready; built-in models may be converted without a user
calibration set, and the report says ``synthetic``. Images are smooth (low-frequency
noise upsampled) rather than white noise so that convolution activations have realistic,
spatially correlated ranges; values lie in [-1, 1].
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hilnas.errors import DataError

CALIB_SEED = 20260101
HELDOUT_SEED = 20260202


def synthetic_images(count: int, shape: tuple[int, ...], seed: int) -> np.ndarray:
    """``count`` images shaped ``shape[1:]`` (C,H,W) with values in [-1, 1]."""
    rng = np.random.default_rng(seed)
    c, h, w = shape[1], shape[-2], shape[-1]
    coarse = rng.uniform(-1.0, 1.0, size=(count, c, max(h // 8, 1), max(w // 8, 1)))
    fy, fx = -(-h // coarse.shape[2]), -(-w // coarse.shape[3])
    smooth = np.repeat(np.repeat(coarse, fy, axis=2), fx, axis=3)[:, :, :h, :w]
    noise = rng.normal(0.0, 0.1, size=smooth.shape)
    images = np.clip(smooth + noise, -1.0, 1.0).astype(np.float32)
    return images.reshape((count, *shape[1:]))


def load_npy(path: Path, what: str = "calibration") -> np.ndarray:
    """Load an NCHW float array from .npy, with a clear error for every way it can fail."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"missing {what} set: {path} does not exist")
    try:
        arr = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise DataError(f"{what} set {path} is not a readable .npy array: {exc}") from exc
    return arr
