"""Build and run the engine's fuzz target (firmware/fuzz/fuzz_model.c).

Two drivers, both with AddressSanitizer + UndefinedBehaviorSanitizer:

* ``libfuzzer`` (clang ``-fsanitize=fuzzer``): coverage-guided, the real
  fuzzer; used whenever clang and its runtime (Debian ``clang``,
  ``libclang-rt-14-dev``) are installed.
* ``replay`` (gcc or clang, firmware/fuzz/replay_main.c): replays corpus files
  and offers a naive mutation loop, the fallback when libFuzzer is missing.

Binaries are cached like the host library (hash of sources and flags).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from hilnas.engine.build import BUILD_ERROR_STATUS, CACHE_DIR, ENGINE_DIR, REPO_ROOT
from hilnas.errors import EngineError

FUZZ_DIR = REPO_ROOT / "firmware" / "fuzz"
CORPUS_DIR = FUZZ_DIR / "corpus"
SAN_FLAGS = ("-std=c11", "-g", "-O1", "-fno-omit-frame-pointer", "-fno-sanitize-recover=all")


def _sources(driver: str) -> list[Path]:
    src = sorted((ENGINE_DIR / "src").glob("*.c")) + sorted((ENGINE_DIR / "ops").glob("*.c"))
    src.append(FUZZ_DIR / "fuzz_model.c")
    if driver == "replay":
        src.append(FUZZ_DIR / "replay_main.c")
    return src


def libfuzzer_available() -> bool:
    """True when clang can link a -fsanitize=fuzzer binary."""
    if shutil.which("clang") is None:
        return False
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / "p.c"
        probe.write_text("#include <stdint.h>\n#include <stddef.h>\n"
                         "int LLVMFuzzerTestOneInput(const uint8_t*d,size_t n)"
                         "{(void)d;(void)n;return 0;}\n")
        proc = subprocess.run(["clang", "-fsanitize=fuzzer,address", str(probe), "-o",
                               str(Path(tmp) / "p")], capture_output=True)
        return proc.returncode == 0


def build_fuzzer(driver: str = "libfuzzer") -> Path:
    """Compile the fuzz target with the given driver; returns the binary."""
    if driver == "libfuzzer":
        cc, san = "clang", "-fsanitize=fuzzer,address,undefined"
    else:
        cc = os.environ.get("CC", "gcc")
        san = "-fsanitize=address,undefined"
    if shutil.which(cc) is None:
        raise EngineError(BUILD_ERROR_STATUS, f"{cc} not found: cannot build the {driver} fuzzer")
    flags = (*SAN_FLAGS, san, "-Wall", "-Wextra", "-Werror")
    digest = hashlib.sha256(" ".join((cc, *flags)).encode())
    headers = sorted(ENGINE_DIR.glob("**/*.h"))
    for path in _sources(driver) + headers:
        digest.update(path.read_bytes())
    out_dir = CACHE_DIR / f"fuzz-{driver}-{digest.hexdigest()[:16]}"
    binary = out_dir / f"fuzz_{driver}"
    if binary.exists():
        return binary
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / f".build-{os.getpid()}"
    cmd = [cc, *flags, f"-I{ENGINE_DIR / 'include'}", *map(str, _sources(driver)),
           "-o", str(tmp), "-lm"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise EngineError(BUILD_ERROR_STATUS, f"fuzzer build failed:\n{proc.stderr[-4000:]}")
    os.replace(tmp, binary)
    return binary


def corpus_files() -> list[Path]:
    return sorted(p for p in CORPUS_DIR.iterdir() if p.is_file())


def replay(files: list[Path]) -> subprocess.CompletedProcess:
    """Run every file once through the sanitized target."""
    binary = build_fuzzer("replay")
    return subprocess.run([str(binary), *map(str, files)], capture_output=True, text=True,
                          timeout=300)


def fuzz(seconds: int, workdir: Path) -> tuple[str, subprocess.CompletedProcess]:
    """Fuzz for ``seconds`` from a copy of the corpus in ``workdir``.

    Returns the driver used and the process; a non-zero return code means a
    crash, hang or sanitizer report (the reproducer is left in workdir).
    """
    corpus = workdir / "corpus"
    shutil.copytree(CORPUS_DIR, corpus, dirs_exist_ok=True)
    if libfuzzer_available():
        binary = build_fuzzer("libfuzzer")
        cmd = [str(binary), f"-max_total_time={seconds}", "-timeout=10", "-rss_limit_mb=2048",
               "-print_final_stats=1", f"-artifact_prefix={workdir}/", str(corpus)]
        return "libfuzzer", subprocess.run(cmd, capture_output=True, text=True, cwd=workdir,
                                           timeout=seconds + 120)
    binary = build_fuzzer("replay")
    cmd = [str(binary), "-mutate", str(seconds), str(corpus)]
    return "replay-mutate", subprocess.run(cmd, capture_output=True, text=True, cwd=workdir,
                                           timeout=seconds + 120)
