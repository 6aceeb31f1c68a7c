"""Device profiles: the 9 fixed boards load, and bad YAML is named precisely."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hilnas.board.profiles import PROFILE_DIR, board_names, load_profile, load_profile_file
from hilnas.errors import ConfigError

BOARDS = {
    "host",
    "mps2-an385",
    "mps2-an386",
    "mps2-an500",
    "mps2-an505",
    "nucleo-l4r5zi",
    "stm32f746g-disco",
    "nucleo-h743zi2",
    "nrf52840-dk",
}


def test_the_nine_board_names_are_exactly_the_profile_stems() -> None:
    assert set(board_names()) == BOARDS


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_every_profile_validates_and_is_self_consistent(name: str) -> None:
    p = load_profile(name)
    assert p.name == name
    assert 0 < p.firmware_ram_bytes < p.sram_bytes
    if p.is_emulated:
        assert p.timing_unit == "instructions" and p.flasher.default == "qemu"
        assert p.transport.machine == name
    elif p.transport.kind == "serial":
        assert p.timing_unit == "cycles"
        assert p.transport.usb_vid and p.transport.usb_pid and p.transport.baud == 115200
        assert p.flasher.pyocd_target


def test_real_board_facts_match_design_table() -> None:
    l4 = load_profile("nucleo-l4r5zi")
    assert (l4.core, l4.clock_hz, l4.sram_bytes) == ("cortex-m4", 120_000_000, 640 * 1024)
    assert (l4.transport.usb_vid, l4.transport.usb_pid) == (0x0483, 0x374B)
    h7 = load_profile("nucleo-h743zi2")
    assert (h7.core, h7.clock_hz, h7.transport.usb_pid) == ("cortex-m7", 400_000_000, 0x374E)
    assert load_profile("mps2-an505").clock_hz == 20_000_000


def _mutated(tmp_path: Path, edit) -> Path:
    data = yaml.safe_load((PROFILE_DIR / "mps2-an386.yaml").read_text())
    edit(data)
    path = tmp_path / "mps2-an386.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _expect(path: Path, *fragments: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_profile_file(path)
    message = str(info.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message


def test_unknown_key_is_named(tmp_path: Path) -> None:
    _expect(_mutated(tmp_path, lambda d: d["transport"].update(bogus=1)), "transport.bogus")


def test_missing_field_is_named(tmp_path: Path) -> None:
    _expect(_mutated(tmp_path, lambda d: d["firmware"].pop("ram_bytes")), "firmware.ram_bytes")


def test_wrong_type_is_named(tmp_path: Path) -> None:
    _expect(_mutated(tmp_path, lambda d: d.update(clock_hz="25MHz")), "clock_hz", "int")


def test_bool_is_not_accepted_as_int(tmp_path: Path) -> None:
    _expect(_mutated(tmp_path, lambda d: d.update(sram_bytes=True)), "sram_bytes")


def test_enum_field_lists_allowed_values(tmp_path: Path) -> None:
    _expect(_mutated(tmp_path, lambda d: d.update(core="cortex-a53")), "core", "cortex-m4")


def test_emulator_needs_a_machine(tmp_path: Path) -> None:
    _expect(_mutated(tmp_path, lambda d: d["transport"].pop("machine")), "transport.machine")


def test_name_must_match_file_stem(tmp_path: Path) -> None:
    _expect(_mutated(tmp_path, lambda d: d.update(name="other")), "stem")


def test_not_yaml_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("name: [unclosed\n")
    _expect(path, "YAML")


def test_unknown_board_lists_known_ones() -> None:
    with pytest.raises(ConfigError, match="mps2-an386"):
        load_profile("no-such-board")


@pytest.mark.parametrize("name", board_names())
def test_budget_fits_the_chip(name: str) -> None:
    b = load_profile(name).budget()
    assert b.firmware_ram_bytes + b.arena_bytes + b.model_slot_bytes <= b.sram_bytes
    assert b.model_flash_bytes == b.flash_bytes - b.firmware_flash_bytes > 0
    assert b.max_ops > 0 and b.max_tensors > 0


def test_arena_that_overflows_sram_is_refused(tmp_path: Path) -> None:
    text = (PROFILE_DIR / "nrf52840-dk.yaml").read_text()
    bad = tmp_path / "nrf52840-dk.yaml"
    bad.write_text(text.replace("arena_bytes: 61440", "arena_bytes: 61441"))
    with pytest.raises(ConfigError, match="exceeds sram_bytes 262144 by 1"):
        load_profile_file(bad)
