"""Datasets by name: ``load_dataset("digits")``, ``("folder", path)``, ``("cifar10", path)``.

The default (``digits``) ships with scikit-learn, so the whole pipeline runs offline.
"""

from __future__ import annotations

from pathlib import Path

from hilnas.data.base import ImageDataset, calibration_set, heldout_set, resize
from hilnas.errors import DataError

DATASETS = ("digits", "folder", "cifar10")


def load_dataset(
    name: str, path: Path | str | None = None, base_resolution: int = 96, seed: int = 0
) -> ImageDataset:
    if name == "digits":
        from hilnas.data.digits import load_digits_dataset

        return load_digits_dataset(seed)
    if name in ("folder", "cifar10") and path is None:
        raise DataError(f"dataset {name!r} needs a path (--data-path)")
    if name == "folder":
        from hilnas.data.folder import load_folder_dataset

        return load_folder_dataset(Path(str(path)), base_resolution, seed)
    if name == "cifar10":
        from hilnas.data.cifar import load_cifar10

        return load_cifar10(Path(str(path)), seed)
    raise DataError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")


__all__ = [
    "DATASETS",
    "ImageDataset",
    "calibration_set",
    "heldout_set",
    "load_dataset",
    "resize",
]
