"""A board's budgets as the search's hard constraints (one place, read by CLI and demo).

Takes the board's :class:`~hilnas.board.profiles.BoardBudget` (duck-typed: this module does
not import the board) and the user's optional tighter limits, and refuses limits that are
negative, looser than the chip, or leave nothing once the firmware has taken its share —
each message names the budget at fault.
"""

from __future__ import annotations

from typing import Any

from hilnas.search.problem import Problem, SearchError


def board_constraints(
    budget: Any,
    latency_ms: float | None = None,
    latency: float | None = None,
    sram_kb: float | None = None,
    flash_kb: float | None = None,
) -> dict[str, float]:
    """Upper bounds on LUT-predicted costs for one board (see module docstring)."""
    if latency_ms is None and latency is None:
        raise SearchError("give a latency budget: --latency-ms X or --latency N (board units)")
    given = {"--latency-ms": latency_ms, "--latency": latency, "--sram-kb": sram_kb,
             "--flash-kb": flash_kb}
    for flag, value in given.items():
        if value is not None and not value > 0:
            raise SearchError(f"{flag} must be a positive number, got {value:g}")
    sram = budget.sram_bytes if sram_kb is None else sram_kb * 1024
    flash = budget.flash_bytes if flash_kb is None else flash_kb * 1024
    for flag, value, chip, firmware, what in (
        ("--sram-kb", sram, budget.sram_bytes, budget.firmware_ram_bytes, "SRAM"),
        ("--flash-kb", flash, budget.flash_bytes, budget.firmware_flash_bytes, "flash"),
    ):
        if value > chip:
            raise SearchError(
                f"{flag} {value / 1024:g} is more than the board's {what} "
                f"({chip / 1024:g} KB)"
            )
        if value <= firmware:
            raise SearchError(
                f"{flag} {value / 1024:g} leaves no {what} for a model: the firmware alone "
                f"takes {firmware / 1024:g} KB"
            )
    bounds: dict[str, float] = {}
    if latency_ms is not None:
        bounds["latency_ms"] = float(latency_ms)
    if latency is not None:
        bounds["latency"] = float(latency)
    bounds.update(
        {
            "sram_bytes": float(sram),
            "flash_bytes": float(flash),
            "arena_bytes": float(budget.arena_bytes),
            "model_bytes": float(budget.model_slot_bytes),
            "n_ops": float(budget.max_ops),
            "n_tensors": float(budget.max_tensors),
        }
    )
    return bounds


def require_reachable(problem: Problem, probe: tuple[int, ...], label: str = "smallest") -> None:
    """Refuse budgets that even ``probe`` (the space's smallest member) breaks."""
    verdict = problem.check([probe])[0]
    if not verdict.ok:
        raise SearchError(
            f"the budgets cannot be met: even the {label} architecture of "
            f"{problem.domain.name} breaks them ({verdict.reason})"
        )


def board_problem(
    space: Any,
    budget: Any,
    costs_fn: Any,
    evaluator: Any,
    latency_ms: float | None = None,
    latency: float | None = None,
    sram_kb: float | None = None,
    flash_kb: float | None = None,
    name: str = "",
) -> Problem:
    """The search over ``space`` for one board: maximise accuracy, minimise latency, every
    board budget a hard constraint. ``hilnas search`` and the demo both build it here, so a
    budget means the same thing in both."""
    from hilnas.search.problem import Objective, SpaceDomain

    bounds = board_constraints(budget, latency_ms, latency, sram_kb, flash_kb)
    lat = "latency_ms" if latency_ms is not None else "latency"
    domain = SpaceDomain(space)
    problem = Problem(
        domain,
        [Objective("accuracy", "max"), Objective(lat, "min", "cost")],
        evaluator,
        costs_fn=costs_fn,
        constraints=bounds,
        reference={"accuracy": 0.0, lat: bounds[lat]},
        name=name or space.name,
    )
    require_reachable(problem, domain.encode(space.smallest()))
    return problem
