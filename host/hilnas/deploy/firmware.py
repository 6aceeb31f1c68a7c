"""The deployable firmware: build it with the model in flash, measure it, export HEX/BIN.

Flash and static RAM are read from the ELF's section headers (what the linker placed),
not estimated: flash is every loaded section (code, read-only data with the model,
vectors, the initial values of ``.data``); static RAM is ``.data``, ``.bss`` and the
stack. ``.noinit`` holds the engine's arena and the model slot and is reported apart,
because the arena *used* is what the board measures.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

from hilnas.errors import BoardError, ToolMissingError

SHF_WRITE, SHF_ALLOC = 0x1, 0x2
SHT_NOBITS = 8
#: Sections the firmware keeps in RAM without initialising them (arena, model slot).
NOINIT_SECTIONS = (".noinit",)


@dataclass(frozen=True)
class Section:
    name: str
    type: int
    flags: int
    addr: int
    size: int


@dataclass(frozen=True)
class ImageMemory:
    """Flash and RAM the image occupies, from its section headers."""

    flash_bytes: int  # every byte programmed into flash
    static_ram_bytes: int  # .data + .bss + stack (everything in RAM but .noinit)
    noinit_bytes: int  # arena + model slot
    sections: dict[str, int]


def read_sections(elf: Path) -> list[Section]:
    """Section headers of a 32-bit little-endian ELF (what arm-none-eabi-gcc links)."""
    data = Path(elf).read_bytes()
    if data[:4] != b"\x7fELF" or len(data) < 52:
        raise BoardError(f"{elf} is not an ELF file")
    if data[4] != 1 or data[5] != 1:
        raise BoardError(f"{elf}: not a 32-bit little-endian ELF (class {data[4]}, "
                         f"data {data[5]}); deploy targets Cortex-M images")
    shoff, = struct.unpack_from("<I", data, 32)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 46)
    if shoff + shnum * shentsize > len(data) or shstrndx >= shnum:
        raise BoardError(f"{elf}: section header table lies outside the file")
    raw = [struct.unpack_from("<IIIIIIIIII", data, shoff + i * shentsize) for i in range(shnum)]
    strtab_off, strtab_size = raw[shstrndx][4], raw[shstrndx][5]
    names = data[strtab_off : strtab_off + strtab_size]

    def name(offset: int) -> str:
        end = names.find(b"\0", offset)
        return names[offset : end if end >= 0 else len(names)].decode(errors="replace")

    return [Section(name(h[0]), h[1], h[2], h[3], h[5]) for h in raw]


def image_memory(elf: Path) -> ImageMemory:
    flash = ram = noinit = 0
    sizes: dict[str, int] = {}
    for s in read_sections(elf):
        if not s.flags & SHF_ALLOC or s.size == 0:
            continue
        sizes[s.name] = s.size
        if s.type != SHT_NOBITS:
            flash += s.size  # loaded: programmed into flash (.data's initial values too)
        if s.name in NOINIT_SECTIONS:
            noinit += s.size
        elif s.flags & SHF_WRITE:
            ram += s.size
    return ImageMemory(flash, ram, noinit, sizes)


def export_images(elf: Path, out_dir: Path, stem: str = "firmware") -> dict[str, Path]:
    """Copy the ELF into ``out_dir`` and write Intel HEX and raw BIN next to it."""
    objcopy = shutil.which("arm-none-eabi-objcopy")
    if objcopy is None:
        raise ToolMissingError(
            "exporting HEX/BIN needs 'arm-none-eabi-objcopy' on PATH "
            "(Debian: apt-get install binutils-arm-none-eabi)"
        )
    out = {"elf": out_dir / f"{stem}.elf", "hex": out_dir / f"{stem}.hex",
           "bin": out_dir / f"{stem}.bin"}
    shutil.copy2(elf, out["elf"])
    for kind, fmt in (("hex", "ihex"), ("bin", "binary")):
        proc = subprocess.run([objcopy, "-O", fmt, str(elf), str(out[kind])],
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise BoardError(f"objcopy -O {fmt} {elf} failed: {proc.stderr.strip()[-500:]}")
    return out
