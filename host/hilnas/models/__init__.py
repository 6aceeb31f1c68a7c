"""Built-in reference models, looked up by short name.

``REFERENCE_MODELS`` maps a name to a zero-argument factory returning an eval-mode
``nn.Module`` whose input shape is :data:`hilnas.models.reference.INPUT_SHAPE`. Built-in
models may be converted without a calibration set (a deterministic synthetic one is used).
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from hilnas.models.reference import INPUT_SHAPE, mobilenetv2_tiny, mobilevit_tiny

REFERENCE_MODELS: dict[str, Callable[[], nn.Module]] = {
    "mbv2": mobilenetv2_tiny,
    "mobilevit": mobilevit_tiny,
}

__all__ = ["INPUT_SHAPE", "REFERENCE_MODELS", "mobilenetv2_tiny", "mobilevit_tiny"]
