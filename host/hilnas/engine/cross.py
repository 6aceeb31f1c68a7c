"""Cross-build the engine library for Cortex-M with CMake + arm-none-eabi-gcc.

One build directory per (core, optimisation level) under
``.hilnas-cache/cross/``, so rebuilding after a small change is incremental.
Used by tests/engine/test_cross_build.py (all five cores, -Os and -O2) and by
bench/engine.py (code size of the M4 -Os library).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from hilnas.engine.build import BUILD_ERROR_STATUS, CACHE_DIR, ENGINE_DIR, REPO_ROOT
from hilnas.errors import ToolMissingError

CORES: tuple[str, ...] = ("cortex-m0plus", "cortex-m3", "cortex-m4", "cortex-m7", "cortex-m33")
OPT_LEVELS: dict[str, tuple[str, str]] = {
    "Os": ("MinSizeRel", "-Os"),
    "O2": ("Release", "-O2"),
}
TOOLCHAIN = REPO_ROOT / "firmware" / "cmake" / "arm-none-eabi.cmake"


@dataclass(frozen=True)
class CrossBuild:
    core: str
    opt: str
    ok: bool
    library: Path
    log: str


def require_toolchain() -> None:
    for tool in ("cmake", "arm-none-eabi-gcc", "arm-none-eabi-size"):
        if shutil.which(tool) is None:
            raise ToolMissingError(f"{tool} not found: run .ci/bootstrap.sh "
                                   "(gcc-arm-none-eabi, cmake)")


def build(core: str, opt: str = "Os") -> CrossBuild:
    """Configure (once) and build the static library hn_engine for one core."""
    require_toolchain()
    build_type, flag = OPT_LEVELS[opt]
    bdir = CACHE_DIR.parent / "cross" / f"{core}-{opt}"
    lib = bdir / "libhn_engine.a"
    log = ""
    if not (bdir / "CMakeCache.txt").exists():
        cfg = subprocess.run(
            ["cmake", "-S", str(ENGINE_DIR), "-B", str(bdir), f"-DCMAKE_TOOLCHAIN_FILE={TOOLCHAIN}",
             f"-DHN_CPU={core}", f"-DCMAKE_BUILD_TYPE={build_type}",
             f"-DCMAKE_C_FLAGS_{build_type.upper()}={flag} -DNDEBUG"],
            capture_output=True, text=True)
        log += cfg.stdout + cfg.stderr
        if cfg.returncode != 0:
            return CrossBuild(core, opt, False, lib, log)
    proc = subprocess.run(["cmake", "--build", str(bdir), "-j", str(os.cpu_count() or 2)],
                          capture_output=True, text=True)
    log += proc.stdout + proc.stderr
    return CrossBuild(core, opt, proc.returncode == 0 and lib.exists(), lib, log)


def build_all(workers: int = 2) -> list[CrossBuild]:
    jobs = [(c, o) for c in CORES for o in OPT_LEVELS]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda j: build(*j), jobs))


def text_size(library: Path) -> int:
    """Sum of .text (code + rodata in text) over the library's objects."""
    proc = subprocess.run(["arm-none-eabi-size", "-t", str(library)], capture_output=True,
                          text=True)
    if proc.returncode != 0:
        raise ToolMissingError(f"arm-none-eabi-size failed: {proc.stderr.strip()}")
    total = [ln for ln in proc.stdout.splitlines() if re.search(r"\(TOTALS\)", ln)]
    return int(total[0].split()[0]) if total else -1


__all__ = ["BUILD_ERROR_STATUS", "CORES", "OPT_LEVELS", "CrossBuild", "build", "build_all",
           "text_size"]
