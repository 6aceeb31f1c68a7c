"""Shared helpers for the firmware tests (tests/board/test_firmware_*.py).

An independent, minimal implementation of the frame format of
firmware/PROTOCOL.md (so the firmware is checked against the spec, not against
the host package's codec), the golden-frame cases, and cached CMake builds of
the firmware exactly as firmware/README.md documents them (board facts from the
fragment hilnas generates from the device profile).

Regenerate tests/board/golden_frames.json (only when PROTOCOL.md changes):
    .venv/bin/python tests/board/firmware_util.py --write-golden
The expected replies are written from the spec here, never captured from the
firmware, so the golden test can fail.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIRMWARE = REPO / "firmware"
TOOLCHAIN = FIRMWARE / "cmake" / "arm-none-eabi.cmake"
BUILD_ROOT = REPO / ".hilnas-cache" / "fw-tests"
GOLDEN = Path(__file__).with_name("golden_frames.json")

EMULATED = ["mps2-an385", "mps2-an386", "mps2-an500", "mps2-an505"]
REAL = ["nucleo-l4r5zi", "stm32f746g-disco", "nucleo-h743zi2", "nrf52840-dk"]
CORES = {
    "mps2-an385": "cortex-m3", "mps2-an386": "cortex-m4", "mps2-an500": "cortex-m7",
    "mps2-an505": "cortex-m33", "nucleo-l4r5zi": "cortex-m4", "stm32f746g-disco": "cortex-m7",
    "nucleo-h743zi2": "cortex-m7", "nrf52840-dk": "cortex-m4",
}  # fmt: skip

# opcodes and statuses (PROTOCOL.md)
HELLO, PING, SHUTDOWN = 0x01, 0x02, 0x03
MODEL_BEGIN, MODEL_CHUNK, MODEL_END, MODEL_BUILTIN, MODEL_HOST_FILE = 0x10, 0x11, 0x12, 0x13, 0x14
INPUT_CHUNK, RUN, READ_OUTPUT, READ_OPS = 0x20, 0x30, 0x31, 0x32
ERROR = 0xFF
BAD_CRC, FRAME_TIMEOUT, UNKNOWN_OPCODE, BAD_LENGTH = 0x100, 0x101, 0x102, 0x103
MODEL_TOO_BIG, BAD_OFFSET, MODEL_CRC_MISMATCH, NO_MODEL = 0x104, 0x105, 0x106, 0x107
INPUT_SIZE, BAD_VERSION, NOT_SUPPORTED, HOST_FILE = 0x108, 0x109, 0x10A, 0x10B
MAX_PAYLOAD = 4096
HOST_SLOT = 4194304  # device_profiles/host.yaml firmware.model_slot_bytes


def frame(opcode: int, seq: int, payload: bytes = b"", version: int = 1) -> bytes:
    """One frame: SOF, header, payload, CRC-32 over version..payload."""
    body = struct.pack("<BBHH", version, opcode, seq, len(payload)) + payload
    return b"\xa5\x5a" + body + struct.pack("<I", zlib.crc32(body))


def error_payload(status: int, opcode: int, message: str, detail: int = 0) -> bytes:
    return struct.pack("<HBI", status, opcode, detail) + message.encode()


@dataclass
class Frame:
    opcode: int
    seq: int
    payload: bytes

    @property
    def status(self) -> int:
        """Status of an error reply (0 for a normal reply)."""
        return struct.unpack_from("<H", self.payload)[0] if self.opcode == ERROR else 0

    @property
    def detail(self) -> int:
        """Status-specific figure of an error reply (BAD_OFFSET: the expected offset)."""
        return struct.unpack_from("<I", self.payload, 3)[0] if self.opcode == ERROR else 0

    @property
    def message(self) -> str:
        return self.payload[7:].decode() if self.opcode == ERROR else ""


class FrameReader:
    """Split a byte stream into frames, checking SOF, version and CRC strictly:
    the firmware's output must never need resynchronisation."""

    def __init__(self) -> None:
        self.buf = b""

    def feed(self, data: bytes) -> list[Frame]:
        self.buf += data
        out: list[Frame] = []
        while len(self.buf) >= 8:
            assert self.buf[:3] == b"\xa5\x5a\x01", f"bad frame start {self.buf[:8].hex()}"
            opcode, seq, length = struct.unpack_from("<BHH", self.buf, 3)
            if len(self.buf) < 12 + length:
                break
            crc = struct.unpack_from("<I", self.buf, 8 + length)[0]
            assert crc == zlib.crc32(self.buf[2 : 8 + length]), "reply CRC mismatch"
            out.append(Frame(opcode, seq, self.buf[8 : 8 + length]))
            self.buf = self.buf[12 + length :]
        return out


