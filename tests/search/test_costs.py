"""LUT costs for the search: the batched path gives what one-member prediction gives.

``LutCosts`` asks the predictor for a whole batch at once (``predict_many`` with exact
arenas); the search's constraints must not change with that, so every field and every
infeasibility reason is compared with ``Predictor.predict`` on the shipped M4 table, on
members both inside and beyond the board, and a table missing an entry still names the
miss on the member that has it (and only there).
"""

from __future__ import annotations

import dataclasses
import random
import warnings
from pathlib import Path

import pytest
from hilnas.board.profiles import load_profile
from hilnas.lut import Predictor, StaleTableWarning, load_table
from hilnas.lut.keys import entry_keys
from hilnas.search.costs import LutCosts, _fields
from hilnas.search.problem import INFEASIBLE

TABLE = Path(__file__).resolve().parents[2] / "lut" / "mps2-an386" / "hybrid.json"


def _predictor(table):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StaleTableWarning)
        return Predictor(table, load_profile(table.board).budget())


@pytest.fixture(scope="module")
def table():  # type: ignore[no-untyped-def]
    return load_table(TABLE)


def _members(space, n: int, seed: int) -> list:  # type: ignore[no-untyped-def]
    rng = random.Random(seed)
    return [space.sample(rng) for _ in range(n)] + [space.smallest(), space.largest()]


def test_batched_costs_equal_one_member_predictions(table) -> None:  # type: ignore[no-untyped-def]
    pred = _predictor(table)
    archs = _members(pred.space, 60, 5)
    batched = LutCosts(pred)(archs)
    alone = _predictor(table)  # its own caches: nothing compiled by the batch is reused
    single = [_fields(alone.predict(a)) for a in archs]
    assert len(batched) == len(archs)
    for got, want in zip(batched, single, strict=True):
        assert got.keys() == want.keys()
        for key, value in want.items():
            if key == "latency" or key == "latency_ms":  # summed per stage vs per entry
                assert got[key] == pytest.approx(value, rel=1e-12)
            else:
                assert got[key] == value, key
    reasons = [r.get(INFEASIBLE) for r in batched]
    assert any(reasons) and not all(reasons)  # members within and beyond the board checked


def test_a_lut_miss_is_named_on_its_member_only(table) -> None:  # type: ignore[no-untyped-def]
    space = _predictor(table).space
    archs = _members(space, 30, 6)
    largest = space.largest()
    dropped = entry_keys(space.blocks(largest)[-1])[0]
    entries = {k: v for k, v in table.entries.items() if k != dropped}
    costs = LutCosts(_predictor(dataclasses.replace(table, entries=entries)))(archs)
    for arch, row in zip(archs, costs, strict=True):
        uses = dropped in {k for b in space.blocks(arch) for k in entry_keys(b)}
        assert (dropped in str(row.get(INFEASIBLE, ""))) == uses
    assert dropped in costs[-1][INFEASIBLE]
