"""One byte transport for every board: a pyserial URL.

A real board is a serial port (found by USB VID:PID), QEMU is ``socket://``
to its TCP chardev, the host-native board is a pty path, protocol unit tests
use ``loop://``. Everything above this module only sees :class:`Transport`.
"""

from __future__ import annotations

import contextlib
import termios
import time
from types import TracebackType

import serial
from serial.tools import list_ports

from hilnas.errors import BoardError

#: What pyserial lets escape from a dead port (termios.error is not an OSError).
_IO_ERRORS = (serial.SerialException, OSError, termios.error)


class Transport:
    """Bytes in, bytes out, with explicit timeouts (never blocks forever)."""

    def __init__(self, port: serial.SerialBase, url: str) -> None:
        self._port = port
        self.url = url
        self.bytes_written = 0
        self.bytes_read = 0

    def write(self, data: bytes) -> None:
        try:
            self._port.write(data)
            self._port.flush()
        except _IO_ERRORS as exc:
            raise BoardError(f"{self.url}: write failed: {exc}") from exc
        self.bytes_written += len(data)

    def read_some(self, timeout: float) -> bytes:
        """Whatever bytes arrive within ``timeout`` s (at least one, or b"")."""
        self._port.timeout = max(timeout, 0.0)
        try:
            first = self._port.read(1)
            if not first:
                return b""
            waiting = self._port.in_waiting
            data = first + (self._port.read(waiting) if waiting else b"")
        except _IO_ERRORS as exc:
            raise BoardError(f"{self.url}: read failed (board gone?): {exc}") from exc
        self.bytes_read += len(data)
        return data

    def drain(self, quiet_s: float = 0.05) -> bytes:
        """Read and return everything until the line has been quiet for quiet_s."""
        out = bytearray()
        while chunk := self.read_some(quiet_s):
            out += chunk
        return bytes(out)

    def close(self) -> None:
        with contextlib.suppress(*_IO_ERRORS):
            self._port.close()

    def __enter__(self) -> Transport:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_url(url: str, baud: int = 115200, connect_timeout: float = 0.0) -> Transport:
    """Open a pyserial URL; retry until ``connect_timeout`` (QEMU may not listen yet)."""
    deadline = time.monotonic() + connect_timeout
    while True:
        try:
            port = serial.serial_for_url(url, baudrate=baud, timeout=0.1, do_not_open=False)
            return Transport(port, url)
        except (serial.SerialException, OSError, ValueError) as exc:
            if time.monotonic() >= deadline:
                raise BoardError(f"cannot open {url}: {exc}") from exc
            time.sleep(0.02)


def find_serial_port(vid: int, pid: int, board: str = "") -> str:
    """The device path of the only serial port with this USB VID:PID.

    Several matches are an error too: profiling the wrong board silently would
    be worse than asking the user for ``--port``.
    """
    matches = [p.device for p in list_ports.comports() if p.vid == vid and p.pid == pid]
    what = f"board {board} " if board else ""
    if not matches:
        raise BoardError(
            f"no serial port for {what}(USB {vid:04x}:{pid:04x}); is it plugged in? "
            "Pass --port to choose one"
        )
    if len(matches) > 1:
        raise BoardError(
            f"several serial ports match {what}(USB {vid:04x}:{pid:04x}): "
            f"{', '.join(sorted(matches))}; pass --port"
        )
    return matches[0]