def parse_all(data: bytes) -> list[Frame]:
    reader = FrameReader()
    frames = reader.feed(data)
    assert reader.buf == b"", f"trailing bytes {reader.buf.hex()}"
    return frames


def upload_frames(model: bytes, first_seq: int = 100, chunk: int = MAX_PAYLOAD - 4) -> list[bytes]:
    """MODEL_BEGIN, the MODEL_CHUNKs and MODEL_END for ``model``."""
    frames = [frame(MODEL_BEGIN, first_seq, struct.pack("<II", len(model), zlib.crc32(model)))]
    for i, off in enumerate(range(0, len(model), chunk)):
        data = struct.pack("<I", off) + model[off : off + chunk]
        frames.append(frame(MODEL_CHUNK, first_seq + 1 + i, data))
    frames.append(frame(MODEL_END, first_seq + 1 + len(frames)))
    return frames


def golden_cases() -> list[dict[str, object]]:
    """Request bytes and the exact reply frames PROTOCOL.md prescribes (host board)."""
    big = HOST_SLOT + 1
    model = b"\x00\x00\x00\x00TFL3" + bytes(range(24))
    cases: list[tuple[str, bytes, list[tuple[int, int, bytes]]]] = [
        ("ping", frame(PING, 1, b"hilnas"), [(PING | 0x80, 1, b"hilnas")]),
        ("ping_empty", frame(PING, 0xFFFF), [(PING | 0x80, 0xFFFF, b"")]),
        ("ping_max_payload", frame(PING, 7, bytes(range(256)) * 16),
         [(PING | 0x80, 7, bytes(range(256)) * 16)]),
        ("garbage_then_ping", b"\x00\xa5\x13\xa5" + frame(PING, 2, b"x"), [(PING | 0x80, 2, b"x")]),
        ("sof_inside_payload", frame(PING, 3, b"\xa5\x5a\x01\x02"),
         [(PING | 0x80, 3, b"\xa5\x5a\x01\x02")]),
        ("unknown_opcode", frame(0x55, 4),
         [(ERROR, 4, error_payload(UNKNOWN_OPCODE, 0x55, "unknown opcode 85"))]),
        ("reply_opcode_sent_to_board", frame(0x82, 5),
         [(ERROR, 5, error_payload(UNKNOWN_OPCODE, 0x82, "unknown opcode 130"))]),
        ("bad_crc_then_ping", frame(PING, 6, b"y")[:-1] + b"\x00" + frame(PING, 7, b"z"),
         [(ERROR, 6, error_payload(BAD_CRC, PING, "frame CRC mismatch (payload length 1)")),
          (PING | 0x80, 7, b"z")]),
        ("bad_version_then_ping", frame(PING, 8, b"", version=2) + frame(PING, 9),
         [(ERROR, 8, error_payload(BAD_VERSION, PING,
                                   "frame version 2 unsupported (board speaks 1)")),
          (PING | 0x80, 9, b"")]),
        ("oversized_then_ping",
         b"\xa5\x5a" + struct.pack("<BBHH", 1, PING, 10, MAX_PAYLOAD + 1) + bytes(40)
         + frame(PING, 11),
         [(ERROR, 10, error_payload(BAD_LENGTH, PING,
                                    "frame length 4097 exceeds MAX_PAYLOAD 4096")),
          (PING | 0x80, 11, b"")]),
        ("hello_wrong_version", frame(HELLO, 12, b"\x02"),
         [(ERROR, 12, error_payload(BAD_VERSION, HELLO,
                                    "host asks for protocol version 2, board speaks 1"))]),
        ("hello_wrong_length", frame(HELLO, 13),
         [(ERROR, 13, error_payload(BAD_LENGTH, HELLO,
                                    "HELLO payload must be 1 bytes, got 0"))]),
        ("model_too_big", frame(MODEL_BEGIN, 14, struct.pack("<II", big, 0)),
         [(ERROR, 14, error_payload(MODEL_TOO_BIG, MODEL_BEGIN,
                                    f"model of {big} bytes exceeds the model slot of "
                                    f"{HOST_SLOT} bytes on host"))]),
        ("model_empty", frame(MODEL_BEGIN, 15, struct.pack("<II", 0, 0)),
         [(ERROR, 15, error_payload(BAD_LENGTH, MODEL_BEGIN, "MODEL_BEGIN total_bytes is 0"))]),
        ("chunk_without_begin", frame(MODEL_CHUNK, 16, struct.pack("<I", 0) + b"abc"),
         [(ERROR, 16, error_payload(NO_MODEL, MODEL_CHUNK, "MODEL_CHUNK without MODEL_BEGIN"))]),
        ("chunk_bad_offset_and_past_end",
         frame(MODEL_BEGIN, 17, struct.pack("<II", 8, 0))
         + frame(MODEL_CHUNK, 18, struct.pack("<I", 4) + b"abcd")
         + frame(MODEL_CHUNK, 19, struct.pack("<I", 0) + bytes(9))
         + frame(MODEL_CHUNK, 20, struct.pack("<I", 0) + bytes(8)),
         [(MODEL_BEGIN | 0x80, 17, struct.pack("<I", HOST_SLOT)),
          (ERROR, 18, error_payload(BAD_OFFSET, MODEL_CHUNK,
                                    "MODEL_CHUNK offset 4 but the board expects 0", detail=0)),
          (ERROR, 19, error_payload(MODEL_TOO_BIG, MODEL_CHUNK,
                                    "MODEL_CHUNK bytes 0..9 run past the expected size 8")),
          (MODEL_CHUNK | 0x80, 20, struct.pack("<I", 8))]),
        ("model_crc_mismatch",
         frame(MODEL_BEGIN, 21, struct.pack("<II", len(model), 0x12345678))
         + frame(MODEL_CHUNK, 22, struct.pack("<I", 0) + model) + frame(MODEL_END, 23),
         [(MODEL_BEGIN | 0x80, 21, struct.pack("<I", HOST_SLOT)),
          (MODEL_CHUNK | 0x80, 22, struct.pack("<I", len(model))),
          (ERROR, 23, error_payload(MODEL_CRC_MISMATCH, MODEL_END,
                                    f"model CRC mismatch: slot has crc32 {zlib.crc32(model)}"
                                    f", MODEL_BEGIN said {0x12345678}"))]),
        ("model_end_early",
         frame(MODEL_BEGIN, 24, struct.pack("<II", 10, 0))
         + frame(MODEL_CHUNK, 25, struct.pack("<I", 0) + b"abc") + frame(MODEL_END, 26),
         [(MODEL_BEGIN | 0x80, 24, struct.pack("<I", HOST_SLOT)),
          (MODEL_CHUNK | 0x80, 25, struct.pack("<I", 3)),
          (ERROR, 26, error_payload(BAD_OFFSET, MODEL_END, "MODEL_END after 3 of 10 bytes",
                                    detail=3))]),
        ("run_without_model", frame(RUN, 27, struct.pack("<HH", 1, 0)),
         [(ERROR, 27, error_payload(NO_MODEL, RUN, "RUN: no model loaded"))]),
        ("run_zero_runs", frame(RUN, 28, struct.pack("<HH", 0, 0)),
         [(ERROR, 28, error_payload(BAD_LENGTH, RUN, "RUN runs must be 1..1000, got 0"))]),
        ("input_without_model", frame(INPUT_CHUNK, 29, struct.pack("<I", 0) + b"\x01"),
         [(ERROR, 29, error_payload(NO_MODEL, INPUT_CHUNK, "INPUT_CHUNK: no model loaded"))]),
        ("read_output_without_run", frame(READ_OUTPUT, 30, struct.pack("<IH", 0, 4)),
         [(ERROR, 30, error_payload(NO_MODEL, READ_OUTPUT,
                                    "READ_OUTPUT (no completed RUN): no model loaded"))]),
        ("read_ops_without_model", frame(READ_OPS, 31, struct.pack("<HH", 0, 4)),
         [(ERROR, 31, error_payload(NO_MODEL, READ_OPS, "READ_OPS: no model loaded"))]),
        ("builtin_missing", frame(MODEL_BUILTIN, 32),
         [(ERROR, 32, error_payload(NO_MODEL, MODEL_BUILTIN,
                                    "no model linked into this firmware for host"))]),
        ("shutdown", frame(SHUTDOWN, 33) + frame(PING, 34), [(SHUTDOWN | 0x80, 33, b"")]),
    ]  # fmt: skip
    out = []
    for name, request, replies in cases:
        out.append({
            "name": name,
            "board": "host",
            "request_hex": request.hex(),
            "replies": [
                {"opcode": op, "seq": seq, "payload_hex": pl.hex(),
                 "frame_hex": frame(op, seq, pl).hex()}
                for op, seq, pl in replies
            ],
            "reply_hex": b"".join(frame(op, seq, pl) for op, seq, pl in replies).hex(),
        })  # fmt: skip
    return out


