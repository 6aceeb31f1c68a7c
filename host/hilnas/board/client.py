"""Commands to a board over any :class:`~hilnas.board.transport.Transport`.

One request = one frame out, one frame back with the same ``seq``. Error frames
become :class:`~hilnas.errors.DeviceError` carrying the board's status code,
its name, the request opcode and seq. Link-level trouble (no reply, a frame the
board dropped as BAD_CRC/FRAME_TIMEOUT) is retried a few times with a fresh seq;
stale replies are recognised by their seq and skipped, which is our
resynchronisation. Model and input upload keep ``window`` chunks in flight
(HELLO says how many) because QEMU's UART is slow and a stop-and-wait round
trip per chunk would dominate the protocol overhead.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from hilnas.board import protocol as P
from hilnas.board.transport import Transport
from hilnas.errors import BoardError, DeviceError, ProtocolError, ReplyTimeout

#: Error statuses that mean "the frame was damaged on the way, send it again".
TRANSIENT = frozenset({P.Status.BAD_CRC, P.Status.FRAME_TIMEOUT})

ProgressFn = Callable[[int, int], None]


__all__ = ["BoardClient", "ReplyTimeout", "device_error"]


def device_error(board: str, frame: P.Frame, request_op: int) -> DeviceError:
    """The DeviceError for an error frame: every field of the frame, declared."""
    err = P.ErrorReply.decode(frame.payload)
    name = P.status_name(err.status)
    return DeviceError(
        err.status,
        f"{board}: {P.op_name(request_op)} (seq {frame.seq}) failed: "
        f"{name} (0x{err.status:x}): {err.message}",
        board=board,
        status_name=name,
        opcode=request_op,
        seq=frame.seq,
        board_message=err.message,
        expected_offset=err.expected_offset,
    )


class BoardClient:
    """Speaks firmware/PROTOCOL.md v1 to one board."""

    def __init__(
        self,
        transport: Transport,
        board: str = "board",
        timeout: float = 5.0,
        retries: int = 3,
    ) -> None:
        self.transport = transport
        self.board = board
        self.timeout = timeout
        self.retries = retries
        self.decoder = P.FrameDecoder(P.DEFAULT_MAX_PAYLOAD)
        self.identity: P.Identity | None = None
        self._frames: deque[P.Frame] = deque()
        self._seq = 0
        self.retried = 0

    # --- frames ------------------------------------------------------------------

    def next_seq(self) -> int:
        self._seq = (self._seq + 1) & 0xFFFF or 1  # 0 means "unknown" in error replies
        return self._seq

    def send(self, opcode: int, payload: bytes = b"") -> int:
        """Send one request frame; returns its seq (reply not awaited)."""
        limit = self.identity.max_payload if self.identity else P.PRE_HELLO_PAYLOAD
        if len(payload) > limit:
            raise ProtocolError(
                f"{self.board}: {P.op_name(opcode)} payload of {len(payload)} bytes exceeds "
                f"the board's limit of {limit}"
            )
        seq = self.next_seq()
        self.transport.write(P.encode_frame(opcode, seq, payload))
        return seq

    def read_frame(self, timeout: float) -> P.Frame | None:
        """The next well-formed frame from the board, or None after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while not self._frames:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            data = self.transport.read_some(remaining)
            if data:
                self._frames.extend(self.decoder.feed(data))
        return self._frames.popleft()

    def receive(self, seq: int, opcode: int, timeout: float | None = None) -> bytes:
        """Payload of the reply to request ``seq``; raises DeviceError on an error frame."""
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while True:
            frame = self.read_frame(max(deadline - time.monotonic(), 0.0))
            if frame is None:
                raise ReplyTimeout(self.board, opcode, P.op_name(opcode), seq, timeout)
            if frame.seq != seq:
                continue  # a stale reply to an earlier (retried) request
            if frame.is_error:
                raise device_error(self.board, frame, opcode)
            if frame.opcode != opcode | P.REPLY_BIT:
                raise ProtocolError(
                    f"{self.board}: reply to {P.op_name(opcode)} (seq {seq}) has opcode "
                    f"0x{frame.opcode:02x}, expected 0x{opcode | P.REPLY_BIT:02x}"
                )
            return frame.payload

    def request(self, opcode: int, payload: bytes = b"", timeout: float | None = None) -> bytes:
        """Send and await the reply, retrying link-level failures with a fresh seq."""
        for attempt in range(self.retries + 1):
            seq = self.send(opcode, payload)
            try:
                return self.receive(seq, opcode, timeout)
            except ReplyTimeout:
                if attempt == self.retries:
                    raise
            except DeviceError as exc:
                if exc.status not in TRANSIENT or attempt == self.retries:
                    raise
            self.retried += 1
        raise AssertionError("unreachable")

    # --- commands ----------------------------------------------------------------

    def hello(self) -> P.Identity:
        payload = self.request(P.Op.HELLO, bytes([P.VERSION]))
        try:
            self.identity = P.Identity.decode(payload)
        except ValueError as exc:
            raise ProtocolError(f"{self.board}: {exc}") from exc
        self.decoder.max_payload = max(self.identity.max_payload, P.DEFAULT_MAX_PAYLOAD)
        return self.identity

    def ping(self, data: bytes = b"") -> bytes:
        echo = self.request(P.Op.PING, data)
        if echo != data:
            raise ProtocolError(f"{self.board}: PING echoed {len(echo)} bytes that differ")
        return echo

    def shutdown(self) -> bool:
        """Ask the board to stop; True if it acknowledged before going away."""
        try:
            self.receive(self.send(P.Op.SHUTDOWN), P.Op.SHUTDOWN, timeout=2.0)
        except BoardError:
            return False  # the board may exit before its reply gets through
        return True

    def _require_identity(self) -> P.Identity:
        return self.identity if self.identity is not None else self.hello()

    def load_model(self, model: bytes, progress: ProgressFn | None = None) -> P.LoadResult:
        """Stream ``model`` into the board's RAM slot and let the engine load it."""
        self._require_identity()
        slot = P.unpack_u32(
            self.request(P.Op.MODEL_BEGIN, P.pack_model_begin(len(model), P.crc32(model))),
            "MODEL_BEGIN reply",
        )
        if len(model) > slot:
            raise ProtocolError(f"{self.board}: accepted {len(model)} bytes into a {slot} slot")
        self.stream_chunks(P.Op.MODEL_CHUNK, model, progress)
        return self._load_result(self.request(P.Op.MODEL_END, timeout=max(self.timeout, 30.0)))

    def load_model_host_file(self, path: Path) -> P.LoadResult:
        """Bulk path (emulated and host boards): the board reads ``path`` itself.

        Semihosting moves ~100 KB in milliseconds where QEMU's UART needs
        seconds; the UART upload stays the default and this is for tables of
        many models. Real boards answer NOT_SUPPORTED.
        """
        model = Path(path).read_bytes()
        payload = P.pack_model_host_file(len(model), P.crc32(model), str(Path(path).resolve()))
        return self._load_result(
            self.request(P.Op.MODEL_HOST_FILE, payload, timeout=max(self.timeout, 30.0))
        )

    def load_builtin(self) -> P.LoadResult:
        return self._load_result(self.request(P.Op.MODEL_BUILTIN, timeout=30.0))

    def _load_result(self, payload: bytes) -> P.LoadResult:
        try:
            return P.LoadResult.decode(payload)
        except ValueError as exc:
            raise ProtocolError(f"{self.board}: {exc}") from exc

    def write_input(self, data: bytes) -> None:
        self._require_identity()
        self.stream_chunks(P.Op.INPUT_CHUNK, data)

    def stream_chunks(self, opcode: int, data: bytes, progress: ProgressFn | None = None) -> None:
        """Upload ``data`` as sequential chunks, ``window`` frames in flight.

        After a lost or damaged chunk the board answers the following in-flight
        chunks with BAD_OFFSET; we restart from the last acknowledged offset.
        """
        ident = self._require_identity()
        size = ident.max_payload - P.CHUNK_HEADER
        window = max(1, ident.window)
        acked, sent, failures = 0, 0, 0
        inflight: deque[tuple[int, int]] = deque()  # (seq, end offset)
        while acked < len(data):
            while len(inflight) < window and sent < len(data):
                end = min(sent + size, len(data))
                inflight.append((self.send(opcode, P.pack_chunk(sent, data[sent:end])), end))
                sent = end
            seq, end = inflight.popleft()
            try:
                next_offset = P.unpack_u32(self.receive(seq, opcode), "chunk reply")
            except (ReplyTimeout, DeviceError) as exc:
                transient = isinstance(exc, ReplyTimeout) or exc.status in (
                    *TRANSIENT,
                    P.Status.BAD_OFFSET,
                )
                failures += 1
                if not transient or failures > self.retries:
                    raise
                self.retried += 1
                inflight.clear()  # their replies are recognised as stale by seq
                acked = self._board_offset(exc, acked, len(data))
                sent = acked
                continue
            if next_offset != end:
                raise ProtocolError(
                    f"{self.board}: {P.op_name(opcode)} acknowledged offset {next_offset}, "
                    f"expected {end}"
                )
            acked = end
            if progress:
                progress(acked, len(data))

    @staticmethod
    def _board_offset(exc: Exception, acked: int, total: int) -> int:
        """Where to resume after a failed chunk.

        If a reply (not the chunk) was lost, the board is ahead of us and says
        so in its BAD_OFFSET error's ``expected_offset``. Its bytes up to there
        arrived with good CRCs, so resuming there is safe; anything else
        restarts at ``acked``.
        """
        expected = exc.expected_offset if isinstance(exc, DeviceError) else None
        if expected is not None and acked <= expected <= total:
            return expected
        return acked

    def run(self, runs: int, warmup: int, timeout: float = 120.0) -> P.RunResult:
        payload = self.request(P.Op.RUN, P.pack_run(runs, warmup), timeout=timeout)
        try:
            return P.RunResult.decode(payload)
        except ValueError as exc:
            raise ProtocolError(f"{self.board}: {exc}") from exc

    def read_output(self, n_bytes: int) -> bytes:
        ident = self._require_identity()
        out = bytearray()
        while len(out) < n_bytes:
            length = min(ident.max_payload, n_bytes - len(out))
            part = self.request(P.Op.READ_OUTPUT, P.pack_read_output(len(out), length))
            if len(part) != length:
                raise ProtocolError(
                    f"{self.board}: READ_OUTPUT at {len(out)} returned "
                    f"{len(part)} of {length} bytes"
                )
            out += part
        return bytes(out)

    def read_ops(self) -> list[tuple[int, int]]:
        """(builtin_code, ticks) of every op of the last invoke, in execution order."""
        records: list[tuple[int, int]] = []
        total = None
        while total is None or len(records) < total:
            payload = self.request(P.Op.READ_OPS, P.pack_read_ops(len(records), 0xFFFF))
            try:
                total, first, part = P.unpack_op_records(payload)
            except ValueError as exc:
                raise ProtocolError(f"{self.board}: {exc}") from exc
            if first != len(records) or (not part and len(records) < total):
                raise ProtocolError(f"{self.board}: READ_OPS returned no progress at {first}")
            records += part
        return records
