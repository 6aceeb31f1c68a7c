"""Build the host-native engine library on first use.

The C sources in firmware/engine are compiled with the system gcc into a
shared library cached under ``<repo>/.hilnas-cache/engine/<hash>/``; the hash
covers every source and header plus the flags, so editing a kernel rebuilds
automatically and an unchanged tree reuses the cached library. The build
writes to a temporary file and renames it, so concurrent test workers never
load a half-written library.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from hilnas.errors import EngineError

REPO_ROOT = Path(__file__).resolve().parents[3]
ENGINE_DIR = Path(os.environ.get("HILNAS_ENGINE_SRC", REPO_ROOT / "firmware" / "engine"))
CACHE_DIR = Path(os.environ.get("HILNAS_CACHE", REPO_ROOT / ".hilnas-cache")) / "engine"

BASE_FLAGS = ("-std=c11", "-Wall", "-Wextra", "-Werror", "-fPIC", "-shared")
#: The host build's static limits (hn_engine.h's HN_MAX_* are build parameters). A board's
#: come from its device profile; the host's are generous so that the host engine runs every
#: model TFLM runs: a MobileViT-XXS-width model at 128x128 has ~600 ops, past the firmware
#: default of 256. Indices are int16 in the engine, so tensors stay below 32768.
HOST_MAX_OPS = 4096
HOST_MAX_TENSORS = 8192
HOST_LIMIT_FLAGS = (f"-DHN_MAX_OPS={HOST_MAX_OPS}", f"-DHN_MAX_TENSORS={HOST_MAX_TENSORS}")
OPT_FLAGS = ("-O2",)
SANITIZE_FLAGS = ("-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
                  "-fno-omit-frame-pointer")

BUILD_ERROR_STATUS = -1


def engine_sources(engine_dir: Path = ENGINE_DIR) -> list[Path]:
    """C files of the engine library plus the host-only extras."""
    groups = ("src", "ops", "host")
    return sorted(p for g in groups for p in (engine_dir / g).glob("*.c"))


def _tree_hash(engine_dir: Path, flags: tuple[str, ...]) -> str:
    digest = hashlib.sha256(" ".join(flags).encode())
    files = engine_sources(engine_dir) + sorted(engine_dir.glob("**/*.h"))
    for path in files:
        digest.update(str(path.relative_to(engine_dir)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _compiler() -> str:
    cc = os.environ.get("CC", "gcc")
    if shutil.which(cc) is None:
        raise EngineError(
            BUILD_ERROR_STATUS,
            f"C compiler '{cc}' not found: install gcc (apt-get install gcc) to build the engine",
        )
    return cc


def build_library(sanitize: bool = False, engine_dir: Path = ENGINE_DIR) -> Path:
    """Return the path of the compiled engine library, building it if needed."""
    flags = BASE_FLAGS + HOST_LIMIT_FLAGS + (SANITIZE_FLAGS if sanitize else OPT_FLAGS)
    target_dir = CACHE_DIR / (("asan-" if sanitize else "") + _tree_hash(engine_dir, flags))
    lib = target_dir / "libhn_engine.so"
    if lib.exists():
        return lib
    target_dir.mkdir(parents=True, exist_ok=True)
    cmd = [_compiler(), *flags, f"-I{engine_dir / 'include'}"]
    cmd += [str(p) for p in engine_sources(engine_dir)]
    with tempfile.NamedTemporaryFile(dir=target_dir, suffix=".so.tmp", delete=False) as tmp:
        tmp_path = Path(tmp.name)
    try:
        proc = subprocess.run([*cmd, "-o", str(tmp_path), "-lm"], capture_output=True, text=True)
        if proc.returncode != 0:
            raise EngineError(BUILD_ERROR_STATUS, f"engine build failed:\n{proc.stderr[-4000:]}")
        os.replace(tmp_path, lib)
    finally:
        tmp_path.unlink(missing_ok=True)
    return lib
