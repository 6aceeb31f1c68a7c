"""Golden frames (tests/board/golden_frames.json) against the host-native firmware.

Each case's request bytes go to the firmware's stdin in one piece; its stdout
must be exactly the reply bytes PROTOCOL.md prescribes. The same file is read by
the host codec tests, so both sides agree byte for byte.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import firmware_util as fw

CASES = json.loads(fw.GOLDEN.read_text())["cases"]


@pytest.fixture(scope="module")
def host_fw() -> Path:
    return fw.build_firmware("host")


def test_golden_file_matches_the_spec_encoder() -> None:
    """The committed JSON is what the spec encoder writes (no hand edits drift)."""
    assert fw.golden_cases() == CASES


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_host_firmware_replies_exactly(host_fw: Path, case: dict[str, object]) -> None:
    request = bytes.fromhex(str(case["request_hex"]))
    proc = subprocess.run([host_fw], input=request, capture_output=True, timeout=20, check=False)
    assert proc.returncode == 0, proc.stderr.decode()
    got = proc.stdout
    want = bytes.fromhex(str(case["reply_hex"]))
    if got != want:  # show frames, not a wall of hex
        assert fw.parse_all(got) == fw.parse_all(want)
    assert got == want

