"""One measurement run: stream a .tflite to a board, run it, collect every figure.

``profile_model`` is what ``hilnas profile`` and bench/profile.py call. Its
result, :class:`Measurement`, is the typed, versioned record the board stage
hands the LUT stage: every figure the CLI prints plus the output tensor and the
board identity; ``to_json``/``from_json`` round-trip it (``--json`` files).
``check_against_tflm`` runs the same input through the real TFLM interpreter (tflite-micro package,
FACTS §2: the only valid oracle) and fails loudly on the first differing byte.
"""

from __future__ import annotations

import dataclasses
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from hilnas import tflm
from hilnas.board.profiles import BoardProfile
from hilnas.board.session import BoardSession, open_board
from hilnas.errors import BoardError, ConfigError, OutputMismatchError

__all__ = ["Measurement", "OpFigure", "OutputMismatchError", "profile_model", "run_on_session"]

INPUT_SEED = 20241121


@dataclass
class OpFigure:
    index: int
    name: str
    builtin_code: int
    ticks: int
    value: float  # in the board's timing unit
    share: float  # of the sum over ops


@dataclass
class Measurement:
    """Every figure of one model measured on one board (record ``hilnas.measurement`` v1).

    Latencies are in ``timing_unit`` (instructions on emulated boards, cycles on
    real ones, ns on the host build) and also as raw counter ticks.
    """

    KIND: ClassVar[str] = "hilnas.measurement"
    VERSION: ClassVar[int] = 1

    board: str
    model: str
    model_bytes: int
    model_crc32: int
    runs: int
    warmup: int
    timing_unit: str
    latency_min: float
    latency_median: float
    latency_max: float
    latency_ticks_min: int
    latency_ticks_median: int
    latency_ticks_max: int
    latency_ms_median: float | None  # only where the unit is real time (cycles, ns)
    arena_bytes: int
    stack_high_water: int
    n_ops: int
    input_bytes: int
    output_bytes: int
    output_crc32: int
    input_source: str
    upload_s: float
    upload_bytes_per_s: float
    upload_path: str  # "uart" (default) or "host-file" (bulk)
    boot_s: float
    wall_s: float
    checked_against_tflm: bool
    ops: list[OpFigure] = field(default_factory=list)
    #: Output values decoded by each output's dtype (floats for a float32 output).
    output: list[float] = field(default_factory=list)
    output_dtypes: list[str] = field(default_factory=list)
    identity: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict, tagged with the record kind and version."""
        return {"kind": self.KIND, "version": self.VERSION, **dataclasses.asdict(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any], source: str = "measurement") -> Measurement:
        """Rebuild a measurement from :meth:`to_json` output; a wrong kind, version
        or field set is a ConfigError naming ``source`` and the field."""
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: a measurement must be a JSON object")
        if data.get("kind") != cls.KIND or data.get("version") != cls.VERSION:
            raise ConfigError(
                f"{source}: expected record {cls.KIND} version {cls.VERSION}, got "
                f"{data.get('kind')!r} version {data.get('version')!r}"
            )
        body = {k: v for k, v in data.items() if k not in ("kind", "version")}
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(body) - names)
        missing = sorted(f.name for f in dataclasses.fields(cls)
                         if f.name not in body and f.default is dataclasses.MISSING
                         and f.default_factory is dataclasses.MISSING)  # fmt: skip
        if unknown or missing:
            field_name = (unknown or missing)[0]
            raise ConfigError(
                f"{source}: {'unknown' if unknown else 'missing'} field {field_name!r}"
            )
        try:
            body["ops"] = [OpFigure(**op) for op in body.get("ops", [])]
        except TypeError as exc:
            raise ConfigError(f"{source}: bad entry in 'ops': {exc}") from exc
        return cls(**body)


def prepare_input(
    model: bytes, input_bytes: int, input_path: Path | None, n_inputs: int = 1
) -> tuple[bytes, str]:
    """Input bytes for the board plus a sentence saying where they came from.

    Every input is generated or read in its own dtype (int8, uint8, int16, float32...),
    because the board receives raw tensor bytes: random bytes read as float32 are NaNs and
    denormals, not an input. ``input_bytes`` (what the board reported) must equal what the
    model's inputs take, so a disagreement between board and model shows here.
    """
    details = tflm.input_details(model)
    want_bytes = sum(_tensor_bytes(d) for d in details)
    if want_bytes != input_bytes:
        raise ConfigError(f"the board reports {input_bytes} input bytes, the model's "
                          f"{len(details)} input(s) take {want_bytes}")
    if input_path is None:
        rng = np.random.default_rng(INPUT_SEED)
        parts = [_random_tensor(rng, d) for d in details]
        kinds = ", ".join(np.dtype(d["dtype"]).name for d in details)
        return b"".join(parts), f"pseudo-random {kinds}, numpy default_rng(seed={INPUT_SEED})"
    if len(details) != 1:
        raise ConfigError(
            f"{input_path}: --input supports single-input models, this has {len(details)}"
        )
    try:
        x = np.load(input_path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{input_path}: not a readable .npy file: {exc}") from exc
    return _input_from_array(x, details[0], str(input_path))


def _output_details(model: bytes) -> list[dict[str, Any]]:
    loaded = tflm.load(model)
    return [loaded.output_details(i) for i in range(loaded.n_outputs)]


def decode_outputs(details: list[dict[str, Any]], data: bytes) -> list[float]:
    """The board's output bytes as values, each output read in its own dtype."""
    values: list[float] = []
    offset = 0
    for detail in details:
        n = _tensor_bytes(detail)
        values += np.frombuffer(data[offset:offset + n], detail["dtype"]).tolist()
        offset += n
    return values