def write_golden(path: Path = GOLDEN) -> None:
    doc = {
        "about": "Golden frames of firmware/PROTOCOL.md v1: request bytes fed to the host-native "
        "firmware (stdin) and the exact reply bytes it must produce. Written from the spec by "
        "tests/board/firmware_util.py, checked by tests/board/test_firmware_golden.py "
        "(firmware) and by the host codec tests.",
        "protocol_version": 1,
        "cases": golden_cases(),
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=1) + "\n")
    os.replace(tmp, path)


class Link:
    """Request/reply over any object with write(bytes) and read_some(timeout)
    (hilnas.board.transport.Transport): pipelined writes, replies in order.

    ``kick`` (an emulated board's QemuBoard.kick) is called once when a freshly
    booted board has sent nothing for ``kick_after`` seconds: the QEMU 7.2 RX
    race (hilnas.board.qemu) can leave the first request unread, as the session
    handles by kicking on a silent HELLO. Without it a CI run lost one launch in
    hundreds ("board answered 0 of 1 frames in time")."""

    def __init__(self, transport: object, timeout: float = 30.0,
                 kick: Callable[[], None] | None = None, kick_after: float = 2.0) -> None:
        self.t = transport
        self.timeout = timeout
        self.reader = FrameReader()
        self.pending: list[Frame] = []
        self.kick, self.kick_after = kick, kick_after
        self.heard = False  # any byte from the board yet
        self.kicked = False

    def send(self, data: bytes) -> None:
        self.t.write(data)  # type: ignore[attr-defined]

    def replies(self, n: int, timeout: float | None = None) -> list[Frame]:
        import time

        start = time.monotonic()
        deadline = start + (timeout or self.timeout)
        while len(self.pending) < n:
            now = time.monotonic()
            left = deadline - now
            assert left > 0, (f"board answered {len(self.pending)} of {n} frames in time"
                              f"{' (kicked QEMU)' if self.kicked else ''}")
            if not (self.heard or self.kicked) and self.kick and now - start >= self.kick_after:
                self.kick()
                self.kicked = True
            chunk = self.t.read_some(min(left, 0.5))  # type: ignore[attr-defined]
            self.heard = self.heard or bool(chunk)
            self.pending += self.reader.feed(chunk)
        out, self.pending = self.pending[:n], self.pending[n:]
        return out

    def call(self, opcode: int, seq: int, payload: bytes = b"") -> Frame:
        self.send(frame(opcode, seq, payload))
        reply = self.replies(1)[0]
        assert reply.seq == seq, f"reply seq {reply.seq} for request {seq}"
        return reply

    def ok(self, opcode: int, seq: int, payload: bytes = b"") -> bytes:
        reply = self.call(opcode, seq, payload)
        assert reply.opcode == opcode | 0x80, f"error {reply.status:#x}: {reply.message}"
        return reply.payload

    def upload(self, model: bytes, window: int = 8) -> bytes:
        """Stream a model with ``window`` chunks in flight; returns MODEL_END's payload."""
        frames = upload_frames(model)
        self.ok(MODEL_BEGIN, 99, frames[0][8:-4])
        chunks, sent = frames[1:-1], 0
        for done in range(len(chunks)):
            while sent < len(chunks) and sent - done < window:
                self.send(chunks[sent])
                sent += 1
            reply = self.replies(1)[0]
            assert reply.opcode == MODEL_CHUNK | 0x80, f"chunk error: {reply.message}"
        return self.ok(MODEL_END, 98)

    def set_input(self, data: bytes) -> None:
        for off in range(0, len(data), MAX_PAYLOAD - 4):
            self.ok(INPUT_CHUNK, 97, struct.pack("<I", off) + data[off : off + MAX_PAYLOAD - 4])

    def read_output(self, n: int) -> bytes:
        out = b""
        while len(out) < n:
            take = min(MAX_PAYLOAD, n - len(out))
            out += self.ok(READ_OUTPUT, 96, struct.pack("<IH", len(out), take))
        return out

    def read_ops(self) -> list[tuple[int, int]]:
        ops: list[tuple[int, int]] = []
        while True:
            p = self.ok(READ_OPS, 95, struct.pack("<HH", len(ops), 0xFFFF))
            total, _first, n = struct.unpack_from("<HHH", p)
            ops += [struct.unpack_from("<HI", p, 6 + 6 * i) for i in range(n)]
            if len(ops) >= total:
                return ops


