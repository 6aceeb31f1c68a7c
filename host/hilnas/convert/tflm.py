"""The TFLM oracle: run a .tflite in the real TFLite Micro interpreter on the host.

Golden outputs for the engine and the boards come from here, never from desktop TFLite
(DESIGN.md §2: desktop reference kernels differ from TFLM by 1 LSB on FULLY_CONNECTED).
This module imports neither torch nor TensorFlow so that it is cheap to use anywhere.

Arena size: :func:`tflm_arena_bytes` reports the *smallest arena the interpreter
accepted*. It first reads the recording allocator's ``Arena allocation total N bytes``
(head + tail actually used), then confirms that a fresh interpreter allocates with exactly
that size, growing in 16-byte steps when alignment padding needs a little more. The value
is therefore a verified, exact requirement rather than an estimate.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence

import numpy as np
from tflite_micro.python.tflite_micro import runtime

from hilnas.convert.tflite_reader import read_model
from hilnas.errors import ConvertError

#: Arena used for the first, measuring run; large enough for any model we convert.
PROBE_ARENA_BYTES = 16 * 1024 * 1024
_ARENA_TOTAL = re.compile(r"Arena allocation total (\d+) bytes")
_ALIGN = 16


class TflmCapturedStderr:
    """Capture C-level stderr (fd 2): TFLM prints its reasons and reports there, not to Python."""

    def __enter__(self) -> TflmCapturedStderr:
        self.text = ""
        self._file = tempfile.TemporaryFile()
        self._saved = os.dup(2)
        os.dup2(self._file.fileno(), 2)
        return self

    def __exit__(self, *exc: object) -> None:
        os.dup2(self._saved, 2)
        os.close(self._saved)
        self._file.seek(0)
        self.text = self._file.read().decode(errors="replace")
        self._file.close()


class TflmModel:
    """A loaded TFLM interpreter plus its input/output counts (TFLM cannot tell them)."""

    def __init__(self, interp: runtime.Interpreter, n_inputs: int, n_outputs: int,
                 model_bytes: bytes) -> None:
        self.interp = interp
        # TFLM reads the flatbuffer in place for the interpreter's whole life, and the
        # Python side of the tflite_micro wrapper keeps no reference to it: hold one here
        # so the weights cannot be freed under a live interpreter.
        self.model_bytes = model_bytes
        self.n_inputs = n_inputs
        self.n_outputs = n_outputs

    def input_details(self, i: int = 0) -> dict:
        return self.interp.get_input_details(i)

    def output_details(self, i: int = 0) -> dict:
        return self.interp.get_output_details(i)


def load(model_bytes: bytes, arena_size: int = PROBE_ARENA_BYTES) -> TflmModel:
    """Create a TFLM interpreter; a failure carries TFLM's own stderr explanation."""
    data = bytes(model_bytes)
    info = read_model(data)
    with TflmCapturedStderr() as err:
        try:
            interp = runtime.Interpreter.from_bytes(data, arena_size=arena_size)
            return TflmModel(interp, len(info.inputs), len(info.outputs), data)
        except (RuntimeError, ValueError) as exc:
            failure = exc
    reason = " ".join(line.strip() for line in err.text.splitlines() if line.strip())
    raise ConvertError(f"TFLM could not load the model (arena {arena_size} B): {failure}"
                       + (f"; TFLM says: {reason[:600]}" if reason else ""))


def _recorded_arena_total(model: TflmModel) -> int:
    with TflmCapturedStderr() as err:
        model.interp.print_allocations()
    match = _ARENA_TOTAL.search(err.text)
    if match is None:
        raise ConvertError("TFLM allocation report has no 'Arena allocation total' line")
    return int(match.group(1))


def _allocates(model_bytes: bytes, size: int) -> bool:
    try:
        with TflmCapturedStderr():
            runtime.Interpreter.from_bytes(bytes(model_bytes), arena_size=size)
        return True
    except RuntimeError:
        return False


def tflm_arena_bytes(model_bytes: bytes) -> int:
    """Smallest arena (bytes, to 16 B) with which TFLM allocates this model; see module doc.

    The allocation report's total is the usual answer, but on small models TFLM needs a
    little more than it reports (alignment of the tail allocations), so the answer is
    searched: double the step above the report until it allocates, then bisect.
    """
    recorded = _recorded_arena_total(load(model_bytes))
    if _allocates(model_bytes, recorded):
        return recorded
    low, step = recorded, _ALIGN
    while not _allocates(model_bytes, low + step):
        low += step
        step *= 2
        if low + step > PROBE_ARENA_BYTES:
            raise ConvertError(f"TFLM reported {recorded} arena bytes but did not allocate with"
                               f" up to {PROBE_ARENA_BYTES} bytes")
    high = low + step  # allocates; low does not
    while high - low > _ALIGN:
        mid = low + (high - low) // 2 // _ALIGN * _ALIGN
        if _allocates(model_bytes, mid):
            high = mid
        else:
            low = mid
    return high


def quantize_like(x: np.ndarray, details: dict) -> np.ndarray:
    """Float input -> the tensor's dtype using its scale/zero point (int types only)."""
    dtype = details["dtype"]
    if x.dtype == dtype:
        return x
    if np.issubdtype(dtype, np.floating):
        return x.astype(dtype)
    q = details["quantization_parameters"]
    scale, zp = float(q["scales"][0]), int(q["zero_points"][0])
    info = np.iinfo(dtype)
    return np.clip(np.round(x / scale) + zp, info.min, info.max).astype(dtype)


def tflm_run(
    model_bytes: bytes | TflmModel, inputs: np.ndarray | Sequence[np.ndarray]
) -> list[np.ndarray]:
    """Run one inference in TFLM and return the raw outputs (in the model's dtypes).

    ``inputs`` is one array per model input (a bare array for single-input models) in the
    model's layout. Float arrays fed to an int8 input are quantized with the input's
    scale/zero point; int8 arrays are passed through bit-exactly. Pass a model from
    :func:`load` instead of bytes to avoid re-allocating the interpreter for every call.
    """
    model = model_bytes if isinstance(model_bytes, TflmModel) else load(model_bytes)
    interp = model.interp
    arrays = [inputs] if isinstance(inputs, np.ndarray) else list(inputs)
    if len(arrays) != model.n_inputs:
        raise ConvertError(f"TFLM: got {len(arrays)} inputs, model has {model.n_inputs}")
    for i, x in enumerate(arrays):
        details = interp.get_input_details(i)
        want = tuple(int(d) for d in details["shape"])
        if tuple(x.shape) != want:
            raise ConvertError(f"TFLM input {i}: got shape {tuple(x.shape)}, model wants {want}")
        interp.set_input(quantize_like(np.asarray(x), details), i)
    with TflmCapturedStderr() as err:
        try:
            interp.invoke()
        except RuntimeError as exc:
            failure = exc
        else:
            failure = None
    if failure is not None:
        raise ConvertError(f"TFLM invoke failed: {failure}; TFLM says: {err.text.strip()[:600]}")
    return [np.array(interp.get_output(i)) for i in range(model.n_outputs)]


def dequantize(values: np.ndarray, details: dict) -> np.ndarray:
    """int8 output -> float using the tensor's (per-tensor) scale and zero point."""
    if np.issubdtype(values.dtype, np.floating):
        return values
    q = details["quantization_parameters"]
    return (values.astype(np.float32) - float(q["zero_points"][0])) * float(q["scales"][0])
