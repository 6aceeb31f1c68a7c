"""Every bad input gets its error reply, and the board answers the next command.

Real firmware, real bytes: the mps2-an386 build under QEMU and the host-native
build (same app code). Raw frames are written straight to the transport so the
client's own checks cannot hide what the firmware does.
"""

from __future__ import annotations

import struct
from typing import Any

import pytest
from hilnas.board import protocol as P
from hilnas.errors import DeviceError

pytestmark = [pytest.mark.qemu, pytest.mark.slow]


def _alive(board: Any) -> None:
    assert board.client.ping(b"still alive") == b"still alive"


def _error_reply(board: Any, timeout: float = 10.0) -> P.ErrorReply:
    frame = board.client.read_frame(timeout)
    assert frame is not None, "board sent no error reply"
    assert frame.is_error, f"expected an error frame, got opcode 0x{frame.opcode:02x}"
    return P.ErrorReply.decode(frame.payload)


def _expect_device_error(board: Any, opcode: int, payload: bytes, status: int) -> DeviceError:
    with pytest.raises(DeviceError) as info:
        board.client.request(opcode, payload)
    assert info.value.status == status, str(info.value)
    return info.value


def test_bad_crc_is_answered_with_its_seq(board: Any) -> None:
    frame = bytearray(P.encode_frame(P.Op.PING, 0x4242, b"corrupt me"))
    frame[10] ^= 0x01
    board.client.transport.write(bytes(frame))
    frame_seen = board.client.read_frame(10.0)
    assert frame_seen is not None and frame_seen.is_error and frame_seen.seq == 0x4242
    assert P.ErrorReply.decode(frame_seen.payload).status == P.Status.BAD_CRC
    _alive(board)


def test_partial_frame_times_out_and_board_recovers(board: Any) -> None:
    frame = P.encode_frame(P.Op.PING, 0x0707, b"x" * 64)
    board.client.transport.write(frame[:20])  # header + a little payload, then silence
    assert _error_reply(board, timeout=15.0).status == P.Status.FRAME_TIMEOUT
    _alive(board)


def test_oversized_length_is_rejected_at_header_time(board: Any) -> None:
    header = P.HEADER.pack(P.SOF, 1, P.Op.PING, 0x0909, board.client.identity.max_payload + 1)
    board.client.transport.write(header)
    assert _error_reply(board).status == P.Status.BAD_LENGTH
    _alive(board)


def test_unknown_protocol_version_is_rejected(board: Any) -> None:
    board.client.transport.write(P.encode_frame(P.Op.PING, 0x0A0A, b"v2", version=2))
    assert _error_reply(board).status == P.Status.BAD_VERSION
    _alive(board)


def test_garbage_between_frames_is_skipped(board: Any) -> None:
    board.client.transport.write(bytes(range(256)).replace(b"\xa5", b"") * 4)
    _alive(board)


def test_unknown_opcode(board: Any) -> None:
    err = _expect_device_error(board, 0x55, b"", P.Status.UNKNOWN_OPCODE)
    assert err.opcode == 0x55
    _alive(board)


def test_model_bigger_than_slot(board: Any) -> None:
    slot = board.client.identity.slot_bytes
    _expect_device_error(
        board, P.Op.MODEL_BEGIN, P.pack_model_begin(slot + 1, 0), P.Status.MODEL_TOO_BIG
    )
    _alive(board)


def test_chunk_at_wrong_offset(board: Any) -> None:
    board.client.request(P.Op.MODEL_BEGIN, P.pack_model_begin(100, 0))
    err = _expect_device_error(
        board, P.Op.MODEL_CHUNK, P.pack_chunk(8, b"x" * 8), P.Status.BAD_OFFSET
    )
    assert err.expected_offset == 0 and "expects 0" in err.board_message
    _alive(board)


