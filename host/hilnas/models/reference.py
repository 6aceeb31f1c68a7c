"""The two built-in reference models (96x96x3): the seeds of the search space.

Both are deliberately small (a few hundred kB of int8 weights at most) so that they fit a
Cortex-M board with ~256 kB SRAM and convert in seconds. Weights are randomly initialised
with a fixed seed and BatchNorm statistics are warmed up on deterministic inputs, so that
the converter's checks see realistic (non-degenerate) activation ranges.
"""

from __future__ import annotations

import torch
from torch import nn

from hilnas.models.layers import ConvBNAct, InvertedResidual, MobileViTBlock

INPUT_SHAPE: tuple[int, int, int, int] = (1, 3, 96, 96)
NUM_CLASSES = 10


class MobileNetV2Tiny(nn.Module):
    """MobileNetV2-style CNN: stem, five inverted-residual stages, global pool, classifier."""

    def __init__(self, num_classes: int = NUM_CLASSES, act: str = "relu6") -> None:
        super().__init__()
        self.stem = ConvBNAct(3, 16, 3, 2, act=act)  # 48x48
        self.features = nn.Sequential(
            InvertedResidual(16, 16, 1, expand=1, act=act),
            InvertedResidual(16, 24, 2, expand=4, act=act),  # 24x24
            InvertedResidual(24, 24, 1, expand=4, act=act),
            InvertedResidual(24, 32, 2, expand=4, act=act),  # 12x12
            InvertedResidual(32, 32, 1, expand=4, act=act),
            InvertedResidual(32, 48, 2, expand=4, act=act),  # 6x6
            InvertedResidual(48, 64, 1, expand=4, act=act),
        )
        self.head = ConvBNAct(64, 128, 1, act=act)
        self.classifier = nn.Linear(128, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.head(self.features(self.stem(x)))
        return self.classifier(y.mean(dim=(2, 3)))


class MobileViTTiny(nn.Module):
    """MobileViT-style hybrid: MV2 stages, then attention blocks at 12x12 and 6x6.

    Token counts (144, 36) differ from every attention width (48, 64): FACTS §3 saw
    onnx2tf silently mis-convert a model whose token count equalled its channel width.
    """

    def __init__(self, num_classes: int = NUM_CLASSES, act: str = "hswish") -> None:
        super().__init__()
        self.stem = ConvBNAct(3, 16, 3, 2, act=act)  # 48x48
        self.features = nn.Sequential(
            InvertedResidual(16, 16, 1, expand=1, act=act),
            InvertedResidual(16, 24, 2, expand=2, act=act),  # 24x24
            InvertedResidual(24, 32, 2, expand=2, act=act),  # 12x12
            MobileViTBlock(32, 48, depth=1, heads=2, ffn_ratio=2.0, act=act),
            InvertedResidual(32, 48, 2, expand=2, act=act),  # 6x6
            MobileViTBlock(48, 64, depth=1, heads=2, ffn_ratio=2.0, act=act),
        )
        self.head = ConvBNAct(48, 96, 1, act=act)
        self.classifier = nn.Linear(96, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.head(self.features(self.stem(x)))
        return self.classifier(y.mean(dim=(2, 3)))


def _initialise(model: nn.Module, seed: int) -> nn.Module:
    """Seed the weights and warm BatchNorm statistics up, then switch to eval mode.

    Fresh BatchNorm layers have mean 0 / var 1, so activations of an untrained net drift in
    scale from layer to layer; a few training-mode passes on deterministic inputs give each
    layer realistic statistics, which keeps the int8 quality checks meaningful.
    """
    torch.manual_seed(seed)
    for module in model.modules():
        if isinstance(module, nn.Conv2d | nn.Linear):
            nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
            if module.bias is not None:
                nn.init.zeros_(module.bias)
    generator = torch.Generator().manual_seed(seed)
    model.train()
    with torch.no_grad():
        for _ in range(4):
            model(torch.rand(16, *INPUT_SHAPE[1:], generator=generator) * 2 - 1)
    return model.eval()


def mobilenetv2_tiny() -> nn.Module:
    """Factory for ``--model hilnas.models.reference:mobilenetv2_tiny`` (or ``mbv2``)."""
    return _initialise(MobileNetV2Tiny(), seed=0)


def mobilevit_tiny() -> nn.Module:
    """Factory for ``--model hilnas.models.reference:mobilevit_tiny`` (or ``mobilevit``)."""
    return _initialise(MobileViTTiny(), seed=1)
