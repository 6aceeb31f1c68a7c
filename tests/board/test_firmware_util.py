"""The test harness's own link (firmware_util.Link): a fake transport, no board."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import firmware_util as fw


class _DeafUntilKicked:
    """A transport whose board misses requests until QEMU's main loop is kicked
    (the RX race hilnas.board.qemu describes), then answers with a PING reply."""

    def __init__(self) -> None:
        self.kicks = 0
        self.out = b""

    def write(self, data: bytes) -> None:
        pass

    def kick(self) -> None:
        self.kicks += 1
        self.out = fw.frame(fw.PING | 0x80, 7)

    def read_some(self, timeout: float) -> bytes:
        out, self.out = self.out, b""
        return out


def test_the_test_link_kicks_a_silent_fresh_board_once() -> None:
    t = _DeafUntilKicked()
    link = fw.Link(t, timeout=3.0, kick=t.kick, kick_after=0.2)
    assert link.call(fw.PING, 7).opcode == fw.PING | 0x80 and t.kicks == 1
    deaf = _DeafUntilKicked()
    with pytest.raises(AssertionError, match=r"0 of 1 frames in time \(kicked QEMU\)"):
        fw.Link(deaf, timeout=0.6, kick=lambda: None, kick_after=0.1).call(fw.PING, 8)
