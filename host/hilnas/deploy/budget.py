"""Does a converted model fit a board? Checked before any firmware is built.

Every figure is compared with the board's :class:`~hilnas.board.profiles.BoardBudget`, and a
model that does not fit is refused with a message that names the figure, the need, what
the board has and the overshoot: a user must know *what* to shrink and by how much.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from hilnas.board.profiles import BoardBudget
from hilnas.errors import HilnasError


@dataclass(frozen=True)
class Figure:
    """One resource a model needs next to what the board grants it."""

    name: str  # e.g. "model flash"
    needed: int
    available: int
    unit: str  # "B", "ops", "tensors"
    what: str  # how the message says it: "of flash", "of tensor arena (SRAM)"
    source: str  # where ``needed`` comes from

    @property
    def over(self) -> int:
        return max(0, self.needed - self.available)

    @property
    def fits(self) -> bool:
        return self.needed <= self.available

    def message(self) -> str:
        unit = f" {self.unit}"
        return (
            f"model needs {self.needed:,}{unit} {self.what}, the board has "
            f"{self.available:,}{unit} for a model: {self.over:,}{unit} over"
        )

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "over": self.over, "fits": self.fits}


class BudgetExceededError(HilnasError):
    """The model does not fit the board; ``figures`` holds every figure that does not."""

    def __init__(self, board: str, figures: list[Figure]) -> None:
        lines = "; ".join(f.message() for f in figures)
        super().__init__(f"{board}: refused before building: {lines}")
        self.board = board
        self.figures = figures


def model_figures(
    budget: BoardBudget,
    model_bytes: int,
    arena_bytes: int,
    n_ops: int,
    n_tensors: int,
    stream: bool,
    arena_source: str = "engine (host build)",
) -> list[Figure]:
    """The four figures a model is checked against: storage, arena, ops, tensors.

    A streamed model lives in the RAM model slot; a deployed one in the flash the
    firmware leaves free. Ops and tensors bound the engine's static tables.
    """
    if stream:
        storage = Figure("model slot", model_bytes, budget.model_slot_bytes, "B",
                         "of RAM model slot", "flatbuffer size")
    else:
        storage = Figure("model flash", model_bytes, budget.model_flash_bytes, "B",
                         "of flash", "flatbuffer size")
    return [
        storage,
        Figure("arena", arena_bytes, budget.arena_bytes, "B", "of tensor arena (SRAM)",
               arena_source),
        Figure("ops", n_ops, budget.max_ops, "ops", "in its graph", "flatbuffer operators"),
        Figure("tensors", n_tensors, budget.max_tensors, "tensors", "in its graph",
               "flatbuffer tensors"),
    ]


def refuse_if_over(board: str, figures: list[Figure]) -> None:
    """Raise :class:`BudgetExceededError` naming every figure over its budget."""
    over = [f for f in figures if not f.fits]
    if over:
        raise BudgetExceededError(board, over)
