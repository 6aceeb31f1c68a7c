"""The host-native firmware (boards/host): a real model bit-exact with TFLM,
the pty transport the host launcher uses, and the inter-byte frame timeout."""

from __future__ import annotations

import os
import select
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hilnas.board.sample_models import sample_model

sys.path.insert(0, str(Path(__file__).parent))
import firmware_util as fw


class PipeTransport:
    """write/read_some over a running process's stdin/stdout."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc

    def write(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def read_some(self, timeout: float) -> bytes:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        ready, _, _ = select.select([fd], [], [], timeout)
        return os.read(fd, 65536) if ready else b""


class FdTransport:
    def __init__(self, fd: int) -> None:
        self.fd = fd

    def write(self, data: bytes) -> None:
        os.write(self.fd, data)

    def read_some(self, timeout: float) -> bytes:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        return os.read(self.fd, 65536) if ready else b""


@pytest.fixture(scope="module")
def host_fw() -> Path:
    return fw.build_firmware("host")


@pytest.fixture()
def piped(host_fw: Path) -> Iterator[fw.Link]:
    proc = subprocess.Popen([host_fw], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        yield fw.Link(PipeTransport(proc), timeout=30)
    finally:
        proc.kill()
        proc.wait()


def test_real_model_is_bit_exact_with_tflm(piped: fw.Link) -> None:
    from hilnas import tflm

    model = sample_model("tiny").read_bytes()
    x = np.random.default_rng(5).integers(-128, 128, size=tflm.input_details(model)[0]["shape"],
                                          dtype=np.int8)  # fmt: skip
    ref = tflm.tflm_run(model, x)[0]
    hello = fw.decode_hello(piped.ok(fw.HELLO, 1, b"\x01"))
    assert (hello.board, hello.timing_kind, hello.counter_hz) == ("host", 2, 10**9)
    load = piped.upload(model)
    assert struct.unpack_from("<IIIHBBII", load)[6:] == (x.nbytes, ref.nbytes)
    piped.set_input(x.tobytes())
    run = fw.decode_run(piped.ok(fw.RUN, 2, struct.pack("<HH", 5, 2)))
    out = piped.read_output(ref.nbytes)
    np.testing.assert_array_equal(np.frombuffer(out, np.int8).reshape(ref.shape), ref)
    assert run.output_crc == zlib.crc32(out)
    assert 0 < run.lat_min <= run.lat_median <= run.lat_max
    assert (run.runs, run.warmup) == (5, 2)
    ops = piped.read_ops()
    assert len(ops) == run.n_ops > 0 and all(code < 256 for code, _ in ops)


def test_partial_frame_times_out_and_the_next_frame_is_answered(piped: fw.Link) -> None:
    piped.send(fw.frame(fw.PING, 40, b"0123456789")[:12])
    t0 = time.monotonic()
    reply = piped.replies(1, timeout=5)[0]
    waited = time.monotonic() - t0
    assert reply.status == fw.FRAME_TIMEOUT and reply.seq == 40
    assert 0.45 <= waited < 3.0, waited
    assert piped.ok(fw.PING, 41, b"ok") == b"ok"


def test_window_of_pipelined_chunks_all_acknowledged_in_order(piped: fw.Link) -> None:
    model = bytes(range(256)) * 100
    frames = fw.upload_frames(model, first_seq=200)
    piped.send(b"".join(frames[:-1]))  # BEGIN + every chunk without waiting
    replies = piped.replies(len(frames) - 1)
    assert [r.seq for r in replies] == list(range(200, 200 + len(frames) - 1))
    offsets = [struct.unpack("<I", r.payload)[0] for r in replies[1:]]
    assert offsets[-1] == len(model) and offsets == sorted(offsets)


def test_pty_mode_prints_its_path_and_serves_frames(host_fw: Path) -> None:
    proc = subprocess.Popen([host_fw, "--pty"], stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        assert line.startswith("PTY /dev/"), line
        fd = os.open(line.split()[1], os.O_RDWR | os.O_NOCTTY)
        try:
            import tty

            tty.setraw(fd)
            link = fw.Link(FdTransport(fd), timeout=10)
            assert link.ok(fw.PING, 1, bytes(range(256))) == bytes(range(256))
            link.send(fw.frame(fw.SHUTDOWN, 2))
            assert link.replies(1)[0].opcode == fw.SHUTDOWN | 0x80
        finally:
            os.close(fd)
        assert proc.wait(5) == 0
    finally:
        proc.kill()
        proc.wait()


def test_unknown_argument_is_refused(host_fw: Path) -> None:
    proc = subprocess.run([host_fw, "--serial"], capture_output=True, timeout=5, check=False)
    assert proc.returncode == 2 and b"--serial" in proc.stderr


def test_bulk_path_reads_a_host_file(piped: fw.Link, tmp_path: Path) -> None:
    model = sample_model("tiny").read_bytes()
    path = tmp_path / "m.tflite"
    path.write_bytes(model)
    load = piped.ok(fw.MODEL_HOST_FILE, 60,
                    struct.pack("<II", len(model), zlib.crc32(model)) + str(path).encode())
    assert struct.unpack_from("<II", load, 4) == (len(model), zlib.crc32(model))
    wrong_size = struct.pack("<II", len(model) + 1, 0) + str(path).encode()
    reply = piped.call(fw.MODEL_HOST_FILE, 61, wrong_size)
    assert reply.status == fw.BAD_LENGTH and str(path) in reply.message
