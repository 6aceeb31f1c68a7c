"""``deploy()``: one call from an arch + supernet checkpoint + board to a verified report.

(This module is ``pipeline``, not ``deploy``: a submodule of that name would shadow the
function ``hilnas.deploy.deploy`` once imported.)

Stages, cheapest failure first, each printed as one line (readable in a log file too):

1. extract the member from the supernet (BN recalibrated), optionally fine-tune it;
2. convert it to a checked full-int8 .tflite (every converter check) plus its C array;
3. budgets: flatbuffer bytes, engine arena, ops and tensors against the board's
   :class:`~hilnas.board.profiles.BoardBudget`. A model that does not fit is refused here,
   before any firmware is built, naming the figure and the overshoot;
4. build the firmware with the model linked into flash (or the streaming firmware with
   ``stream=True``), export ELF/HEX/BIN and read flash/RAM from the ELF;
5. flash it with the profile's flasher (QEMU boards: the ELF *is* the flash);
6. verify on the device (:mod:`.verify`): the right model, outputs bit-exact with TFLM on
   the first ``test_images`` of the test split, accuracy, latency, arena, stack;
7. measured memory against the budgets and against any prediction, then the report.

Everything is written into a staging folder and renamed to ``out_dir`` only when every
stage passed: a failed deploy leaves no report that could be mistaken for success.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hilnas.board.profiles import (
    PROFILE_DIR,
    REPO_ROOT,
    BoardProfile,
    load_profile,
    load_profile_file,
)
from hilnas.deploy.budget import Figure, model_figures, refuse_if_over
from hilnas.deploy.report import Comparison, DeployReport, write_report
from hilnas.errors import ConfigError, HilnasError, OutputError

Log = Callable[[str], None]
MODEL_NAME = "model.tflite"
#: Finished conversions by (member, checkpoint bytes, route): a repeated deploy skips them.
CONVERSION_CACHE = REPO_ROOT / ".hilnas-cache" / "deploy"
#: Prediction keys ``deploy`` understands -> (measured figure, unit).
PREDICTION_KEYS = {
    "latency": "latency (board unit)",
    "arena_bytes": "tensor arena",
    "sram_bytes": "SRAM used",
    "flash_bytes": "flash image",
    "model_bytes": "model",
    "n_ops": "ops",
    "n_tensors": "tensors",
}


@dataclass(frozen=True)
class DeployOptions:
    """How to deploy; the defaults are ``hilnas deploy``'s."""

    finetune_epochs: int = 0
    stream: bool = False
    route: str | None = None  # None: the LUT's route, else 'auto' (deploy_route)
    test_images: int = 50
    runs: int = 5
    predicted: dict[str, float] | None = None
    lut: Path | None = None
    port: str | None = None
    probe: str | None = None
    flash_tool: str | None = None
    reference: Path | None = None  # TFLM oracle model (default: the deployed one)


@dataclass
class _Subnet:
    arch: Any
    module: Any
    trained: Any
    x_test: np.ndarray  # float32 NCHW, the test subset at the member's resolution
    y_test: np.ndarray
    finetune: list[dict[str, float]]


def _print(msg: str) -> None:
    print(msg, flush=True)


# ---------------------------------------------------------------- stages
def extract_subnet(arch_path: Path, ckpt: Path, epochs: int, n_test: int, log: Log) -> _Subnet:
    from hilnas.data import resize
    from hilnas.space import load_arch
    from hilnas.supernet import load_supernet

    space, arch = load_arch(Path(arch_path))
    trained = load_supernet(Path(ckpt))
    if trained.space.name != space.name:
        raise ConfigError(f"{arch_path} is a {space.name!r} architecture but {ckpt} is a "
                          f"{trained.space.name!r} supernet")
    module = trained.extract(arch)
    res = space.resolution(arch)
    history: list[dict[str, float]] = []
    if epochs > 0:
        from hilnas.deploy.finetune import finetune

        history = finetune(module, trained.data, res, trained.config, epochs, log)
    test_x, test_y = trained.data.split("test")
    n = min(n_test, len(test_x))
    x = resize(test_x[:n], res).numpy().astype(np.float32)
    return _Subnet(arch, module, trained, x, test_y[:n].numpy(), history)


