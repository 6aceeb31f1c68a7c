"""Benchmark the C engine against TFLite Micro on the test models.

Prints, per model: arena bytes (engine plan vs TFLM "Arena allocation total"),
the engine library's code size (.text, Cortex-M4 -Os and -O2, same for every model),
and host time per inference (median of --runs) of the engine's host build and
of the TFLM Python runtime (reference kernels), plus whether the outputs are
bit-exact. Models: the MLPerf Tiny architectures (random weights, int8) and,
with --reference, the converter's reference models (slow first conversion,
cached afterwards).

With the board layer, each model also runs once on the emulated Cortex-M4
(mps2-an386 under QEMU -icount, loaded through the semihosting bulk path, output
checked against TFLM): instructions per inference, exactly repeatable, next to
issue #9's figures for TFLM with reference kernels and with CMSIS-NN on the same
board, and the ratio to CMSIS-NN (the goal is < 1).

The JSON also holds each model's instructions summed per op type.

Usage: .venv/bin/python bench/engine.py [--runs 20] [--no-reference] [--no-board]
       [--json out.json]
Host times on a shared 2-core machine are noisy; instruction counts are not.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def median_seconds(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_model(name: str, model: bytes, runs: int) -> dict:
    from hilnas import tflm
    from hilnas.engine import Engine

    eng = Engine(model, timing=False)
    rng = np.random.default_rng(0)
    inputs = [rng.integers(-128, 128, eng.input_info(i).shape, dtype=np.int8)
              for i in range(eng.num_inputs)]
    reference = tflm.load(model)

    # Both planners reuse the input's bytes once it is dead, so every timed
    # inference starts by setting the input again (as a board must, too).
    def run_engine() -> None:
        for i, x in enumerate(inputs):
            eng.set_input(x, i)
        eng.invoke()

    def run_tflm() -> None:
        tflm.tflm_run(reference, inputs)

    eng_s = median_seconds(run_engine, runs)
    tflm_s = median_seconds(run_tflm, runs)
    exact = all(eng.get_output(k).tobytes() == np.asarray(reference.interp.get_output(k)).tobytes()
                for k in range(eng.num_outputs))
    return {"model": name, "bytes": len(model), "ops": eng.num_ops,
            "engine_arena": eng.arena_required, "tflm_arena": tflm.tflm_arena_bytes(model),
            "engine_ms": eng_s * 1e3, "tflm_ms": tflm_s * 1e3, "bit_exact": exact}


#: Issue #9 / FACTS §4: instructions per inference on mps2-an386 (-O2) of TFLM
#: with its reference kernels and with CMSIS-NN, measured on the official int8
#: files of the same architectures (counts depend on the architecture, not the
#: weights). The hybrid has no TFLM figure; its goal is <= 55 M.
TFLM_REFERENCE_INSTRUCTIONS = {"vww_mobilenet_v1": 552.0e6, "ic_resnet8": 823.9e6,
                               "kws_ds_cnn": 198.5e6, "ad_autoencoder": 2.15e6,
                               "ad_autoencoder_per_tensor": 2.15e6,
                               "streaming_wakeword": 59.1e6, "person_detect": 525.5e6}
TFLM_CMSIS_NN_INSTRUCTIONS = {"vww_mobilenet_v1": 23.78e6, "ic_resnet8": 29.78e6,
                              "kws_ds_cnn": 7.58e6, "ad_autoencoder": 0.78e6,
                              "ad_autoencoder_per_tensor": 0.78e6,
                              "streaming_wakeword": 2.20e6, "person_detect": 22.58e6}


def instructions_on_emulated_m4(models: list[tuple[str, bytes]]
                                ) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """Instructions per inference of each model on mps2-an386 (one QEMU boot for all),
    and per model the instructions summed per op type (where the time goes)."""
    import tempfile
    from pathlib import Path

    from hilnas.board.measure import run_on_session
    from hilnas.board.profiles import load_profile
    from hilnas.board.session import open_board

    counts: dict[str, float] = {}
    by_op: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp, open_board(load_profile("mps2-an386")) as session:
        for name, model in models:
            path = Path(tmp) / f"{name}.tflite"
            path.write_bytes(model)
            result = run_on_session(session, path, runs=1, warmup=0, check=True, bulk=True)
            counts[name] = result.latency_median
            split: dict[str, float] = {}
            for op in result.ops:
                split[op.name] = split.get(op.name, 0.0) + op.value
            by_op[name] = dict(sorted(split.items(), key=lambda kv: -kv[1]))
    return counts, by_op


def code_size(opt: str = "Os") -> int:
    """Engine library .text on the Cortex-M4 at -Os or -O2 (-1 if the build fails)."""
    from hilnas.engine import cross

    b = cross.build("cortex-m4", opt)
    if not b.ok:
        print(b.log[-2000:], file=sys.stderr)
        return -1
    return cross.text_size(b.library)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--no-reference", action="store_true",
                        help="skip the converter reference models (slow first conversion)")
    parser.add_argument("--no-board", action="store_true",
                        help="skip instructions per inference on the emulated M4 (QEMU)")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()

    from hilnas.engine import zoo
    from rich.console import Console
    from rich.table import Table

    models = [(n, lambda n=n: zoo.build(n)) for n in zoo.MODELS]
    if not args.no_reference:
        models += [(n, lambda n=n: zoo.build_reference(n)) for n in zoo.REFERENCE_MODELS]
    text = code_size("Os")
    text_o2 = code_size("O2")
    rows = []
    built = [(name, make()) for name, make in models]
    for name, model in built:
        rows.append(bench_model(name, model, args.runs))
    m4, m4_ops = ({}, {}) if args.no_board else instructions_on_emulated_m4(built)
    for r in rows:
        r["m4_instructions"] = m4.get(r["model"])
        r["m4_instructions_by_op"] = m4_ops.get(r["model"])
        r["tflm_reference_m4_instructions"] = TFLM_REFERENCE_INSTRUCTIONS.get(r["model"])
        r["tflm_cmsis_nn_m4_instructions"] = TFLM_CMSIS_NN_INSTRUCTIONS.get(r["model"])
        r["ratio_to_cmsis_nn"] = _ratio(r["m4_instructions"], r["tflm_cmsis_nn_m4_instructions"])
    table = Table(title=f"engine vs TFLM (engine .text, M4 -Os: {text} bytes, -O2: {text_o2} "
                        f"bytes; host times, median of {args.runs}, noisy shared machine)")
    for col in ("model", "ops", "arena engine", "arena TFLM", "engine ms", "TFLM ms",
                "bit-exact", "M4 instr (engine)", "M4 instr (TFLM ref)", "M4 instr (CMSIS-NN)",
                "engine / CMSIS-NN"):
        table.add_column(col, justify="left" if col == "model" else "right")
    for r in rows:
        table.add_row(r["model"], str(r["ops"]), str(r["engine_arena"]), str(r["tflm_arena"]),
                      f"{r['engine_ms']:.2f}", f"{r['tflm_ms']:.2f}",
                      "yes" if r["bit_exact"] else "NO", _millions(r["m4_instructions"]),
                      _millions(r["tflm_reference_m4_instructions"]),
                      _millions(r["tflm_cmsis_nn_m4_instructions"]),
                      "-" if r["ratio_to_cmsis_nn"] is None else f"{r['ratio_to_cmsis_nn']:.3f}")
    Console().print(table)
    if args.json:
        from hilnas.fileio import atomic_write_json

        atomic_write_json(args.json, {"engine_text_m4_os": text, "engine_text_m4_o2": text_o2,
                                      "models": rows})
    return 0 if all(r["bit_exact"] and r["engine_arena"] <= r["tflm_arena"] for r in rows) else 1


def _millions(n: float | None) -> str:
    return "-" if n is None else f"{n / 1e6:.2f} M"


def _ratio(engine: float | None, cmsis_nn: float | None) -> float | None:
    return None if engine is None or cmsis_nn is None else engine / cmsis_nn


if __name__ == "__main__":
    sys.exit(main())
