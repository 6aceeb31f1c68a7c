"""Top-1 accuracy of a converted int8 model in the real TFLM interpreter.

Lives with the converter because it is the converter's ground truth for deployment: the
float model's accuracy says what the weights can do, this says what the board will do
(TFLM is bit-exact with our firmware engine).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hilnas import tflm
from hilnas.convert.routes import to_layout


def tflm_accuracy(tflite: Path, x_nchw: np.ndarray, labels: np.ndarray, layout: str) -> float:
    """Share of ``x_nchw`` (float32, NCHW) whose int8 TFLM top-1 equals ``labels``.

    ``layout`` is the model's input layout from the conversion report ("NHWC" for the
    onnx2tf route, "NCHW" for litert); images are run one at a time, as on the board.
    """
    model = tflm.load(Path(tflite).read_bytes())
    x = to_layout(x_nchw.astype(np.float32), layout)
    correct = 0
    for i in range(x.shape[0]):
        out = tflm.tflm_run(model, x[i : i + 1])[0]
        correct += int(int(np.argmax(out.reshape(-1))) == int(labels[i]))
    return correct / max(1, x.shape[0])