@dataclass
class Hello:
    timing_kind: int
    max_payload: int
    window: int
    max_runs: int
    cpu_hz: int
    counter_hz: int
    sram: int
    flash: int
    slot: int
    arena: int
    stack: int
    builtin: int
    calib_ticks: int
    board: str
    core: str
    version: str
    git: str
    flags: str
    unit: str
    max_ops: int
    max_tensors: int


def decode_hello(p: bytes) -> Hello:
    assert p[0] == 1
    nums = struct.unpack_from("<BHHHIIIIIIIII", p, 1)
    strings, pos = [], 44
    for _ in range(6):
        n = p[pos]
        strings.append(p[pos + 1 : pos + 1 + n].decode())
        pos += 1 + n
    limits = struct.unpack_from("<II", p, pos)
    assert len(p) == pos + 8, f"HELLO has {len(p) - pos - 8} unexpected trailing bytes"
    return Hello(*nums, *strings, *limits)


@dataclass
class RunResult:
    runs: int
    warmup: int
    lat_min: int
    lat_median: int
    lat_max: int
    arena: int
    stack: int
    model_bytes: int
    output_bytes: int
    output_crc: int
    n_ops: int


def decode_run(p: bytes) -> RunResult:
    assert len(p) == 52, len(p)
    return RunResult(*struct.unpack_from("<HHQQQIIIIIH", p))


