"""Put a firmware image on a real board: pyOCD (Python API), OpenOCD or st-flash.

Which tools a board supports is profile data (``flasher:`` section). Every
failure mode a user can hit without a bug in hilnas (tool not installed, no
probe attached, the tool itself failing) is a clear BoardError naming the
board, the tool and what to do next.
"""

from __future__ import annotations

import importlib
import shutil
import subprocess
import tempfile
from pathlib import Path

from hilnas.board.profiles import BoardProfile
from hilnas.errors import BoardError, ConfigError, ToolMissingError

TOOLS = ("pyocd", "openocd", "st-flash")


def flash(
    profile: BoardProfile, elf: Path, tool: str | None = None, probe: str | None = None
) -> str:
    """Program ``elf`` into ``profile``'s board; returns a one-line summary."""
    tool = tool or profile.flasher.default
    if profile.is_emulated or tool == "qemu":
        return f"{profile.name} is emulated: QEMU loads {elf} at every boot, nothing to flash"
    if tool == "none":
        raise ConfigError(f"board {profile.name} has no flasher ({profile.path})")
    if not Path(elf).is_file():
        raise BoardError(f"firmware image {elf} does not exist")
    handlers = {"pyocd": _flash_pyocd, "openocd": _flash_openocd, "st-flash": _flash_stflash}
    if tool not in handlers:
        raise ConfigError(f"unknown flasher {tool!r}; choose one of {', '.join(TOOLS)}")
    return handlers[tool](profile, Path(elf), probe)


def _flash_pyocd(profile: BoardProfile, elf: Path, probe: str | None) -> str:
    target = profile.flasher.pyocd_target
    if not target:
        raise ConfigError(f"{profile.path}: field 'flasher.pyocd_target' is needed for pyOCD")
    try:
        helper = importlib.import_module("pyocd.core.helpers")
        programmer = importlib.import_module("pyocd.flash.file_programmer")
    except ImportError as exc:
        raise ToolMissingError(
            f"flashing {profile.name} with pyOCD needs the 'pyocd' package "
            "(pip install pyocd), or use --tool openocd / st-flash"
        ) from exc
    session = helper.ConnectHelper.session_with_chosen_probe(
        unique_id=probe, target_override=target, blocking=False, return_first=probe is None
    )
    if session is None:
        raise BoardError(
            f"no debug probe found for {profile.name} (pyOCD target {target}); "
            "is the board plugged in and its ST-LINK/J-Link firmware current?"
        )
    with session:
        programmer.FileProgrammer(session).program(str(elf))
        session.board.target.reset()
    return f"flashed {elf.name} to {profile.name} with pyOCD ({target})"


def _tool(name: str, board: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ToolMissingError(
            f"flashing {board} with {name} needs '{name}' on PATH "
            f"(Debian: apt-get install {name.replace('st-flash', 'stlink-tools')})"
        )
    return path


def _run_tool(cmd: list[str], board: str, tool: str) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise BoardError(f"{tool} failed to flash {board} (exit {proc.returncode}):\n{tail}")


def _flash_openocd(profile: BoardProfile, elf: Path, probe: str | None) -> str:
    configs = profile.flasher.openocd_configs
    if not configs:
        raise ConfigError(f"{profile.path}: field 'flasher.openocd_configs' is needed for OpenOCD")
    cmd = [_tool("openocd", profile.name)]
    for cfg in configs:
        cmd += ["-f", cfg]
    if probe:
        cmd += ["-c", f"adapter serial {probe}"]
    cmd += ["-c", f"program {elf} verify reset exit"]
    _run_tool(cmd, profile.name, "openocd")
    return f"flashed {elf.name} to {profile.name} with OpenOCD"


def _flash_stflash(profile: BoardProfile, elf: Path, probe: str | None) -> str:
    addr = profile.flasher.st_flash_addr
    if addr is None:
        raise ConfigError(f"{profile.path}: field 'flasher.st_flash_addr' is needed for st-flash")
    stflash = _tool("st-flash", profile.name)
    objcopy = _tool("arm-none-eabi-objcopy", profile.name)
    with tempfile.TemporaryDirectory() as tmp:
        binary = Path(tmp) / "fw.bin"
        _run_tool([objcopy, "-O", "binary", str(elf), str(binary)], profile.name, "objcopy")
        cmd = [stflash, "--reset"] + (["--serial", probe] if probe else [])
        _run_tool([*cmd, "write", str(binary), hex(addr)], profile.name, "st-flash")
    return f"flashed {elf.name} to {profile.name} with st-flash at {addr:#x}"
