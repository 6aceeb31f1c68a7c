"""The conversion report: the typed, versioned record the convert stage hands on.

Later stages (CLI, demo, LUT, search, deploy, benches) read a :class:`ConversionReport`,
never dict paths into JSON: a renamed field then fails at one place, loudly, instead of
silently falling back to a default (the old ``report.get("checks", {}).get("layout",
{}).get("input", "NHWC")`` pattern). The JSON file next to each ``.tflite`` is
``to_json()``; it carries ``"schema"`` and :meth:`ConversionReport.from_json` refuses any
other schema, naming the field, so a stale file is never misread.

``checks`` keeps every check's full JSON detail for people; the figures programs need
(input layout, arena, int8 quality, float error) are typed fields of their own. This
module imports neither torch nor TensorFlow.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hilnas.errors import ConfigError
from hilnas.fileio import json_text, read_json_object

#: Bump when a field changes meaning or disappears (1 was the untyped dict report;
#: 3 added the lean flatbuffer's byte split; 4 the graph rewrites applied). Optional
#: fields added later (``layernorms``) leave the schema alone: a reader that predates one
#: ignores it, and this reader gives it its "not measured" value when a file lacks it.
REPORT_SCHEMA = 4
#: Issue #10's flash bound: model bytes <= LEAN_BOUND x (constant data + quantization).
LEAN_BOUND = 1.15
INPUT_LAYOUTS = ("NHWC", "NCHW")


@dataclass(frozen=True)
class TensorSummary:
    """A model input or output as a board sees it (int8 scale/zero point)."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    scale: float | None
    zero_point: int | None


@dataclass(frozen=True)
class RouteAttempt:
    """One conversion route tried, in order; ``error`` says why a failed one failed."""

    route: str
    passed: bool
    error: str | None = None


@dataclass(frozen=True)
class AppliedRewrite:
    """A graph rewrite the converter applied (hilnas.convert.rewrites), and how often.

    Rewrites that are exact in float leave ``float_max_abs_dev`` None (the float check
    still compares the result with PyTorch); one that changes the function (``gelu_tanh``)
    records its deviation from the original model on the held-out inputs.
    """

    name: str
    count: int
    detail: str
    float_max_abs_dev: float | None = None
    float_mean_abs_dev: float | None = None


@dataclass(frozen=True)
class SampleSet:
    """How many samples a calibration/held-out set had and where they came from."""

    samples: int
    source: str


@dataclass(frozen=True)
class OutputQuality:
    """TFLM int8 vs PyTorch float on the held-out set, for one model output."""

    output: int
    max_abs_err: float
    mean_abs_err: float
    float_range: float
    top1_agreement: float | None = None


@dataclass(frozen=True)
class LayerNormError:
    """One LayerNorm's output, int8 (TFLM) vs float, on held-out inputs.

    Found from the graph (:mod:`hilnas.convert.layernorm`); ``index`` counts LayerNorms in
    graph order, ``tensor`` names the int8 model's output tensor of that LayerNorm.
    """

    index: int
    tensor: str
    shape: tuple[int, ...]
    max_abs_err: float
    mean_abs_err: float
    float_range: float
    samples: int

    @property
    def mean_err_ratio(self) -> float:
        """Mean error as a share of the float output's range (comparable across layers)."""
        return self.mean_abs_err / self.float_range


@dataclass(frozen=True)
class ByteSplit:
    """Where a flatbuffer's bytes go (:func:`hilnas.convert.lean.byte_split` measures it).

    ``weights`` are int8 constant bytes, ``biases`` int32 constant bytes (biases and the
    few shape/axis constants), ``constants_other`` constant bytes of other types,
    ``quantization`` the distinct scale (4 B) and zero-point (8 B) vectors. ``other`` is
    what neither TFLM nor the engine reads: names, calibration min/max, metadata and
    signature strings, unreferenced buffers (payload bytes). ``graph`` is the rest:
    tables, shapes, operator lists, alignment.
    """

    total: int
    weights: int
    biases: int
    constants_other: int
    quantization: int
    other: int

    @property
    def payload(self) -> int:
        """What the model cannot do without: constant data plus quantization parameters."""
        return self.weights + self.biases + self.constants_other + self.quantization

    @property
    def graph(self) -> int:
        return self.total - self.payload - self.other

    @property
    def ratio(self) -> float:
        """Model bytes per payload byte; :data:`LEAN_BOUND` is the target."""
        return self.total / max(self.payload, 1)

    def line(self) -> str:
        """One line for people: the split and the ratio against the bound."""
        return (f"{self.total:,} B = weights {self.weights:,} + biases {self.biases:,}"
                + (f" + other constants {self.constants_other:,}" if self.constants_other
                   else "")
                + f" + quantization {self.quantization:,} + graph {self.graph:,}"
                f" + other {self.other:,} ({self.ratio:.3f} x weights+biases+quantization,"
                f" bound {LEAN_BOUND})")