def build_firmware(board: str, stub_engine: bool = False, builtin_model: Path | None = None,
                   tag: str = "", extra_flags: tuple[str, ...] = ()) -> Path:
    """Configure (once) and build board ``board``; returns the image path.

    Build folders persist under .hilnas-cache/fw-tests, so reruns only
    recompile what changed (CMake's own dependency tracking is the cache)."""
    from hilnas.board.build import CONFIG_NAME, write_firmware_config
    from hilnas.board.profiles import load_profile

    name = board + (f"-{tag}" if tag else "") + ("-stub" if stub_engine else "")
    build_dir = BUILD_ROOT / name
    # The one way board facts reach the build: the fragment generated from the profile.
    config = write_firmware_config(load_profile(board), BUILD_ROOT / f"{name}.{CONFIG_NAME}")
    flags = [f"-DHN_BOARD_CONFIG={config}", "-DCMAKE_BUILD_TYPE=Release",
             f"-DHN_STUB_ENGINE={'ON' if stub_engine else 'OFF'}",
             f"-DHN_BUILTIN_MODEL={builtin_model or ''}", *extra_flags]  # fmt: skip
    if board != "host":
        flags += [f"-DCMAKE_TOOLCHAIN_FILE={TOOLCHAIN}", f"-DHN_CPU={CORES[board]}"]
    if not (build_dir / "CMakeCache.txt").exists():
        run_checked(["cmake", "-S", str(FIRMWARE), "-B", str(build_dir), *flags])
    else:
        run_checked(["cmake", str(build_dir), *flags])
    run_checked(["cmake", "--build", str(build_dir), "--target", "hilnas_fw", "-j", "2"])
    image = build_dir / ("hilnas_fw" if board == "host" else "hilnas_fw.elf")
    assert image.is_file(), f"no image {image}"
    return image


def run_checked(cmd: list[str]) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        out = f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        raise AssertionError(f"{' '.join(cmd)} failed:\n{out}")
    return proc.stdout


if __name__ == "__main__":
    if sys.argv[1:] == ["--write-golden"]:
        write_golden()
        print(f"wrote {GOLDEN}")
    else:
        print(__doc__)
