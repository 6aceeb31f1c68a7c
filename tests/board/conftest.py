"""Board-test fixtures: emulator bookkeeping and a tiny echo ELF for launcher tests.

The session fixture ``no_orphan_qemu`` (autouse) proves at the end of the run that
no qemu-system-arm started by this pytest process is still alive. It identifies
ours by the HILNAS_QEMU_OWNER variable in QEMU's environment, because other
engineers' test runs may legitimately have emulators running beside ours.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hilnas.board.qemu import qemu_pids_owned_by, stop_all

ECHO_C = r"""
#include <stdint.h>
#define UART_DATA   (*(volatile uint32_t *)0x40004000u)
#define UART_STATE  (*(volatile uint32_t *)0x40004004u)
#define UART_CTRL   (*(volatile uint32_t *)0x40004008u)
#define UART_BAUD   (*(volatile uint32_t *)0x40004010u)
void reset(void);
__attribute__((section(".vectors"), used))
const void *const vectors[2] = {(const void *)0x20010000u, (const void *)reset};
static void put(uint32_t c) { while (UART_STATE & 1u) {} UART_DATA = c; }
void reset(void) {
    UART_BAUD = 16u;
    UART_CTRL = 3u;
    for (const char *s = "echo-ready\n"; *s; ++s) put((uint8_t)*s);
    for (;;) { if (UART_STATE & 2u) put(UART_DATA); }
}
"""
# Deliberately no dummy DATA read after enabling RX: this image reproduces the
# QEMU 7.2 CMSDK-UART RX race that hilnas.board.qemu works around (QemuBoard.kick).
LINKER = "SECTIONS { . = 0x0; .text : { KEEP(*(.vectors)) *(.text*) *(.rodata*) } }\n"


@pytest.fixture(scope="session", autouse=True)
def no_orphan_qemu() -> Iterator[None]:
    yield
    stop_all()
    left = qemu_pids_owned_by(os.getpid())
    assert not left, f"qemu-system-arm processes outlived the test session: {left}"


@pytest.fixture(scope="session")
def echo_elf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 100-byte M3/M4 image that echoes UART0 (and prints a boot banner)."""
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("arm-none-eabi-gcc not installed")
    d = tmp_path_factory.mktemp("echo")
    (d / "echo.c").write_text(ECHO_C)
    (d / "echo.ld").write_text(LINKER)
    elf = d / "echo.elf"
    cflags = ["-mcpu=cortex-m3", "-mthumb", "-O1", "-nostdlib", "-ffreestanding", "-Wall",
              "-Wextra", "-Werror"]  # fmt: skip
    cmd = ["arm-none-eabi-gcc", *cflags, "-T", str(d / "echo.ld"), str(d / "echo.c"), "-o"]
    subprocess.run([*cmd, str(elf)], check=True)
    return elf


# --- real firmware sessions -------------------------------------------------------------

#: Boards the firmware-level tests run on: the emulated M4 (the acceptance board)
#: and the host-native build (same app code, milliseconds per test).
FIRMWARE_BOARDS = ("mps2-an386", "host")


@pytest.fixture(scope="session")
def sample_models() -> dict[str, Path]:
    from hilnas.board.sample_models import sample_model

    return {name: sample_model(name) for name in ("tiny", "cnn100k")}


class BoardPool:
    """Boards booted at most once per test session, stopped together at its end."""

    def __init__(self) -> None:
        self._stack = contextlib.ExitStack()
        self._open: dict[str, Any] = {}

    def get(self, name: str) -> Any:
        from hilnas.board.profiles import load_profile
        from hilnas.board.session import open_board

        if name not in self._open:
            self._open[name] = self._stack.enter_context(open_board(load_profile(name)))
        return self._open[name]

    def close(self) -> None:
        self._stack.close()
        self._open.clear()


_POOL = BoardPool()


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Stop the pooled boards after the last test of this folder, not at session end.

    An idle emulated board busy-polls its UART, and QEMU under -icount spends ~40% of a
    core on that: left running, four boards took most of a 2-core CI machine from every
    test that came after this folder. (Only called for items under tests/board.)
    """
    here = Path(__file__).parent
    if nextitem is None or Path(str(nextitem.path)).parent != here:
        _POOL.close()


@pytest.fixture(scope="session")
def board_pool() -> Iterator[BoardPool]:
    yield _POOL
    _POOL.close()


@pytest.fixture(scope="session", params=FIRMWARE_BOARDS)
def board(request: pytest.FixtureRequest, board_pool: BoardPool) -> Any:
    """A booted board (session-scoped: boots are the slow part)."""
    return board_pool.get(request.param)
