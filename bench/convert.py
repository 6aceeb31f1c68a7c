"""Benchmark the converter on the built-in reference models.

Prints, per model: per-stage seconds of a cold conversion (fresh process: includes the
torch/TensorFlow imports), the total of a warm second conversion in the same process (what
the search pays per subnet), process CPU seconds and peak RSS. Each model runs in its own
child process so that peak RSS is per model. Target: hybrid (mobilevit) cold <= 20 s.

Flash (issue #10): for each reference model and a few ``hybrid`` space members (smallest,
the demo-size one near 249 K parameters, largest; ``--members``), bytes per parameter and
the lean model's bytes against LEAN_BOUND x (weights + biases + quantization), with the
split before and after leaning, and the lowest ratio the TFLite format allows for that
graph (``graph_floor``: a model whose graph outweighs its parameters cannot meet the
bound, however it is written). Members convert through the same ``convert()`` on
``--member-route`` (default litert: onnx2tf mis-converts the largest member).

User ViT (issue #10): a MobileViT-XXS-width network written with einops unfold/fold,
LayerNorm and tanh GELU (tests/convert/vit_models.py ``mobilevit_xxs``) at 128x128, cold
conversion seconds (wall and CPU, with the machine's load) against the <= 60 s target, its
op count, each LayerNorm's int8 error (worst and median), and whether the host engine runs
it bit-exactly with TFLM (``--vit ''`` skips). ``--vit-routes auto`` (default) is what
``hilnas convert`` does: its 9 attention ops put litert first (convert.route_policy);
``--vit-routes onnx2tf`` measures the other route.

Usage: .venv/bin/python bench/convert.py [--models mbv2,mobilevit] [--routes onnx2tf,litert]
                                        [--members smallest,demo,largest] [--member-route R]
                                        [--vit mobilevit_xxs] [--vit-routes auto]
Timings on a shared 2-core machine are noisy: compare CPU seconds as well as wall seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_HYBRID_S = 20.0
TARGET_VIT_S = 60.0
VIT_MODELS = Path(__file__).resolve().parents[1] / "tests" / "convert" / "vit_models.py"
VIT_SIZE = 128
#: Parameter count of the demo's chosen subnet (README); the bench picks the member nearest.
DEMO_PARAMS = 249_290


def run_one(name: str, routes: tuple[str, ...]) -> dict:
    """Child side: cold then warm conversion of one reference model; returns figures."""
    t0 = time.perf_counter()
    from hilnas.convert import convert
    from hilnas.convert.calib import CALIB_SEED, HELDOUT_SEED, synthetic_images
    from hilnas.convert.sources import SYNTHETIC_CALIB_COUNT, SYNTHETIC_HELDOUT_COUNT
    from hilnas.models import INPUT_SHAPE, REFERENCE_MODELS

    import_s = time.perf_counter() - t0
    import_cpu = time.process_time()
    t_build, c_build = time.perf_counter(), time.process_time()
    model = REFERENCE_MODELS[name]()  # building the model is not part of converting it
    calib = synthetic_images(SYNTHETIC_CALIB_COUNT, INPUT_SHAPE, CALIB_SEED)
    heldout = synthetic_images(SYNTHETIC_HELDOUT_COUNT, INPUT_SHAPE, HELDOUT_SEED)
    build_s, build_cpu = time.perf_counter() - t_build, time.process_time() - c_build
    with tempfile.TemporaryDirectory() as tmp:
        cold = convert(model, INPUT_SHAPE, calib, Path(tmp) / "cold.tflite", routes=routes,
                       heldout=heldout)
        cold_wall = import_s + cold.report.timings_s["total"]
        cold_cpu = import_cpu + cold.report.timings_cpu_s["total"]
        t1 = time.perf_counter()
        warm = convert(model, INPUT_SHAPE, calib, Path(tmp) / "warm.tflite", routes=routes,
                       heldout=heldout)
        warm_wall = time.perf_counter() - t1
        flash = _flash(cold, sum(p.numel() for p in model.parameters()))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        **flash, "model": name, "route": cold.route, "import_s": round(import_s, 2),
        "import_cpu_s": round(import_cpu, 2), "build_s": round(build_s, 2),
        "build_cpu_s": round(build_cpu, 2),
        "stages_s": cold.report.timings_s, "stages_cpu_s": cold.report.timings_cpu_s,
        "cold_total_s": round(cold_wall, 2), "cold_cpu_s": round(cold_cpu, 2),
        "warm_cpu_s": warm.report.timings_cpu_s["total"],
        "warm_total_s": round(warm_wall, 2), "warm_stages_s": warm.report.timings_s,
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
        "model_bytes": cold.model_bytes, "arena_bytes": cold.arena_bytes,
    }


def _flash(result: object, params: int) -> dict:
    """The figures of one conversion that the flash bound is about (file still on disk)."""
    from hilnas.convert.lean import graph_floor

    report = result.report  # type: ignore[attr-defined]
    split = report.bytes_split
    floor = graph_floor(result.tflite_path.read_bytes())  # type: ignore[attr-defined]
    return {"params": params, "split": split.line(), "graph_floor": floor,
            "floor_ratio": (split.payload + floor) / max(split.payload, 1),
            "split_before": report.bytes_split_before.line(),
            "ratio": report.bytes_split.ratio, "model_bytes": report.model_bytes,
            "bytes_before": report.bytes_split_before.total}


def _member(space_name: str, which: str) -> object:
    import random

    from hilnas.space import get_space

    space = get_space(space_name)
    if which in ("smallest", "largest"):
        return getattr(space, which)()
    if which != "demo":
        raise SystemExit(f"unknown member {which!r}: smallest, demo or largest")
    rng = random.Random(0)
    return min((space.sample(rng) for _ in range(400)),
               key=lambda a: abs(space.param_count(a) - DEMO_PARAMS))


def run_member(which: str, route: str) -> dict:
    """Child side: convert one ``hybrid`` member (BN given real statistics) with checks."""
    from hilnas.convert import convert
    from hilnas.convert.calib import synthetic_images
    from hilnas.lut.modelgen import randomize_bn
    from hilnas.space import get_space

    space = get_space("hybrid")
    arch = _member("hybrid", which)
    # Freshly built members have zero-init residual BN: the converter would fold whole
    # branches away and the file would not be the size a trained member's is.
    model = randomize_bn(space.build(arch), 0)
    shape = space.input_shape(arch)
    calib = synthetic_images(16, shape, 1)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        result = convert(model, shape, calib, Path(tmp) / "m.tflite", routes=(route,))
        secs = time.perf_counter() - t0
        flash = _flash(result, space.param_count(arch))
    return {**flash, "model": f"hybrid {which}",
            "route": result.route, "seconds": round(secs, 1)}


def run_vit(factory: str, routes: str) -> dict:
    """Child side: cold conversion of a user-style ViT at 128x128, then engine vs TFLM."""
    import importlib.util

    t0, c0 = time.perf_counter(), time.process_time()
    import numpy as np
    from hilnas.convert import convert
    from hilnas.convert.calib import synthetic_images
    from hilnas.engine.check import compare_with_tflm
    from hilnas.tflm import input_details

    import_s, import_cpu = time.perf_counter() - t0, time.process_time() - c0
    spec = importlib.util.spec_from_file_location("vit_models", VIT_MODELS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = getattr(module, factory)()
    shape = (1, 3, VIT_SIZE, VIT_SIZE)
    calib = synthetic_images(16, shape, 1)
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        result = convert(model, shape, calib, Path(tmp) / "vit.tflite", routes=routes)
        int8 = result.tflite_path.read_bytes()
    x = np.random.default_rng(0).integers(-128, 128, input_details(int8)[0]["shape"],
                                          dtype=np.int8)
    check = compare_with_tflm(int8, [x])
    report = result.report
    lns = sorted((e.mean_err_ratio, e.index) for e in report.layernorms or ())
    return {"layernorms": len(lns), "ln_worst": lns[-1] if lns else None,
        "ln_median": lns[len(lns) // 2][0] if lns else None,
        "model": factory, "route": report.route, "params": sum(
        p.numel() for p in model.parameters()), "ops": sum(report.op_histogram.values()),
        "convert_s": report.timings_s["total"], "convert_cpu_s": report.timings_cpu_s["total"],
        "import_s": round(import_s, 2), "import_cpu_s": round(import_cpu, 2),
        "load_before": round(load, 1), "load_after": round(os.getloadavg()[0], 1),
        "engine_bit_exact": bool(check.outputs_equal), "model_bytes": report.model_bytes,
        "arena_bytes": report.arena_bytes, "stages_s": report.timings_s,
        "stages_cpu_s": report.timings_cpu_s, "rewrites": [
            f"{r.name} x{r.count}" for r in report.rewrites],
        "attempts": [f"{a.route}: {'ok' if a.passed else a.error[:160]}"
                     for a in report.attempts]}


def print_vit(r: dict) -> None:
    cold_wall, cold_cpu = r["import_s"] + r["convert_s"], r["import_cpu_s"] + r["convert_cpu_s"]
    print(f"\n== user ViT {r['model']} at {VIT_SIZE}x{VIT_SIZE} (route {r['route']}):"
          f" {r['params']:,} parameters, {r['ops']} ops, model {r['model_bytes']:,} B,"
          f" TFLM arena {r['arena_bytes']:,} B")
    print(f"  convert() {r['convert_s']:.1f} s wall, {r['convert_cpu_s']:.1f} s CPU; cold with"
          f" imports {cold_wall:.1f} s wall, {cold_cpu:.1f} s CPU (load average"
          f" {r['load_before']} -> {r['load_after']} on {os.cpu_count()} CPUs)")
    print("  stages (wall / CPU s): " + ", ".join(
        f"{k} {v:.1f}/{r['stages_cpu_s'].get(k, 0.0):.1f}" for k, v in r["stages_s"].items()
        if k != "total"))
    print(f"  rewrites: {', '.join(r['rewrites']) or 'none'}")
    if r["ln_worst"] is not None:
        ratio, index = r["ln_worst"]
        print(f"  LayerNorm int8 error (mean |err| / float range): {r['layernorms']} LayerNorms,"
              f" median {r['ln_median']:.4f}, worst {ratio:.4f} (LayerNorm #{index})")
    for attempt in r["attempts"]:
        print(f"  route {attempt}")
    print(f"  host engine vs TFLM: {'bit-exact' if r['engine_bit_exact'] else 'DIFFERENT'}")
    verdict = "meets" if cold_wall <= TARGET_VIT_S else "MISSES"
    print(f"  -> cold wall {cold_wall:.1f} s {verdict} the <= {TARGET_VIT_S:.0f} s target")


def print_flash(r: dict) -> None:
    from hilnas.convert.report import LEAN_BOUND

    verdict = "meets" if r["ratio"] <= LEAN_BOUND else "MISSES"
    print(f"  flash: {r['params']:,} parameters, {r['model_bytes']:,} B"
          f" ({r['model_bytes'] / r['params']:.3f} B/param; before leaning"
          f" {r['bytes_before']:,} B, {r['bytes_before'] / r['params']:.3f} B/param)")
    print(f"    lean   {r['split']}")
    print(f"    before {r['split_before']}")
    print(f"    -> {r['ratio']:.3f} x {verdict} the <= {LEAN_BOUND} x bound; the TFLite format"
          f" needs >= {r['graph_floor']:,} B of graph for this graph: no file of it can go"
          f" below {r['floor_ratio']:.3f} x (convert.lean.graph_floor)")


def print_row(r: dict) -> None:
    print(f"\n== {r['model']} (route {r['route']}): model {r['model_bytes']} B,"
          f" TFLM arena {r['arena_bytes']} B")
    print(f"  {'stage':<24} {'wall s':>7} {'CPU s':>7}")
    print(f"  {'imports':<24} {r['import_s']:7.2f} {r['import_cpu_s']:7.2f}")
    print(f"  {'(build model + data)':<24} {r['build_s']:7.2f} {r['build_cpu_s']:7.2f}"
          "   (not counted below)")
    for stage, secs in r["stages_s"].items():
        if stage != "total":
            print(f"  {stage:<24} {secs:7.2f} {r['stages_cpu_s'].get(stage, 0.0):7.2f}")
    print(f"  {'cold conversion':<24} {r['cold_total_s']:7.2f} {r['cold_cpu_s']:7.2f}"
          "   (fresh process: imports + convert())")
    print(f"  {'warm conversion':<24} {r['warm_total_s']:7.2f} {r['warm_cpu_s']:7.2f}"
          "   (same process, TF already loaded)")
    print(f"  process CPU              {r['cpu_s']:7.1f} s   (cold + warm)")
    print(f"  peak RSS                 {r['peak_rss_mib']:7.1f} MiB")
    print_flash(r)


def main() -> int:
    # Run as a script, bench/ is sys.path[0] and bench/profile.py shadows the standard
    # library's profile module, which litert-torch's export imports (cProfile).
    if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
        sys.path.pop(0)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="mbv2,mobilevit")
    parser.add_argument("--routes", default="onnx2tf,litert")
    parser.add_argument("--members", default="smallest,demo,largest",
                        help="hybrid members for the flash figures ('' for none)")
    parser.add_argument("--member-route", default="litert")
    parser.add_argument("--vit", default="mobilevit_xxs",
                        help="user ViT factory in tests/convert/vit_models.py ('' for none)")
    parser.add_argument("--vit-routes", default="auto",
                        help="route order for the ViT ('auto': the converter's policy)")
    parser.add_argument("--vit-one", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--member", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    routes = tuple(args.routes.split(","))
    if args.one:
        print(json.dumps(run_one(args.one, routes)))
        return 0
    if args.member:
        print(json.dumps(run_member(args.member, args.member_route)))
        return 0
    if args.vit_one:
        print(json.dumps(run_vit(args.vit_one, args.vit_routes)))
        return 0
    print(f"converter benchmark: {os.cpu_count()} CPUs, load average"
          f" {os.getloadavg()[0]:.1f} (shared machine: wall times are noisy)")
    worst = 0
    for name in [m for m in args.models.split(",") if m]:
        row = _child(["--one", name, "--routes", args.routes], name)
        if row is None:
            worst = 1
            continue
        print_row(row)
        if name == "mobilevit":
            for label, secs in (("wall", row["cold_total_s"]), ("CPU", row["cold_cpu_s"])):
                verdict = "meets" if secs <= TARGET_HYBRID_S else "MISSES"
                print(f"  -> cold {label} {secs:.1f} s {verdict} the <= {TARGET_HYBRID_S:.0f} s"
                      " target for the hybrid")
    for which in [m for m in args.members.split(",") if m]:
        row = _child(["--member", which, "--member-route", args.member_route], which)
        if row is None:
            worst = 1
            continue
        print(f"\n== {row['model']} (route {row['route']}, converted with checks in"
              f" {row['seconds']:.1f} s)")
        print_flash(row)
    if args.vit:
        row = _child(["--vit-one", args.vit, "--vit-routes", args.vit_routes], args.vit)
        if row is None:
            return 1
        print_vit(row)
    return worst


def _child(argv: list[str], label: str) -> dict | None:
    """Run one measurement in a fresh process (per-model peak RSS); None when it failed."""
    child = subprocess.run(
        [sys.executable, __file__, *argv], capture_output=True, text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    if child.returncode != 0:
        print(f"{label}: conversion failed:\n{child.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(child.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    sys.exit(main())
