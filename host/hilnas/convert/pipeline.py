"""``convert()``: one call that turns an ``nn.Module`` into a checked int8 .tflite.

Order of work, chosen so that cheap failures come first and nothing is written unless
every check passed:

1. validate inputs (static shape, calibration set, writable output path) and run the
   model once in PyTorch, counting its attention ops for the default route order
   (:func:`route_policy`);
2. for each route in order: float export -> static shapes + op coverage on the float
   graph (clear names before the int8 converter's cryptic errors) -> float agreement with
   PyTorch -> int8 quantization -> lean flatbuffer (hilnas.convert.lean: names, metadata
   and unused buffers dropped, so every later check judges the bytes that get written)
   -> int8/op checks -> TFLM load + exact arena -> int8 quality on held-out inputs, whose
   TFLM runs also give each LayerNorm's int8 error (hilnas.convert.layernorm);
3. the first route that passes everything is written with its JSON report (and C pair):
   all of these files or none (:class:`hilnas.fileio.OutputSet`), so a failed report
   write never leaves a .tflite behind; if every route fails, :class:`ConvertError` lists
   what failed in each.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from hilnas.convert import checks
from hilnas.convert.carray import c_pair, c_pair_paths
from hilnas.convert.layernorm import find_layernorms, layernorm_errors
from hilnas.convert.lean import byte_split, lean_flatbuffer, with_names_of
from hilnas.convert.output import ensure_writable_dir
from hilnas.convert.report import (
    AppliedRewrite,
    ByteSplit,
    ConversionReport,
    LayerNormError,
    OutputQuality,
    RouteAttempt,
    SampleSet,
    TensorSummary,
)
from hilnas.convert.rewrites import (
    GELU_OPTION_HINT,
    check_gelu_mode,
    count_exact_gelu,
    tanh_gelu_model,
)
from hilnas.convert.routes import FloatModel, Route, get_route, to_layout
from hilnas.convert.tflite_reader import TensorInfo, read_model
from hilnas.errors import CheckError, ConfigError, ConvertError, DataError
from hilnas.fileio import OutputSet

DEFAULT_ROUTES: tuple[str, ...] = ("onnx2tf", "litert")
#: Route order for large attention graphs (see :func:`route_policy`).
ATTENTION_ROUTES: tuple[str, ...] = ("litert", "onnx2tf")
#: From this many attention ops (softmax / scaled-dot-product / multi-head attention calls
#: in one forward pass) the default route order puts litert first.
ATTENTION_LITERT_FIRST = 4
#: ``routes`` value that asks for :func:`route_policy`'s order.
AUTO_ROUTES = "auto"
#: Inputs used for the float-agreement check (taken from held-out, else calibration).
FLOAT_CHECK_SAMPLES = 4

Progress = Callable[[str], None]


@dataclass
class ConversionResult:
    """What :func:`convert` produced. ``report`` is also written next to the .tflite."""

    tflite_path: Path
    report: ConversionReport
    report_path: Path
    c_files: tuple[Path, ...] = field(default_factory=tuple)

    @property
    def route(self) -> str:
        return self.report.route

    @property
    def arena_bytes(self) -> int:
        return self.report.arena_bytes

    @property
    def model_bytes(self) -> int:
        return self.report.model_bytes


@dataclass
class _RouteOutcome:
    """A route that passed every check: its int8 model, input layout and check details."""

    int8: bytes
    input_layout: str
    checks: dict[str, dict]
    splits: tuple[ByteSplit, ByteSplit]  # (lean model, route's output before leaning)
    rewrites: tuple[AppliedRewrite, ...] = ()
    layernorms: tuple[LayerNormError, ...] = ()


class _Timer:
    """Collects per-stage wall-clock and process-CPU seconds for the report.

    CPU seconds are recorded too because wall time on a shared machine mostly measures the
    neighbours; CPU time is what the conversion itself costs.
    """

    def __init__(self, sink: dict[str, float], progress: Progress | None,
                 cpu_sink: dict[str, float] | None = None) -> None:
        self.sink = sink
        self.cpu_sink = cpu_sink if cpu_sink is not None else {}
        self.progress = progress

    def stage(self, name: str) -> _Stage:
        if self.progress is not None:
            self.progress(name)
        return _Stage(self.sink, name, self.cpu_sink)


class _Stage:
    def __init__(self, sink: dict[str, float], name: str,
                 cpu_sink: dict[str, float] | None = None) -> None:
        self.sink, self.name = sink, name
        self.cpu_sink = cpu_sink if cpu_sink is not None else {}

    def __enter__(self) -> None:
        self.t0 = time.perf_counter()
        self.c0 = time.process_time()

    def __exit__(self, *exc: object) -> None:
        self.sink[self.name] = round(self.sink.get(self.name, 0.0)
                                     + time.perf_counter() - self.t0, 3)
        self.cpu_sink[self.name] = round(self.cpu_sink.get(self.name, 0.0)
                                         + time.process_time() - self.c0, 3)


def validate_input_shape(input_shape: Sequence[object]) -> tuple[int, ...]:
    """Static, positive integer dimensions only: TFLM plans memory ahead of time."""
    dims = tuple(input_shape)
    if not dims:
        raise ConfigError("input shape is empty")
    for i, d in enumerate(dims):
        if isinstance(d, bool) or not isinstance(d, int | np.integer) or int(d) <= 0:
            raise ConfigError(
                f"dynamic or invalid input shape {list(dims)}: dimension {i} is {d!r};"
                " TFLM needs a static shape with positive sizes, e.g. 1x3x96x96"
            )
    if int(dims[0]) != 1:
        raise ConfigError(f"input shape {list(dims)}: batch must be 1 for a microcontroller")
    return tuple(int(d) for d in dims)


def validate_samples(name: str, data: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray:
    """Check a calibration/held-out array: N x (shape without batch), finite float."""
    if data is None:
        dims = "x".join(map(str, shape[1:]))
        raise DataError(
            f"missing {name} set: user models need --calib FILE.npy (N x {dims} float32, NCHW,"
            " the same preprocessing as at inference)"
        )
    arr = np.asarray(data)
    if arr.ndim != len(shape) or tuple(arr.shape[1:]) != shape[1:] or arr.shape[0] < 1:
        raise DataError(f"{name} set has shape {list(arr.shape)}; expected N x"
                        f" {list(shape[1:])} (NCHW, N >= 1)")
    if not np.issubdtype(arr.dtype, np.number):
        raise DataError(f"{name} set has dtype {arr.dtype}; expected float32")
    arr = arr.astype(np.float32)
    if not np.all(np.isfinite(arr)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        raise DataError(f"{name} set contains NaN/inf (first at index {list(bad)})")
    return arr


def torch_outputs(model: nn.Module, inputs: np.ndarray) -> list[np.ndarray]:
    """PyTorch float outputs, one array per model output, batched over ``inputs``."""
    outs: list[list[np.ndarray]] = []
    with torch.no_grad():
        for i in range(inputs.shape[0]):
            y = model(torch.from_numpy(inputs[i : i + 1]))
            ys = list(y) if isinstance(y, tuple | list) else [y]
            if not outs:
                outs = [[] for _ in ys]
            for k, t in enumerate(ys):
                outs[k].append(t.detach().float().numpy())
    return [np.concatenate(o) for o in outs]


def run_route(
    route: Route, model: nn.Module, example: torch.Tensor, calib: np.ndarray,
    heldout: np.ndarray, timer: _Timer,
) -> _RouteOutcome:
    """One route end to end with every check; returns the int8 bytes and check results."""
    try:
        return _checked_route(route, model, example, calib, heldout, timer)
    finally:
        route.release()


def _checked_route(
    route: Route, model: nn.Module, example: torch.Tensor, calib: np.ndarray,
    heldout: np.ndarray, timer: _Timer,
) -> _RouteOutcome:
    results: dict[str, dict] = {}
    with timer.stage(f"{route.name}.export_float"):
        fm: FloatModel = route.export_float(model, example)
    with timer.stage(f"{route.name}.float_checks"):
        float_info = read_model(fm.tflite, f"{route.name} float model")
        results["float_static_shapes"] = checks.check_static_shapes(float_info)
        results["float_op_coverage"] = checks.check_op_coverage(float_info, "float")
        probe = to_layout(heldout[:FLOAT_CHECK_SAMPLES], fm.input_layout)
        results["float_agreement"] = checks.check_float_agreement(
            fm.tflite, probe, torch_outputs(model, heldout[:FLOAT_CHECK_SAMPLES]))
        float_lns = find_layernorms(float_info)
        float_ln_values = checks.float_tensors(fm.tflite, probe, [s.output for s in float_lns])
    with timer.stage(f"{route.name}.quantize"):
        raw = route.quantize(fm, calib)
    with timer.stage(f"{route.name}.lean"):
        int8 = lean_flatbuffer(raw, f"{route.name} int8 model")
        splits = (byte_split(int8), byte_split(raw))
    with timer.stage(f"{route.name}.int8_checks"):
        # Check the lean bytes; messages borrow the names leaning dropped (same indices).
        info = with_names_of(read_model(int8, f"{route.name} int8 model"),
                             read_model(raw, f"{route.name} int8 model"))
        results["op_coverage"] = checks.check_op_coverage(info, "int8")
        results["int8"] = checks.check_int8(info)
        results["static_shapes"] = checks.check_static_shapes(info)
    with timer.stage(f"{route.name}.tflm"):
        results["tflm"] = checks.check_tflm(int8)
        int8_lns = find_layernorms(info)
        int8_ln_values: dict[int, np.ndarray] = {}
        results["int8_quality"] = checks.check_int8_quality(
            int8, to_layout(heldout, fm.input_layout), torch_outputs(model, heldout),
            keep=[s.output for s in int8_lns], info=info, kept=int8_ln_values)
        layernorms = layernorm_errors(float_info, float_ln_values, info, int8_ln_values,
                                      float_lns, int8_lns)
    return _RouteOutcome(int8, fm.input_layout, results, splits, fm.rewrites, layernorms)


def _attention_functions() -> frozenset:
    from torch.nn import functional as F

    return frozenset({F.softmax, torch.softmax, torch.Tensor.softmax,
                      F.scaled_dot_product_attention, F.multi_head_attention_forward})


def _check_forward(model: nn.Module, example: torch.Tensor) -> int:
    """The model must run in PyTorch on the given shape before any converter sees it.

    Returns how many attention ops (softmax, scaled-dot-product or multi-head attention
    calls) that forward pass made, for :func:`route_policy`: the count comes from what runs,
    not from module names.
    """
    from torch.overrides import TorchFunctionMode

    watched, calls = _attention_functions(), [0]

    class _Count(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
            calls[0] += func in watched
            return func(*args, **(kwargs or {}))

    try:
        with torch.no_grad(), _Count():
            model(example)
    except Exception as exc:
        raise ConfigError(
            f"model forward pass fails on input shape {list(example.shape)}:"
            f" {type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
        ) from exc
    return calls[0]


def route_policy(attention_ops: int) -> tuple[str, ...]:
    """The default route order for a model with ``attention_ops`` attention ops.

    onnx2tf first (NHWC graphs with fewer TRANSPOSE ops) for convolutional models and small
    hybrids; litert first from :data:`ATTENTION_LITERT_FIRST` attention ops on. Why:
    onnx2tf's cost grows with the graph (a strict per-op accuracy search with a TF dummy
    inference per op, then two Keras -> SavedModel exports, float and int8), and on a
    MobileViT-XXS-width model at 128x128 (9 attention ops) it took 96 CPU-s against
    litert's 31 (bench/convert.py); litert is also the route the LUT tables measure
    attention members with. The other route is still tried when the first one fails, and
    every result passes the same checks (float agreement included).
    """
    return ATTENTION_ROUTES if attention_ops >= ATTENTION_LITERT_FIRST else DEFAULT_ROUTES


def _reject_float_only_modules(model: nn.Module) -> None:
    """Name the module that can never be int8 on TFLM before any conversion runs."""
    for name, module in model.named_modules():
        if isinstance(module, nn.GELU) and module.approximate == "none":
            raise CheckError(
                "op_coverage",
                f"module '{name or type(model).__name__}' is exact nn.GELU: TFLM has no int8"
                f" GELU kernel; {GELU_OPTION_HINT}",
            )


def _swap_gelu(model: nn.Module, example: torch.Tensor, heldout: np.ndarray
               ) -> tuple[nn.Module, AppliedRewrite | None]:
    """``--gelu tanh``: exact GELU computed as tanh GELU, with the deviation it causes.

    The deviation (max and mean |tanh-model - original|, over every output, on the held-out
    inputs) goes into the report: unlike the graph rewrites this one changes the function.
    """
    calls = count_exact_gelu(model, example)
    if calls == 0:
        return model, None
    swapped = tanh_gelu_model(model)
    before, after = torch_outputs(model, heldout), torch_outputs(swapped, heldout)
    diffs = [np.abs(a - b) for a, b in zip(after, before, strict=True)]
    return swapped, AppliedRewrite(
        "gelu_tanh", calls, "exact GELU replaced by tanh-approximate GELU before export"
        f" (--gelu tanh); deviation measured on {heldout.shape[0]} held-out inputs",
        float(max(d.max() for d in diffs)), float(np.mean([d.mean() for d in diffs])))


def convert(
    model: nn.Module,
    input_shape: tuple[int, ...],
    calib: np.ndarray | None,
    out_path: Path,
    *,
    routes: Sequence[str] | str = AUTO_ROUTES,
    heldout: np.ndarray | None = None,
    emit_c: bool = False,
    calib_source: str = "user",
    progress: Progress | None = None,
    gelu: str = "none",
) -> ConversionResult:
    """Convert ``model`` to a checked full-int8 TFLM model at ``out_path``.

    ``routes`` are tried in order; ``'auto'`` (the default) orders them by
    :func:`route_policy`. ``calib`` and ``heldout`` are NCHW float32 arrays shaped
    ``N x input_shape[1:]``;
    ``heldout`` defaults to the calibration set (then the quality figures are optimistic,
    and the report says so). The model is converted in eval mode from a deep copy, so the
    caller's module is left untouched. ``gelu='tanh'`` replaces exact GELU with its tanh
    approximation before export (reported with its float deviation). Raises
    :class:`ConvertError` (or a subclass, or
    :class:`ConfigError`/:class:`DataError` for bad arguments, :class:`OutputError` when a
    file cannot be written); nothing is written then.
    """
    t_start = time.perf_counter()
    cpu_start = time.process_time()
    shape = validate_input_shape(input_shape)
    calib_arr = validate_samples("calibration", calib, shape)
    held_arr = validate_samples("held-out", heldout, shape) if heldout is not None else calib_arr
    out_path = Path(out_path)
    if out_path.suffix != ".tflite":
        raise ConfigError(f"output path {out_path} must end in .tflite")
    ensure_writable_dir(out_path)
    if not isinstance(model, nn.Module):
        raise ConfigError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    check_gelu_mode(gelu)
    model = copy.deepcopy(model).eval()
    if gelu == "none":
        _reject_float_only_modules(model)
    auto = isinstance(routes, str) and routes == AUTO_ROUTES
    if isinstance(routes, str) and not auto:
        routes = tuple(r.strip() for r in routes.split(",") if r.strip())
    if not routes:
        raise ConfigError(f"no conversion route given; choose from {list(DEFAULT_ROUTES)}"
                          f" or '{AUTO_ROUTES}'")
    route_objs = [] if auto else [get_route(name) for name in routes]
    example = torch.from_numpy(calib_arr[:1].copy())
    timings: dict[str, float] = {}
    cpu_timings: dict[str, float] = {}
    timer = _Timer(timings, progress, cpu_timings)
    attempts: list[RouteAttempt] = []
    attention_ops = _check_forward(model, example)
    if auto:
        route_objs = [get_route(name) for name in route_policy(attention_ops)]
    gelu_rewrite = None
    if gelu == "tanh":
        model, gelu_rewrite = _swap_gelu(model, example, held_arr)
    for route in route_objs:
        try:
            outcome = run_route(route, model, example, calib_arr, held_arr, timer)
        except ConvertError as exc:
            attempts.append(RouteAttempt(route.name, False, str(exc)))
            continue
        except Exception as exc:  # a library bug must not stop the next route from trying
            detail = " ".join(str(exc).split())[:400]
            attempts.append(RouteAttempt(
                route.name, False, f"unexpected {type(exc).__name__} in {route.name}: {detail}"))
            continue
        attempts.append(RouteAttempt(route.name, True))
        if gelu_rewrite is not None:
            outcome.rewrites = (gelu_rewrite, *outcome.rewrites)
        cpu_timings["total"] = round(time.process_time() - cpu_start, 3)
        samples = (SampleSet(int(calib_arr.shape[0]), calib_source),
                   SampleSet(int(held_arr.shape[0]), "separate" if heldout is not None
                             else "calibration set (optimistic)"))
        return _finish(outcome, route.name, tuple(attempts), out_path, emit_c,
                       (timings, cpu_timings), t_start, shape, samples)
    summary = "; ".join(f"[{a.route}] {a.error}" for a in attempts)
    raise ConvertError(f"every conversion route failed: {summary}")


def _finish(
    outcome: _RouteOutcome, route: str, attempts: tuple[RouteAttempt, ...], out_path: Path,
    emit_c: bool, timing_sinks: tuple[dict[str, float], dict[str, float]], t_start: float,
    shape: tuple[int, ...], samples: tuple[SampleSet, SampleSet],
) -> ConversionResult:
    """Write the model, its C pair and its report: all of them, or none (OutputSet)."""
    timings, cpu_timings = timing_sinks
    info = read_model(outcome.int8, str(out_path))
    report_path = out_path.with_suffix(".json")
    c_files = c_pair_paths(out_path) if emit_c else ()
    with OutputSet() as outputs:
        with _Stage(timings, "write"):
            outputs.add_bytes(out_path, outcome.int8)
            for path, text in (c_pair(outcome.int8, out_path) if emit_c else {}).items():
                outputs.add_text(path, text)
        timings["total"] = round(time.perf_counter() - t_start, 3)
        report = ConversionReport(
            tflite=out_path.name,
            route=route,
            input_layout=outcome.input_layout,
            input_shape_nchw=shape,
            input=_tensor_summary(info.input_tensors()[0]),
            outputs=tuple(_tensor_summary(t) for t in info.output_tensors()),
            model_bytes=len(outcome.int8),
            arena_bytes=outcome.checks["tflm"]["arena_bytes"],
            op_histogram=info.op_histogram(),
            float_max_abs_err=tuple(
                o["max_abs_err"] for o in outcome.checks["float_agreement"]["outputs"]),
            int8_quality=tuple(
                OutputQuality(**o) for o in outcome.checks["int8_quality"]["outputs"]),
            calibration=samples[0],
            heldout=samples[1],
            attempts=attempts,
            bytes_split=outcome.splits[0],
            bytes_split_before=outcome.splits[1],
            checks=outcome.checks,
            timings_s=timings,
            timings_cpu_s=cpu_timings,
            c_files=tuple(p.name for p in c_files),
            rewrites=outcome.rewrites,
            layernorms=outcome.layernorms,
        )
        outputs.add_json(report_path, report.to_json())
    return ConversionResult(out_path, report, report_path, c_files)


def _tensor_summary(t: TensorInfo) -> TensorSummary:
    return TensorSummary(t.name, tuple(t.shape), t.dtype, t.scales[0] if t.scales else None,
                         t.zero_points[0] if t.zero_points else None)
