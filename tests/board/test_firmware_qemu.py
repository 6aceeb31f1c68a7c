"""The firmware on every emulated board, under real QEMU 7.2, with real models.

Outputs are checked bit for bit against the TFLM interpreter (tflite-micro
package); counts must be exactly repeatable under -icount; every bad input gets
its error reply and the board answers the next command.
"""

from __future__ import annotations

import contextlib
import shutil
import struct
import sys
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hilnas.board.profiles import load_profile
from hilnas.board.qemu import QemuBoard
from hilnas.board.sample_models import sample_model

sys.path.insert(0, str(Path(__file__).parent))
import firmware_util as fw

pytestmark = [
    pytest.mark.qemu,
    pytest.mark.skipif(shutil.which("qemu-system-arm") is None or
                       shutil.which("arm-none-eabi-gcc") is None,
                       reason="qemu-system-arm / arm-none-eabi-gcc not installed"),
]  # fmt: skip


def tflm_reference(model: bytes, x: np.ndarray) -> np.ndarray:
    from hilnas import tflm

    return tflm.tflm_run(model, x)[0]


def random_input(model: bytes, seed: int = 0) -> np.ndarray:
    from hilnas import tflm

    d = tflm.input_details(model)[0]
    return np.random.default_rng(seed).integers(-128, 128, size=d["shape"], dtype=np.int8)


def boot(board: str, elf: Path | None = None) -> QemuBoard:
    qb = QemuBoard(load_profile(board), elf or fw.build_firmware(board))
    qb.start()
    return qb


@pytest.fixture(scope="module")
def tiny() -> bytes:
    return sample_model("tiny").read_bytes()


@pytest.fixture(scope="module")
def an386() -> Iterator[fw.Link]:
    qb = boot("mps2-an386")
    try:
        yield fw.Link(qb.transport, kick=qb.kick)
    finally:
        qb.stop()


def load_from_host_file(link: fw.Link, path: Path) -> bytes:
    model = path.read_bytes()
    request = struct.pack("<II", len(model), zlib.crc32(model)) + str(path).encode()
    return link.ok(fw.MODEL_HOST_FILE, 6, request)


def profile_once(link: fw.Link, model: bytes, x: np.ndarray, runs: int = 3,
                 path: Path | None = None):
    """Load (UART upload, or the semihosting bulk path when ``path`` is given),
    set the input, RUN; returns the run result, the output and the op records."""
    load = load_from_host_file(link, path) if path else link.upload(model)
    _arena, model_bytes, crc, n_ops, n_in, n_out, in_bytes, out_bytes = struct.unpack(
        "<IIIHBBII", load)
    assert (model_bytes, crc, n_in, n_out) == (len(model), zlib.crc32(model), 1, 1)
    assert in_bytes == x.nbytes
    link.set_input(x.tobytes())
    run = fw.decode_run(link.ok(fw.RUN, 5, struct.pack("<HH", runs, 1)))
    out = link.read_output(out_bytes)
    assert run.output_crc == zlib.crc32(out) and run.n_ops == n_ops == len(link.read_ops())
    return run, out, link.read_ops()


