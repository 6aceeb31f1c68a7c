"""Every op hilnas accepts (hilnas.tflm_ops.TFLM_INT8_OPS) has a kernel in the engine.

The converter, the search spaces and the board all trust that list; an op on
it that the engine lacks would pass conversion and then fail on the board at
load. The engine's registry is asked directly (hn_op_supported), with op names
mapped to builtin codes by the TFLite schema shipped with tflite-micro, the
same table hilnas.board.measure uses.
"""

from __future__ import annotations

from hilnas.board.measure import builtin_op_names
from hilnas.engine.binding import builtin_name, op_supported
from hilnas.tflm_ops import TFLM_INT8_OPS


def op_codes() -> dict[str, int]:
    return {name: code for code, name in builtin_op_names().items()}


def test_every_accepted_op_name_is_a_builtin() -> None:
    unknown = sorted(TFLM_INT8_OPS - op_codes().keys())
    assert not unknown, f"not TFLite builtin op names: {unknown}"


def test_engine_implements_every_accepted_op() -> None:
    codes = op_codes()
    missing = sorted(name for name in TFLM_INT8_OPS if not op_supported(codes[name]))
    assert not missing, f"in hilnas.tflm_ops.TFLM_INT8_OPS but not in the engine: {missing}"


def test_engine_name_table_agrees_with_schema() -> None:
    """The engine's error messages name ops by its own table: it must match."""
    codes = op_codes()
    assert {name: builtin_name(codes[name]) for name in TFLM_INT8_OPS} == {
        name: name for name in TFLM_INT8_OPS}


def test_op_supported_says_no_for_unimplemented_and_invalid_codes() -> None:
    """A registry query that answered yes to everything would make the test above vacuous."""
    codes = op_codes()
    assert not op_supported(codes["GELU"])
    assert not op_supported(codes["EXP"])
    assert not op_supported(-1)
    assert not op_supported(1 << 20)
    assert op_supported(codes["SLICE"])
