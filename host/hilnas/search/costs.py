"""Cost functions: what a candidate will cost on the board, known before it is evaluated.

A cost function takes decoded candidates (``Arch`` objects for a space) and returns one
mapping of named costs per candidate; ``"infeasible": reason`` marks one the board cannot
run whatever the budgets. :class:`LutCosts` reads the board's latency/memory lookup tables
(``hilnas.lut``, imported only when used); :class:`AnalyticCosts` counts MACs/parameters
from a space's block list — a real, deterministic stand-in where no LUT exists (tests,
benchmarks), never a description of any board.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hilnas.search.problem import INFEASIBLE, SearchError

#: The fields a LUT prediction carries, as the search reads them.
LUT_FIELDS = (
    "latency",
    "latency_ms",
    "arena_bytes",
    "sram_bytes",
    "model_bytes",
    "flash_bytes",
    "n_ops",
    "n_tensors",
)


class LutCosts:
    """Costs from a LUT predictor: every field of :data:`LUT_FIELDS` per architecture.

    A LUT miss (a block the table has never measured) makes the candidate infeasible with
    the missing keys as the reason: a latency nobody measured cannot be shown to fit. So
    does a member beyond the engine's op/tensor tables (the predictor says which).

    Why batched: the search checks thousands of candidates per iteration (NSGA-II on the
    acquisition, the feasible pool); the predictor's ``predict_many(..., arena=True)``
    gathers per-stage sums and plans every arena in one C call, where ``predict`` walks
    one member's blocks in Python. A batch with a LUT miss in it falls back to one member
    at a time, so each miss is named on its own candidate.
    """

    def __init__(self, predictor: Any) -> None:
        self.predictor = predictor

    def __call__(self, archs: Sequence[Any]) -> list[dict[str, Any]]:
        from hilnas.lut import LutMissError

        if not archs:
            return []
        space = self.predictor.space
        try:
            batch = self.predictor.predict_many([space.encode(a) for a in archs], arena=True)
        except LutMissError:
            return [self._one(arch) for arch in archs]
        return [self._row(batch, i) for i in range(len(archs))]

    def _row(self, batch: dict[str, Any], i: int) -> dict[str, Any]:
        """Member ``i`` of a ``predict_many`` batch as :meth:`_one` gives it: an arena of -1
        (a member the engine cannot load) is no figure, and the reasons come from the
        predictor's own rule (its ``_finish``), so both paths word them alike."""
        arena = int(batch["arena_bytes"][i])
        pred = self.predictor._finish(
            float(batch["latency"][i]), None if arena < 0 else arena,
            int(batch["model_bytes"][i]), int(batch["n_ops"][i]), int(batch["n_tensors"][i]))
        return _fields(pred)

    def _one(self, arch: Any) -> dict[str, Any]:
        from hilnas.lut import LutMissError

        try:
            pred = self.predictor.predict(arch)
        except LutMissError as exc:
            return {INFEASIBLE: f"no LUT entry for {', '.join(exc.keys[:3])}"}
        return _fields(pred)


def _fields(pred: Any) -> dict[str, Any]:
    """A prediction's :data:`LUT_FIELDS` (those it has) and its infeasibility reason."""
    row: dict[str, Any] = {}
    for name in LUT_FIELDS:
        value = getattr(pred, name, None)
        if value is not None:
            row[name] = float(value)
    if not getattr(pred, "feasible", True):
        row[INFEASIBLE] = "; ".join(getattr(pred, "reasons", ())) or "beyond the board"
    return row


def load_lut_costs(lut_path: Path, space: Any, board: str) -> LutCosts:
    """The board's LUT at ``lut_path`` as a cost function for ``space`` (refused clearly
    when the table is of another board or space)."""
    if not Path(lut_path).is_file():
        raise SearchError(f"{lut_path}: LUT file does not exist (build it with "
                          f"`hilnas lut build --board {board} --space {space.name}`)")
    from hilnas.board.profiles import load_profile
    from hilnas.lut import Predictor, load_table

    table = load_table(Path(lut_path))
    if table.space != space.name or table.board != board:
        raise SearchError(f"{lut_path} is the table of {table.space} on {table.board}, "
                          f"not of {space.name} on {board}")
    return LutCosts(Predictor(table, load_profile(board).budget()))


# ---------------------------------------------------------------------------- analytic
def block_macs(
    kind: str, hwc_in: tuple[int, int, int], hwc_out: tuple[int, int, int], params: dict[str, int]
) -> tuple[float, float]:
    """(MACs, weights) of one block from its NHWC shapes and settings."""
    h, w, c = hwc_in
    ho, wo, co = hwc_out
    if kind == "conv":
        k = params.get("kernel", 3)
        return ho * wo * co * c * k * k, co * c * k * k
    if kind == "mbconv":
        e, k = params.get("expand", c), params.get("kernel", 3)
        macs = h * w * c * e + ho * wo * e * k * k + ho * wo * e * co
        return macs, c * e + e * k * k + e * co
    if kind == "attention":
        p = max(1, params.get("patch", 1))
        tokens, kv = h * w, max(1, h // p) * max(1, w // p)
        ffn = params.get("ffn", c)
        macs = tokens * 4 * c * c + 2 * tokens * kv * c + 2 * tokens * c * ffn
        return macs, 4 * c * c + 2 * c * ffn
    return h * w * c + c * co, c * co


class AnalyticCosts:
    """MACs, weights, block count and a MAC-proportional ``latency_ms`` of space members.

    ``macs_per_ms`` converts MACs to a nominal latency so the same budgets and plots work
    as with a LUT; it describes no board.
    """

    def __init__(self, space: Any, macs_per_ms: float = 25_000.0, max_blocks: int | None = None):
        self.space = space
        self.macs_per_ms = macs_per_ms
        self.max_blocks = max_blocks
        self.calls = 0

    def __call__(self, archs: Sequence[Any]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for arch in archs:
            self.calls += 1
            blocks = self.space.blocks(arch)
            macs = weights = 0.0
            for b in blocks:
                m, w = block_macs(b.kind, b.input_hwc, b.output_hwc, dict(b.params))
                macs, weights = macs + m, weights + w
            row: dict[str, Any] = {
                "macs": macs,
                "params": weights,
                "n_blocks": float(len(blocks)),
                "latency_ms": macs / self.macs_per_ms,
            }
            if self.max_blocks is not None and len(blocks) > self.max_blocks:
                row[INFEASIBLE] = f"{len(blocks)} blocks > {self.max_blocks}"
            out.append(row)
        return out
