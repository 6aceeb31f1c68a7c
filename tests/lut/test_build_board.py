"""Builds on the emulated board: resume after kill -9, and the shipped table against fresh
measurements of members (a stale table fails here)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
from hilnas.board.profiles import load_profile
from hilnas.lut import Predictor, StaleTableWarning, load_table
from hilnas.lut.validate import measure_members, summarize

ROOT = Path(__file__).resolve().parents[2]
#: Every shipped table (lut/BOARD/SPACE.json; validation reports sit beside them).
TABLES = sorted(p for p in (ROOT / "lut").glob("*/*.json") if p.stem.count(".") == 0)

pytestmark = [pytest.mark.slow, pytest.mark.qemu]


def _build_cmd(out: Path, limit: int) -> list[str]:
    return [sys.executable, "-m", "hilnas", "lut", "build", "--board", "mps2-an386",
            "--space", "cnn", "-o", str(out), "--limit", str(limit), "--jobs", "1"]


def _entries(path: Path) -> dict:
    return json.loads(path.read_text())["entries"] if path.exists() else {}


def test_kill_9_mid_build_then_rerun_redoes_no_finished_entry(tmp_path) -> None:
    out = tmp_path / "cnn.json"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.Popen(_build_cmd(out, 8), cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600  # a cold start on a loaded 2-core machine
    try:
        while not _entries(out) and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.5)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the build and its converter processes
        proc.wait()
    first = _entries(out)
    assert first, "no chain finished before the deadline"
    load_table(out)  # the killed build left a complete, readable table
    done = subprocess.run(_build_cmd(out, 4), cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    second = _entries(out)
    for key, entry in first.items():  # finished entries kept, not measured again
        assert second[key]["chain"] == entry["chain"]
        assert second[key]["latency"] == entry["latency"]
    assert len(second) > len(first)


def _board_spaces() -> list[tuple[str, str]]:
    from hilnas.space import list_spaces

    return [(b, s) for b in ("mps2-an386", "mps2-an385") for s in list_spaces()]


@pytest.mark.parametrize(("board", "space"), _board_spaces())
def test_every_space_has_a_shipped_table_on_both_emulated_boards(board: str, space: str) -> None:
    assert (ROOT / "lut" / board / f"{space}.json") in TABLES, f"no lut/{board}/{space}.json"


def _middle_member_the_board_loads(pred: Predictor):
    """The middle choice of every knob at the smallest resolution, or, when the predictor
    says the board cannot run that (hybrid-unfold's middle member has 293 ops, the engine's
    table 256), the first feasible member on the way down to the smallest."""
    space = pred.space
    res = space.smallest()["resolution"]
    vectors = [[len(k.choices) // 2 for k in space.knobs]]
    vectors += [[int((len(k.choices) - 1) * f) for k in space.knobs] for f in (0.4, 0.3, 0.2)]
    for vec in vectors:
        member = space.make({**space.decode(vec).values, "resolution": res})
        p = pred.predict(member)
        if p.feasible:
            return member
        assert p.reasons, p  # infeasible is said with its reasons, never silently
    raise AssertionError(f"no middle member of {space.name} fits {pred.table.board}")


@pytest.mark.parametrize("path", TABLES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_shipped_table_matches_fresh_board_measurements(path: Path) -> None:
    """Two members per table (the smallest, a middle one at the smallest resolution),
    converted fresh with today's converter (cached by content, so the second board of a
    space converts nothing) and run on today's firmware: a stale table fails here."""
    table = load_table(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StaleTableWarning)
        pred = Predictor(table, load_profile(table.board).budget())
    members = [pred.space.smallest(), _middle_member_the_board_loads(pred)]
    # work=None: the content-keyed conversion cache, so the second board converts nothing
    summary = summarize(measure_members(pred, members, seed=7, work=None))
    for m in summary.members:
        p, q = m.predicted, m.measured
        assert abs(p["latency"] - q["latency"]) / q["latency"] <= 0.03
        assert p["arena_bytes"] == q["arena_bytes"]
        assert (p["n_ops"], p["n_tensors"]) == (q["n_ops"], q["n_tensors"])
        assert abs(p["model_bytes"] - q["model_bytes"]) / q["model_bytes"] <= 0.01


def test_other_board_and_fresh_rebuild_convert_nothing(tmp_path) -> None:
    """The conversion cache: after one board's build, another board's build of the same
    space (two boards at once) and a --fresh rebuild (as after an engine change) only run
    the boards; a rebuild gives the same figures."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}

    def build(board: str, out: Path, *extra: str) -> dict:
        cmd = [sys.executable, "-m", "hilnas", "lut", "build", "--board", board, "--space",
               "cnn", "-o", str(out), "--limit", "4", *extra]
        done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        return json.loads(out.read_text())

    first = build("mps2-an386", tmp_path / "a.json")
    other = build("mps2-an385", tmp_path / "b.json", "--jobs", "2")
    again = build("mps2-an386", tmp_path / "a.json", "--fresh")
    chains = first["meta"]["last_build"]["chains"]
    for t in (other, again):
        assert t["meta"]["last_build"]["converted"] == 0
        assert t["meta"]["last_build"]["cache_hits"] == chains
        assert t["entries"].keys() == first["entries"].keys()
    assert all(again["entries"][k]["latency"] == e["latency"] for k, e in first["entries"].items())
    assert other["meta"]["board"] == "mps2-an385"