def _tensor_bytes(detail: dict[str, Any]) -> int:
    return int(np.prod(detail["shape"])) * np.dtype(detail["dtype"]).itemsize


def _random_tensor(rng: np.random.Generator, detail: dict[str, Any]) -> bytes:
    """Random values of the tensor's dtype: full integer range, N(0, 1) for floats."""
    dtype, shape = np.dtype(detail["dtype"]), tuple(int(d) for d in detail["shape"])
    if np.issubdtype(dtype, np.floating):
        return rng.standard_normal(shape).astype(dtype).tobytes()
    info = np.iinfo(dtype)
    return rng.integers(info.min, int(info.max) + 1, size=shape, dtype=np.int64
                        ).astype(dtype).tobytes()


def _input_from_array(x: np.ndarray, detail: dict[str, Any], source: str) -> tuple[bytes, str]:
    """The model input's bytes from a user array, each kind of mismatch named as such."""
    want_dtype = np.dtype(detail["dtype"])
    shape = [int(d) for d in detail["shape"]]
    if x.size != int(np.prod(shape)):
        raise ConfigError(f"{source}: shape {list(x.shape)} ({x.size} elements) does not fit "
                          f"the model's input of shape {shape} ({int(np.prod(shape))} elements)")
    if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        raise ConfigError(f"{source}: dtype {x.dtype} is not a number type; the model's input "
                          f"is {want_dtype.name}")
    x = x.reshape(shape)
    if x.dtype == want_dtype:
        return x.tobytes(), f"{source} ({want_dtype.name})"
    if np.issubdtype(want_dtype, np.floating):
        return x.astype(want_dtype).tobytes(), f"{source} ({x.dtype} cast to {want_dtype.name})"
    if np.issubdtype(x.dtype, np.integer):
        raise ConfigError(f"{source}: dtype {x.dtype}, the model's input is {want_dtype.name}; "
                          f"give {want_dtype.name} values, or float values to be quantized")
    q = detail.get("quantization_parameters") or {}
    if len(q.get("scales", ())) != 1:
        raise ConfigError(f"{source}: float values, but the model's {want_dtype.name} input "
                          "has no per-tensor scale to quantize them with")
    data = tflm.quantize_like(x, detail)
    return data.tobytes(), f"{source} (float, quantized to {want_dtype.name})"


def check_against_tflm(board: str, model: bytes, input_data: bytes, board_out: bytes) -> None:
    """Raise OutputMismatchError naming the first differing byte, if any."""
    ref = tflm.tflm_output_bytes(model, input_data)
    if ref == board_out:
        return
    if len(ref) != len(board_out):
        raise OutputMismatchError(
            f"{board}: output is {len(board_out)} bytes, TFLM's is {len(ref)}", -1, 0, 0
        )
    a = np.frombuffer(board_out, np.int8)
    b = np.frombuffer(ref, np.int8)
    diff = np.flatnonzero(a != b)
    i = int(diff[0])
    raise OutputMismatchError(
        f"{board}: output differs from TFLM at {len(diff)} of {len(a)} bytes; first at byte "
        f"{i}: board {int(a[i])}, TFLM {int(b[i])}; max |diff| "
        f"{int(np.max(np.abs(a.astype(int) - b.astype(int))))}",
        i,
        int(a[i]),
        int(b[i]),
    )


