"""The board wire protocol, host side: frames, CRC, resynchronisation, payloads.

Implements firmware/PROTOCOL.md (v1) exactly once on the host; the firmware has
its own single implementation and both are checked byte for byte against
tests/board/golden_frames.json. Nothing here does I/O: :class:`FrameDecoder`
is fed bytes and hands back frames, so the same code runs on a serial port,
QEMU's TCP socket or ``loop://``.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from enum import IntEnum

SOF = b"\xa5\x5a"
VERSION = 1
HEADER = struct.Struct("<2sBBHH")  # SOF, version, opcode, seq, length
CRC = struct.Struct("<I")
OVERHEAD = HEADER.size + CRC.size  # 12 bytes per frame
#: Every v1 firmware build; boards report theirs in HELLO and the host never
#: sends more. Before the first HELLO the host sends at most PRE_HELLO_PAYLOAD.
DEFAULT_MAX_PAYLOAD = 4096
PRE_HELLO_PAYLOAD = 256
REPLY_BIT = 0x80


class Op(IntEnum):
    HELLO = 0x01
    PING = 0x02
    SHUTDOWN = 0x03
    MODEL_BEGIN = 0x10
    MODEL_CHUNK = 0x11
    MODEL_END = 0x12
    MODEL_BUILTIN = 0x13
    MODEL_HOST_FILE = 0x14  # emulated + host boards: the board reads the file itself
    INPUT_CHUNK = 0x20
    RUN = 0x30
    READ_OUTPUT = 0x31
    READ_OPS = 0x32
    ERROR = 0xFF


class Status(IntEnum):
    """Protocol status codes (>= 0x100 so they never collide with hn_status)."""

    BAD_CRC = 0x100
    FRAME_TIMEOUT = 0x101
    UNKNOWN_OPCODE = 0x102
    BAD_LENGTH = 0x103
    MODEL_TOO_BIG = 0x104
    BAD_OFFSET = 0x105
    MODEL_CRC_MISMATCH = 0x106
    NO_MODEL = 0x107
    INPUT_SIZE = 0x108
    BAD_VERSION = 0x109
    NOT_SUPPORTED = 0x10A
    HOST_FILE = 0x10B


#: hn_status values (firmware/engine/include/hn_engine.h), for error messages.
ENGINE_STATUS = {
    0: "HN_OK",
    1: "HN_ERR_MODEL_TRUNCATED",
    2: "HN_ERR_MODEL_MALFORMED",
    3: "HN_ERR_UNSUPPORTED_OP",
    4: "HN_ERR_UNSUPPORTED_OPTION",
    5: "HN_ERR_ARENA_TOO_SMALL",
    6: "HN_ERR_TOO_MANY",
    7: "HN_ERR_BAD_ARGUMENT",
    8: "HN_ERR_NOT_READY",
    9: "HN_ERR_INTERNAL",
}


def status_name(status: int) -> str:
    """Readable name of an error-frame status (protocol or engine)."""
    try:
        return Status(status).name
    except ValueError:
        return ENGINE_STATUS.get(status, f"status 0x{status:x}")


def op_name(opcode: int) -> str:
    base = opcode if opcode == Op.ERROR else opcode & ~REPLY_BIT
    try:
        return Op(base).name
    except ValueError:
        return f"opcode 0x{opcode:02x}"


def crc32(data: bytes) -> int:
    """CRC-32/IEEE as PROTOCOL.md specifies (identical to zlib.crc32)."""
    return zlib.crc32(data) & 0xFFFFFFFF


@dataclass(frozen=True)
class Frame:
    opcode: int
    seq: int
    payload: bytes
    version: int = VERSION

    @property
    def is_error(self) -> bool:
        return self.opcode == Op.ERROR


def encode_frame(opcode: int, seq: int, payload: bytes = b"", version: int = VERSION) -> bytes:
    """Serialise one frame: header, payload, CRC over version..payload."""
    if not 0 <= opcode <= 0xFF:
        raise ValueError(f"opcode {opcode} out of range")
    if len(payload) > 0xFFFF:
        raise ValueError(f"payload of {len(payload)} bytes does not fit the u16 length field")
    body = HEADER.pack(SOF, version, opcode, seq & 0xFFFF, len(payload)) + payload
    return body + CRC.pack(crc32(body[2:]))


@dataclass(frozen=True)
class ErrorReply:
    """Payload of an ERROR (0xFF) frame: status u16, request opcode u8, detail u32, message.

    ``detail`` is status-specific (BAD_OFFSET: the offset the board expects next).
    """

    status: int
    request_opcode: int
    message: str
    detail: int = 0

    FIXED = struct.Struct("<HBI")

    @classmethod
    def decode(cls, payload: bytes) -> ErrorReply:
        if len(payload) < cls.FIXED.size:
            # A malformed error frame is still an error: keep what we can.
            return cls(0xFFFF, 0, f"short error payload {payload.hex()}")
        status, opcode, detail = cls.FIXED.unpack_from(payload)
        text = payload[cls.FIXED.size :].decode("utf-8", errors="replace")
        return cls(status, opcode, text, detail)

    def encode(self) -> bytes:
        fixed = self.FIXED.pack(self.status, self.request_opcode, self.detail)
        return fixed + self.message.encode()

    @property
    def expected_offset(self) -> int | None:
        """Where the board wants an upload to resume (BAD_OFFSET only)."""
        return self.detail if self.status == Status.BAD_OFFSET else None


class FrameDecoder:
    """Incremental frame parser with resynchronisation (PROTOCOL.md §Resync).

    Feed it any byte slices; it returns whole frames with a good CRC. Garbage,
    unknown versions, oversized lengths and bad CRCs are dropped one byte at a
    time (the hunt resumes after the first SOF byte) and counted, so a test can
    see that a resync happened.
    """

    def __init__(self, max_payload: int = DEFAULT_MAX_PAYLOAD) -> None:
        self.max_payload = max_payload
        self._buf = bytearray()
        self.dropped_bytes = 0
        self.bad_crc = 0

    @property
    def pending(self) -> int:
        """Bytes held for a frame that has started but not completed."""
        return len(self._buf)

    def reset(self) -> None:
        self.dropped_bytes += len(self._buf)
        self._buf.clear()

    def feed(self, data: bytes) -> list[Frame]:
        self._buf += data
        frames: list[Frame] = []
        while True:
            frame = self._next_frame()
            if frame is None:
                return frames
            frames.append(frame)

    def _drop(self, n: int) -> None:
        del self._buf[:n]
        self.dropped_bytes += n

    def _next_frame(self) -> Frame | None:
        while True:
            start = self._buf.find(SOF)
            if start < 0:
                # Keep a trailing 0xA5: it may be the first half of the next SOF.
                keep = 1 if self._buf[-1:] == SOF[:1] else 0
                self._drop(len(self._buf) - keep)
                return None
            self._drop(start)
            if len(self._buf) < HEADER.size:
                return None
            _, version, opcode, seq, length = HEADER.unpack_from(self._buf)
            if version != VERSION or length > self.max_payload:
                self._drop(1)
                continue
            total = HEADER.size + length + CRC.size
            if len(self._buf) < total:
                return None
            (want,) = CRC.unpack_from(self._buf, HEADER.size + length)
            if crc32(bytes(self._buf[2 : HEADER.size + length])) != want:
                self.bad_crc += 1
                self._drop(1)
                continue
            payload = bytes(self._buf[HEADER.size : HEADER.size + length])
            del self._buf[:total]
            return Frame(opcode, seq, payload, version)


# --- payloads with a fixed layout (PROTOCOL.md §Requests and replies) -------------


def pack_model_begin(total_bytes: int, crc: int) -> bytes:
    return struct.pack("<II", total_bytes, crc)


def pack_model_host_file(total_bytes: int, crc: int, path: str) -> bytes:
    raw = path.encode()
    if not 1 <= len(raw) <= 255:
        raise ValueError(f"host file path must be 1..255 bytes of UTF-8, got {len(raw)}")
    return struct.pack("<II", total_bytes, crc) + raw


def pack_chunk(offset: int, data: bytes) -> bytes:
    """MODEL_CHUNK / INPUT_CHUNK request: offset u32 then the data."""
    return struct.pack("<I", offset) + data


CHUNK_HEADER = 4  # offset u32 in front of each chunk's data


def unpack_u32(payload: bytes, what: str) -> int:
    if len(payload) != 4:
        raise ValueError(f"{what}: expected 4 payload bytes, got {len(payload)}")
    return struct.unpack("<I", payload)[0]


def pack_run(runs: int, warmup: int) -> bytes:
    return struct.pack("<HH", runs, warmup)


def pack_read_output(offset: int, length: int) -> bytes:
    return struct.pack("<IH", offset, length)


def pack_read_ops(first: int, count: int) -> bytes:
    return struct.pack("<HH", first, count)


OP_RECORD = struct.Struct("<HI")
OPS_HEADER = struct.Struct("<HHH")  # n_ops_total, first, n


def unpack_op_records(payload: bytes) -> tuple[int, int, list[tuple[int, int]]]:
    """READ_OPS reply -> (n_ops_total, first, [(builtin_code, ticks), ...])."""
    if len(payload) < OPS_HEADER.size:
        raise ValueError(f"READ_OPS reply of {len(payload)} bytes is shorter than its header")
    total, first, n = OPS_HEADER.unpack_from(payload)
    body = payload[OPS_HEADER.size :]
    if len(body) != n * OP_RECORD.size:
        raise ValueError(f"READ_OPS reply says {n} records but carries {len(body)} bytes")
    records = [OP_RECORD.unpack_from(body, i * OP_RECORD.size) for i in range(n)]
    return total, first, records


class _Reader:
    """Bounds-checked little-endian reader: a short payload names the field it lacked."""

    def __init__(self, payload: bytes, what: str) -> None:
        self.payload = payload
        self.what = what
        self.pos = 0

    def take(self, fmt: str, field: str) -> int:
        size = struct.calcsize("<" + fmt)
        if self.pos + size > len(self.payload):
            raise ValueError(
                f"{self.what}: payload of {len(self.payload)} bytes ends before field "
                f"{field!r} at offset {self.pos}"
            )
        (value,) = struct.unpack_from("<" + fmt, self.payload, self.pos)
        self.pos += size
        return int(value)

    def string(self, field: str) -> str:
        n = self.take("B", field + ".len")
        if self.pos + n > len(self.payload):
            raise ValueError(f"{self.what}: string {field!r} runs past the payload end")
        text = self.payload[self.pos : self.pos + n].decode("utf-8", errors="replace")
        self.pos += n
        return text


TIMING_KINDS = {0: "cycles", 1: "instructions", 2: "ns"}


@dataclass(frozen=True)
class Identity:
    """HELLO reply: who the board is and what it can take."""

    protocol_version: int
    timing_kind: int
    max_payload: int
    window: int
    max_runs: int
    cpu_hz: int
    counter_hz: int
    sram_bytes: int
    flash_bytes: int
    slot_bytes: int
    arena_bytes: int
    stack_bytes: int
    builtin_model_bytes: int
    calib_ticks: int
    board: str
    core: str
    firmware_version: str
    git_hash: str
    build_flags: str
    timing_unit_text: str
    max_ops: int
    max_tensors: int

    def limits(self) -> dict[str, int]:
        """The board's limits for one model, named as in :class:`BoardBudget`."""
        return {
            "arena_bytes": self.arena_bytes,
            "model_slot_bytes": self.slot_bytes,
            "max_ops": self.max_ops,
            "max_tensors": self.max_tensors,
            "sram_bytes": self.sram_bytes,
            "flash_bytes": self.flash_bytes,
        }

    @property
    def timing_unit(self) -> str:
        """The unit latencies are reported in once converted (instructions, cycles, ns)."""
        return TIMING_KINDS.get(self.timing_kind, "ticks")

    def ticks_to_unit(self, ticks: int) -> float:
        """Counter ticks -> the board's honest unit (instructions under QEMU icount)."""
        if self.timing_kind == 1 and self.calib_ticks:
            return ticks * 1_000_000 / self.calib_ticks
        if self.timing_kind == 0 and self.counter_hz and self.cpu_hz:
            return ticks * self.cpu_hz / self.counter_hz
        return float(ticks)

    @classmethod
    def decode(cls, payload: bytes) -> Identity:
        r = _Reader(payload, "HELLO reply")
        nums = [
            r.take(fmt, name)
            for fmt, name in (
                ("B", "protocol_version"), ("B", "timing_kind"), ("H", "max_payload"),
                ("H", "window"), ("H", "max_runs"), ("I", "cpu_hz"), ("I", "counter_hz"),
                ("I", "sram_bytes"), ("I", "flash_bytes"), ("I", "slot_bytes"),
                ("I", "arena_bytes"), ("I", "stack_bytes"), ("I", "builtin_model_bytes"),
                ("I", "calib_ticks"),
            )
        ]  # fmt: skip
        texts = [
            r.string(f)
            for f in ("board", "core", "firmware_version", "git_hash", "build_flags", "timing_unit")
        ]
        limits = [r.take("I", "max_ops"), r.take("I", "max_tensors")]
        return cls(*nums, *texts, *limits)  # bytes after the last known field: ignored


