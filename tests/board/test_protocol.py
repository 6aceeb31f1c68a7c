"""Frame codec, payload decoders and client framing over loop:// (no board needed)."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import pytest
from hilnas.board import protocol as P
from hilnas.board.client import BoardClient
from hilnas.board.transport import open_url
from hilnas.errors import DeviceError, ProtocolError, ReplyTimeout
from hypothesis import given
from hypothesis import strategies as st

GOLDEN = Path(__file__).with_name("golden_frames.json")


def test_frame_layout_matches_protocol_md_by_hand() -> None:
    frame = P.encode_frame(P.Op.PING, 0x1234, b"\x01\x02")
    body = bytes([1, 0x02, 0x34, 0x12, 0x02, 0x00, 0x01, 0x02])
    assert frame[:2] == b"\xa5\x5a"
    assert frame[2:-4] == body
    assert frame[-4:] == struct.pack("<I", zlib.crc32(body))
    assert len(frame) == P.OVERHEAD + 2


@given(
    st.lists(st.tuples(st.integers(0, 0xFF), st.integers(0, 0xFFFF), st.binary(max_size=300))),
    st.integers(1, 50),
)
def test_decoder_round_trips_any_chunking(frames: list, chunk: int) -> None:
    stream = b"".join(P.encode_frame(op, seq, data) for op, seq, data in frames)
    dec = P.FrameDecoder()
    got = []
    for i in range(0, len(stream), chunk):
        got += dec.feed(stream[i : i + chunk])
    assert [(f.opcode, f.seq, f.payload) for f in got] == frames
    assert dec.pending == 0 and dec.bad_crc == 0


@given(st.binary(max_size=200), st.binary(max_size=100))
def test_garbage_before_a_frame_is_skipped(garbage: bytes, payload: bytes) -> None:
    dec = P.FrameDecoder()
    # Garbage may end in a SOF prefix that swallows bytes; a second frame always survives.
    frames = dec.feed(garbage + P.encode_frame(2, 7, payload) + P.encode_frame(2, 8, payload))
    assert frames[-1].seq == 8 and frames[-1].payload == payload


def test_bad_crc_is_dropped_counted_and_next_frame_survives() -> None:
    bad = bytearray(P.encode_frame(2, 1, b"hello"))
    bad[9] ^= 0xFF
    dec = P.FrameDecoder()
    frames = dec.feed(bytes(bad) + P.encode_frame(2, 2, b"ok"))
    assert [f.seq for f in frames] == [2]
    assert dec.bad_crc == 1


def test_oversized_length_and_unknown_version_resync() -> None:
    oversized = P.HEADER.pack(P.SOF, 1, 2, 9, P.DEFAULT_MAX_PAYLOAD + 1)
    wrong_version = P.encode_frame(2, 10, b"x", version=2)
    dec = P.FrameDecoder()
    frames = dec.feed(oversized + wrong_version + P.encode_frame(2, 11, b"y"))
    assert [(f.seq, f.payload) for f in frames] == [(11, b"y")]


def test_partial_frame_waits_then_completes() -> None:
    frame = P.encode_frame(0x81, 3, b"abc")
    dec = P.FrameDecoder()
    assert dec.feed(frame[:-1]) == [] and dec.pending == len(frame) - 1
    assert dec.feed(frame[-1:])[0].payload == b"abc"


def test_sof_split_across_feeds() -> None:
    frame = P.encode_frame(0x82, 4, b"z")
    dec = P.FrameDecoder()
    assert dec.feed(b"\x00\x00" + frame[:1]) == []
    assert dec.feed(frame[1:])[0].seq == 4


def test_encode_rejects_oversized_payload() -> None:
    with pytest.raises(ValueError, match="u16"):
        P.encode_frame(2, 1, bytes(70000))


def _identity_payload() -> bytes:
    nums = struct.pack("<BBHHHIIIIIIIII", 1, 1, 4096, 8, 1000, 25_000_000, 25_000_000,
                       4 << 20, 4 << 20, 1 << 20, 2 << 20, 8192, 0, 25_000)  # fmt: skip
    texts = b"".join(
        bytes([len(s)]) + s
        for s in (b"mps2-an386", b"cortex-m4", b"0.1.0", b"abc123", b"-O2", b"systick")
    )
    return nums + texts + struct.pack("<II", 256, 512) + b"future-field"


def test_identity_decodes_every_field_and_ignores_additions() -> None:
    ident = P.Identity.decode(_identity_payload())
    assert ident.board == "mps2-an386" and ident.core == "cortex-m4"
    assert (ident.max_payload, ident.window, ident.slot_bytes) == (4096, 8, 1 << 20)
    assert ident.limits() == {"arena_bytes": 2 << 20, "model_slot_bytes": 1 << 20,
                              "max_ops": 256, "max_tensors": 512,
                              "sram_bytes": 4 << 20, "flash_bytes": 4 << 20}  # fmt: skip
    assert ident.timing_unit == "instructions"
    assert ident.ticks_to_unit(25_000) == 1_000_000  # calib: 25,000 ticks per 1e6 instructions


def test_identity_short_payload_names_missing_field() -> None:
    with pytest.raises(ValueError, match="'board"):
        P.Identity.decode(_identity_payload()[:45])
    without_limits = _identity_payload()[: -len(b"future-field") - 8]
    with pytest.raises(ValueError, match="'max_ops'"):
        P.Identity.decode(without_limits)


def test_run_and_load_results_decode() -> None:
    run = P.RunResult.decode(struct.pack("<HHQQQIIIIIHH", 5, 2, 10, 11, 12, 100, 200, 300, 10,
                                         0xDEADBEEF, 7, 0))  # fmt: skip
    assert (run.runs, run.latency_median, run.output_crc32, run.n_ops) == (5, 11, 0xDEADBEEF, 7)
    load = P.LoadResult.decode(struct.pack("<IIIHBBII", 1000, 2000, 3, 4, 1, 1, 784, 10))
    assert (load.arena_bytes, load.n_ops, load.input_bytes, load.output_bytes) == (1000, 4, 784, 10)
    with pytest.raises(ValueError):
        P.RunResult.decode(b"\x00" * 10)


def test_op_records_decode_and_reject_ragged() -> None:
    payload = struct.pack("<HHH", 3, 0, 2) + struct.pack("<HIHI", 3, 100, 4, 200)
    assert P.unpack_op_records(payload) == (3, 0, [(3, 100), (4, 200)])
    with pytest.raises(ValueError, match="records"):
        P.unpack_op_records(payload[:-1])


def _golden_cases() -> list[dict]:
    return json.loads(GOLDEN.read_text())["cases"]


def test_golden_file_is_present_and_covers_errors() -> None:
    names = {c["name"] for c in _golden_cases()}
    assert {"ping", "bad_crc_then_ping", "oversized_then_ping", "model_too_big"} <= names


@pytest.mark.parametrize("case", _golden_cases(), ids=lambda c: c["name"])
def test_golden_replies_byte_for_byte(case: dict) -> None:
    """Our encoder makes exactly the firmware's reply bytes; our decoder reads them back."""
    for reply in case["replies"]:
        payload = bytes.fromhex(reply["payload_hex"])
        frame = P.encode_frame(reply["opcode"], reply["seq"], payload)
        assert frame.hex() == reply["frame_hex"]
        if reply["opcode"] == P.Op.ERROR:
            assert P.ErrorReply.decode(payload).encode() == payload
    decoded = P.FrameDecoder(65535).feed(bytes.fromhex(case["reply_hex"]))
    assert [(f.opcode, f.seq, f.payload.hex()) for f in decoded] == [
        (r["opcode"], r["seq"], r["payload_hex"]) for r in case["replies"]
    ]


