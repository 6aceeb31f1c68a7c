"""The predictor on the shipped default table: fast path = exact path, feasibility,
misses, stale-engine warnings, and no torch import."""

from __future__ import annotations

import copy
import random
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from hilnas.board.profiles import load_profile
from hilnas.errors import ConfigError
from hilnas.lut import LutMissError, Predictor, StaleTableWarning, load_table

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "lut" / "mps2-an386" / "hybrid.json"


@pytest.fixture(scope="module")
def table():
    return load_table(TABLE)


@pytest.fixture(scope="module")
def pred(table):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StaleTableWarning)
        return Predictor(table, load_profile(table.board).budget())


def covered(pred, archs):
    """Members the shipped table covers (all of them once the build has finished)."""
    out = []
    for a in archs:
        try:
            pred.entries_for(a)
        except LutMissError:
            continue
        out.append(a)
    return out


def largest_covered(pred):
    space = pred.space
    return next(a for r in reversed(space.knob("resolution").choices)
                for a in covered(pred, [space.make({**space.largest().values, "resolution": r})]))


def test_batched_path_matches_one_by_one(pred) -> None:
    space = pred.space
    rng = random.Random(3)
    archs = covered(pred, [space.sample(rng) for _ in range(600)] + [space.smallest()])
    assert len(archs) >= 100
    archs.append(largest_covered(pred))
    fast = pred.predict_many([space.encode(a) for a in archs])
    for i, arch in enumerate(archs):
        p = pred.predict(arch, exact_arena=False)
        assert fast["latency"][i] == pytest.approx(p.latency, rel=1e-12)
        assert (fast["n_ops"][i], fast["n_tensors"][i]) == (p.n_ops, p.n_tensors)
        assert fast["model_bytes"][i] == p.model_bytes


def test_figures_add_up_and_limits_make_members_infeasible(pred) -> None:
    budget = load_profile("mps2-an386").budget()
    small = pred.predict(pred.space.smallest())
    assert small.feasible and small.arena_bytes and small.latency > 0
    assert small.sram_bytes == budget.firmware_ram_bytes + small.arena_bytes
    assert small.flash_bytes == budget.firmware_flash_bytes + small.model_bytes
    assert small.latency_ms == pytest.approx(small.latency / 25e6 * 1e3)
    big = pred.predict(largest_covered(pred))
    assert big.n_ops > budget.max_ops  # 300+ ops: beyond the engine's op table
    assert not big.feasible and big.arena_bytes is None
    assert any("ops >" in r for r in big.reasons)


def test_missing_entries_are_listed(table) -> None:
    space_pred = Predictor(copy.deepcopy(table), check_engine=False)
    arch = space_pred.space.smallest()
    first = space_pred.entries_for(arch)
    key = next(k for k, e in space_pred.table.entries.items() if e is first[1][1])
    del space_pred.table.entries[key]
    with pytest.raises(LutMissError) as err:
        space_pred.predict(arch)
    assert key in err.value.keys and key in str(err.value)


def test_stale_engine_hash_warns_or_fails_when_strict(table) -> None:
    stale = copy.deepcopy(table)
    stale.meta["engine_source_hash"] = "0000"
    with pytest.warns(StaleTableWarning, match="engine sources 0000"):
        Predictor(stale)
    with pytest.raises(ConfigError, match="engine sources 0000"):
        Predictor(stale, strict=True)


def test_lut_package_imports_no_torch() -> None:
    code = ("import sys, hilnas.lut, hilnas.lut.attribute, hilnas.lut.assemble;"
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_flash_fit_is_within_one_percent_on_build_chains(table) -> None:
    samples = np.asarray(table.fits["flash_samples"], dtype=float)
    assert len(samples) >= 10
    from hilnas.lut.predict import fit_flash

    assert fit_flash(table)["max_rel_err"] <= 0.01