@pytest.mark.slow
@pytest.mark.parametrize("board", fw.EMULATED)
def test_board_boots_profiles_bit_exact_and_repeatably(board: str, tiny: bytes) -> None:
    qb = boot(board)
    try:
        link = fw.Link(qb.transport, kick=qb.kick)
        hello = fw.decode_hello(link.ok(fw.HELLO, 1, b"\x01"))
        assert (hello.board, hello.core) == (board, fw.CORES[board])
        assert hello.timing_kind == 1 and hello.max_payload == fw.MAX_PAYLOAD
        # 1e6 instructions = 1e6 ns at shift 0 = 25000 ticks at 25 MHz (20000 on the an505)
        assert abs(hello.calib_ticks - hello.counter_hz // 1000) <= 2
        assert hello.slot == 1 << 20 and hello.git != ""
        x = random_input(tiny)
        run, out, ops = profile_once(link, tiny, x)
        ref = tflm_reference(tiny, x)
        np.testing.assert_array_equal(np.frombuffer(out, np.int8).reshape(ref.shape), ref)
        assert run.lat_min == run.lat_max > 0, "icount timing must be exactly repeatable"
        assert 0 < run.stack < hello.stack and run.arena <= hello.arena
        assert sum(t for _, t in ops) <= run.lat_min
        run2, out2, ops2 = profile_once(link, tiny, x)
        assert (run2.lat_min, out2, ops2) == (run.lat_min, out, ops)
        link.send(fw.frame(fw.SHUTDOWN, 9))
        assert link.replies(1)[0].opcode == fw.SHUTDOWN | 0x80
        assert qb.proc is not None and qb.proc.wait(10) == 0, "SHUTDOWN must exit QEMU with 0"
    finally:
        qb.stop()


@pytest.mark.slow
def test_two_launches_give_identical_counts_on_a_100k_model() -> None:
    """Launch 1 streams the ~114 KB model over the UART, launch 2 loads it via
    semihosting: same instruction counts, per-op ticks and output."""
    path = sample_model("cnn100k")
    model = path.read_bytes()
    x = random_input(model, seed=1)
    results = []
    for via_file in (False, True):
        qb = boot("mps2-an386")
        try:
            link = fw.Link(qb.transport, kick=qb.kick)
            results.append(profile_once(link, model, x, runs=2, path=path if via_file else None))
        finally:
            qb.stop()
    (run_a, out_a, ops_a), (run_b, out_b, ops_b) = results
    assert run_a.lat_min == run_b.lat_min and ops_a == ops_b and out_a == out_b
    ref = tflm_reference(model, x)
    np.testing.assert_array_equal(np.frombuffer(out_a, np.int8).reshape(ref.shape), ref)


def answers_ping(link: fw.Link, seq: int) -> bool:
    return link.ok(fw.PING, seq, b"alive") == b"alive"


@pytest.mark.slow
def test_bad_inputs_get_errors_and_the_board_stays_responsive(an386: fw.Link,
                                                              tiny: bytes) -> None:
    link = an386
    # corrupted frame (bad CRC)
    link.send(fw.frame(fw.PING, 10, b"abc")[:-2] + b"\x00\x00")
    assert link.replies(1)[0].status == fw.BAD_CRC and answers_ping(link, 11)
    # oversized frame header
    link.send(b"\xa5\x5a" + struct.pack("<BBHH", 1, fw.PING, 12, 60000))
    assert link.replies(1)[0].status == fw.BAD_LENGTH and answers_ping(link, 13)
    # unknown command
    assert link.call(0x7E, 14).status == fw.UNKNOWN_OPCODE and answers_ping(link, 15)
    # partial frame: the board gives up after FRAME_TIMEOUT of board time
    link.send(fw.frame(fw.PING, 16, b"x" * 100)[:50])
    t0 = time.monotonic()
    reply = link.replies(1, timeout=20)[0]
    assert reply.status == fw.FRAME_TIMEOUT and time.monotonic() - t0 >= 0.4
    assert answers_ping(link, 17)
    # model bigger than the slot
    assert link.call(fw.MODEL_BEGIN, 18,
                     struct.pack("<II", (1 << 20) + 1, 0)).status == fw.MODEL_TOO_BIG
    assert answers_ping(link, 19)
    # malformed model: right CRC, garbage content -> the engine's own status 1..9
    junk = b"\x10\x00\x00\x00TFL3" + bytes(range(256)) * 4
    link.ok(fw.MODEL_BEGIN, 20, struct.pack("<II", len(junk), zlib.crc32(junk)))
    link.ok(fw.MODEL_CHUNK, 21, struct.pack("<I", 0) + junk)
    err = link.call(fw.MODEL_END, 22)
    assert 1 <= err.status <= 9 and err.message, err
    assert answers_ping(link, 23)
    assert link.call(fw.RUN, 24, struct.pack("<HH", 1, 0)).status == fw.NO_MODEL
    # input of the wrong size
    link.upload(tiny)
    assert link.call(fw.RUN, 25, struct.pack("<HH", 1, 0)).status == fw.INPUT_SIZE
    too_long = struct.pack("<I", 0) + bytes(65)
    assert link.call(fw.INPUT_CHUNK, 26, too_long).status == fw.INPUT_SIZE
    link.ok(fw.INPUT_CHUNK, 27, struct.pack("<I", 0) + bytes(10))
    assert link.call(fw.RUN, 28, struct.pack("<HH", 1, 0)).status == fw.INPUT_SIZE
    assert answers_ping(link, 29)


@pytest.mark.slow
def test_model_linked_into_flash_runs_without_upload(tiny: bytes) -> None:
    path = sample_model("tiny")
    elf = fw.build_firmware("mps2-an386", builtin_model=path, tag="builtin")
    qb = boot("mps2-an386", elf)
    try:
        link = fw.Link(qb.transport, kick=qb.kick)
        assert fw.decode_hello(link.ok(fw.HELLO, 1, b"\x01")).builtin == len(tiny)
        load = link.ok(fw.MODEL_BUILTIN, 2)
        assert struct.unpack_from("<II", load, 4) == (len(tiny), zlib.crc32(tiny))
        x = random_input(tiny, seed=3)
        link.set_input(x.tobytes())
        link.ok(fw.RUN, 3, struct.pack("<HH", 1, 0))
        ref = tflm_reference(tiny, x)
        out = link.read_output(ref.size)
        np.testing.assert_array_equal(np.frombuffer(out, np.int8).reshape(ref.shape), ref)
    finally:
        qb.stop()


@pytest.mark.slow
def test_bulk_path_reads_the_model_through_semihosting(an386: fw.Link) -> None:
    """The optional fast path for tables of many models (the UART stays default)."""
    path = sample_model("cnn100k")
    model = path.read_bytes()
    request = struct.pack("<II", len(model), zlib.crc32(model)) + str(path).encode()
    t0 = time.monotonic()
    load = an386.ok(fw.MODEL_HOST_FILE, 50, request)
    assert time.monotonic() - t0 < 2.0, "semihosting should beat the UART by far"
    assert struct.unpack_from("<II", load, 4) == (len(model), zlib.crc32(model))
    bad_crc = struct.pack("<II", len(model), 1) + str(path).encode()
    assert an386.call(fw.MODEL_HOST_FILE, 51, bad_crc).status == fw.MODEL_CRC_MISMATCH
    missing = struct.pack("<II", 1, 0) + b"/nonexistent/model.tflite"
    reply = an386.call(fw.MODEL_HOST_FILE, 52, missing)
    assert reply.status == fw.HOST_FILE and "/nonexistent/model.tflite" in reply.message
    assert answers_ping(an386, 53)


@pytest.mark.slow
def test_corrupted_models_never_fault_the_cortex_m3(tiny: bytes, tmp_path: Path) -> None:
    """Truncations and byte flips of a real model on the M3 (no unaligned LDRD/LDM,
    no FPU): each load and run ends in a reply, never a fault (a fault would end
    QEMU with status 3). Loaded through the semihosting bulk path to keep it fast.
    A silent board names the variant, the request and QEMU's state, so a failure
    in a long suite says which input and which request went unanswered."""
    qb = boot("mps2-an385")
    try:
        link = fw.Link(qb.transport, kick=qb.kick)
        variants = [(f"first {k} bytes", tiny[:k])
                    for k in (8, 24, 100, len(tiny) // 2, len(tiny) - 1)]  # fmt: skip
        step = max(1, len(tiny) // 48)
        variants += [(f"byte {i} ^ 0xA5", tiny[:i] + bytes([tiny[i] ^ 0xA5]) + tiny[i + 1 :])
                     for i in range(4, len(tiny), step)]  # fmt: skip
        x = bytes(64)
        statuses = set()
        for n, (what, v) in enumerate(variants, start=1):  # seq 0 means "unknown" in errors
            path = tmp_path / f"v{n}.tflite"
            path.write_bytes(v)
            request = struct.pack("<II", len(v), zlib.crc32(v)) + str(path).encode()
            with _naming(qb, f"variant {n} ({what})", "MODEL_HOST_FILE"):
                reply = link.call(fw.MODEL_HOST_FILE, n, request)
            statuses.add(reply.status)
            if reply.opcode == fw.ERROR:
                continue
            in_bytes = struct.unpack_from("<I", reply.payload, 16)[0]
            if 0 < in_bytes <= len(x):
                with _naming(qb, f"variant {n} ({what})", "INPUT_CHUNK/RUN"):
                    link.ok(fw.INPUT_CHUNK, n, struct.pack("<I", 0) + x[:in_bytes])
                    link.call(fw.RUN, n, struct.pack("<HH", 1, 0))
        assert answers_ping(link, 999)
        assert qb.proc is not None and qb.proc.poll() is None, qb.stderr_tail()
        assert any(1 <= s <= 9 for s in statuses), statuses
    finally:
        qb.stop()


@contextlib.contextmanager
def _naming(qb: QemuBoard, variant: str, request: str) -> Iterator[None]:
    """Re-raise a failed exchange with the input, the request and QEMU's own state."""
    try:
        yield
    except AssertionError as exc:
        state = "running" if qb.proc is not None and qb.proc.poll() is None else (
            f"exited with {qb.proc.returncode if qb.proc else None}")
        raise AssertionError(f"{variant}, {request}: {exc}; QEMU {state}; "
                             f"QEMU output: {qb.stderr_tail(400)!r}") from exc