@pytest.mark.parametrize("case", _golden_cases(), ids=lambda c: c["name"])
def test_golden_requests_decode_like_the_firmware_sees_them(case: dict) -> None:
    """Every well-formed request frame re-encodes to the same bytes (no hidden fields)."""
    raw = bytes.fromhex(case["request_hex"])
    for frame in P.FrameDecoder(65535).feed(raw):
        assert P.encode_frame(frame.opcode, frame.seq, frame.payload, frame.version) in raw


# --- client framing over loop:// -------------------------------------------------------


@pytest.fixture
def loop_client():
    with open_url("loop://") as transport:
        yield BoardClient(transport, board="loop", timeout=0.3, retries=0)


def test_client_skips_stale_replies_by_seq(loop_client: BoardClient) -> None:
    t = loop_client.transport
    t.write(P.encode_frame(0x82, 41, b"old") + b"\x00junk" + P.encode_frame(0x82, 42, b"new"))
    assert loop_client.receive(42, P.Op.PING) == b"new"


def test_client_maps_error_frame_to_device_error(loop_client: BoardClient) -> None:
    err = P.ErrorReply(P.Status.MODEL_TOO_BIG, P.Op.MODEL_BEGIN, "2000000 > slot 1048576")
    loop_client.transport.write(P.encode_frame(P.Op.ERROR, 9, err.encode()))
    with pytest.raises(DeviceError) as info:
        loop_client.receive(9, P.Op.MODEL_BEGIN)
    exc = info.value
    assert exc.status == 0x104 and exc.status_name == "MODEL_TOO_BIG" and exc.seq == 9
    assert exc.opcode == P.Op.MODEL_BEGIN and exc.board == "loop"
    assert exc.board_message == "2000000 > slot 1048576" and exc.expected_offset is None
    assert "MODEL_BEGIN" in str(exc) and "slot 1048576" in str(exc)


def test_bad_offset_carries_the_expected_offset_as_a_field(loop_client: BoardClient) -> None:
    """Upload resume reads the frame's detail field, never the message text."""
    err = P.ErrorReply(P.Status.BAD_OFFSET, P.Op.MODEL_CHUNK, "no number here", detail=8184)
    loop_client.transport.write(P.encode_frame(P.Op.ERROR, 3, err.encode()))
    with pytest.raises(DeviceError) as info:
        loop_client.receive(3, P.Op.MODEL_CHUNK)
    assert info.value.expected_offset == 8184
    assert BoardClient._board_offset(info.value, acked=4092, total=10000) == 8184
    assert BoardClient._board_offset(info.value, acked=4092, total=8000) == 4092  # out of range


def test_client_reply_timeout_is_bounded(loop_client: BoardClient) -> None:
    with pytest.raises(ReplyTimeout, match=r"within 0\.3") as info:
        loop_client.receive(5, P.Op.HELLO)
    assert (info.value.seq, info.value.opcode, info.value.timeout_s) == (5, P.Op.HELLO, 0.3)


def test_client_rejects_wrong_reply_opcode(loop_client: BoardClient) -> None:
    loop_client.transport.write(P.encode_frame(0x83, 6, b""))
    with pytest.raises(ProtocolError, match="expected 0x81"):
        loop_client.receive(6, P.Op.HELLO)


def test_client_refuses_payload_over_pre_hello_limit(loop_client: BoardClient) -> None:
    with pytest.raises(ProtocolError, match="limit of 256"):
        loop_client.send(P.Op.PING, bytes(300))
