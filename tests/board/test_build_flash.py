"""Firmware builds (CMake, cached by source hash) and flashers' error paths.

No probe is attached on CI machines, so the flasher tests check what a user
without one sees: a clear message naming the board and the tool, never a
traceback.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hilnas.board.build import build_firmware, cmake_flags, source_hash
from hilnas.board.flash import flash
from hilnas.board.profiles import load_profile, load_profile_file
from hilnas.board.transport import find_serial_port
from hilnas.errors import BoardError, ConfigError, ToolMissingError


def test_cmake_flags_pick_toolchain_and_core_from_the_profile() -> None:
    flags = cmake_flags(load_profile("mps2-an386"))
    assert "-DHN_CPU=cortex-m4" in flags
    assert any(f.startswith("-DCMAKE_TOOLCHAIN_FILE=") for f in flags)
    assert not any("TOOLCHAIN" in f for f in cmake_flags(load_profile("host")))


def test_source_hash_follows_profile_and_flags(tmp_path: Path) -> None:
    prof = load_profile("mps2-an386")
    flags = cmake_flags(prof)
    assert source_hash(prof, flags) == source_hash(prof, flags)
    assert source_hash(prof, flags) != source_hash(prof, [*flags, "-DX=1"])
    copy = tmp_path / "mps2-an386.yaml"
    copy.write_text(prof.path.read_text().replace("ram_bytes: 131072", "ram_bytes: 131088"))
    assert source_hash(load_profile_file(copy), flags) != source_hash(prof, flags)


@pytest.mark.slow
def test_host_firmware_build_is_cached_and_runs() -> None:
    prof = load_profile("host")
    first = build_firmware(prof)
    second = build_firmware(prof)
    assert second.cached and second.elf == first.elf and second.source_hash == first.source_hash
    assert os.access(second.elf, os.X_OK)


def test_missing_compiler_is_a_tool_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ToolMissingError, match="cmake"):
        build_firmware(load_profile("nrf52840-dk"), force=True)


def test_emulated_board_needs_no_flashing() -> None:
    assert "nothing to flash" in flash(load_profile("mps2-an386"), Path("fw.elf"))


def test_host_board_has_no_flasher() -> None:
    with pytest.raises(ConfigError, match="no flasher"):
        flash(load_profile("host"), Path("fw"))


def test_flashing_a_missing_image_names_it(tmp_path: Path) -> None:
    with pytest.raises(BoardError, match="does not exist"):
        flash(load_profile("nucleo-l4r5zi"), tmp_path / "fw.elf")


@pytest.mark.parametrize("tool", ["pyocd", "openocd", "st-flash"])
def test_each_flasher_fails_clearly_without_tool_or_probe(tmp_path: Path, tool: str) -> None:
    elf = tmp_path / "fw.elf"
    elf.write_bytes(b"\x7fELF")
    with pytest.raises(BoardError) as info:
        flash(load_profile("nucleo-l4r5zi"), elf, tool=tool)
    message = str(info.value)
    assert "nucleo-l4r5zi" in message or "probe" in message
    if tool != "pyocd" and shutil.which(tool) is None:
        assert isinstance(info.value, ToolMissingError) and tool in message


def test_st_flash_needs_an_address() -> None:
    elf = Path(__file__)  # any existing file: the address check comes first
    with pytest.raises(ConfigError, match="st_flash_addr"):
        flash(load_profile("nrf52840-dk"), elf, tool="st-flash")


def test_no_serial_port_for_a_real_board_names_vid_pid() -> None:
    prof = load_profile("nucleo-h743zi2")
    with pytest.raises(BoardError, match="0483:374e"):
        find_serial_port(prof.transport.usb_vid or 0, prof.transport.usb_pid or 0, prof.name)


def _section_sizes(elf: Path) -> dict[str, int]:
    out = subprocess.run(
        ["arm-none-eabi-size", "-A", str(elf)], capture_output=True, text=True, check=True
    ).stdout
    sizes = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith(".") and parts[1].isdigit():
            sizes[parts[0]] = int(parts[1])
    return sizes


@pytest.mark.slow
@pytest.mark.parametrize("name", ["mps2-an386", "nucleo-l4r5zi"])
def test_profile_firmware_footprint_covers_the_real_image(name: str) -> None:
    """firmware.ram_bytes / flash_bytes in the profile are what the image really takes."""
    prof = load_profile(name)
    s = _section_sizes(build_firmware(prof).elf)
    ram = s.get(".data", 0) + s.get(".bss", 0) + s.get(".stack", 0)
    flash = s.get(".text", 0) + s.get(".rodata", 0) + s.get(".data", 0)
    assert 0 < ram <= prof.firmware_ram_bytes, f"{name}: firmware RAM {ram}"
    assert 0 < flash <= prof.firmware_flash_bytes, f"{name}: firmware flash {flash}"
    assert s.get(".noinit", 0) + ram <= prof.sram_bytes  # slot + arena fit beside it
