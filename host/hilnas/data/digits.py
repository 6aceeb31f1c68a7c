"""The built-in default dataset: scikit-learn's handwritten digits (no download).

1797 real 8x8 grey images of 0-9 ship inside scikit-learn. We replicate the grey channel
to 3 so that the same spaces (and converted models) serve RGB data too, scale 0..16 to
[-1, 1] and split 65/15/20 stratified with a fixed seed: the split never changes.
"""

from __future__ import annotations

import numpy as np

from hilnas.data.base import ImageDataset, from_arrays


def load_digits_dataset(seed: int = 0) -> ImageDataset:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    grey = bunch.images.astype(np.float32) / 8.0 - 1.0  # 0..16 -> -1..1
    images = np.repeat(grey[:, None], 3, axis=1)
    return from_arrays("digits", [str(i) for i in range(10)], images, bunch.target, seed)