@dataclass(frozen=True)
class LoadResult:
    """MODEL_END / MODEL_BUILTIN reply."""

    arena_bytes: int
    model_bytes: int
    model_crc32: int
    n_ops: int
    n_inputs: int
    n_outputs: int
    input_bytes: int
    output_bytes: int

    FORMAT = struct.Struct("<IIIHBBII")

    @classmethod
    def decode(cls, payload: bytes) -> LoadResult:
        if len(payload) < cls.FORMAT.size:
            raise ValueError(
                f"load result: {len(payload)} bytes, need {cls.FORMAT.size}"
            )
        return cls(*cls.FORMAT.unpack_from(payload))


@dataclass(frozen=True)
class RunResult:
    """RUN reply: latency in counter ticks plus memory figures."""

    runs: int
    warmup: int
    latency_min: int
    latency_median: int
    latency_max: int
    arena_bytes: int
    stack_high_water: int
    model_bytes: int
    output_bytes: int
    output_crc32: int
    n_ops: int

    FORMAT = struct.Struct("<HHQQQIIIIIHH")

    @classmethod
    def decode(cls, payload: bytes) -> RunResult:
        if len(payload) < cls.FORMAT.size:
            raise ValueError(f"run result: {len(payload)} bytes, need {cls.FORMAT.size}")
        fields = cls.FORMAT.unpack_from(payload)
        return cls(*fields[:-1])  # last u16 is reserved