def deploy_route(opts: DeployOptions) -> str:
    """The route a deploy converts with: the one asked for; else the LUT's route when a
    LUT is given (its prediction holds only for the graph that route emits: onnx2tf and
    litert lower attention differently); else ``auto``, the converter's per-model policy."""
    if opts.route:
        return opts.route
    if opts.lut is not None:
        from hilnas.lut import load_table, route_for

        try:
            return route_for(load_table(opts.lut))
        except HilnasError:
            pass  # an unreadable LUT is reported where its prediction is made
    from hilnas.convert.pipeline import AUTO_ROUTES

    return AUTO_ROUTES


def convert_subnet(sub: _Subnet, stage_dir: Path, route: str, log: Log) -> Any:
    from hilnas.convert import convert
    from hilnas.convert.pipeline import AUTO_ROUTES
    from hilnas.data import calibration_set, heldout_set

    space, data, seed = sub.trained.space, sub.trained.data, sub.trained.config.seed
    res = space.resolution(sub.arch)
    return convert(
        sub.module, space.input_shape(sub.arch), calibration_set(data, res, 64, seed),
        stage_dir / MODEL_NAME, routes=route if route == AUTO_ROUTES else (route,),
        heldout=heldout_set(data, res), emit_c=True,
        calib_source=f"{sub.trained.config.data} training split",
        progress=lambda stage: log(f"  convert: {stage}"),
    )


