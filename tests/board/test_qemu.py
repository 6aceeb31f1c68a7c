"""QEMU launcher: boots, talks, and never leaves an emulator behind.

Uses a 100-byte echo image (conftest) so the launcher is tested on its own;
the real firmware is exercised in test_board_qemu.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from hilnas.board.profiles import load_profile, load_profile_file
from hilnas.board.qemu import (
    QemuBoard,
    listening_ports,
    qemu_command,
    qemu_pids_owned_by,
    waiting_port,
)
from hilnas.errors import BoardError

pytestmark = [pytest.mark.qemu]

CHILD = """
import sys, time
from hilnas.board.profiles import load_profile
from hilnas.board.qemu import QemuBoard
with QemuBoard(load_profile("mps2-an386"), sys.argv[1]) as board:
    print(board.pid, flush=True)
    time.sleep(60)
"""


def _gone(pid: int, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False


def _read_until(board: QemuBoard, marker: bytes, timeout: float = 5.0) -> bytes:
    assert board.transport is not None
    got = b""
    deadline = time.monotonic() + timeout
    while marker not in got and time.monotonic() < deadline:
        got += board.transport.read_some(0.2)
    return got


def test_command_line_has_icount_and_nodelay_socket() -> None:
    cmd = qemu_command(load_profile("mps2-an505"), Path("fw.elf"), 4321)
    assert cmd[:3] == ["qemu-system-arm", "-M", "mps2-an505"]
    assert "shift=0" in cmd
    assert any("port=4321" in a and "wait=on" in a and "nodelay=on" in a for a in cmd)


def test_boot_echo_and_clean_stop_repeatedly(echo_elf: Path) -> None:
    """Several boots in a row: each echoes host bytes (the RX race) and stops cleanly."""
    for i in range(4):
        with QemuBoard(load_profile("mps2-an386"), echo_elf) as board:
            pid = board.pid
            assert pid is not None and board.transport is not None
            msg = b"ping-%d" % i
            board.transport.write(msg)
            got = _read_until(board, msg, timeout=1.0)
            if msg not in got:  # the RX race: kick, as the session does on a silent HELLO
                board.kick()
                got += _read_until(board, msg, timeout=2.0)
            assert msg in got
        assert _gone(pid)


def test_exception_inside_block_still_stops_qemu(echo_elf: Path) -> None:
    pid = None
    with pytest.raises(RuntimeError), QemuBoard(load_profile("mps2-an386"), echo_elf) as board:
        pid = board.pid
        raise RuntimeError("boom")
    assert pid is not None and _gone(pid)


def test_missing_image_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(BoardError, match="does not exist"):
        QemuBoard(load_profile("mps2-an386"), tmp_path / "nope.elf").start()


def test_garbage_image_crash_is_visible_and_leaves_nothing(tmp_path: Path) -> None:
    """QEMU loads any bytes; the CPU locks up and QEMU aborts: the failure is loud."""
    bad = tmp_path / "bad.elf"
    bad.write_bytes(b"\x7fELF" + bytes(64))
    board = QemuBoard(load_profile("mps2-an386"), bad)
    # QEMU may die before or after we connect; both must be loud.
    with pytest.raises(BoardError, match=r"board gone|QEMU exited"), board:
        assert board.transport is not None
        for _ in range(50):
            board.transport.read_some(0.1)
    assert board.proc is None
    assert "Lockup" in board.stderr_tail()


def test_qemu_refusing_to_start_is_reported_with_its_message(tmp_path: Path) -> None:
    text = (load_profile("mps2-an386").path).read_text().replace(
        "machine: mps2-an386", "machine: no-such-machine"
    )
    path = tmp_path / "mps2-an386.yaml"
    path.write_text(text)
    board = QemuBoard(load_profile_file(path), Path(__file__))
    with pytest.raises(BoardError, match=r"QEMU exited with status 1 .*unsupported machine type"):
        board.start()
    assert board.proc is None


#: How long an interrupted owner may take to exit before we call it a hang. Generous: these
#: tests catch hangs and orphans, not slowness, and a loaded 2-core CI machine once took
#: more than 10-15 s to tear a profiling run down.
HANG_S = 60


def _default_sigint() -> None:
    """Children get SIGINT's default back: a suite started in the background (`cmd &`)
    inherits SIGINT ignored, and Python then never raises KeyboardInterrupt in them."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_no_orphan_when_the_owner_is_interrupted_or_killed(echo_elf: Path, sig: int) -> None:
    """Ctrl-C (SIGINT to the group), SIGTERM and even SIGKILL of the owner end QEMU."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(echo_elf)],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=_default_sigint,
    )
    try:
        assert child.stdout is not None
        qemu_pid = int(child.stdout.readline())
        assert psutil.pid_exists(qemu_pid)
        os.killpg(child.pid, sig)
        child.wait(HANG_S)
        assert _gone(qemu_pid), f"QEMU {qemu_pid} survived {signal.Signals(sig).name}"
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


@pytest.mark.slow
def test_ctrl_c_during_hilnas_profile_leaves_no_qemu(sample_models: dict) -> None:
    """The real CLI, interrupted mid-upload like a user pressing Ctrl-C."""
    hilnas = Path(sys.executable).with_name("hilnas")
    child = subprocess.Popen(
        [str(hilnas), "profile", str(sample_models["cnn100k"]), "--board", "mps2-an386"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=_default_sigint,
    )
    try:
        deadline = time.monotonic() + 120  # includes a firmware build on a cold cache
        while not (pids := qemu_pids_owned_by(child.pid)):
            assert child.poll() is None, child.stderr.read() if child.stderr else ""
            assert time.monotonic() < deadline, "QEMU never started"
            time.sleep(0.1)
        time.sleep(1.0)  # well inside the ~10 s upload
        os.killpg(child.pid, signal.SIGINT)
        assert child.wait(HANG_S) == 130
        assert all(_gone(pid) for pid in pids)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_qemu_picks_its_own_ports_and_we_read_them_from_its_output() -> None:
    cmd = qemu_command(load_profile("mps2-an386"), Path("fw.elf"))
    assert sum("port=0" in a for a in cmd) == 2  # serial and kick: no probe-then-bind window
    line = (b"qemu-system-arm: -chardev socket,id=ser0,...: info: QEMU waiting for connection "
            b"on: disconnected:tcp:127.0.0.1:41889,server=on\n")
    assert waiting_port(b"boot noise\n" + line) == 41889
    assert waiting_port(b"qemu-system-arm: nothing yet") is None


def test_boards_started_together_each_reach_their_own_qemu(echo_elf: Path) -> None:
    """Several boards started at once (as `lut build --jobs` does): each link ends at its
    own QEMU's listening socket and echoes. With a probed port handed to QEMU, a board
    could connect to another process's listener while its own QEMU died with "Address
    already in use": the silent-board failure of test_corrupted_models_never_fault."""
    from concurrent.futures import ThreadPoolExecutor

    boards = [QemuBoard(load_profile("mps2-an386"), echo_elf) for _ in range(3)]
    try:
        with ThreadPoolExecutor(3) as pool:
            list(pool.map(QemuBoard.start, boards))
        for i, board in enumerate(boards):
            assert board.pid is not None and board.proc is not None and board.transport
            assert board.port in listening_ports(board.pid)
            msg = b"own-%d" % i
            board.transport.write(msg)
            got = _read_until(board, msg, timeout=1.0)
            if msg not in got:  # this image has the RX race on purpose: kick, as sessions do
                board.kick()
                got += _read_until(board, msg, timeout=3.0)
            assert msg in got
            assert board.proc.poll() is None
    finally:
        for board in boards:
            board.stop()
