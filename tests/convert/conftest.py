"""Shared fixtures: real conversions done once per session and reused by several tests."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

HERE = Path(__file__).parent
USER_MODELS_FILE = HERE / "user_models.py"
TINY_SHAPE = (1, 3, 16, 16)


def _load_module(path: Path, name: str) -> ModuleType:
    """A model file of this folder as a module (the test folders are not packages)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _load_user_models() -> ModuleType:
    return _load_module(USER_MODELS_FILE, "hilnas_test_user_models")


@pytest.fixture(scope="session")
def user_models() -> ModuleType:
    return _load_user_models()


@pytest.fixture(scope="session")
def vit_models() -> ModuleType:
    """ViTs written the usual ways (einops, view/permute, nn.MultiheadAttention, SDPA)."""
    return _load_module(HERE / "vit_models.py", "hilnas_test_vit_models")


@pytest.fixture(scope="session")
def tiny_calib() -> np.ndarray:
    from hilnas.convert.calib import synthetic_images

    return synthetic_images(16, TINY_SHAPE, seed=7)


@pytest.fixture(scope="session")
def reference_conversions(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Both built-in reference models converted with the default routes (the CI path)."""
    from hilnas.convert import convert
    from hilnas.convert.calib import synthetic_images
    from hilnas.convert.sources import SYNTHETIC_CALIB_COUNT, SYNTHETIC_HELDOUT_COUNT
    from hilnas.models import INPUT_SHAPE, REFERENCE_MODELS

    out = tmp_path_factory.mktemp("reference")
    calib = synthetic_images(SYNTHETIC_CALIB_COUNT, INPUT_SHAPE, seed=1)
    heldout = synthetic_images(SYNTHETIC_HELDOUT_COUNT, INPUT_SHAPE, seed=2)
    return {
        name: convert(factory(), INPUT_SHAPE, calib, out / f"{name}.tflite", heldout=heldout,
                      emit_c=True, calib_source="synthetic (test)")
        for name, factory in REFERENCE_MODELS.items()
    }


@pytest.fixture(scope="session")
def tiny_conversion(tmp_path_factory: pytest.TempPathFactory, user_models: ModuleType,
                    tiny_calib: np.ndarray):
    from hilnas.convert import convert

    out = tmp_path_factory.mktemp("tiny") / "tiny.tflite"
    return convert(user_models.tiny_cnn(), TINY_SHAPE, tiny_calib, out)