def conversion_key(arch: Any, ckpt: Path, route: str) -> str:
    """Cache key of a conversion: the member, the checkpoint's bytes, the route and the
    converter itself (its sources and package versions), so a converter change reconverts."""
    from hilnas.convert.fingerprint import converter_fingerprint

    h = hashlib.sha256(json.dumps(arch.to_json(), sort_keys=True).encode())
    h.update(f"converter={converter_fingerprint()}".encode())
    with open(ckpt, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    h.update(f"route={route}".encode())
    return h.hexdigest()[:20]


def cached_conversion(sub: _Subnet, ckpt: Path, stage_dir: Path, opts: DeployOptions,
                      log: Log) -> Any:
    """Convert, or reuse the identical earlier conversion (a resumed or repeated deploy).

    Fine-tuned members are always converted afresh: their weights are not a function of
    the checkpoint alone. A hit copies the files, so the report is the converter's own.
    """
    from hilnas.convert.pipeline import ConversionResult
    from hilnas.convert.report import ConversionReport

    names = (MODEL_NAME, "model.json", "model.c", "model.h")
    cache = None
    if opts.finetune_epochs == 0:
        cache = CONVERSION_CACHE / conversion_key(sub.arch, ckpt, deploy_route(opts))
        if all((cache / n).is_file() for n in names):
            try:  # an entry written by another report schema is a miss, not an error
                report = ConversionReport.read(cache / "model.json")
            except ConfigError:
                report = None
            if report is not None:
                for n in names:
                    shutil.copy2(cache / n, stage_dir / n)
                log(f"  identical conversion cached in {cache}; reused")
                return ConversionResult(stage_dir / MODEL_NAME, report, stage_dir / "model.json",
                                        (stage_dir / "model.c", stage_dir / "model.h"))
    conv = convert_subnet(sub, stage_dir, deploy_route(opts), log)
    if cache is not None:
        tmp = cache.parent / f".{cache.name}.{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        for n in names:
            shutil.copy2(stage_dir / n, tmp / n)
        shutil.rmtree(cache, ignore_errors=True)
        os.replace(tmp, cache)
        prune_conversions()
    return conv


def prune_conversions(keep: int = 8) -> None:
    """Keep the ``keep`` newest cached conversions: each deploy of a new member adds one."""
    entries = sorted((d for d in CONVERSION_CACHE.iterdir() if not d.name.startswith(".")),
                     key=lambda d: d.stat().st_mtime, reverse=True)
    for old in entries[keep:]:
        shutil.rmtree(old, ignore_errors=True)


def budget_figures(model: bytes, profile: BoardProfile, stream: bool, tflm_arena: int
                   ) -> list[Figure]:
    """The converted model's figures against the board.

    The arena is the engine's own figure (its host build plans the same arena the board
    will); should the engine refuse the model (e.g. more ops than its tables hold), TFLM's
    figure stands in so that the refusal still names every figure over budget, and the
    engine's reason is raised if nothing is.
    """
    from hilnas.convert.tflite_reader import read_model
    from hilnas.engine.binding import Engine
    from hilnas.errors import EngineError

    info = read_model(model, "deployed model")
    failure: EngineError | None = None
    try:
        engine = Engine(model, timing=False)
    except EngineError as exc:
        failure, arena, source = exc, tflm_arena, "TFLM (the engine refused the model)"
    else:
        try:
            arena, source = engine.arena_required, "engine (host build)"
        finally:
            engine.close()
    figures = model_figures(profile.budget(), len(model), arena, len(info.ops),
                            len(info.tensors), stream, arena_source=source)
    refuse_if_over(profile.name, figures)
    if failure is not None:
        raise failure
    return figures


def require_buildable_profile(profile: BoardProfile) -> None:
    """The firmware build reads ``device_profiles/<name>.yaml``; a profile file elsewhere
    that says something else can check budgets, but must not be believed past that."""
    shipped = PROFILE_DIR / f"{profile.name}.yaml"
    if profile.path.resolve() == shipped.resolve():
        return
    if not shipped.is_file() or shipped.read_bytes() != profile.path.read_bytes():
        raise ConfigError(
            f"{profile.path}: the model fits this profile, but firmware is built from "
            f"{shipped}, which differs; put the profile there to build for it"
        )


def quantized_inputs(model: bytes, x_nchw: np.ndarray, layout: str) -> np.ndarray:
    """The test images as the model's int8 input tensor (its layout, scale, zero point)."""
    from hilnas import tflm
    from hilnas.convert.routes import to_layout

    detail = tflm.load(model).input_details(0)
    return tflm.quantize_like(to_layout(x_nchw, layout), detail)


def float_accuracy(module: Any, x: np.ndarray, y: np.ndarray) -> float:
    import torch

    with torch.no_grad():
        pred = module(torch.from_numpy(x)).argmax(dim=1).numpy()
    return float((pred == y).mean())


def memory_checks(mem: Any, device: Any, model_bytes: int, profile: BoardProfile,
                  stream: bool) -> tuple[dict[str, Any], list[Figure]]:
    """Measured flash and SRAM (ELF + board) against the budgets the search assumed."""
    b = profile.budget()
    in_flash = 0 if stream else model_bytes
    sram_used = mem.static_ram_bytes + device.arena_bytes + (model_bytes if stream else 0)
    memory = {
        "flash_image_bytes": mem.flash_bytes,
        "firmware_flash_bytes": mem.flash_bytes - in_flash,
        "static_ram_bytes": mem.static_ram_bytes,
        "noinit_bytes": mem.noinit_bytes,
        "arena_used_bytes": device.arena_bytes,
        "stack_high_water_bytes": device.stack_high_water,
        "sram_used_bytes": sram_used,
        "sections": mem.sections,
    }
    checks = [
        Figure("flash image", mem.flash_bytes, b.flash_bytes, "B", "of flash in all",
               "ELF loaded sections"),
        Figure("firmware flash", mem.flash_bytes - in_flash, b.firmware_flash_bytes, "B",
               "of flash for the firmware itself", "ELF minus model"),
        Figure("firmware RAM", mem.static_ram_bytes, b.firmware_ram_bytes, "B",
               "of static RAM (.data, .bss, stack)", "ELF"),
        Figure("arena used", device.arena_bytes, b.arena_bytes, "B", "of tensor arena",
               "board (RUN reply)"),
        Figure("SRAM used", sram_used, b.sram_bytes, "B", "of SRAM in all",
               "ELF static RAM + board arena" + (" + model slot" if stream else "")),
    ]
    return memory, checks


def compare_predictions(predicted: dict[str, float] | None, source: str, measured: dict[str, float],
                        unit: str) -> tuple[list[Comparison], list[str]]:
    """Pair each predicted figure with its measurement; unknown keys become notes."""
    if not predicted:
        return [], []
    comparisons, notes = [], []
    for key, value in predicted.items():
        if key not in PREDICTION_KEYS or not isinstance(value, int | float):
            notes.append(f"prediction {key!r} not compared (known: {', '.join(PREDICTION_KEYS)})")
            continue
        units = {"latency": unit, "n_ops": "ops", "n_tensors": "tensors"}
        comparisons.append(Comparison(PREDICTION_KEYS[key], float(value), float(measured[key]),
                                      units.get(key, "B"), source))
    return comparisons, notes


def predict_with_lut(lut: Path, arch: Any, budget: Any, log: Log
                     ) -> tuple[dict[str, float] | None, str]:
    """The LUT's prediction for ``arch`` (every figure the deploy then measures); a miss
    is a note, not a failure: the deploy's own measurements still stand. With the board's
    ``budget`` the SRAM and flash figures include the firmware's share, as the search's
    constraints do (the profile's firmware RAM/flash: an upper bound the linker enforces)."""
    from hilnas.lut import Predictor, load_table

    try:
        pred = Predictor(load_table(lut), budget).predict(arch)
    except HilnasError as exc:
        return None, f"LUT prediction skipped: {exc}"
    figures = {k: getattr(pred, k) for k in PREDICTION_KEYS if getattr(pred, k, None) is not None}
    log(f"LUT prediction from {lut}: {figures}")
    return figures, f"LUT {Path(lut).name}"


def resolve_board(board: str | Path | BoardProfile) -> BoardProfile:
    """A profile, a board name (device_profiles/NAME.yaml) or a profile file (*.yaml)."""
    if isinstance(board, BoardProfile):
        return board
    if str(board).endswith((".yaml", ".yml")):
        return load_profile_file(Path(board))
    return load_profile(str(board))


def _stage_dir(out_dir: Path) -> Path:
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"output {out_dir} exists and is not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / "report.json").is_file():
        raise OutputError(f"output folder {out_dir} is not empty and holds no earlier deploy "
                          "(report.json); choose an empty or new folder")
    stage = out_dir.parent / f".{out_dir.name}.deploying-{os.getpid()}"
    shutil.rmtree(stage, ignore_errors=True)
    try:
        stage.mkdir(parents=True)
    except OSError as exc:
        raise OutputError(f"cannot create {stage}: {exc.strerror or exc}") from exc
    return stage


def _publish(stage: Path, out_dir: Path) -> None:
    """Replace ``out_dir`` by the finished staging folder (old deploy kept until then)."""
    old = None
    if out_dir.exists():
        old = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}"
        os.replace(out_dir, old)
    os.replace(stage, out_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# ---------------------------------------------------------------- the one call
def deploy(
    arch_path: Path,
    ckpt: Path,
    board: str | Path | BoardProfile,
    out_dir: Path,
    options: DeployOptions | None = None,
    log: Log = _print,
) -> DeployReport:
    """Deploy the member ``arch_path`` of supernet ``ckpt`` to ``board``; see the module doc.

    Raises :class:`~hilnas.deploy.budget.BudgetExceededError` (does not fit),
    :class:`~hilnas.deploy.verify.DeviceMismatchError` (board differs from TFLM),
    :class:`~hilnas.deploy.verify.MissingMeasurementError` or another
    :class:`~hilnas.errors.HilnasError`; ``out_dir`` is then left as it was.
    """
    opts = options or DeployOptions()
    profile = resolve_board(board)
    if profile.is_host:
        raise ConfigError(f"{profile.name} is the host-native board; deploy targets Cortex-M "
                          "boards (emulated or real)")
    for name, value, least in (("--finetune-epochs", opts.finetune_epochs, 0),
                               ("--test-images", opts.test_images, 1), ("--runs", opts.runs, 1)):
        if value < least:
            raise ConfigError(f"{name} must be at least {least}, got {value}")
    t0 = time.monotonic()
    out_dir = Path(out_dir)
    stage = _stage_dir(out_dir)
    try:
        report = _deploy_into(stage, Path(arch_path), Path(ckpt), profile, opts, log)
        _publish(stage, out_dir)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    log(f"deploy verified in {time.monotonic() - t0:.0f} s: {out_dir / 'report.md'}")
    return report


def _deploy_into(stage: Path, arch_path: Path, ckpt: Path, profile: BoardProfile,
                 opts: DeployOptions, log: Log) -> DeployReport:
    from hilnas.board.build import build_firmware
    from hilnas.board.flash import flash
    from hilnas.board.session import open_board
    from hilnas.deploy.firmware import export_images, image_memory
    from hilnas.deploy.verify import verify_on_board

    log(f"[1/7] extract {arch_path.name} from {ckpt}"
        + (f", fine-tune {opts.finetune_epochs} epoch(s)" if opts.finetune_epochs else ""))
    sub = extract_subnet(arch_path, ckpt, opts.finetune_epochs, opts.test_images, log)
    log("[2/7] convert to a checked full-int8 TFLite Micro model")
    conv = cached_conversion(sub, ckpt, stage, opts, log)
    model = conv.tflite_path.read_bytes()
    log(f"  route {conv.route}: {len(model):,} B flatbuffer, TFLM arena {conv.arena_bytes:,} B")

    log(f"[3/7] budgets of {profile.name} ({'RAM slot' if opts.stream else 'flash'} deploy)")
    figures = budget_figures(model, profile, opts.stream, conv.arena_bytes)
    for f in figures:
        log(f"  {f.name}: {f.needed:,} of {f.available:,} {f.unit}")
    require_buildable_profile(profile)

    log(f"[4/7] build firmware for {profile.name}"
        + (" (streaming: model uploaded at run time)" if opts.stream else
           " with the model linked into flash"))
    fw = build_firmware(profile, builtin_model=None if opts.stream else conv.tflite_path)
    images = export_images(fw.elf, stage)
    mem = image_memory(images["elf"])
    log(f"  image: {mem.flash_bytes:,} B flash, {mem.static_ram_bytes:,} B static RAM"
        + (" (cached build)" if fw.cached else ""))

    log(f"[5/7] flash {profile.name}")
    flash_note = flash(profile, images["elf"], opts.flash_tool, opts.probe)
    flash_note = flash_note.replace(str(images["elf"]), "firmware.elf")
    log(f"  {flash_note}")

    layout = conv.report.input_layout
    inputs = quantized_inputs(model, sub.x_test, layout)
    reference = Path(opts.reference).read_bytes() if opts.reference else None
    log(f"[6/7] verify on {profile.name}: {len(inputs)} test images against TFLM")
    elf = None if profile.transport.kind == "serial" else images["elf"]
    with open_board(profile, elf=elf, port=opts.port) as session:
        device = verify_on_board(session, model, inputs, sub.y_test, builtin=not opts.stream,
                                 reference=reference, runs=opts.runs, log=log)
    log(f"  bit-exact on {device.bit_exact_images}/{device.images}; device top-1 "
        f"{device.device_accuracy:.2%}; latency {device.latency_median:,.0f} "
        f"{device.timing_unit}; arena {device.arena_bytes:,} B")

    log("[7/7] measured memory vs budgets and predictions; report")
    memory, checks = memory_checks(mem, device, len(model), profile, opts.stream)
    refuse_if_over(profile.name, checks)
    return _finish_report(stage, sub, conv, profile, opts, figures, memory, checks, device,
                          flash_note, log)


def _finish_report(stage: Path, sub: _Subnet, conv: Any, profile: BoardProfile,
                   opts: DeployOptions, figures: list[Figure], memory: dict[str, Any],
                   checks: list[Figure], device: Any, flash_note: str, log: Log) -> DeployReport:
    from hilnas.space import save_arch

    notes: list[str] = []
    predicted, source = opts.predicted, "given prediction"
    if opts.lut is not None:
        shutil.copy2(opts.lut, stage / f"lut{Path(opts.lut).suffix or '.json'}")
        if predicted is None:
            predicted, note = predict_with_lut(opts.lut, sub.arch, profile.budget(), log)
            source = note if predicted is not None else source
            if predicted is None:
                notes.append(note)
    measured = {"latency": device.latency_median, "arena_bytes": device.arena_bytes,
                "sram_bytes": memory["sram_used_bytes"], "flash_bytes": memory["flash_image_bytes"],
                "model_bytes": device.model_bytes, "n_ops": device.n_ops,
                "n_tensors": figures[3].needed}
    comparisons, extra = compare_predictions(predicted, source, measured, device.timing_unit)
    notes += extra
    comparisons.insert(0, Comparison("tensor arena", figures[1].needed, device.arena_bytes, "B",
                                     "host build of the engine"))
    if profile.is_emulated:
        notes.append(f"{profile.name} is emulated by QEMU: latency counts instructions "
                     "(not cycles) and the ELF is loaded at boot instead of flashed")
    if len(sub.y_test) < opts.test_images:
        notes.append(f"the test split has only {len(sub.y_test)} images")
    arch_json = sub.arch.to_json()
    save_arch(sub.arch, stage / "arch.json")
    artifacts = {
        "firmware ELF (model in flash)" if not opts.stream else "firmware ELF": "firmware.elf",
        "firmware Intel HEX": "firmware.hex",
        "firmware raw binary": "firmware.bin",
        "int8 model": conv.tflite_path.name,
        "converter report": conv.report_path.name,
        "model as a C array": " + ".join(p.name for p in conv.c_files),
        "architecture": "arch.json",
    }
    if opts.lut is not None:
        artifacts["LUT used"] = f"lut{Path(opts.lut).suffix or '.json'}"
    report = DeployReport(
        board=profile.name, board_description=profile.description,
        emulated=profile.is_emulated, flash_note=flash_note, arch=arch_json,
        supernet=str(sub.trained.config.space) + " supernet, " + str(sub.trained.config.data),
        route=conv.route, load_path=device.load_path, test_images=device.images,
        test_split=f"{sub.trained.config.data} test split, first {device.images} images",
        accuracy={"float": float_accuracy(sub.module, sub.x_test, sub.y_test),
                  "tflm": device.tflm_accuracy, "device": device.device_accuracy},
        conversion={"model_bytes": conv.model_bytes, "tflm_arena_bytes": conv.arena_bytes,
                    "op_histogram": dict(conv.report.op_histogram),
                    "checks": sorted(conv.report.checks)},
        budget=[f.to_json() for f in figures], memory=memory,
        memory_checks=[f.to_json() for f in checks], device=asdict(device),
        comparisons=comparisons, finetune=sub.finetune,
        lut={"path": str(opts.lut)} if opts.lut else {}, artifacts=artifacts, notes=notes,
        created_utc=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )
    write_report(report, stage)
    return report
