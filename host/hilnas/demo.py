"""The main job on the embedded default: what ``make demo`` runs.

Every stage of the pipeline, in data-flow order, on the built-in dataset and the emulated
board, each stage handing the next a file in the run folder:

1. build the board's firmware and boot it (its HELLO limits must equal its profile's);
2. the board's latency/memory lookup table: the shipped one, built when missing;
3. train the ``hybrid`` supernet on digits;
4. search accuracy vs latency with HyT-Search, every board budget a hard constraint
   (SRAM and flash of a real 256 KB / 1 MB class MCU, and a latency budget that excludes
   the largest members), costs predicted from the LUT, accuracy from the supernet;
5. deploy the winner from flash: convert, build, flash, verify bit-exact with TFLM on the
   device, measure latency, SRAM and flash against budgets and predictions;
6. print a summary (``summary.json`` holds the same figures).

A killed demo resumes: the LUT build and supernet training continue where they stopped,
the search replays its evaluation log, and a deploy whose report matches the winner is
reused. Every stage prints plain progress lines, also when the output is a log.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

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
    #: Budgets of a real 256 KB SRAM / 1 MB flash class MCU (firmware included).
    sram_kb: float = 256.0
    flash_kb: float = 1024.0
    #: None: a fraction of the largest member's predicted latency (it must not fit).
    latency_ms: float | None = None
    latency_fraction: float = 0.5
    evaluations: int = 40
    batch_size: int = 8
    strategy: str = "hyt"
    test_images: int = 50
    lut: Path | None = None  # None: the shipped table lut/<board>/<space>.json
    supernet: Path | None = None  # a trained checkpoint to use instead of training one


def _stage(n: int, title: str) -> None:
    console.rule(f"[bold]{n}. {title}")


def _log(msg: str) -> None:
    console.print(msg, highlight=False)


# ---------------------------------------------------------------- stages
def board_stage(cfg: DemoConfig) -> dict[str, Any]:
    """Build the firmware and boot the board once: a broken toolchain or QEMU shows here,
    before minutes of training, and the board's limits are checked against its profile."""
    from hilnas.board.profiles import load_profile
    from hilnas.board.session import open_board

    _stage(1, f"firmware for {cfg.board!r}: build and boot")
    profile = load_profile(cfg.board)
    with open_board(profile) as session:
        ident = session.client.identity
    limits = ident.limits()
    _log(f"{profile.description}: arena {limits['arena_bytes']:,} B, model slot "
         f"{limits['model_slot_bytes']:,} B, max {limits['max_ops']} ops / "
         f"{limits['max_tensors']} tensors (equal to its profile)")
    return limits


def lut_stage(cfg: DemoConfig) -> Path:
    from hilnas.lut.build import build_table, default_lut_path, print_progress

    path = cfg.lut or default_lut_path(cfg.board, cfg.space)
    _stage(2, f"latency/memory lookup table {path}")
    if path.is_file():
        from hilnas.lut import load_table

        table = load_table(path)
        _log(f"shipped table: {len(table.entries)} entries measured on {table.board} "
             f"({table.unit}, {table.meta.get('created', '?')})")
        return path
    _log("no table yet: measuring it on the board (resumable)")
    build_table(cfg.board, cfg.space, path, progress=print_progress)
    return path


def train_stage(cfg: DemoConfig) -> Path:
    from hilnas.supernet import TrainConfig, train_supernet

    if cfg.supernet is not None:
        _stage(3, f"supernet: the trained checkpoint {cfg.supernet}")
        if not cfg.supernet.is_file():
            from hilnas.errors import ConfigError

            raise ConfigError(f"{cfg.supernet}: supernet checkpoint does not exist")
        return cfg.supernet
    _stage(3, f"train the {cfg.space!r} supernet on {cfg.data!r} (resumable)")
    overrides = {} if cfg.epochs is None else {"epochs": cfg.epochs}
    train_cfg = TrainConfig(space=cfg.space, data=cfg.data, seed=cfg.seed, **overrides)
    trainer = train_supernet(train_cfg, cfg.run_dir / "supernet")
    return Path(trainer.ckpt_path)


def latency_budget_ms(cfg: DemoConfig, predictor: Any) -> float:
    """The demo's latency budget: given, or a fraction of the largest member's predicted
    latency, so the budget binds and the largest members are excluded."""
    if cfg.latency_ms is not None:
        return cfg.latency_ms
    largest = predictor.predict(predictor.space.largest(), exact_arena=False)
    return round(cfg.latency_fraction * largest.latency_ms, 1)


def search_stage(cfg: DemoConfig, lut_path: Path, ckpt: Path) -> tuple[Any, dict[str, Any]]:
    from hilnas.board.profiles import load_profile
    from hilnas.lut import Predictor, load_table
    from hilnas.search import run_search
    from hilnas.search.budgets import board_problem
    from hilnas.search.costs import LutCosts
    from hilnas.search.evaluators import SupernetAccuracy
    from hilnas.search.report import write_outputs

    budget = load_profile(cfg.board).budget()
    predictor = Predictor(load_table(lut_path), budget)
    latency_ms = latency_budget_ms(cfg, predictor)
    _stage(4, f"{cfg.strategy} search: {cfg.evaluations} evaluations, latency <= "
              f"{latency_ms:g} ms, SRAM <= {cfg.sram_kb:g} KB, flash <= {cfg.flash_kb:g} KB")
    problem = board_problem(predictor.space, budget, LutCosts(predictor),
                            SupernetAccuracy(ckpt), latency_ms=latency_ms,
                            sram_kb=cfg.sram_kb, flash_kb=cfg.flash_kb,
                            name=f"{cfg.space}@{cfg.board}")
    out = cfg.run_dir / "search"
    t0 = time.monotonic()

    def progress(done: int, total: int, result: Any) -> None:
        best = max(r.objectives["accuracy"] for r in result.records)
        _log(f"  search: {done}/{total} evaluations, {len(result.front())} on the front, "
             f"best accuracy {best:.2%}, {time.monotonic() - t0:.0f} s")

    settings = {"space": cfg.space, "board": cfg.board, "lut": str(lut_path),
                "supernet": str(ckpt), "command": "hilnas demo"}
    result = run_search(problem, cfg.strategy, cfg.evaluations, seed=cfg.seed, out_dir=out,
                        settings=settings, progress=progress, batch_size=cfg.batch_size)
    info = write_outputs(result, out)
    info["latency_budget_ms"] = latency_ms
    return result, info


