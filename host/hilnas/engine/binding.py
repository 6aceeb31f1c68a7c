"""ctypes binding of the host build of the C engine (firmware/engine).

The same C code runs on the boards; here it runs natively so that tests can
compare it with TFLite Micro byte for byte in milliseconds. All engine
errors become :class:`hilnas.errors.EngineError` with the engine's status code
and message (which names the op, tensor or byte offset at fault).
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from functools import cache

import numpy as np

from hilnas.engine.build import build_library
from hilnas.errors import EngineError

MAX_DIMS = 6
_NUMPY_TYPES = {0: np.float32, 2: np.int32, 3: np.uint8, 4: np.int64, 6: np.bool_, 7: np.int16,
                9: np.int8}


class _Desc(ctypes.Structure):
    _fields_ = [
        ("tensor_index", ctypes.c_int32),
        ("type", ctypes.c_int32),
        ("ndim", ctypes.c_int32),
        ("dims", ctypes.c_int32 * MAX_DIMS),
        ("bytes", ctypes.c_uint32),
        ("scale", ctypes.c_float),
        ("zero_point", ctypes.c_int32),
    ]


class _Record(ctypes.Structure):
    _fields_ = [("builtin_code", ctypes.c_int32), ("count", ctypes.c_uint32)]


@dataclass(frozen=True)
class TensorInfo:
    """Shape, dtype and quantization of one engine tensor."""

    index: int
    dtype: type
    shape: tuple[int, ...]
    scale: float
    zero_point: int
    nbytes: int


@dataclass(frozen=True)
class OpRecord:
    """Counter ticks (nanoseconds on the host) one op spent in the last invoke."""

    index: int
    name: str
    builtin_code: int
    ticks: int


def _declare(lib: ctypes.CDLL) -> ctypes.CDLL:
    p, sz, st = ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int
    sigs = {
        "hn_host_engine_new": (p, []),
        "hn_host_engine_free": (None, [p]),
        "hn_host_enable_timing": (None, [p]),
        "hn_load": (st, [p, p, sz, p, sz]),
        "hn_arena_required": (sz, [p]),
        "hn_invoke": (st, [p]),
        "hn_invoke_op": (st, [p, sz]),
        "hn_num_inputs": (sz, [p]),
        "hn_num_outputs": (sz, [p]),
        "hn_num_ops": (sz, [p]),
        "hn_op_records": (ctypes.POINTER(_Record), [p]),
        "hn_input_desc": (st, [p, sz, ctypes.POINTER(_Desc)]),
        "hn_output_desc": (st, [p, sz, ctypes.POINTER(_Desc)]),
        "hn_tensor_desc_of": (st, [p, sz, ctypes.POINTER(_Desc)]),
        "hn_tensor_data": (st, [p, sz, ctypes.POINTER(p), ctypes.POINTER(sz)]),
        "hn_op_num_outputs": (sz, [p, sz]),
        "hn_op_output_tensor": (ctypes.c_int32, [p, sz, sz]),
        "hn_last_error": (ctypes.c_char_p, [p]),
        "hn_status_name": (ctypes.c_char_p, [st]),
        "hn_builtin_name": (ctypes.c_char_p, [ctypes.c_int32]),
        "hn_op_supported": (ctypes.c_int, [ctypes.c_int32]),
    }
    for name, (res, args) in sigs.items():
        fn = getattr(lib, name)
        fn.restype = res
        fn.argtypes = args
    return lib


@cache
def load_library(sanitize: bool = False) -> ctypes.CDLL:
    """Build (if needed) and load the engine library once per process."""
    return _declare(ctypes.CDLL(str(build_library(sanitize=sanitize))))


def builtin_name(code: int) -> str:
    return load_library().hn_builtin_name(code).decode()


def op_supported(code: int) -> bool:
    """Whether the engine build links a kernel for TFLite builtin ``code``.

    Asks the C registry directly, so a coverage check costs one call per op
    instead of converting and loading a model per op.
    """
    return bool(load_library().hn_op_supported(code))


class Engine:
    """One loaded model: ``Engine(model_bytes)``, ``set_input``, ``invoke``, ``get_output``.

    ``arena_size=None`` asks the engine how much arena the model needs and
    allocates exactly that, which is the figure compared with TFLM.
    """

    def __init__(self, model: bytes, arena_size: int | None = None, timing: bool = True,
                 sanitize: bool = False) -> None:
        self._lib = load_library(sanitize)
        self._model = ctypes.create_string_buffer(bytes(model), len(model))
        self._handle = self._lib.hn_host_engine_new()
        if not self._handle:
            raise MemoryError("cannot allocate the engine struct")
        if arena_size is None:
            self._lib.hn_load(self._handle, self._model, len(model), None, 0)
            arena_size = int(self._lib.hn_arena_required(self._handle))
            if arena_size == 0:
                self._raise(self._lib.hn_load(self._handle, self._model, len(model), None, 0))
        self._arena = ctypes.create_string_buffer(max(arena_size, 1) + 16)
        # Pass a 16-byte aligned pointer so the required size is exact.
        base = ctypes.addressof(self._arena)
        aligned = (base + 15) & ~15
        self._check(self._lib.hn_load(self._handle, self._model, len(model), aligned, arena_size))
        if timing:
            self._lib.hn_host_enable_timing(self._handle)

    # -- errors -------------------------------------------------------------
    def _raise(self, status: int) -> None:
        name = self._lib.hn_status_name(status).decode()
        msg = self._lib.hn_last_error(self._handle).decode(errors="replace")
        raise EngineError(status, f"engine {name}: {msg}")

    def _check(self, status: int) -> None:
        if status != 0:
            self._raise(status)

    def close(self) -> None:
        if getattr(self, "_handle", None):
            self._lib.hn_host_engine_free(self._handle)
            self._handle = None

    def __del__(self) -> None:
        self.close()

    # -- introspection ----------------------------------------------------------
    @property
    def arena_required(self) -> int:
        return int(self._lib.hn_arena_required(self._handle))

    @property
    def num_inputs(self) -> int:
        return int(self._lib.hn_num_inputs(self._handle))

    @property
    def num_outputs(self) -> int:
        return int(self._lib.hn_num_outputs(self._handle))

    @property
    def num_ops(self) -> int:
        return int(self._lib.hn_num_ops(self._handle))

    def _info(self, fn_name: str, i: int) -> TensorInfo:
        d = _Desc()
        self._check(getattr(self._lib, fn_name)(self._handle, i, ctypes.byref(d)))
        dtype = _NUMPY_TYPES.get(d.type)
        if dtype is None:
            raise EngineError(4, f"tensor {d.tensor_index}: type {d.type} has no numpy mapping")
        shape = tuple(int(d.dims[k]) for k in range(d.ndim))
        return TensorInfo(d.tensor_index, dtype, shape, float(d.scale), int(d.zero_point),
                          int(d.bytes))

    def input_info(self, i: int = 0) -> TensorInfo:
        return self._info("hn_input_desc", i)

    def output_info(self, i: int = 0) -> TensorInfo:
        return self._info("hn_output_desc", i)

    def tensor_info(self, tensor: int) -> TensorInfo:
        return self._info("hn_tensor_desc_of", tensor)

    # -- running ------------------------------------------------------------
    def set_input(self, data: np.ndarray, i: int = 0) -> None:
        info = self.input_info(i)
        arr = np.ascontiguousarray(data, dtype=info.dtype)
        if arr.nbytes != info.nbytes:
            raise EngineError(7, f"input {i}: got {arr.nbytes} bytes {arr.shape}, "
                                 f"model expects {info.nbytes} bytes {info.shape}")
        ptr = ctypes.c_void_p()
        size = ctypes.c_size_t()
        self._check(self._lib.hn_tensor_data(self._handle, info.index, ctypes.byref(ptr),
                                             ctypes.byref(size)))
        ctypes.memmove(ptr.value, arr.ctypes.data, arr.nbytes)

    def poke(self, tensor: int, data: np.ndarray) -> None:
        """Overwrite a tensor's bytes (fault injection in tests of --check)."""
        info = self.tensor_info(tensor)
        arr = np.ascontiguousarray(data, dtype=info.dtype)
        ptr = ctypes.c_void_p()
        size = ctypes.c_size_t()
        self._check(self._lib.hn_tensor_data(self._handle, tensor, ctypes.byref(ptr),
                                             ctypes.byref(size)))
        if arr.nbytes != size.value or not ptr.value:
            raise EngineError(7, f"tensor {tensor}: cannot write {arr.nbytes} bytes")
        ctypes.memmove(ptr.value, arr.ctypes.data, arr.nbytes)

    def invoke(self) -> None:
        self._check(self._lib.hn_invoke(self._handle))

    def invoke_op(self, op: int) -> None:
        self._check(self._lib.hn_invoke_op(self._handle, op))

    def tensor(self, tensor: int) -> np.ndarray:
        """Copy of a tensor's current bytes (valid while its buffer is live)."""
        info = self.tensor_info(tensor)
        ptr = ctypes.c_void_p()
        size = ctypes.c_size_t()
        self._check(self._lib.hn_tensor_data(self._handle, tensor, ctypes.byref(ptr),
                                             ctypes.byref(size)))
        if not ptr.value:
            return np.zeros(info.shape, dtype=info.dtype)
        raw = ctypes.string_at(ptr.value, size.value)
        return np.frombuffer(raw, dtype=info.dtype).reshape(info.shape).copy()

    def get_output(self, i: int = 0) -> np.ndarray:
        return self.tensor(self.output_info(i).index)

    def op_outputs(self, op: int) -> list[int]:
        n = int(self._lib.hn_op_num_outputs(self._handle, op))
        return [int(self._lib.hn_op_output_tensor(self._handle, op, k)) for k in range(n)]

    def op_records(self) -> list[OpRecord]:
        recs = self._lib.hn_op_records(self._handle)
        out = []
        for k in range(self.num_ops):
            code = int(recs[k].builtin_code)
            out.append(OpRecord(k, builtin_name(code), code, int(recs[k].count)))
        return out
