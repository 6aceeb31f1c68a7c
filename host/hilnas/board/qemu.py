"""Start and stop an emulated board (QEMU 7.2) without ever leaving one behind.

QEMU runs in its own session (process group) so that a terminal Ctrl-C reaches
only us, and we kill the whole group ourselves: on context-manager exit
(success, exception, KeyboardInterrupt), at interpreter exit (atexit), on
SIGTERM (turned into SystemExit so the same clean-up runs) and, if this process
is SIGKILLed, through the kernel's parent-death signal (PR_SET_PDEATHSIG).

The serial line is QEMU's TCP chardev with ``wait=on`` (the CPU does not start
until we connect, so no boot byte is lost) and ``nodelay=on`` (no Nagle: one
round trip would otherwise cost ~45 ms). FACTS §4 has the measurements.

QEMU 7.2 RX race, measured here (host->board bytes vanished in 2-5 boots of 12):
the CMSDK UART does not call qemu_chr_fe_accept_input() when the guest enables
RX through CTRL. If QEMU's main loop evaluated can_receive() while RX was still
off, it stops watching the socket and sleeps in poll() with nothing to wake it.
Any event on a socket QEMU watches wakes it, so each QemuBoard also opens an
unused "kick" chardev; :meth:`QemuBoard.kick` connects to it, the main loop
re-evaluates can_receive() and the bytes flow (12/12 recovered). The session
kicks when the first HELLO meets silence. Firmware can avoid the race entirely
by reading DATA once after enabling RX.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import weakref
from pathlib import Path
from types import TracebackType

from hilnas.board.profiles import BoardProfile
from hilnas.board.transport import Transport, open_url
from hilnas.errors import BoardError, ConfigError, ToolMissingError

QEMU_BINARY = "qemu-system-arm"
#: Set in every QEMU's environment to the pid that started it, so a test suite
#: can prove that none of *its* emulators outlived it (others may run beside it).
OWNER_ENV = "HILNAS_QEMU_OWNER"
PR_SET_PDEATHSIG = 1
_live: weakref.WeakSet[QemuBoard] = weakref.WeakSet()


def qemu_pids_owned_by(owner: int) -> list[int]:
    """Live qemu-system-arm processes started by process ``owner`` (via OWNER_ENV)."""
    import psutil

    pids = []
    for proc in psutil.process_iter(["name"]):
        try:
            if proc.info["name"] != QEMU_BINARY or proc.status() == psutil.STATUS_ZOMBIE:
                continue
            if proc.environ().get(OWNER_ENV) == str(owner):
                pids.append(proc.pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return pids


def free_tcp_port() -> int:
    """A TCP port nobody listens on right now (QEMU binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    """preexec_fn: SIGKILL this child when the process that spawned it dies."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def qemu_command(profile: BoardProfile, elf: Path, port: int, kick_port: int = 0) -> list[str]:
    """The qemu-system-arm command line for ``profile`` (FACTS §4 'working command')."""
    t = profile.transport
    if not profile.is_emulated or t.machine is None:
        raise ConfigError(f"board {profile.name} is not emulated ({profile.path})")
    return [
        QEMU_BINARY,
        "-M", t.machine,
        "-kernel", str(elf),
        "-display", "none",
        "-monitor", "none",
        "-nodefaults",
        "-semihosting-config", "enable=on,target=native",
        "-icount", f"shift={t.icount_shift}",
        "-chardev",
        f"socket,id=ser0,host=127.0.0.1,port={port},server=on,wait=on,nodelay=on",
        "-serial", "chardev:ser0",
        *(["-chardev", f"socket,id=hnkick,host=127.0.0.1,port={kick_port},server=on,wait=off"]
          if kick_port else []),
        *t.extra_args,
    ]  # fmt: skip


def _on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _install_sigterm_handler() -> None:
    """Make SIGTERM run our clean-up (atexit, __exit__) instead of dying silently."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
        signal.signal(signal.SIGTERM, _on_sigterm)


@atexit.register
def stop_all() -> None:
    """Stop every QEMU this process started (atexit, also handy in tests)."""
    for board in list(_live):
        board.stop()


class QemuBoard:
    """One running emulated board with its serial transport.

    Use as a context manager: ``with QemuBoard(profile, elf) as board:
    client = BoardClient(board.transport)``.
    """

    def __init__(self, profile: BoardProfile, elf: Path, connect_timeout: float = 10.0) -> None:
        self.profile = profile
        self.elf = Path(elf)
        self.connect_timeout = connect_timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.transport: Transport | None = None
        self.port = 0
        self.kick_port = 0
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as QEMU)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def start(self) -> Transport:
        if shutil.which(QEMU_BINARY) is None:
            raise ToolMissingError(
                f"{QEMU_BINARY} not found: install Debian's qemu-system-arm "
                "(apt-get install --no-install-recommends qemu-system-arm)"
            )
        if not self.elf.is_file():
            raise BoardError(f"firmware image {self.elf} does not exist")
        _install_sigterm_handler()
        for _attempt in range(3):  # a port can be taken between our probe and QEMU's bind
            self.port, self.kick_port = free_tcp_port(), free_tcp_port()
            self._spawn()
            try:
                self.transport = self._connect()
                return self.transport
            except BoardError:
                if "Address already in use" not in self.stderr_tail():
                    self.stop()
                    raise
                self.stop()
        raise BoardError(f"{self.profile.name}: QEMU could not bind a free TCP port")

    def _spawn(self) -> None:
        cmd = qemu_command(self.profile, self.elf, self.port, self.kick_port)
        self._log.seek(0)
        self._log.truncate()
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
            env={**os.environ, OWNER_ENV: str(os.getpid())},
        )
        _live.add(self)

    def _connect(self) -> Transport:
        """Retry the TCP connect until QEMU listens, or fail with its own words."""
        deadline = time.monotonic() + self.connect_timeout
        url = f"socket://127.0.0.1:{self.port}"
        while True:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise BoardError(
                    f"{self.profile.name}: QEMU exited with status {self.proc.returncode} "
                    f"before the serial link came up: {self.stderr_tail()}"
                )
            try:
                return open_url(url)
            except BoardError as exc:
                if time.monotonic() > deadline:
                    raise BoardError(
                        f"{self.profile.name}: QEMU did not listen on {url} within "
                        f"{self.connect_timeout:.0f} s: {self.stderr_tail()}"
                    ) from exc
                time.sleep(0.02)

    def kick(self) -> None:
        """Wake QEMU's main loop so it re-polls the UART (RX race, module doc)."""
        with contextlib.suppress(OSError), socket.create_connection(
            ("127.0.0.1", self.kick_port), timeout=1.0
        ):
            pass

    def stderr_tail(self, limit: int = 2000) -> str:
        """QEMU's own output (semihosting text, errors), last ``limit`` chars."""
        with contextlib.suppress(ValueError, OSError):
            self._log.flush()
            self._log.seek(0)
            return self._log.read().decode(errors="replace")[-limit:].strip()
        return ""

    def stop(self, grace_s: float = 2.0) -> int | None:
        """Close the link and end QEMU's process group; returns QEMU's exit status."""
        if self.transport is not None:
            self.transport.close()
            self.transport = None
        proc, self.proc = self.proc, None
        _live.discard(self)
        if proc is None:
            return None
        if proc.poll() is None:
            self._signal_group(proc, signal.SIGTERM)
            try:
                proc.wait(grace_s)
            except subprocess.TimeoutExpired:
                self._signal_group(proc, signal.SIGKILL)
                proc.wait()
        return proc.returncode

    @staticmethod
    def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)

    def __enter__(self) -> QemuBoard:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