def unit_per_tick(session: BoardSession) -> float:
    """Board-unit per counter tick.

    Under QEMU ``-icount shift=N`` one instruction takes 2^N ns of virtual time,
    so instructions = ticks * 1e9 / (counter_hz * 2^N) exactly; the profile
    knows N. HELLO's boot calibration (calib_ticks) says the same in principle,
    but is only a cross-check here: one firmware build reported 2^24 + 25,001
    ticks per 10^6 instructions (a SysTick wrap counted twice).
    """
    ident = session.client.identity
    assert ident is not None
    shift = session.profile.transport.icount_shift
    if ident.timing_kind == 1 and shift is not None and ident.counter_hz:
        return 1e9 / (ident.counter_hz * 2**shift)
    return ident.ticks_to_unit(1_000_000) / 1e6


def op_figures(session: BoardSession, records: list[tuple[int, int]]) -> list[OpFigure]:
    names = tflm.builtin_op_names()
    scale = unit_per_tick(session)
    total = sum(t for _, t in records) or 1
    return [
        OpFigure(
            i, names.get(code, f"BUILTIN_{code}"), code, ticks, ticks * scale, ticks / total
        )
        for i, (code, ticks) in enumerate(records)
    ]


def run_on_session(
    session: BoardSession,
    model_path: Path,
    runs: int = 10,
    warmup: int = 2,
    input_path: Path | None = None,
    check: bool = False,
    progress: Callable[[int, int], None] | None = None,
    started: float | None = None,
    bulk: bool = False,
) -> Measurement:
    """Profile one model on an open board (a session can profile many models).

    ``bulk`` loads through MODEL_HOST_FILE (semihosting / fopen) instead of the
    UART: only emulated and host boards, for tables of many models.
    """
    started = time.monotonic() if started is None else started
    model = Path(model_path).read_bytes()
    client = session.client
    t0 = time.monotonic()
    if bulk:
        if session.profile.transport.kind == "serial":
            raise ConfigError(f"--bulk needs an emulated or host board, not {session.profile.name}")
        load = client.load_model_host_file(Path(model_path))
    else:
        load = client.load_model(model, progress)
    upload_s = time.monotonic() - t0
    input_data, input_source = prepare_input(model, load.input_bytes, input_path, load.n_inputs)
    client.write_input(input_data)
    res = client.run(runs, warmup)
    output = client.read_output(res.output_bytes)
    if zlib.crc32(output) != res.output_crc32:
        raise BoardError(f"{session.profile.name}: READ_OUTPUT bytes do not match the RUN CRC")
    ops = op_figures(session, client.read_ops())
    if check:
        check_against_tflm(session.profile.name, model, input_data, output)
    ident = client.identity
    assert ident is not None
    scale = unit_per_tick(session)
    ms = None
    if ident.timing_unit in ("cycles", "ns"):
        ms = res.latency_median / ident.counter_hz * 1e3 if ident.counter_hz else None
    out_details = _output_details(model)  # loaded once for values and dtypes
    return Measurement(
        board=session.profile.name,
        model=str(model_path),
        model_bytes=len(model),
        model_crc32=zlib.crc32(model),
        runs=res.runs,
        warmup=res.warmup,
        timing_unit=ident.timing_unit,
        latency_min=res.latency_min * scale,
        latency_median=res.latency_median * scale,
        latency_max=res.latency_max * scale,
        latency_ticks_min=res.latency_min,
        latency_ticks_median=res.latency_median,
        latency_ticks_max=res.latency_max,
        latency_ms_median=ms,
        arena_bytes=res.arena_bytes,
        stack_high_water=res.stack_high_water,
        n_ops=res.n_ops,
        input_bytes=load.input_bytes,
        output_bytes=res.output_bytes,
        output_crc32=res.output_crc32,
        input_source=input_source,
        upload_s=upload_s,
        upload_bytes_per_s=len(model) / upload_s if upload_s > 0 else 0.0,
        upload_path="host-file" if bulk else "uart",
        boot_s=session.boot_s,
        wall_s=time.monotonic() - started,
        checked_against_tflm=check,
        ops=ops,
        output=decode_outputs(out_details, output),
        output_dtypes=[np.dtype(d["dtype"]).name for d in out_details],
        identity=dataclasses.asdict(ident),
    )


def profile_model(
    model_path: Path,
    profile: BoardProfile,
    runs: int = 10,
    warmup: int = 2,
    input_path: Path | None = None,
    check: bool = False,
    elf: Path | None = None,
    port: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    bulk: bool = False,
) -> Measurement:
    """Boot/connect the board, profile one model, stop the board."""
    started = time.monotonic()
    if not Path(model_path).is_file():
        raise ConfigError(f"model file {model_path} does not exist")
    with open_board(profile, elf=elf, port=port) as session:
        return run_on_session(
            session, model_path, runs, warmup, input_path, check, progress, started, bulk
        )
