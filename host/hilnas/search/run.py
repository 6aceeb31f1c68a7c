"""Run a strategy on a problem for a budget of true evaluations, into a resumable run folder.

The run folder is the checkpoint. ``run.json`` holds the settings (and the command and
versions); ``evaluations.jsonl`` gets one line per true evaluation, flushed and fsynced as
soon as it is known, so an evaluation is never paid for twice; ``progress.json`` is
rewritten atomically after every iteration (ask → evaluate → tell).

Why resume is a replay: every strategy is deterministic given its seed, so a rerun asks for
exactly the candidates it asked for before. The runner answers those from the log instead
of the evaluator (checking that each matches, in order) and carries on live where the log
ends. The resumed run therefore ends in the very state — front, winner, log — an
uninterrupted run reaches, without pickling strategies, surrogates or pymoo internals.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hilnas.fileio import atomic_write_json
from hilnas.search.problem import Problem, SearchError, Vector
from hilnas.search.selection import hypervolume, pareto_mask
from hilnas.search.strategies import Strategy, get_strategy

LOG = "evaluations.jsonl"
#: After this many asks in a row that bring nothing new, the feasible space is used up.
MAX_EMPTY_ASKS = 20


@dataclass
class EvalRecord:
    """One true evaluation: the candidate, its objective values and its predicted costs."""

    i: int
    iteration: int
    x: Vector
    candidate: dict[str, Any]
    objectives: dict[str, float]
    costs: dict[str, float]

    def to_json(self) -> dict[str, Any]:
        return {
            "i": self.i,
            "iteration": self.iteration,
            "x": list(self.x),
            "candidate": self.candidate,
            "objectives": self.objectives,
            "costs": self.costs,
        }


@dataclass
class SearchResult:
    """Everything a run produced; :mod:`.report` turns it into files and plots."""

    problem: Problem
    strategy: str
    seed: int
    budget: int
    records: list[EvalRecord]
    timings: list[dict[str, float]] = field(default_factory=list)
    eval_seconds: float = 0.0
    live_evaluations: int = 0

    @property
    def f_min(self) -> np.ndarray:
        return self.problem.to_min([r.objectives for r in self.records])

    def front(self) -> list[EvalRecord]:
        mask = pareto_mask(self.f_min)
        return [r for r, m in zip(self.records, mask, strict=True) if m]

    def reference(self) -> np.ndarray:
        """The hypervolume reference (minimisation form): the problem's, else the worst seen."""
        ref = self.problem.reference_min()
        if ref is not None:
            return ref
        f = self.f_min
        lo, hi = f.min(axis=0), f.max(axis=0)
        return hi + 0.1 * np.where(hi > lo, hi - lo, 1.0)

    def hypervolume_curve(self, ref: np.ndarray | None = None) -> list[float]:
        """Hypervolume of the first n evaluations, for n = 1..len(records)."""
        ref = self.reference() if ref is None else ref
        f = self.f_min
        curve: list[float] = []
        front = np.zeros((0, f.shape[1]))
        hv = 0.0
        for row in f:
            if not np.any(np.all(front <= row, axis=1)):
                front = np.vstack([front, row])
                front = front[pareto_mask(front)]
                hv = hypervolume(front, ref)
            curve.append(hv)
        return curve

    def winner(self) -> EvalRecord | None:
        """Best first objective (accuracy) among evaluated candidates — all within every
        budget, since nothing infeasible is evaluated; ties go to the next objectives."""
        if not self.records:
            return None
        f = self.f_min
        order = np.lexsort(tuple(f[:, j] for j in reversed(range(f.shape[1]))))
        return self.records[int(order[0])]

    def winner_rule(self) -> str:
        first, *rest = self.problem.objectives
        budgets = ", ".join(f"{k} <= {v:g}" for k, v in self.problem.constraints.items())
        ties = ", then ".join(f"{o.direction} {o.name}" for o in rest) or "first evaluated"
        return (
            f"{first.direction} {first.name} among evaluated candidates, all within every "
            f"budget ({budgets or 'none given'}); ties: {ties}"
        )


ProgressFn = Callable[[int, int, SearchResult], None]


def run_search(
    problem: Problem,
    strategy: Strategy | str,
    budget: int,
    seed: int = 0,
    out_dir: Path | None = None,
    settings: Mapping[str, Any] | None = None,
    progress: ProgressFn | None = None,
    **strategy_options: Any,
) -> SearchResult:
    """Spend ``budget`` true evaluations; resume from ``out_dir`` when it holds this run."""
    if budget < 1:
        raise SearchError(f"evaluation budget must be at least 1, got {budget}")
    strat = get_strategy(strategy, **strategy_options) if isinstance(strategy, str) else strategy
    strat.setup(problem, seed, budget)
    log = _RunLog(out_dir, _settings(problem, strat, seed, budget, settings)) if out_dir else None
    replay = log.load() if log else []
    result = SearchResult(problem, strat.name, seed, budget, [])
    empty = 0
    iteration = 0
    networks: set[Hashable] = set()  # network keys of every evaluated candidate
    while len(result.records) < budget and empty < MAX_EMPTY_ASKS:
        asked = strat.ask(budget - len(result.records))
        batch = _admissible(problem, asked, networks)
        if not batch:
            empty += 1
            continue
        empty = 0
        values = _evaluate(problem, batch, result, replay)
        verdicts = problem.check(batch)
        for v, val, ver in zip(batch, values, verdicts, strict=True):
            rec = EvalRecord(
                len(result.records), iteration, v, problem.domain.describe(v), val, ver.costs
            )
            result.records.append(rec)
            if log and rec.i >= len(replay):
                log.append(rec)
        strat.tell(batch, problem.to_min(values))
        iteration += 1
        if log:
            log.checkpoint(result, iteration)
        if progress:
            progress(len(result.records), budget, result)
    result.timings = list(getattr(strat, "timings", []))
    return result


