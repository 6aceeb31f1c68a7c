"""Benchmark the converter on the built-in reference models.

Prints, per model: per-stage seconds of a cold conversion (fresh process: includes the
torch/TensorFlow imports), the total of a warm second conversion in the same process (what
the search pays per subnet), process CPU seconds and peak RSS. Each model runs in its own
child process so that peak RSS is per model. Target: hybrid (mobilevit) cold <= 20 s.

Usage: .venv/bin/python bench/convert.py [--models mbv2,mobilevit] [--routes onnx2tf,litert]
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
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "model": name, "route": cold.route, "import_s": round(import_s, 2),
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="mbv2,mobilevit")
    parser.add_argument("--routes", default="onnx2tf,litert")
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    routes = tuple(args.routes.split(","))
    if args.one:
        print(json.dumps(run_one(args.one, routes)))
        return 0
    print(f"converter benchmark: {os.cpu_count()} CPUs, load average"
          f" {os.getloadavg()[0]:.1f} (shared machine: wall times are noisy)")
    worst = 0
    for name in args.models.split(","):
        child = subprocess.run(
            [sys.executable, __file__, "--one", name, "--routes", args.routes],
            capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
        )
        if child.returncode != 0:
            print(f"{name}: conversion failed:\n{child.stderr[-2000:]}", file=sys.stderr)
            worst = 1
            continue
        row = json.loads(child.stdout.strip().splitlines()[-1])
        print_row(row)
        if name == "mobilevit":
            for label, secs in (("wall", row["cold_total_s"]), ("CPU", row["cold_cpu_s"])):
                verdict = "meets" if secs <= TARGET_HYBRID_S else "MISSES"
                print(f"  -> cold {label} {secs:.1f} s {verdict} the <= {TARGET_HYBRID_S:.0f} s"
                      " target for the hybrid")
    return worst


if __name__ == "__main__":
    sys.exit(main())
