"""The main job on the embedded default: what ``make demo`` runs.

Runs every stage that exists, in data-flow order, on the built-in dataset and the
emulated board, each stage handing the next a file in the run folder:

1. train the ``hybrid`` supernet on digits (resumes from its checkpoint);
2. take the largest subnet, read its accuracy off the supernet (test split);
3. extract it and convert it to a checked full-int8 TFLM model;
4. measure the int8 model's test accuracy in the real TFLM interpreter;
5. stream it to the emulated Cortex-M4 board (mps2-an386 under QEMU), run it on a test
   image and check the board's output byte for byte against TFLM.

A killed demo resumes: training restarts from its last epoch, and a stage whose output
file exists and is newer than its input is skipped. The LUT, search and deploy stages
join this job when they land.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from hilnas.convert.report import ConversionReport
from hilnas.errors import ConfigError
from hilnas.fileio import atomic_write_json

console = Console()


@dataclass(frozen=True)
class DemoConfig:
    run_dir: Path = Path("runs/demo")
    space: str = "hybrid"
    data: str = "digits"
    board: str = "mps2-an386"
    epochs: int | None = None  # None: the supernet's default configuration
    seed: int = 0
    #: Parameter budget of the deployed subnet: int8 weights ~ 1 B/param, so this keeps
    #: the flatbuffer within the flash of a 1 MB MCU (and the board's model slot).
    max_params: int = 250_000
    candidates: int = 100


def _is_fresh(output: Path, *inputs: Path) -> bool:
    return output.exists() and all(output.stat().st_mtime >= p.stat().st_mtime for p in inputs)


def _fresh_report(report_path: Path, tflite: Path,
                  inputs: tuple[Path, ...]) -> ConversionReport | None:
    """The report of an up-to-date earlier conversion, or None when it must run again.

    A report of another schema (an older hilnas) counts as stale, not as an error.
    """
    if not (tflite.exists() and _is_fresh(report_path, *inputs)):
        return None
    try:
        return ConversionReport.read(report_path)
    except ConfigError as exc:
        console.print(f"[yellow]{exc}: converting again[/]")
        return None


def _stage(n: int, title: str) -> None:
    console.rule(f"[bold]{n}. {title}")


def train_stage(cfg: DemoConfig) -> Path:
    from hilnas.supernet import TrainConfig, train_supernet

    _stage(1, f"train the {cfg.space!r} supernet on {cfg.data!r} (resumable)")
    overrides = {} if cfg.epochs is None else {"epochs": cfg.epochs}
    train_cfg = TrainConfig(space=cfg.space, data=cfg.data, seed=cfg.seed, **overrides)
    trainer = train_supernet(train_cfg, cfg.run_dir / "supernet")
    return Path(trainer.ckpt_path)


def run_demo(cfg: DemoConfig) -> dict[str, Any]:
    from hilnas.board.measure import profile_model
    from hilnas.board.profiles import load_profile
    from hilnas.convert import convert
    from hilnas.convert.accuracy import tflm_accuracy
    from hilnas.convert.routes import to_layout
    from hilnas.data import calibration_set, heldout_set
    from hilnas.space.base import save_arch
    from hilnas.supernet import load_supernet

    cfg.run_dir.mkdir(parents=True, exist_ok=True)
    ckpt = train_stage(cfg)

    trained = load_supernet(ckpt)
    space = trained.space
    _stage(2, f"largest subnet within {cfg.max_params:,} parameters: inherited accuracy")
    arch, n_params = largest_within_budget(space, cfg.max_params, cfg.candidates, cfg.seed)
    console.print(f"chosen subnet: {n_params:,} parameters ({dict(arch.values)})")
    arch_path = cfg.run_dir / "subnet.arch.json"
    save_arch(arch, arch_path)
    module = trained.extract(arch)  # BN recalibrated once; used for accuracy and conversion
    res = space.resolution(arch)
    test_x, test_y = trained.data.split("test")
    x_test = resized_numpy(test_x, res)
    supernet_acc = float_accuracy(module, x_test, test_y.numpy())
    console.print(f"supernet test accuracy (chosen subnet): {supernet_acc:.2%}")

    _stage(3, "extract and convert to a checked full-int8 TFLite Micro model")
    tflite = cfg.run_dir / "subnet.tflite"
    report_path = tflite.with_suffix(".json")
    report = _fresh_report(report_path, tflite, (ckpt, arch_path))
    if report is not None:
        console.print(f"{tflite} is up to date; skipping conversion")
    else:
        calib = calibration_set(trained.data, res, 64, cfg.seed)
        heldout = heldout_set(trained.data, res)
        result = convert(module, space.input_shape(arch), calib, tflite, heldout=heldout,
                         calib_source=f"{cfg.data} training split")
        report = result.report
    layout = report.input_layout
    console.print(f"route {report.route}, {report.model_bytes} B flatbuffer, "
                  f"TFLM arena {report.arena_bytes} B")

    _stage(4, "int8 accuracy in the TFLM interpreter (test split)")
    int8_acc = tflm_accuracy(tflite, x_test, test_y.numpy(), layout)
    console.print(f"int8 test accuracy on TFLM: {int8_acc:.2%}")

    _stage(5, f"profile on the emulated board {cfg.board!r} (QEMU), checked against TFLM")
    sample = cfg.run_dir / "test_image.npy"
    np.save(sample, to_layout(x_test[:1], layout))
    prof = profile_model(tflite, load_profile(cfg.board), runs=3, warmup=1,
                         input_path=sample, check=True)
    board_pred = int(np.argmax(np.asarray(prof.output)))
    summary = {
        "space": cfg.space,
        "data": cfg.data,
        "arch": str(arch_path),
        "params": n_params,
        "supernet_test_accuracy": supernet_acc,
        "int8_tflm_test_accuracy": int8_acc,
        "tflite": str(tflite),
        "route": report.route,
        "model_bytes": report.model_bytes,
        "tflm_arena_bytes": report.arena_bytes,
        "board": cfg.board,
        "board_latency_median": prof.latency_median,
        "board_timing_unit": prof.timing_unit,
        "board_arena_bytes": prof.arena_bytes,
        "board_stack_high_water": prof.stack_high_water,
        "board_prediction": board_pred,
        "true_label": int(test_y[0]),
        "board_output_matches_tflm": prof.checked_against_tflm,
        "profile_wall_s": prof.wall_s,
    }
    atomic_write_json(cfg.run_dir / "summary.json", summary)
    print_summary(summary)
    return summary


def largest_within_budget(space: Any, max_params: int, candidates: int, seed: int
                          ) -> tuple[Any, int]:
    """The member with the most parameters under ``max_params`` among the largest member
    and ``candidates`` seeded samples: a stand-in for the LUT-constrained search."""
    import random

    rng = random.Random(seed)
    pool = [space.largest(), space.smallest()] + [space.sample(rng) for _ in range(candidates)]
    best, best_params = None, -1
    for arch in pool:
        n = space.param_count(arch)
        if best_params < n <= max_params:
            best, best_params = arch, n
    if best is None:
        raise ConfigError(f"no {space.name!r} member has at most {max_params:,} parameters")
    return best, best_params


def float_accuracy(module: Any, x: np.ndarray, y: np.ndarray) -> float:
    import torch

    with torch.no_grad():
        pred = module(torch.from_numpy(x)).argmax(dim=1).numpy()
    return float((pred == y).mean())


def resized_numpy(x: Any, resolution: int) -> np.ndarray:
    from hilnas.data import resize

    return resize(x, resolution).numpy().astype(np.float32)


def print_summary(summary: dict[str, Any]) -> None:
    table = Table(title="hilnas demo", show_header=False)
    for key, value in summary.items():
        shown = f"{value:.2%}" if "accuracy" in key else str(value)
        table.add_row(key, shown)
    console.print(table)
