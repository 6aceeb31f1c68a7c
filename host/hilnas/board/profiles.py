"""Device profiles: the one place where board facts live (device_profiles/*.yaml).

Board names on the command line are the YAML file stems. Both the host (transport,
flasher, timing unit) and the firmware build (core, HN_BOARD) read these files,
so there is never an ``if board == ...`` anywhere else (STYLE rule 3).

The schema is declared as data (:data:`SCHEMA`) and checked by a small walker
so that every error names the file and the dotted field path: an unknown key, a
missing field or a wrong type is a :class:`~hilnas.errors.ConfigError`, never a
``KeyError`` three stages later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from hilnas.errors import ConfigError

#: Repository root (host/hilnas/board/profiles.py -> four levels up).
REPO_ROOT = Path(__file__).resolve().parents[3]
PROFILE_DIR = REPO_ROOT / "device_profiles"

CORES = ("host", "cortex-m0plus", "cortex-m3", "cortex-m4", "cortex-m7", "cortex-m33")
FPUS = ("none", "fpv4-sp-d16", "fpv5-sp-d16", "fpv5-d16", "host")
TIMING_UNITS = ("instructions", "cycles", "ns")
TRANSPORT_KINDS = ("serial", "emulator", "pty")
FLASH_TOOLS = ("none", "qemu", "pyocd", "openocd", "st-flash")


class Optional_:
    """Marks a schema entry as optional (with the default used when absent)."""

    def __init__(self, spec: Any, default: Any = None) -> None:
        self.spec = spec
        self.default = default


class OneOf:
    """A string restricted to a fixed set of values."""

    def __init__(self, *values: str) -> None:
        self.values = values


class ListOf:
    """A list whose items all follow ``spec``."""

    def __init__(self, spec: Any) -> None:
        self.spec = spec


#: The profile schema: dict = mapping with exactly these keys, a type = leaf of
#: that type, OneOf/ListOf/Optional_ wrap the rest. Unknown keys are errors.
SCHEMA: dict[str, Any] = {
    "name": str,
    "description": str,
    "core": OneOf(*CORES),
    "fpu": OneOf(*FPUS),
    "dsp": bool,
    "clock_hz": int,
    "sram_bytes": int,
    "flash_bytes": int,
    "firmware": {
        # RAM/flash the firmware itself uses (code, stack, buffers, model slot
        # excluded): what is left is what a searched model may use.
        "ram_bytes": int,
        "flash_bytes": int,
        "model_slot_bytes": int,
    },
    "engine": {
        # The engine's share: tensor arena (SRAM) and its static op/tensor tables.
        "arena_bytes": int,
        "max_ops": int,
        "max_tensors": int,
    },
    "timing": {
        "unit": OneOf(*TIMING_UNITS),
        "counter": str,
        "note": Optional_(str, ""),
    },
    "transport": {
        "kind": OneOf(*TRANSPORT_KINDS),
        "baud": Optional_(int, 115200),
        "usb_vid": Optional_(int),
        "usb_pid": Optional_(int),
        "machine": Optional_(str),
        "icount_shift": Optional_(int),
        "extra_args": Optional_(ListOf(str), []),
    },
    "flasher": {
        "default": OneOf(*FLASH_TOOLS),
        "pyocd_target": Optional_(str),
        "openocd_configs": Optional_(ListOf(str), []),
        "st_flash_addr": Optional_(int),
    },
}


@dataclass(frozen=True)
class Transport:
    kind: str
    baud: int
    usb_vid: int | None
    usb_pid: int | None
    machine: str | None
    icount_shift: int | None
    extra_args: tuple[str, ...]


@dataclass(frozen=True)
class Flasher:
    default: str
    pyocd_target: str | None
    openocd_configs: tuple[str, ...]
    st_flash_addr: int | None


@dataclass(frozen=True)
class BoardBudget:
    """What one model may use on a board: the hard constraints of search and deploy.

    ``arena_bytes`` is the engine's tensor arena (a model's peak activation memory
    must fit it); ``model_slot_bytes`` is the RAM slot a streamed model is loaded
    into; ``model_flash_bytes`` is the flash left for a model linked into the
    firmware image. ``sram_bytes``/``flash_bytes`` are the chip's totals and the
    ``firmware_*`` figures the firmware's own share, so a whole-device figure is
    ``firmware_ram_bytes + arena used`` (SRAM) or ``firmware_flash_bytes + model``.
    """

    arena_bytes: int
    model_slot_bytes: int
    model_flash_bytes: int
    max_ops: int
    max_tensors: int
    firmware_ram_bytes: int
    firmware_flash_bytes: int
    sram_bytes: int
    flash_bytes: int


@dataclass(frozen=True)
class BoardProfile:
    """A validated device profile; ``path`` is kept for error messages."""

    name: str
    description: str
    core: str
    fpu: str
    dsp: bool
    clock_hz: int
    sram_bytes: int
    flash_bytes: int
    firmware_ram_bytes: int
    firmware_flash_bytes: int
    model_slot_bytes: int
    arena_bytes: int
    max_ops: int
    max_tensors: int
    timing_unit: str
    counter: str
    timing_note: str
    transport: Transport
    flasher: Flasher
    path: Path = field(compare=False)

    @property
    def is_emulated(self) -> bool:
        return self.transport.kind == "emulator"

    @property
    def is_host(self) -> bool:
        return self.transport.kind == "pty"

    def budget(self) -> BoardBudget:
        """The board's limits for one model, all taken from this profile."""
        return BoardBudget(
            arena_bytes=self.arena_bytes,
            model_slot_bytes=self.model_slot_bytes,
            model_flash_bytes=self.flash_bytes - self.firmware_flash_bytes,
            max_ops=self.max_ops,
            max_tensors=self.max_tensors,
            firmware_ram_bytes=self.firmware_ram_bytes,
            firmware_flash_bytes=self.firmware_flash_bytes,
            sram_bytes=self.sram_bytes,
            flash_bytes=self.flash_bytes,
        )


