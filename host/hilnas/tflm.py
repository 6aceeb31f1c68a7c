"""The one TFLM oracle: run a .tflite in the real TFLite Micro interpreter on the host.

Golden outputs for the converter, the engine check and the boards all come from here,
never from desktop TFLite (FACTS §2: desktop reference kernels differ from TFLM by
1 LSB on FULLY_CONNECTED). Every failure raises :class:`~hilnas.errors.TflmError` (load,
input, invoke, arena), never a sentinel value. This module imports neither torch nor
TensorFlow so that it is cheap to use anywhere; it sits at the package root so that
convert, engine and board can all import it without importing each other.

Arena size: :func:`tflm_arena_bytes` reports the *smallest arena the interpreter
accepted*. It first reads the recording allocator's ``Arena allocation total N bytes``
(head + tail actually used), then confirms that a fresh interpreter allocates with exactly
that size, growing in 16-byte steps when alignment padding needs a little more. The value
is therefore a verified, exact requirement rather than an estimate.
"""

from __future__ import annotations

import faulthandler
import os
import re
import tempfile
from collections.abc import Sequence
from typing import Any

import numpy as np
from tflite_micro.python.tflite_micro import runtime

from hilnas.convert.tflite_reader import BUILTIN_OP_NAMES, read_model
from hilnas.errors import TflmError

#: Arena used for the first, measuring run; large enough for any model we convert.
PROBE_ARENA_BYTES = 16 * 1024 * 1024
_ARENA_TOTAL = re.compile(r"Arena allocation total (\d+) bytes")
_ALIGN = 16


class CapturedStderr:
    """Capture C-level stderr (fd 2): TFLM prints its reasons and reports there, not to Python."""

    def __enter__(self) -> CapturedStderr:
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

    def reason(self) -> str:
        """TFLM's explanation on one line (what a user reads in the error)."""
        return " ".join(line.strip() for line in self.text.splitlines() if line.strip())


class TflmModel:
    """A loaded TFLM interpreter plus its input/output counts (TFLM cannot tell them)."""

    def __init__(self, interp: runtime.Interpreter, n_inputs: int, n_outputs: int,
                 model_bytes: bytes, preserve_all: bool = False) -> None:
        self.interp = interp
        # TFLM reads the flatbuffer in place for the interpreter's whole life, and the
        # Python side of the tflite_micro wrapper keeps no reference to it: hold one here
        # so the weights cannot be freed under a live interpreter.
        self.model_bytes = model_bytes
        self.n_inputs = n_inputs
        self.n_outputs = n_outputs
        self.preserve_all = preserve_all

    def input_details(self, i: int = 0) -> dict[str, Any]:
        return self.interp.get_input_details(i)

    def output_details(self, i: int = 0) -> dict[str, Any]:
        return self.interp.get_output_details(i)

    def tensor(self, index: int) -> np.ndarray:
        """Any tensor after :func:`tflm_run`; needs ``load(..., preserve_all=True)``.

        TFLM's planner reuses intermediate buffers, so without ``preserve_all`` the
        bytes of an intermediate tensor would belong to a later op by now.
        """
        if not self.preserve_all:
            raise TflmError("tensor", "TFLM: intermediate tensors need load(preserve_all=True)")
        return np.asarray(self.interp.GetTensor(index, 0)["tensor_data"])


def load(model_bytes: bytes, arena_size: int = PROBE_ARENA_BYTES,
         preserve_all: bool = False) -> TflmModel:
    """Create a TFLM interpreter; a failure carries TFLM's own stderr explanation.

    ``preserve_all`` keeps every intermediate tensor readable after an invoke (op-by-op
    comparisons); it costs arena, so sizing never uses it.
    """
    data = bytes(model_bytes)
    info = read_model(data)
    config = (runtime.InterpreterConfig.kPreserveAllTensors if preserve_all
              else runtime.InterpreterConfig.kAllocationRecording)
    with CapturedStderr() as err:
        try:
            interp = runtime.Interpreter.from_bytes(data, arena_size=arena_size,
                                                    intrepreter_config=config)
            return TflmModel(interp, len(info.inputs), len(info.outputs), data, preserve_all)
        except (RuntimeError, ValueError) as exc:
            failure = exc
    raise TflmError("load", f"TFLM could not load the model (arena {arena_size} B): {failure}",
                    err.reason())


