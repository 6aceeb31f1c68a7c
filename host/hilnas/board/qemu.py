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
kicks when the first HELLO meets silence. Our firmware also reads DATA once
after enabling RX, which narrows the race; a CI run still met one fresh launch
that never answered its first request (tests/board/firmware_util.Link kicks too).

Ports: QEMU binds port 0 itself and we read the port it got from its own
"waiting for connection on ...:PORT" line. Probing a free port first and handing
it to QEMU is racy: another process (a second test run, several boards of a LUT
build) can bind the same port in between; our QEMU then exits with "Address
already in use" while our connect succeeds, to the *other* listener, and every
request meets silence ("board answered 0 of 1 frames in time", reproduced in
tests/board/test_qemu.py). With port 0 there is no window: the port we connect to
is the one our QEMU is blocked listening on.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import TypeVar

from hilnas.board.profiles import BoardProfile
from hilnas.board.transport import Transport, open_url
from hilnas.errors import BoardError, ConfigError, ToolMissingError

QEMU_BINARY = "qemu-system-arm"
#: Set in every QEMU's environment to the pid that started it, so a test suite
#: can prove that none of *its* emulators outlived it (others may run beside it).
OWNER_ENV = "HILNAS_QEMU_OWNER"
PR_SET_PDEATHSIG = 1
_live: weakref.WeakSet[QemuBoard] = weakref.WeakSet()
T = TypeVar("T")


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


#: QEMU's line for a wait=on server socket, with the address it actually bound.
_WAITING = re.compile(rb"waiting for connection on: \S*tcp:127\.0\.0\.1:(\d+),server")


def waiting_port(qemu_output: bytes) -> int | None:
    """The serial port QEMU bound, from its "waiting for connection on" line (None: not yet)."""
    m = _WAITING.search(qemu_output)
    return int(m.group(1)) if m else None


def listening_ports(pid: int) -> set[int]:
    """TCP ports process ``pid`` listens on (QEMU's serial and kick sockets)."""
    import psutil

    with contextlib.suppress(psutil.Error):
        return {c.laddr.port for c in psutil.Process(pid).net_connections("tcp")
                if c.status == psutil.CONN_LISTEN}
    return set()


def _die_with_parent() -> None:
    """preexec_fn: SIGKILL this child when the process that spawned it dies."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


_spawner: ThreadPoolExecutor | None = None
_spawner_lock = threading.Lock()


def _spawn_from_a_thread_that_lives(popen: Callable[[], T]) -> T:
    """Run ``popen`` in a thread that lives as long as this process.

    PR_SET_PDEATHSIG fires when the *thread* that forked the child exits, not the
    process: a board started from a worker thread (several boards at once) would be
    killed as soon as that worker finished. The main thread, or one long-lived
    spawner thread, outlives every board."""
    global _spawner
    if threading.current_thread() is threading.main_thread():
        return popen()
    with _spawner_lock:
        if _spawner is None:
            _spawner = ThreadPoolExecutor(1, thread_name_prefix="hilnas-qemu-spawner")
    return _spawner.submit(popen).result()


def qemu_command(profile: BoardProfile, elf: Path, port: int = 0, kick: bool = True) -> list[str]:
    """The qemu-system-arm command line for ``profile`` (FACTS §4 'working command').

    ``port`` 0 (the default) lets QEMU pick free ports itself (module doc: Ports)."""
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
        # The kick socket first: QEMU opens chardevs in order and blocks in ser0's
        # wait=on, so the kick must already listen when we read QEMU's ports.
        *(["-chardev", "socket,id=hnkick,host=127.0.0.1,port=0,server=on,wait=off"]
          if kick else []),
        "-chardev",
        f"socket,id=ser0,host=127.0.0.1,port={port},server=on,wait=on,nodelay=on",
        "-serial", "chardev:ser0",
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

    def __init__(self, profile: BoardProfile, elf: Path, connect_timeout: float = 30.0) -> None:
        self.profile = profile
        self.elf = Path(elf)
        # a deadline for a failure only (QEMU listens within ~0.1 s when it gets a core):
        # a starved QEMU on a loaded 2-core machine once took over 10 s
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
        self._spawn()
        try:
            self.port = self._wait_for_listen()
            self.kick_port = min(listening_ports(self.pid or 0) - {self.port}, default=0)
            self.transport = self._connect()
        except BaseException:
            self.stop()
            raise
        return self.transport

    def _spawn(self) -> None:
        cmd = qemu_command(self.profile, self.elf)
        self._log.seek(0)
        self._log.truncate()
        def popen() -> subprocess.Popen[bytes]:
            return subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
                env={**os.environ, OWNER_ENV: str(os.getpid())},
            )

        self.proc = _spawn_from_a_thread_that_lives(popen)
        _live.add(self)

    def _wait_for_listen(self) -> int:
        """The port our QEMU bound and now blocks on (wait=on), from its own output."""
        deadline = time.monotonic() + self.connect_timeout
        while True:
            assert self.proc is not None
            port = waiting_port(self._output())
            if port is not None:
                return port
            if self.proc.poll() is not None:
                raise BoardError(
                    f"{self.profile.name}: QEMU exited with status {self.proc.returncode} "
                    f"before the serial link came up: {self.stderr_tail()}"
                )
            if time.monotonic() > deadline:
                raise BoardError(
                    f"{self.profile.name}: QEMU did not listen within "
                    f"{self.connect_timeout:.0f} s: {self.stderr_tail()}"
                )
            time.sleep(0.01)

    def _connect(self) -> Transport:
        """Connect to the port our QEMU listens on; it is still blocked waiting for us."""
        try:
            return open_url(f"socket://127.0.0.1:{self.port}")
        except BoardError as exc:
            raise BoardError(f"{self.profile.name}: {exc}: {self.stderr_tail()}") from exc

    def _output(self) -> bytes:
        """QEMU's output so far. pread, not seek+read: QEMU shares the file offset
        (its stdout is our descriptor), and moving it would make QEMU overwrite."""
        with contextlib.suppress(ValueError, OSError):
            fd = self._log.fileno()
            return os.pread(fd, os.fstat(fd).st_size, 0)
        return b""

    def kick(self) -> None:
        """Wake QEMU's main loop so it re-polls the UART (RX race, module doc)."""
        with contextlib.suppress(OSError), socket.create_connection(
            ("127.0.0.1", self.kick_port), timeout=1.0
        ):
            pass

    def stderr_tail(self, limit: int = 2000) -> str:
        """QEMU's own output (semihosting text, errors), last ``limit`` chars."""
        return self._output().decode(errors="replace")[-limit:].strip()

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