def deploy_stage(cfg: DemoConfig, winner: Any, lut_path: Path, ckpt: Path) -> Any:
    from hilnas.deploy import DeployOptions, deploy, read_report
    from hilnas.lut import load_table, route_for
    from hilnas.space import get_space, save_arch

    _stage(5, f"deploy the winner to {cfg.board!r} from flash, verified on the device")
    space = get_space(cfg.space)
    arch = space.from_json(winner.candidate)
    arch_path = cfg.run_dir / "winner.arch.json"
    out = cfg.run_dir / "deploy"
    done = out / "report.json"
    if done.is_file() and done.stat().st_mtime >= ckpt.stat().st_mtime:
        report = read_report(done)
        if report.arch == arch.to_json():
            _log(f"{done} is this winner's verified deploy; reused")
            return report
    save_arch(arch, arch_path)
    # The deploy predicts every figure from the same table and compares it with the board.
    options = DeployOptions(route=route_for(load_table(lut_path)),
                            test_images=cfg.test_images, lut=lut_path)
    return deploy(arch_path, ckpt, cfg.board, out, options, log=_log)


# ---------------------------------------------------------------- the job
def run_demo(cfg: DemoConfig) -> dict[str, Any]:
    t0 = time.monotonic()
    cfg.run_dir.mkdir(parents=True, exist_ok=True)
    board_stage(cfg)
    lut_path = lut_stage(cfg)
    ckpt = train_stage(cfg)
    result, info = search_stage(cfg, lut_path, ckpt)
    winner = result.winner()
    if winner is None:
        from hilnas.search import SearchError

        raise SearchError("the search evaluated no architecture within the budgets")
    report = deploy_stage(cfg, winner, lut_path, ckpt)
    summary = build_summary(cfg, info, winner, report, lut_path, time.monotonic() - t0)
    atomic_write_json(cfg.run_dir / "summary.json", summary)
    _stage(6, "summary")
    print_summary(summary)
    return summary


def build_summary(cfg: DemoConfig, info: dict[str, Any], winner: Any, report: Any,
                  lut_path: Path, seconds: float) -> dict[str, Any]:
    return {
        "space": cfg.space,
        "data": cfg.data,
        "board": cfg.board,
        "lut": str(lut_path),
        "budgets": {k: v for k, v in info["constraints"].items()
                    if k in ("latency_ms", "sram_bytes", "flash_bytes", "n_ops")},
        "evaluations": info["evaluations"],
        "front": [{"arch": r["candidate"], **r["objectives"]} for r in info["front"]],
        "winner_rule": info["winner_rule"],
        "winner": winner.candidate,
        "accuracy_supernet_val": winner.objectives["accuracy"],
        "accuracy_test_subset": report.accuracy,
        "test_images": report.test_images,
        "predicted_vs_measured": [c.to_json() for c in report.comparisons],
        "status": report.status,
        "report": str(cfg.run_dir / "deploy" / "report.md"),
        "wall_s": round(seconds, 1),
    }


def print_summary(summary: dict[str, Any]) -> None:
    front = Table(title=f"Pareto front found ({summary['evaluations']} evaluations)")
    front.add_column("val accuracy", justify="right")
    front.add_column("latency ms", justify="right")
    for point in sorted(summary["front"], key=lambda p: p.get("latency_ms", 0.0)):
        front.add_row(f"{point['accuracy']:.2%}", f"{point.get('latency_ms', float('nan')):.2f}")
    console.print(front)
    acc = summary["accuracy_test_subset"]
    winner = Table(title="winner", show_header=False)
    winner.add_row("budgets", json.dumps(summary["budgets"]))
    winner.add_row("accuracy: supernet (val)", f"{summary['accuracy_supernet_val']:.2%}")
    for key, label in (("float", "float subnet"), ("tflm", "int8 on TFLM"),
                       ("device", "int8 on the device")):
        if key in acc:
            winner.add_row(f"accuracy: {label} (test, {summary['test_images']} images)",
                           f"{acc[key]:.2%}")
    comparisons = summary["predicted_vs_measured"]
    repeated = {f for f in (c["figure"] for c in comparisons)
                if sum(c["figure"] == f for c in comparisons) > 1}
    for c in comparisons:
        err = "" if c["error"] is None else f" ({100 * c['error']:+.2f}%)"
        # A figure predicted two ways (the host engine's planner and the LUT) names its source.
        label = f"{c['figure']} ({c['source']})" if c["figure"] in repeated else c["figure"]
        winner.add_row(f"{label}: predicted / measured",
                       f"{c['predicted']:,.0f} / {c['measured']:,.0f} {c['unit']}{err}")
    winner.add_row("status", summary["status"])
    winner.add_row("report", summary["report"])
    winner.add_row("wall time", f"{summary['wall_s']:.0f} s")
    console.print(winner)