def _type_name(spec: Any) -> str:
    if isinstance(spec, OneOf):
        return "one of " + ", ".join(spec.values)
    if isinstance(spec, ListOf):
        return f"list of {_type_name(spec.spec)}"
    if isinstance(spec, dict):
        return "mapping"
    return spec.__name__


def _check(value: Any, spec: Any, where: str, path: Path) -> Any:
    """Validate ``value`` against ``spec``; return it with optional defaults filled."""
    if isinstance(spec, Optional_):
        spec = spec.spec
    if isinstance(spec, dict):
        return _check_mapping(value, spec, where, path)
    if isinstance(spec, ListOf):
        if not isinstance(value, list):
            raise ConfigError(f"{path}: field '{where}' must be {_type_name(spec)}, got {value!r}")
        return [_check(v, spec.spec, f"{where}[{i}]", path) for i, v in enumerate(value)]
    if isinstance(spec, OneOf):
        if value not in spec.values:
            raise ConfigError(f"{path}: field '{where}' must be {_type_name(spec)}, got {value!r}")
        return value
    # bool is a subclass of int in Python: reject True where an int is wanted.
    wrong_bool = spec is int and isinstance(value, bool)
    if not isinstance(value, spec) or wrong_bool:
        raise ConfigError(
            f"{path}: field '{where}' must be {_type_name(spec)}, "
            f"got {type(value).__name__} {value!r}"
        )
    return value


def _check_mapping(value: Any, spec: dict[str, Any], where: str, path: Path) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: field '{where or '<top>'}' must be a mapping, got {value!r}")
    prefix = f"{where}." if where else ""
    unknown = sorted(set(value) - set(spec), key=str)
    if unknown:
        raise ConfigError(f"{path}: unknown field '{prefix}{unknown[0]}'")
    out: dict[str, Any] = {}
    for key, sub in spec.items():
        if key not in value or value[key] is None:
            if isinstance(sub, Optional_):
                out[key] = sub.default
                continue
            raise ConfigError(f"{path}: missing field '{prefix}{key}'")
        out[key] = _check(value[key], sub, prefix + key, path)
    return out


