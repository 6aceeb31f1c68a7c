"""Build the board firmware from Python: CMake + the arm-none-eabi toolchain file.

Builds are cached under ``.hilnas-cache/firmware/<board>-<hash>/`` where the
hash covers every source file under firmware/, the board's profile YAML and the
CMake flags: an unchanged tree never rebuilds, any edit does. Each build runs
in a private build folder and the finished image is moved into place with one
rename, so two processes building the same board never see half an ELF.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hilnas.board.profiles import REPO_ROOT, BoardProfile
from hilnas.errors import BoardError, ToolMissingError

FIRMWARE_DIR = REPO_ROOT / "firmware"
TOOLCHAIN_FILE = FIRMWARE_DIR / "cmake" / "arm-none-eabi.cmake"
CACHE_DIR = REPO_ROOT / ".hilnas-cache" / "firmware"
TARGET = "hilnas_fw"
#: Only these files define the firmware; editor droppings and build dirs do not.
SOURCE_SUFFIXES = {".c", ".h", ".s", ".S", ".ld", ".cmake", ".txt", ".in", ".py"}
SKIP_DIRS = {"build", "fuzz", ".git", "__pycache__"}


@dataclass(frozen=True)
class FirmwareImage:
    board: str
    elf: Path
    source_hash: str
    cached: bool


def _source_files(root: Path) -> list[Path]:
    files = []
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if any(part in SKIP_DIRS or part.startswith("build") for part in rel.parts[:-1]):
            continue
        if path.is_file() and (path.suffix in SOURCE_SUFFIXES or path.name == "CMakeLists.txt"):
            files.append(path)
    return sorted(files)


def cmake_flags(profile: BoardProfile, build_type: str = "Release") -> list[str]:
    """CMake definitions for ``profile``; the host board uses the native compiler."""
    flags = [f"-DHN_BOARD={profile.name}", f"-DCMAKE_BUILD_TYPE={build_type}"]
    if profile.core != "host":
        flags += [f"-DCMAKE_TOOLCHAIN_FILE={TOOLCHAIN_FILE}", f"-DHN_CPU={profile.core}"]
    return flags


def source_hash(profile: BoardProfile, flags: list[str], root: Path = FIRMWARE_DIR) -> str:
    """Hash of firmware sources + profile + flags: the cache key."""
    h = hashlib.sha256()
    for path in _source_files(root):
        h.update(str(path.relative_to(root)).encode() + b"\0")
        h.update(path.read_bytes() + b"\0")
    h.update(profile.path.read_bytes())
    h.update("\0".join(flags).encode())
    return h.hexdigest()[:16]


def _require_tools(profile: BoardProfile) -> None:
    needed = ["cmake"] + (["cc"] if profile.core == "host" else ["arm-none-eabi-gcc"])
    for tool in needed:
        if shutil.which(tool) is None:
            raise ToolMissingError(
                f"building firmware for {profile.name} needs '{tool}' on PATH "
                "(Debian: apt-get install --no-install-recommends cmake gcc gcc-arm-none-eabi "
                "libnewlib-arm-none-eabi)"
            )


def _run(cmd: list[str], board: str, what: str) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-25:]
        raise BoardError(f"firmware {what} for {board} failed:\n" + "\n".join(tail))


def _find_artifact(build_dir: Path) -> Path:
    for name in (f"{TARGET}.elf", TARGET):
        found = sorted(p for p in build_dir.rglob(name) if p.is_file())
        if found:
            return found[0]
    raise BoardError(f"the firmware build in {build_dir} produced no {TARGET}(.elf)")


def _read_model(path: Path) -> bytes:
    if not path.is_file():
        raise BoardError(f"model to link into flash {path} does not exist")
    return path.read_bytes()


def build_firmware(
    profile: BoardProfile, force: bool = False, jobs: int = 2, builtin_model: Path | None = None
) -> FirmwareImage:
    """The firmware image for ``profile``, built now or taken from the cache.

    ``builtin_model`` links that .tflite into flash (MODEL_BUILTIN, what deploy ships);
    its bytes join the cache key, and such builds live beside the plain ones
    (``<board>-model_<hash>``) so that deploying never evicts the profiling firmware.
    """
    if not (FIRMWARE_DIR / "CMakeLists.txt").is_file():
        raise BoardError(f"no firmware sources: {FIRMWARE_DIR / 'CMakeLists.txt'} is missing")
    flags = cmake_flags(profile)
    model = None if builtin_model is None else _read_model(Path(builtin_model))
    tag = "" if model is None else "model_"
    key = flags if model is None else [*flags, hashlib.sha256(model).hexdigest()]
    digest = source_hash(profile, key)
    out_dir = CACHE_DIR / f"{profile.name}-{tag}{digest}"
    suffix = "" if profile.core == "host" else ".elf"
    image = out_dir / f"{TARGET}{suffix}"
    if image.is_file() and not force:
        return FirmwareImage(profile.name, image, digest, cached=True)
    _require_tools(profile)
    out_dir.mkdir(parents=True, exist_ok=True)
    if model is not None:  # a private copy: the build must not see the caller's file change
        linked = out_dir / "builtin_model.tflite"
        linked.write_bytes(model)
        flags = [*flags, f"-DHN_BUILTIN_MODEL={linked}"]
    with tempfile.TemporaryDirectory(prefix="build-", dir=out_dir) as tmp:
        build_dir = Path(tmp)
        _run(["cmake", "-S", str(FIRMWARE_DIR), "-B", str(build_dir), *flags], profile.name,
             "configure")  # fmt: skip
        _run(["cmake", "--build", str(build_dir), "--target", TARGET, "-j", str(jobs)],
             profile.name, "build")  # fmt: skip
        staged = out_dir / f".{TARGET}.{os.getpid()}"
        shutil.copy2(_find_artifact(build_dir), staged)
        os.replace(staged, image)
    (out_dir / "build.json").write_text(
        json.dumps({"board": profile.name, "flags": flags, "hash": digest}, indent=1)
    )
    prune_cache(profile.name)
    prune_cache(profile.name, keep=2, tag="model_")
    return FirmwareImage(profile.name, image, digest, cached=False)


def prune_cache(board: str, keep: int = 3, tag: str = "") -> None:
    """Drop all but the ``keep`` newest builds of ``board``: every source edit adds one.

    ``tag`` selects one kind of build (``"model_"``: a model linked into flash).
    A QEMU started from a pruned ELF keeps running (it read the file at start).
    """
    prefix = f"{board}-{tag}"
    builds = sorted(
        (d for d in CACHE_DIR.glob(f"{prefix}*") if d.name[len(prefix) :].isalnum()),
        key=lambda d: d.stat().st_mtime,
        reverse=True,
    )
    for old in builds[keep:]:
        shutil.rmtree(old, ignore_errors=True)
