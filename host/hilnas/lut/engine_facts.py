"""Facts about the engine build a table was measured with (hashes, flags, op data sizes).

``op_data_sizes`` reads every kernel's ``hn_op_impl.op_data_size`` straight out of the
firmware ELF (symbol ``hn_op_<NAME>``: a const struct {name pointer, uint32 size, ...}),
so the predictor's persistent-arena figures use the board's own struct sizes (32-bit
pointers), not the host's.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import struct
import subprocess
from pathlib import Path

from hilnas.errors import ConfigError

ENGINE_DIR = Path(__file__).resolve().parents[3] / "firmware" / "engine"
_SYM = re.compile(r"^([0-9a-f]+) ([0-9a-f]+) [rRdDtT] hn_op_([A-Z0-9_]+)$")


def engine_source_hash(root: Path = ENGINE_DIR) -> str:
    """sha256 over the engine's C sources and headers (path + content)."""
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.suffix in (".c", ".h")
                       and "build" not in p.parts):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def compiler_version(cc: str = "arm-none-eabi-gcc") -> str:
    exe = shutil.which(cc)
    if exe is None:
        return "unknown"
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False)
    return out.stdout.splitlines()[0].strip() if out.stdout else "unknown"


def op_data_sizes(elf: Path) -> dict[str, int]:
    """builtin name -> op_data_size, read from the firmware image's kernel table."""
    nm = shutil.which("arm-none-eabi-nm")
    objcopy = shutil.which("arm-none-eabi-objcopy")
    if nm is None or objcopy is None:
        raise ConfigError("arm-none-eabi-nm/objcopy are needed to read op data sizes")
    out = subprocess.run([nm, "-S", str(elf)], capture_output=True, text=True, check=True).stdout
    syms = {m.group(3): int(m.group(1), 16) for m in map(_SYM.match, out.splitlines()) if m}
    if not syms:
        raise ConfigError(f"{elf}: no hn_op_* kernel symbols (stripped image?)")
    sections = _load_sections(elf, objcopy)
    sizes: dict[str, int] = {}
    for name, addr in syms.items():
        for base, blob in sections:
            if base <= addr + 4 and addr + 8 <= base + len(blob):
                (sizes[name],) = struct.unpack_from("<I", blob, addr - base + 4)
                break
    return sizes


def _load_sections(elf: Path, objcopy: str) -> list[tuple[int, bytes]]:
    import tempfile

    objdump = shutil.which("arm-none-eabi-objdump") or "arm-none-eabi-objdump"
    heads = subprocess.run([objdump, "-h", str(elf)], capture_output=True, text=True,
                           check=True).stdout
    found = []
    for line in heads.splitlines():
        parts = line.split()
        if len(parts) >= 7 and parts[1] in (".rodata", ".text", ".data"):
            found.append((parts[1], int(parts[4], 16)))
    blobs = []
    with tempfile.TemporaryDirectory() as tmp:
        for sec, vma in found:
            dst = Path(tmp) / sec.strip(".")
            subprocess.run([objcopy, "-O", "binary", f"--only-section={sec}", str(elf), str(dst)],
                           check=True)
            blobs.append((vma, dst.read_bytes()))
    return blobs