@dataclass(frozen=True)
class ConversionReport:
    """Everything a conversion produced and measured (see module doc)."""

    tflite: str
    route: str
    input_layout: str
    input_shape_nchw: tuple[int, ...]
    input: TensorSummary
    outputs: tuple[TensorSummary, ...]
    model_bytes: int
    arena_bytes: int
    op_histogram: dict[str, int]
    float_max_abs_err: tuple[float, ...]
    int8_quality: tuple[OutputQuality, ...]
    calibration: SampleSet
    heldout: SampleSet
    attempts: tuple[RouteAttempt, ...]
    #: The written (lean) model's byte split, and the route's output before leaning.
    bytes_split: ByteSplit
    bytes_split_before: ByteSplit
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)
    timings_s: dict[str, float] = field(default_factory=dict)
    timings_cpu_s: dict[str, float] = field(default_factory=dict)
    c_files: tuple[str, ...] = ()
    #: Graph rewrites applied on the way to the written model, in order.
    rewrites: tuple[AppliedRewrite, ...] = ()
    #: Each LayerNorm's int8 error, in graph order; None when not measured (older files).
    layernorms: tuple[LayerNormError, ...] | None = None
    schema: int = REPORT_SCHEMA

    def __post_init__(self) -> None:
        if self.input_layout not in INPUT_LAYOUTS:
            raise ConfigError(f"conversion report: input_layout {self.input_layout!r} is not"
                              f" one of {list(INPUT_LAYOUTS)}")

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (tuples become lists); ``from_json`` inverts it exactly."""
        return json.loads(json_text(dataclasses.asdict(self)))

    @classmethod
    def from_json(cls, data: Mapping[str, Any], origin: str = "conversion report"
                  ) -> ConversionReport:
        """Parse and validate; a missing field or another schema is a ConfigError naming it."""
        fields = _Fields(data, origin)
        schema = data.get("schema", data.get("version"))
        if schema != REPORT_SCHEMA:
            raise ConfigError(f"{origin}: field 'schema' is {schema!r}, this hilnas reads"
                              f" {REPORT_SCHEMA}; convert the model again")
        return cls(
            tflite=fields.get("tflite", str),
            route=fields.get("route", str),
            input_layout=fields.get("input_layout", str),
            input_shape_nchw=tuple(fields.get("input_shape_nchw", list)),
            input=_tensor(fields.get("input", dict)),
            outputs=tuple(_tensor(t) for t in fields.get("outputs", list)),
            model_bytes=fields.get("model_bytes", int),
            arena_bytes=fields.get("arena_bytes", int),
            op_histogram=dict(fields.get("op_histogram", dict)),
            float_max_abs_err=tuple(float(e) for e in fields.get("float_max_abs_err", list)),
            int8_quality=tuple(OutputQuality(**q) for q in fields.get("int8_quality", list)),
            calibration=SampleSet(**fields.get("calibration", dict)),
            heldout=SampleSet(**fields.get("heldout", dict)),
            attempts=tuple(RouteAttempt(**a) for a in fields.get("attempts", list)),
            bytes_split=ByteSplit(**fields.get("bytes_split", dict)),
            bytes_split_before=ByteSplit(**fields.get("bytes_split_before", dict)),
            checks=dict(fields.get("checks", dict)),
            timings_s=dict(fields.get("timings_s", dict)),
            timings_cpu_s=dict(fields.get("timings_cpu_s", dict)),
            c_files=tuple(fields.get("c_files", list)),
            rewrites=tuple(AppliedRewrite(**r) for r in fields.get("rewrites", list)),
            layernorms=_layernorms(data.get("layernorms"), origin),
        )

    @classmethod
    def read(cls, path: Path) -> ConversionReport:
        data = read_json_object(path, "conversion report")
        try:
            return cls.from_json(data, str(path))
        except TypeError as exc:  # a nested record with a missing or unknown field
            raise ConfigError(f"{path}: {exc}") from None


class _Fields:
    """Typed access to a report's top-level fields with errors that name the field."""

    def __init__(self, data: Mapping[str, Any], origin: str) -> None:
        self.data, self.origin = data, origin

    def get(self, name: str, kind: type) -> Any:
        if name not in self.data:
            raise ConfigError(f"{self.origin}: field {name!r} is missing")
        value = self.data[name]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ConfigError(f"{self.origin}: field {name!r} is {type(value).__name__},"
                              f" expected {kind.__name__}")
        return value


def _layernorms(data: Any, origin: str) -> tuple[LayerNormError, ...] | None:
    """The optional ``layernorms`` field: absent or null means not measured."""
    if data is None:
        return None
    if not isinstance(data, list):
        raise ConfigError(f"{origin}: field 'layernorms' is {type(data).__name__},"
                          " expected list")
    return tuple(LayerNormError(**{**e, "shape": tuple(e["shape"])}) for e in data)


def _tensor(data: Mapping[str, Any]) -> TensorSummary:
    return TensorSummary(str(data["name"]), tuple(int(d) for d in data["shape"]),
                         str(data["dtype"]), data.get("scale"), data.get("zero_point"))
