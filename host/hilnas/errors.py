"""One error vocabulary for all of hilnas.

Every failure a user can cause (bad model, bad board, bad bytes on the wire)
raises a subclass of :class:`HilnasError` whose message names the culprit: the
op, the tensor, the board, the byte offset. The CLI prints the message and exits
non-zero; a Python traceback is never the only thing a user sees.
"""

from __future__ import annotations


class HilnasError(Exception):
    """Base of every error hilnas raises on purpose."""


class ConfigError(HilnasError):
    """A file the user gave us (profile YAML, arch JSON, option) is invalid."""


class OutputError(HilnasError):
    """An output file cannot be written (read-only folder, full disk, path is a folder)."""


class DataError(HilnasError):
    """A dataset path is missing or malformed."""


class ConvertError(HilnasError):
    """A model could not be turned into a TFLM-ready int8 .tflite."""


class TflmError(ConvertError):
    """The TFLite Micro reference interpreter could not load or run a model.

    Raised by :mod:`hilnas.tflm` (the one oracle) only. It is a :class:`ConvertError`
    because a model TFLM cannot run is not a deployable conversion, so a conversion
    route that meets it fails and the next route is tried. ``stage`` says what failed
    (``load``, ``input``, ``invoke``, ``arena``), ``tflm_says`` is TFLM's own stderr
    explanation (may be empty).
    """

    def __init__(self, stage: str, message: str, tflm_says: str = "") -> None:
        super().__init__(message + (f"; TFLM says: {tflm_says[:600]}" if tflm_says else ""))
        self.stage = stage
        self.tflm_says = tflm_says


class CheckError(ConvertError):
    """A converted model failed one of the converter's checks.

    ``check`` names the check (e.g. ``float_agreement``), ``detail`` says which
    op or tensor was at fault.
    """

    def __init__(self, check: str, detail: str) -> None:
        super().__init__(f"{check}: {detail}")
        self.check = check
        self.detail = detail


class EngineError(HilnasError):
    """The C engine rejected a model or failed while running it."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class BoardError(HilnasError):
    """Anything that goes wrong talking to a board (real or emulated)."""


class ProtocolError(BoardError):
    """The byte stream from the board did not follow firmware/PROTOCOL.md."""


class ReplyTimeout(ProtocolError):
    """No reply with the expected seq arrived in time (a silent or lost link)."""

    def __init__(self, board: str, opcode: int, op_name: str, seq: int, timeout_s: float) -> None:
        super().__init__(f"{board}: no reply to {op_name} (seq {seq}) within {timeout_s:.1f} s")
        self.board = board
        self.opcode = opcode
        self.op_name = op_name
        self.seq = seq
        self.timeout_s = timeout_s


class DeviceError(BoardError):
    """The board answered a request with an error frame (firmware/PROTOCOL.md ERROR).

    Every field of the frame is kept: ``status`` (protocol status >= 0x100, or the
    engine's hn_status 1..9) and its ``status_name``, the request ``opcode``/``seq``,
    the board's own ``board_message`` and, for BAD_OFFSET, ``expected_offset``: where
    the board wants the upload to resume (the frame's detail field, never parsed
    from text). ``str(exc)`` is the whole story for a user.
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        board: str = "board",
        status_name: str = "",
        opcode: int = 0,
        seq: int = 0,
        board_message: str = "",
        expected_offset: int | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.board = board
        self.status_name = status_name or f"status 0x{status:x}"
        self.opcode = opcode
        self.seq = seq
        self.board_message = board_message
        self.expected_offset = expected_offset


class BoardMismatchError(BoardError):
    """A board reports a limit (arena, model slot, op/tensor tables) its profile does not.

    Flashing or emulating a firmware built from another profile would make every
    budget the search trusted wrong, so the session refuses the board.
    """

    def __init__(self, board: str, field: str, reported: int, expected: int) -> None:
        super().__init__(
            f"board {board} reports {field} {reported}, its profile says {expected} "
            "(firmware built from another profile? rebuild it: hilnas firmware build "
            f"--board {board})"
        )
        self.board = board
        self.field = field
        self.reported = reported
        self.expected = expected


class OutputMismatchError(BoardError):
    """The board's output differs from the TFLM reference's.

    ``index`` is the first differing byte (-1 when the sizes differ), with the
    board's and TFLM's values there.
    """

    def __init__(self, message: str, index: int, board_value: int, tflm_value: int) -> None:
        super().__init__(message)
        self.index = index
        self.board_value = board_value
        self.tflm_value = tflm_value


class ToolMissingError(BoardError):
    """An external tool (QEMU, pyOCD, OpenOCD, arm-none-eabi-gcc) is not installed."""


class SpaceError(HilnasError):
    """An architecture does not belong to its search space."""


class LutMissError(HilnasError):
    """A latency/memory lookup table has no entry for a block signature."""

    def __init__(self, key: str) -> None:
        super().__init__(f"no LUT entry for {key}")
        self.key = key
