"""ImageFolder-layout datasets (``root/<class>/<image>``), e.g. Visual Wake Words.

Prepared by the user; nothing is downloaded.

If ``root`` has ``train/`` and ``val/`` (or ``test/``) sub-folders they are used as given;
otherwise one folder is split with the fixed stratified split. Images are loaded once,
converted to RGB and resized to ``base_resolution`` (the largest resolution a space uses).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from hilnas.data.base import ImageDataset, from_arrays, split_indices
from hilnas.errors import DataError

EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".ppm", ".webp"}


def _class_dirs(root: Path) -> list[Path]:
    if not root.is_dir():
        raise DataError(f"{root}: dataset folder does not exist")
    dirs = sorted(d for d in root.iterdir() if d.is_dir())
    if len(dirs) < 2:
        raise DataError(
            f"{root}: expected one sub-folder per class (ImageFolder layout), found {len(dirs)}"
        )
    return dirs


def _load_image(path: Path, size: int) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            rgb = img.convert("RGB").resize((size, size), Image.BILINEAR)
    except (UnidentifiedImageError, OSError) as exc:
        raise DataError(f"{path}: not a readable image ({exc})") from None
    return np.asarray(rgb, dtype=np.float32).transpose(2, 0, 1) / 127.5 - 1.0


def _load_split(root: Path, classes: list[str], size: int) -> tuple[np.ndarray, np.ndarray]:
    images, labels = [], []
    for label, name in enumerate(classes):
        cdir = root / name
        if not cdir.is_dir():
            raise DataError(f"{cdir}: class folder missing (classes come from the train split)")
        files = sorted(p for p in cdir.iterdir() if p.suffix.lower() in EXTENSIONS)
        if not files:
            raise DataError(f"{cdir}: no images ({', '.join(sorted(EXTENSIONS))})")
        images += [_load_image(f, size) for f in files]
        labels += [label] * len(files)
    return np.stack(images), np.array(labels, dtype=np.int64)


def load_folder_dataset(root: Path, base_resolution: int = 96, seed: int = 0) -> ImageDataset:
    root = Path(root)
    train_root = root / "train" if (root / "train").is_dir() else root
    classes = [d.name for d in _class_dirs(train_root)]
    x, y = _load_split(train_root, classes, base_resolution)
    held_out = next((root / n for n in ("val", "test") if (root / n).is_dir()), None)
    if held_out is None:
        return from_arrays(root.name, classes, x, y, seed)
    hx, hy = _load_split(held_out, classes, base_resolution)
    tr, va, _ = split_indices(y, (0.15, 0.0), seed)
    t = torch.from_numpy
    return ImageDataset(root.name, classes, t(x[tr]), t(y[tr]), t(x[va]), t(y[va]), t(hx), t(hy))