def input_details(model_bytes: bytes) -> list[dict[str, Any]]:
    """TFLM's details (shape, dtype, quantization) of every model input, in index order."""
    model = load(model_bytes)
    return [model.input_details(i) for i in range(model.n_inputs)]


def builtin_op_names() -> dict[int, str]:
    """TFLite BuiltinOperator code -> name (boards report op codes, people read names)."""
    return dict(BUILTIN_OP_NAMES)


def _recorded_arena_total(model: TflmModel) -> int:
    with CapturedStderr() as err:
        model.interp.print_allocations()
    match = _ARENA_TOTAL.search(err.text)
    if match is None:
        raise TflmError("arena", "TFLM allocation report has no 'Arena allocation total' line")
    return int(match.group(1))


def _allocates(model_bytes: bytes, size: int) -> bool:
    """Whether TFLM allocates the model in ``size`` bytes, probed in a forked child.

    TFLM itself crashes (SIGSEGV) at some arena sizes just below the requirement
    (measured: a 2x16 int8 FULLY_CONNECTED model, requirement 1504 B, crashes at 1472 B
    and fails cleanly at 1440 B), and an oracle must never take its caller down. A crash
    counts as "does not allocate". fork() is cheap (no re-import) and the child only
    runs TFLM and exits.
    """
    pid = os.fork()
    if pid == 0:  # child: no Python cleanup, no output, no crash report of its own
        code = 1
        try:
            faulthandler.disable()
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            os.dup2(null, 2)
            runtime.Interpreter.from_bytes(bytes(model_bytes), arena_size=size)
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


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
            raise TflmError("arena", f"TFLM reported {recorded} arena bytes but did not allocate"
                            f" with up to {PROBE_ARENA_BYTES} bytes")
    high = low + step  # allocates; low does not
    while high - low > _ALIGN:
        mid = low + (high - low) // 2 // _ALIGN * _ALIGN
        if _allocates(model_bytes, mid):
            high = mid
        else:
            low = mid
    return high


def quantize_like(x: np.ndarray, details: dict[str, Any]) -> np.ndarray:
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
        raise TflmError("input", f"TFLM: got {len(arrays)} inputs, model has {model.n_inputs}")
    for i, x in enumerate(arrays):
        details = interp.get_input_details(i)
        want = tuple(int(d) for d in details["shape"])
        if tuple(x.shape) != want:
            raise TflmError("input", f"TFLM input {i}: got shape {tuple(x.shape)}, model"
                            f" wants {want}")
        interp.set_input(quantize_like(np.asarray(x), details), i)
    with CapturedStderr() as err:
        try:
            interp.invoke()
        except RuntimeError as exc:
            failure = exc
        else:
            failure = None
    if failure is not None:
        raise TflmError("invoke", f"TFLM invoke failed: {failure}", err.reason())
    return [np.array(interp.get_output(i)) for i in range(model.n_outputs)]


def tflm_output_bytes(model_bytes: bytes | TflmModel, input_data: bytes) -> bytes:
    """Raw bytes in, raw bytes out: what a board receives and sends, for bit-exact checks.

    ``input_data`` is every input's bytes in index order, concatenated (the board's
    WRITE_INPUT); the result is every output's bytes in index order (its READ_OUTPUT).
    """
    model = model_bytes if isinstance(model_bytes, TflmModel) else load(model_bytes)
    arrays, offset = [], 0
    for i in range(model.n_inputs):
        detail = model.input_details(i)
        n = int(np.prod(detail["shape"])) * np.dtype(detail["dtype"]).itemsize
        if offset + n > len(input_data):
            raise TflmError("input", f"TFLM input {i}: needs bytes {offset}..{offset + n - 1},"
                            f" got {len(input_data)} bytes")
        arr = np.frombuffer(input_data[offset : offset + n], dtype=detail["dtype"])
        arrays.append(arr.reshape(detail["shape"]))
        offset += n
    if offset != len(input_data):
        raise TflmError("input", f"TFLM: the inputs take {offset} bytes, got {len(input_data)}")
    return b"".join(np.asarray(o).tobytes() for o in tflm_run(model, arrays))


def dequantize(values: np.ndarray, details: dict[str, Any]) -> np.ndarray:
    """int8 output -> float using the tensor's (per-tensor) scale and zero point."""
    if np.issubdtype(values.dtype, np.floating):
        return values
    q = details["quantization_parameters"]
    return (values.astype(np.float32) - float(q["zero_points"][0])) * float(q["scales"][0])
