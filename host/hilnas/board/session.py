"""Open a board by profile, whatever kind it is, and hand back a ready client.

Emulated boards boot under QEMU (:mod:`.qemu`), the host-native board runs the
firmware built for Linux on a pty, real boards are found by USB VID:PID. The
caller only sees :class:`~hilnas.board.client.BoardClient`; every process we
start is ended when the ``with`` block ends, however it ends.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from hilnas.board.build import build_firmware
from hilnas.board.client import BoardClient
from hilnas.board.profiles import BoardProfile
from hilnas.board.protocol import Identity
from hilnas.board.qemu import QemuBoard, _die_with_parent
from hilnas.board.transport import Transport, find_serial_port, open_url
from hilnas.errors import (
    BoardError,
    BoardMismatchError,
    DeviceError,
    HilnasError,
    ProtocolError,
    ReplyTimeout,
)


@dataclass
class BoardSession:
    client: BoardClient
    profile: BoardProfile
    elf: Path | None
    boot_s: float


def _read_pty_line(proc: subprocess.Popen[bytes], timeout: float) -> str:
    """The ``PTY /dev/pts/N`` line the host firmware prints first (PROTOCOL.md)."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    line = b""
    while not line.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or proc.poll() is not None:
            raise BoardError(f"host firmware printed no PTY line (got {line!r})")
        ready, _, _ = select.select([proc.stdout], [], [], left)
        if ready:
            byte = os.read(proc.stdout.fileno(), 1)
            if not byte:
                raise BoardError(f"host firmware closed stdout before its PTY line ({line!r})")
            line += byte
    text = line.decode(errors="replace").strip()
    if not text.startswith("PTY "):
        raise BoardError(f"host firmware's first line is {text!r}, expected 'PTY /dev/pts/N'")
    return text[4:]


@contextlib.contextmanager
def _host_board(elf: Path) -> Iterator[Transport]:
    proc = subprocess.Popen(
        [str(elf), "--pty"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=_die_with_parent,
    )
    transport = None
    try:
        transport = open_url(_read_pty_line(proc, 10.0), connect_timeout=2.0)
        yield transport
    finally:
        if transport is not None:
            transport.close()
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(2.0)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _hello_with_kick(client: BoardClient, board: QemuBoard) -> None:
    """HELLO an emulated board; on silence kick QEMU's main loop (RX race, qemu.py)."""
    for attempt in range(4):
        try:
            client.hello()
            return
        except ReplyTimeout:
            if attempt == 3:
                raise
            board.kick()


@contextlib.contextmanager
def _transport_for(
    profile: BoardProfile, elf: Path | None, port: str | None
) -> Iterator[tuple[Transport, QemuBoard | None]]:
    kind = profile.transport.kind
    if kind == "serial":
        t = profile.transport
        url = port or find_serial_port(t.usb_vid or 0, t.usb_pid or 0, profile.name)
        with open_url(url, baud=t.baud, connect_timeout=2.0) as transport:
            transport.drain(0.05)  # bytes left over from before we opened the port
            yield transport, None
        return
    assert elf is not None
    if kind == "emulator":
        with QemuBoard(profile, elf) as board:
            assert board.transport is not None
            try:
                yield board.transport, board
            except DeviceError:
                raise  # the board answered: QEMU is fine, its output adds nothing
            except BoardError as exc:
                # A silent or dead emulator: QEMU's own words (a HardFault dump,
                # semihosting text) are what the user needs to see.
                tail = board.stderr_tail(800)
                if not tail or type(exc) not in (BoardError, ProtocolError, ReplyTimeout):
                    raise
                exc.args = (f"{exc}\nQEMU output (last lines): {tail}",)  # fields kept
                raise
        return
    with _host_board(elf) as transport:
        yield transport, None


def check_board_limits(profile: BoardProfile, identity: Identity) -> None:
    """Refuse a board whose HELLO limits differ from its profile's budget, naming the field.

    The search and deploy stages trust ``profile.budget()``; a firmware built
    from another profile (or an old image) would silently break that promise.
    """
    budget = profile.budget()
    for field, reported in identity.limits().items():
        expected = getattr(budget, field)
        if reported != expected:
            raise BoardMismatchError(profile.name, field, reported, expected)


@contextlib.contextmanager
def open_board(
    profile: BoardProfile,
    elf: Path | None = None,
    port: str | None = None,
    timeout: float = 10.0,
) -> Iterator[BoardSession]:
    """Boot/connect ``profile``'s board, HELLO it, yield a session, then stop it."""
    start = time.monotonic()
    if elf is None and profile.transport.kind != "serial":
        elf = build_firmware(profile).elf
    with _transport_for(profile, elf, port) as (transport, qemu):
        client = BoardClient(transport, board=profile.name, timeout=timeout)
        if qemu is not None:
            client.timeout, client.retries = 1.0, 0
            _hello_with_kick(client, qemu)
            client.timeout, client.retries = timeout, 3
        else:
            client.hello()
        identity = client.identity
        assert identity is not None
        if identity.board != profile.name:
            raise BoardError(
                f"asked for board {profile.name} but the firmware says it is {identity.board!r}"
            )
        check_board_limits(profile, identity)
        session = BoardSession(client, profile, elf, time.monotonic() - start)
        yield session
        if profile.transport.kind != "serial":
            with contextlib.suppress(HilnasError):
                client.shutdown()  # lets QEMU / the host process exit with status 0