def _check_consistency(d: dict[str, Any], path: Path) -> None:
    """Cross-field rules the per-field schema cannot express."""
    if d["name"] != path.stem:
        raise ConfigError(
            f"{path}: field 'name' is {d['name']!r} but the file stem is {path.stem!r}"
        )
    t = d["transport"]
    if t["kind"] == "emulator":
        for key in ("machine", "icount_shift"):
            if t[key] is None:
                raise ConfigError(f"{path}: missing field 'transport.{key}' (emulator transport)")
    if t["kind"] == "serial":
        for key in ("usb_vid", "usb_pid"):
            if t[key] is None:
                raise ConfigError(f"{path}: missing field 'transport.{key}' (serial transport)")
    for key in ("clock_hz", "sram_bytes", "flash_bytes"):
        if d[key] <= 0:
            raise ConfigError(f"{path}: field '{key}' must be > 0, got {d[key]}")
    fw, eng = d["firmware"], d["engine"]
    for key in ("arena_bytes", "max_ops", "max_tensors"):
        if eng[key] <= 0:
            raise ConfigError(f"{path}: field 'engine.{key}' must be > 0, got {eng[key]}")
    ram_total = fw["ram_bytes"] + eng["arena_bytes"] + fw["model_slot_bytes"]
    if ram_total > d["sram_bytes"]:
        raise ConfigError(
            f"{path}: firmware.ram_bytes + engine.arena_bytes + firmware.model_slot_bytes "
            f"= {ram_total} exceeds sram_bytes {d['sram_bytes']} by {ram_total - d['sram_bytes']}"
        )
    if fw["flash_bytes"] >= d["flash_bytes"]:
        raise ConfigError(f"{path}: field 'firmware.flash_bytes' exceeds flash_bytes")
    fl = d["flasher"]
    if fl["default"] == "pyocd" and not fl["pyocd_target"]:
        raise ConfigError(f"{path}: missing field 'flasher.pyocd_target' (default flasher pyocd)")


def load_profile_file(path: Path) -> BoardProfile:
    """Load and validate one profile YAML; every error names ``path`` and the field."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read profile: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    d = _check_mapping(raw, SCHEMA, "", path)
    _check_consistency(d, path)
    t, fl, fw, tm = d["transport"], d["flasher"], d["firmware"], d["timing"]
    eng = d["engine"]
    return BoardProfile(
        name=d["name"],
        description=d["description"],
        core=d["core"],
        fpu=d["fpu"],
        dsp=d["dsp"],
        clock_hz=d["clock_hz"],
        sram_bytes=d["sram_bytes"],
        flash_bytes=d["flash_bytes"],
        firmware_ram_bytes=fw["ram_bytes"],
        firmware_flash_bytes=fw["flash_bytes"],
        model_slot_bytes=fw["model_slot_bytes"],
        arena_bytes=eng["arena_bytes"],
        max_ops=eng["max_ops"],
        max_tensors=eng["max_tensors"],
        timing_unit=tm["unit"],
        counter=tm["counter"],
        timing_note=tm["note"],
        transport=Transport(
            kind=t["kind"],
            baud=t["baud"],
            usb_vid=t["usb_vid"],
            usb_pid=t["usb_pid"],
            machine=t["machine"],
            icount_shift=t["icount_shift"],
            extra_args=tuple(t["extra_args"]),
        ),
        flasher=Flasher(
            default=fl["default"],
            pyocd_target=fl["pyocd_target"],
            openocd_configs=tuple(fl["openocd_configs"]),
            st_flash_addr=fl["st_flash_addr"],
        ),
        path=path,
    )


def board_names(profile_dir: Path = PROFILE_DIR) -> list[str]:
    """Names of every board with a profile, sorted."""
    return sorted(p.stem for p in Path(profile_dir).glob("*.yaml"))


def load_profile(name: str, profile_dir: Path = PROFILE_DIR) -> BoardProfile:
    """The profile of board ``name``; an unknown name lists the known ones."""
    path = Path(profile_dir) / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(board_names(profile_dir)) or "(none)"
        raise ConfigError(f"unknown board {name!r}: no {path}; known boards: {known}")
    return load_profile_file(path)


def load_all_profiles(profile_dir: Path = PROFILE_DIR) -> list[BoardProfile]:
    return [load_profile(n, profile_dir) for n in board_names(profile_dir)]
