"""The cross-built engine on an emulated Cortex-M4 (QEMU mps2-an386, DSP
SMLAD kernels) gives TFLM's exact bytes, using the board firmware and its
protocol client; also reports instructions per inference."""

from __future__ import annotations

import numpy as np
import oplib
import pytest
from hilnas.engine import zoo

pytestmark = [pytest.mark.slow, pytest.mark.qemu]

INSTRUCTIONS_PER_TICK_AN386 = 40  # SysTick 25 MHz under -icount shift=0 (firmware/README.md)
TFLM_REFERENCE_KWS_INSTRUCTIONS = 198_500_000  # FACTS §4, same architecture


def test_kws_on_emulated_m4_is_bit_exact_and_beats_tflm_reference() -> None:
    from hilnas.board.profiles import load_profile
    from hilnas.board.session import open_board

    model = zoo.build("kws_ds_cnn")
    x = np.random.default_rng(5).integers(-128, 128, (1, 49, 10, 1), dtype=np.int8)
    want, tflm_arena = oplib.run_tflm(model, [x])
    with open_board(load_profile("mps2-an386")) as session:
        client = session.client
        client.load_model(model)
        client.write_input(x.tobytes())
        result = client.run(1, 0, timeout=300)
        got = client.read_output(want[0].nbytes)
    assert got == want[0].tobytes()
    assert result.arena_bytes <= tflm_arena
    instructions = result.latency_median * INSTRUCTIONS_PER_TICK_AN386
    assert instructions < TFLM_REFERENCE_KWS_INSTRUCTIONS, instructions
