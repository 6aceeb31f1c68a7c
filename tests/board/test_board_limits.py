"""The board's limits come from its device profile, and the host checks that they do.

Every emulated board (and the host build) reports arena, model slot, op and tensor
tables in HELLO; they must equal ``BoardProfile.budget()``. Real boards are checked
from their built images (tests/board/test_firmware_builds.py). A board whose
firmware was built from another profile is refused, naming the field.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from hilnas.board.build import build_firmware
from hilnas.board.profiles import load_profile, load_profile_file
from hilnas.board.session import open_board
from hilnas.errors import BoardMismatchError

LIMITS = ("arena_bytes", "model_slot_bytes", "max_ops", "max_tensors", "sram_bytes",
          "flash_bytes")  # fmt: skip


@pytest.mark.qemu
@pytest.mark.slow
@pytest.mark.parametrize("name", ["host", "mps2-an385", "mps2-an386", "mps2-an500", "mps2-an505"])
def test_board_reports_exactly_the_budget_its_profile_computes(board_pool: Any, name: str) -> None:
    identity = board_pool.get(name).client.identity  # one boot per board, shared
    budget = load_profile(name).budget()
    assert identity.limits() == {k: getattr(budget, k) for k in LIMITS}


def test_board_built_from_another_arena_is_refused_naming_the_field(tmp_path: Path) -> None:
    """The host firmware as built from host.yaml, opened against a profile that says
    the arena is 1 MB smaller: the session must refuse it before any model runs."""
    real = load_profile("host")
    if shutil.which("cmake") is None or shutil.which("cc") is None:
        pytest.skip("cmake / cc not installed")
    elf = build_firmware(real).elf
    text = real.path.read_text().replace(f"arena_bytes: {real.arena_bytes}",
                                         f"arena_bytes: {real.arena_bytes - (1 << 20)}")
    (tmp_path / "host.yaml").write_text(text)
    other = load_profile_file(tmp_path / "host.yaml")
    with pytest.raises(BoardMismatchError) as info, open_board(other, elf=elf):
        pass
    err = info.value
    assert (err.field, err.reported, err.expected) == (
        "arena_bytes", real.arena_bytes, real.arena_bytes - (1 << 20))
    assert f"board host reports arena_bytes {real.arena_bytes}, its profile says" in str(err)
