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


class DeviceError(BoardError):
    """The board answered with an error frame; ``status`` is its C status code."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class ToolMissingError(BoardError):
    """An external tool (QEMU, pyOCD, OpenOCD, arm-none-eabi-gcc) is not installed."""


class SpaceError(HilnasError):
    """An architecture does not belong to its search space."""


class LutMissError(HilnasError):
    """A latency/memory lookup table has no entry for a block signature."""

    def __init__(self, key: str) -> None:
        super().__init__(f"no LUT entry for {key}")
        self.key = key
