"""Datasets: the digits default, ImageFolder and CIFAR-10 loaders, calibration sets, and
clear errors naming the path for missing or malformed data."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from hilnas.data import calibration_set, load_dataset
from hilnas.errors import DataError


def test_digits_split_is_fixed_disjoint_and_stratified() -> None:
    a, b = load_dataset("digits"), load_dataset("digits")
    assert torch.equal(a.test_x, b.test_x) and torch.equal(a.train_y, b.train_y)
    n = len(a.train_x) + len(a.val_x) + len(a.test_x)
    assert n == 1797
    assert a.train_x.shape[1:] == (3, 8, 8)
    assert float(a.train_x.min()) == -1.0 and float(a.train_x.max()) == 1.0
    flat = {tuple(x.flatten().tolist()) for x in a.test_x[:, 0]}
    overlap = sum(tuple(x.flatten().tolist()) in flat for x in a.train_x[:, 0])
    assert overlap < 5  # digits has a few duplicate images, not a leaked split
    assert set(torch.bincount(a.test_y).tolist()) <= set(range(33, 39))


def test_calibration_set_comes_from_training_images() -> None:
    data = load_dataset("digits")
    calib = calibration_set(data, 32, n=16)
    assert calib.shape == (16, 3, 32, 32) and calib.dtype == np.float32
    again = calibration_set(data, 32, n=16)
    assert np.array_equal(calib, again)


def _write_png(path, value: int) -> None:
    from PIL import Image

    Image.fromarray(np.full((10, 12, 3), value, dtype=np.uint8)).save(path)


def test_folder_dataset_reads_imagefolder_layout(tmp_path) -> None:
    for cls, value in (("person", 200), ("no_person", 20)):
        (tmp_path / cls).mkdir()
        for i in range(10):
            _write_png(tmp_path / cls / f"{i}.png", value)
    data = load_dataset("folder", tmp_path, base_resolution=16)
    assert data.classes == ["no_person", "person"]
    assert data.train_x.shape[1:] == (3, 16, 16)
    assert len(data.train_x) + len(data.val_x) + len(data.test_x) == 20
    person = data.train_x[data.train_y == 1]
    assert torch.allclose(person, torch.full_like(person, 200 / 127.5 - 1), atol=1e-5)


def test_folder_errors_name_the_path(tmp_path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        load_dataset("folder", tmp_path / "nope")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    _write_png(tmp_path / "a" / "0.png", 1)
    with pytest.raises(DataError, match="no images"):
        load_dataset("folder", tmp_path)
    (tmp_path / "b" / "broken.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(DataError, match=r"broken\.png"):
        load_dataset("folder", tmp_path)
    with pytest.raises(DataError, match="needs a path"):
        load_dataset("folder")


def _write_cifar(root, n: int = 20) -> None:
    rng = np.random.default_rng(0)
    root.mkdir()
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for name in names:
        batch = {
            b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
            b"labels": [i % 10 for i in range(n)],
        }
        with (root / name).open("wb") as fh:
            pickle.dump(batch, fh)


def test_cifar10_python_batches(tmp_path) -> None:
    root = tmp_path / "cifar-10-batches-py"
    _write_cifar(root)
    data = load_dataset("cifar10", root)
    assert data.test_x.shape == (20, 3, 32, 32)
    assert len(data.train_x) + len(data.val_x) == 100
    (root / "data_batch_3").write_bytes(b"garbage")
    with pytest.raises(DataError, match="data_batch_3"):
        load_dataset("cifar10", root)
    (root / "test_batch").unlink()
    with pytest.raises(DataError):
        load_dataset("cifar10", root)
