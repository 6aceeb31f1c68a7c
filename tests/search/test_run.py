"""Runs: reproducible per seed, resumable after kill -9, refusing a foreign run folder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hilnas.search import SearchError, list_strategies, run_search
from hilnas.search.report import write_outputs
from hilnas.search.synthetic import zdt_grid

SMALL = (8, 3, 3, 3)  # 216 members: fast, still a real front to find


@pytest.mark.parametrize("strategy", list_strategies())
def test_same_seed_same_result_other_seed_other_result(strategy: str) -> None:
    runs = [run_search(zdt_grid(SMALL), strategy, 30, seed=s, batch_size=6) for s in (1, 1, 2)]
    xs = [[r.x for r in run.records] for run in runs]
    assert xs[0] == xs[1]
    assert xs[0] != xs[2]


def _batch_sizes(run: Any) -> list[int]:
    sizes: dict[int, int] = {}
    for rec in run.records:
        sizes[rec.iteration] = sizes.get(rec.iteration, 0) + 1
    return [sizes[i] for i in sorted(sizes)]


def test_hyt_ends_in_batches_of_halving_size() -> None:
    """At most half the evaluations left go into one batch (``taper``), so the last picks
    are chosen with the results of the ones before; ``taper=0`` keeps full batches."""
    run = run_search(zdt_grid(SMALL), "hyt", 40, seed=0, batch_size=10)
    assert _batch_sizes(run) == [10, 10, 10, 5, 3, 1, 1]
    flat = run_search(zdt_grid(SMALL), "hyt", 40, seed=0, batch_size=10, taper=0)
    assert _batch_sizes(flat) == [10, 10, 10, 10]


def test_a_finished_run_folder_is_replayed_without_evaluating(tmp_path: Path) -> None:
    first = run_search(zdt_grid(SMALL), "hyt", 25, seed=0, out_dir=tmp_path, batch_size=5)
    again = run_search(zdt_grid(SMALL), "hyt", 25, seed=0, out_dir=tmp_path, batch_size=5)
    assert first.live_evaluations == 25
    assert again.live_evaluations == 0
    assert [r.to_json() for r in again.records] == [r.to_json() for r in first.records]
    info = write_outputs(again, tmp_path)
    for name in ("front.json", "front.png", "hypervolume.json", "hypervolume.png",
                 "winner.json", "run.json", "evaluations.jsonl"):
        assert (tmp_path / name).stat().st_size > 0
    assert info["winner"]["objectives"]["f1"] == min(r.objectives["f1"] for r in first.records)
    assert info["winner_rule"].startswith("min f1 among evaluated candidates")
    assert "versions" in json.loads((tmp_path / "run.json").read_text())


def test_a_folder_of_another_run_is_refused(tmp_path: Path) -> None:
    run_search(zdt_grid(SMALL), "random", 5, seed=0, out_dir=tmp_path)
    with pytest.raises(SearchError, match="seed differ"):
        run_search(zdt_grid(SMALL), "random", 5, seed=1, out_dir=tmp_path)


@pytest.mark.parametrize("budget", [0, -3])
def test_non_positive_budgets_are_refused(budget: int) -> None:
    with pytest.raises(SearchError, match="at least 1"):
        run_search(zdt_grid(SMALL), "random", budget)


CLI = [sys.executable, "-m", "hilnas", "search", "table"]


def _table_cmd(table: Path, out: Path) -> list[str]:
    return [*CLI, str(table), "--maximize", "accuracy", "--minimize", "latency_ms",
            "--budget", "40", "--batch-size", "5", "--seed", "4", "-o", str(out)]


def _env() -> dict[str, str]:
    host = Path(__file__).resolve().parents[2] / "host"
    return {**os.environ, "PYTHONPATH": f"{host}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}


def _lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


@pytest.mark.slow
def test_kill_9_and_rerun_gives_the_uninterrupted_front(tmp_path: Path, hybrid_table: Any) -> None:
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    subprocess.run(_table_cmd(hybrid_table, whole), check=True, env=_env(),
                   capture_output=True, timeout=300)
    proc = subprocess.Popen(_table_cmd(hybrid_table, killed), env=_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log = killed / "evaluations.jsonl"
    deadline = time.monotonic() + 240
    while _lines(log) < 20 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    n_before = _lines(log)
    assert 20 <= n_before < 40
    out = subprocess.run(_table_cmd(hybrid_table, killed), check=True, env=_env(),
                         capture_output=True, text=True, timeout=300)
    assert "evaluations/s" in out.stdout  # live evaluations happened after the resume
    fronts = [json.loads((d / "front.json").read_text())["front"] for d in (whole, killed)]
    assert fronts[0] == fronts[1]
    logs = [(d / "evaluations.jsonl").read_text() for d in (whole, killed)]
    assert logs[0] == logs[1]
    assert "row" in json.loads(logs[0].splitlines()[0])["candidate"]


def test_cli_search_refuses_bad_boards_budgets_and_a_missing_lut(tmp_path: Path) -> None:
    from hilnas.cli import main

    ckpt = tmp_path / "supernet.pt"
    ckpt.write_bytes(b"x")
    base = ["search", "--space", "hybrid", "--lut", str(tmp_path / "lut.json"),
            "--supernet", str(ckpt), "--budget", "4", "-o", str(tmp_path / "run")]
    cases = [
        (["--board", "no-such-board", "--latency-ms", "5"], "unknown board 'no-such-board'"),
        (["--board", "mps2-an386", "--latency-ms", "-5"], "--latency-ms must be a positive"),
        (["--board", "mps2-an386", "--latency-ms", "5", "--sram-kb", "99999"],
         "--sram-kb 99999 is more than the board's SRAM"),
        (["--board", "mps2-an386", "--latency-ms", "5", "--flash-kb", "10"],
         "--flash-kb 10 leaves no flash"),
        (["--board", "mps2-an386"], "give a latency budget"),
        (["--board", "mps2-an386", "--latency-ms", "5"], "lut.json: LUT file does not exist"),
    ]
    import contextlib
    import io

    for extra, message in cases:
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            assert main([*base, *extra]) == 2
        assert message in " ".join(err.getvalue().split()), (extra, err.getvalue())


def test_cli_table_prints_the_true_pareto_points_found(tmp_path: Path, hybrid_table: Any,
                                                       capsys: Any) -> None:
    from hilnas.cli import main

    assert main(["search", "table", str(hybrid_table), "--maximize", "accuracy", "--minimize",
                 "latency_ms", "--constraint", "latency_ms<=20", "--budget", "12",
                 "--strategy", "random", "-o", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "true Pareto points found:" in out and "row " in out
    assert main(["search", "table", str(hybrid_table), "--maximize", "accuracy",
                 "--budget", "-1", "-o", str(tmp_path / "x")]) == 2