def test_model_crc_mismatch(board: Any, sample_models: dict) -> None:
    model = sample_models["tiny"].read_bytes()
    board.client.request(P.Op.MODEL_BEGIN, P.pack_model_begin(len(model), P.crc32(model) ^ 1))
    board.client.stream_chunks(P.Op.MODEL_CHUNK, model)
    _expect_device_error(board, P.Op.MODEL_END, b"", P.Status.MODEL_CRC_MISMATCH)
    _alive(board)


@pytest.mark.parametrize("how", ["garbage", "truncated"])
def test_malformed_model_is_an_engine_error(board: Any, sample_models: dict, how: str) -> None:
    good = sample_models["tiny"].read_bytes()
    bad = bytes((i * 37 + 11) & 0xFF for i in range(1500)) if how == "garbage" else good[:1200]
    with pytest.raises(DeviceError) as info:
        board.client.load_model(bad)
    assert info.value.status in (1, 2), str(info.value)  # HN_ERR_MODEL_TRUNCATED / MALFORMED
    assert "MODEL_END" in str(info.value)
    # The failed load leaves no model: RUN says so, and the board still answers.
    _expect_device_error(board, P.Op.RUN, P.pack_run(1, 0), P.Status.NO_MODEL)
    _alive(board)


def test_wrong_input_size(board: Any, sample_models: dict) -> None:
    load = board.client.load_model(sample_models["tiny"].read_bytes())
    too_many = P.pack_chunk(0, bytes(load.input_bytes + 1))
    _expect_device_error(board, P.Op.INPUT_CHUNK, too_many, P.Status.INPUT_SIZE)
    board.client.request(P.Op.INPUT_CHUNK, P.pack_chunk(0, bytes(load.input_bytes - 1)))
    err = _expect_device_error(board, P.Op.RUN, P.pack_run(1, 0), P.Status.INPUT_SIZE)
    assert str(load.input_bytes) in err.board_message
    _alive(board)


def test_run_count_out_of_range(board: Any, sample_models: dict) -> None:
    board.client.load_model(sample_models["tiny"].read_bytes())
    _expect_device_error(board, P.Op.RUN, P.pack_run(0, 0), P.Status.BAD_LENGTH)
    _alive(board)


def test_wrong_payload_size_for_opcode(board: Any) -> None:
    _expect_device_error(board, P.Op.RUN, struct.pack("<H", 1), P.Status.BAD_LENGTH)
    _alive(board)


def test_bulk_load_of_a_missing_host_file_is_named(board: Any, tmp_path: Any) -> None:
    missing = tmp_path / "no-such-model.tflite"
    payload = P.pack_model_host_file(1000, 0, str(missing))
    err = _expect_device_error(board, P.Op.MODEL_HOST_FILE, payload, P.Status.HOST_FILE)
    assert "no-such-model.tflite" in err.board_message
    _alive(board)


def test_lost_chunk_reply_is_recovered_from_the_boards_offset(
    board: Any, sample_models: dict
) -> None:
    """A reply lost on the way back: the board is ahead; the client resumes where it is."""
    model = sample_models["cnn100k"].read_bytes()[:20000]  # 5 chunks are plenty
    client = board.client
    client.request(P.Op.MODEL_BEGIN, P.pack_model_begin(len(model), P.crc32(model)))
    first = client.identity.max_payload - P.CHUNK_HEADER
    seq = client.send(P.Op.MODEL_CHUNK, P.pack_chunk(0, model[:first]))
    assert P.unpack_u32(client.receive(seq, P.Op.MODEL_CHUNK), "ack") == first  # then "lost"
    retried = client.retried
    client.stream_chunks(P.Op.MODEL_CHUNK, model)  # starts again at 0
    assert client.retried > retried  # in-flight chunks may also land, each resync catches up
    with pytest.raises(DeviceError) as info:  # a truncated .tflite: loads no further
        client.request(P.Op.MODEL_END)
    assert info.value.status != P.Status.MODEL_CRC_MISMATCH  # every byte arrived intact
    _alive(board)