def _admissible(problem: Problem, asked: list[Vector], networks: set[Hashable]) -> list[Vector]:
    """What the runner agrees to evaluate: feasible, new, once each (the safety net).

    "New" is by network (:meth:`~hilnas.search.problem.Domain.network_key`): a vector that
    encodes an already evaluated or already batched network is dropped, not evaluated.
    ``networks`` holds the evaluated ones and gains the batch's (an infeasible twin of an
    infeasible network is infeasible too), so no record's key is computed twice."""
    key = problem.domain.network_key
    fresh = []
    for v in dict.fromkeys(asked):
        k = key(v)
        if k not in networks:
            networks.add(k)
            fresh.append(v)
    verdicts = problem.check(fresh)
    return [v for v, f in zip(fresh, verdicts, strict=True) if f.ok]


def _evaluate(
    problem: Problem, batch: list[Vector], result: SearchResult, replay: list[dict[str, Any]]
) -> list[dict[str, float]]:
    start = len(result.records)
    logged = replay[start : start + len(batch)]
    for k, rec in enumerate(logged):
        if tuple(rec["x"]) != batch[k]:
            raise SearchError(
                f"the run folder's log does not match this run: evaluation {start + k} was "
                f"{rec['x']}, this run asks for {list(batch[k])} (use a new folder)"
            )
    values = [dict(rec["objectives"]) for rec in logged]
    live = batch[len(logged) :]
    if live:
        t0 = time.perf_counter()
        values += problem.evaluate(live)
        result.eval_seconds += time.perf_counter() - t0
        result.live_evaluations += len(live)
    return values


def _settings(
    problem: Problem, strat: Strategy, seed: int, budget: int, extra: Mapping[str, Any] | None
) -> dict[str, Any]:
    opts = {
        k: v
        for k, v in vars(strat).items()
        if isinstance(v, int | float | str | bool) and not k.startswith("_") and k != "seed"
    }
    config = getattr(strat, "surrogate_config", None)
    if config is not None:
        opts["surrogate"] = {k: list(v) if isinstance(v, tuple) else v
                             for k, v in vars(config).items()}
    return {
        "problem": problem.name,
        "domain": problem.domain.name,
        "objectives": [[o.name, o.direction, o.source] for o in problem.objectives],
        "constraints": dict(problem.constraints),
        "strategy": strat.name,
        "strategy_options": opts,
        "seed": seed,
        "budget": budget,
        **(extra or {}),
    }


class _RunLog:
    """The run folder: settings, append-only evaluation log, per-iteration checkpoint."""

    def __init__(self, out_dir: Path, settings: dict[str, Any]) -> None:
        self.dir = Path(out_dir)
        self.settings = json.loads(json.dumps(settings))
        self.path = self.dir / LOG

    def load(self) -> list[dict[str, Any]]:
        run_json = self.dir / "run.json"
        if run_json.is_file():
            try:
                old = json.loads(run_json.read_text()).get("settings", {})
            except json.JSONDecodeError:
                old = {}
            diff = [k for k in self.settings if k != "command" and old.get(k) != self.settings[k]]
            if diff:
                raise SearchError(
                    f"{self.dir} holds a different run ({', '.join(diff)} differ); "
                    "use a new folder or delete it"
                )
            return self._read_log()
        if self.path.exists():
            raise SearchError(f"{self.dir} has {LOG} but no run.json; use a new folder")
        atomic_write_json(run_json, {"settings": self.settings, "versions": versions()})
        return []

    def _read_log(self) -> list[dict[str, Any]]:
        if not self.path.is_file():
            return []
        records = []
        good_bytes = 0
        with self.path.open("rb") as fh:
            for line in fh:
                if not line.endswith(b"\n"):
                    break  # a line cut by a kill: drop it, the evaluation is redone
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    break
                good_bytes += len(line)
        if good_bytes != self.path.stat().st_size:
            with self.path.open("r+b") as fh:
                fh.truncate(good_bytes)
        return records

    def append(self, rec: EvalRecord) -> None:
        with self.path.open("a") as fh:
            fh.write(json.dumps(rec.to_json()) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def checkpoint(self, result: SearchResult, iteration: int) -> None:
        atomic_write_json(
            self.dir / "progress.json",
            {"iteration": iteration, "evaluations": len(result.records),
             "budget": result.budget, "front_size": len(result.front())},
        )


def versions() -> dict[str, str]:
    """Versions of what decides a run's outcome (for the run folder's record)."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("hilnas", "numpy", "pymoo", "xgboost", "scipy"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out
