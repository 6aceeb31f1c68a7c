"""Random frames against the host-native firmware built with AddressSanitizer and
UBSan: every CRC-valid frame gets exactly one reply, nothing crashes or reads
out of bounds, and the board still answers a PING at the end.

This exercises the same app code (framing, every handler, the engine's model
parser via MODEL_END) that runs on the boards; only the HAL differs.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from hilnas.board.sample_models import sample_model
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))
import firmware_util as fw

SANITIZE = "-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
OPCODES = [fw.HELLO, fw.PING, fw.MODEL_BEGIN, fw.MODEL_CHUNK, fw.MODEL_END, fw.MODEL_BUILTIN,
           fw.INPUT_CHUNK, fw.RUN, fw.READ_OUTPUT, fw.READ_OPS, 0x00, 0x7F, 0x80, 0xFE]
MODEL = sample_model("tiny").read_bytes()

pytestmark = pytest.mark.skipif(shutil.which("cc") is None, reason="no host C compiler")


@pytest.fixture(scope="module")
def asan_fw() -> Path:
    exe = fw.build_firmware("host", tag="asan", extra_flags=(
        f"-DCMAKE_C_FLAGS={SANITIZE}", f"-DCMAKE_EXE_LINKER_FLAGS={SANITIZE}"))
    syms = subprocess.run(["nm", str(exe)], capture_output=True, text=True, check=True).stdout
    assert "__asan_report" in syms, "the fuzz target must be built with AddressSanitizer"
    return exe


chunk_data = st.binary(min_size=0, max_size=80)
small_u32 = st.one_of(st.integers(0, 64), st.integers(0, 2**32 - 1))
payloads = {
    fw.MODEL_BEGIN: st.builds(lambda n, c: struct.pack("<II", n, c), small_u32, small_u32),
    fw.MODEL_CHUNK: st.builds(lambda o, d: struct.pack("<I", o) + d, small_u32, chunk_data),
    fw.INPUT_CHUNK: st.builds(lambda o, d: struct.pack("<I", o) + d, small_u32, chunk_data),
    fw.RUN: st.builds(lambda r, w: struct.pack("<HH", r, w), st.integers(0, 3), st.integers(0, 2)),
    fw.READ_OUTPUT: st.builds(lambda o, n: struct.pack("<IH", o, n), small_u32,
                              st.integers(0, 5000)),
    fw.READ_OPS: st.builds(lambda f, n: struct.pack("<HH", f, n), st.integers(0, 20),
                           st.integers(0, 0xFFFF)),
}  # fmt: skip


@st.composite
def request(draw: st.DrawFn) -> tuple[int, bytes]:
    opcode = draw(st.sampled_from(OPCODES))
    structured = payloads.get(opcode)
    if structured is not None and draw(st.booleans()):
        return opcode, draw(structured)
    return opcode, draw(st.binary(min_size=0, max_size=120))


garbage = st.binary(min_size=0, max_size=20).map(lambda b: b.replace(b"\xa5", b"\x00"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.booleans(), st.lists(st.tuples(request(), garbage), max_size=40))
def test_random_frames_get_one_reply_each_and_never_crash(
    asan_fw: Path, preload: bool, requests: list[tuple[tuple[int, bytes], bytes]]
) -> None:
    stream = b"".join(fw.upload_frames(MODEL, first_seq=1000)) if preload else b""
    expected = len(fw.upload_frames(MODEL)) if preload else 0
    for i, ((opcode, payload), junk) in enumerate(requests):
        stream += junk + fw.frame(opcode, i, payload)
        expected += 1
    stream += fw.frame(fw.PING, 0xBEEF, b"end")
    proc = subprocess.run([asan_fw], input=stream, capture_output=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    replies = fw.parse_all(proc.stdout)
    assert len(replies) == expected + 1
    assert (replies[-1].opcode, replies[-1].seq, replies[-1].payload) == (0x82, 0xBEEF, b"end")
    sent = [opcode for (opcode, _), _junk in requests]
    for opcode, reply in zip(sent, replies[len(replies) - 1 - len(sent) : -1], strict=True):
        assert reply.opcode in (opcode | 0x80, fw.ERROR)


def test_malformed_models_are_rejected_by_the_engine_not_crashing(asan_fw: Path) -> None:
    """Truncations and byte flips of a real model: every load ends in a reply."""
    stream, n = b"", 0
    variants = [MODEL[:k] for k in (8, 16, 64, len(MODEL) // 2, len(MODEL) - 1)]
    for pos in range(0, len(MODEL), max(1, len(MODEL) // 40)):
        variants.append(MODEL[:pos] + bytes([MODEL[pos] ^ 0xFF]) + MODEL[pos + 1 :])
    for v in variants:
        stream += fw.frame(fw.MODEL_BEGIN, n, struct.pack("<II", len(v), zlib.crc32(v)))
        stream += fw.frame(fw.MODEL_CHUNK, n + 1, struct.pack("<I", 0) + v)
        stream += fw.frame(fw.MODEL_END, n + 2)
        stream += fw.frame(fw.RUN, n + 3, struct.pack("<HH", 1, 0))
        n += 4
    proc = subprocess.run([asan_fw], input=stream, capture_output=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    replies = fw.parse_all(proc.stdout)
    assert len(replies) == n
    loads = replies[2::4]
    assert any(r.opcode == fw.ERROR and 1 <= r.status <= 9 for r in loads)
