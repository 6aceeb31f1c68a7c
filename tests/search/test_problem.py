"""Problems: feasibility before evaluation, on synthetic boxes, tables and a real space."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import pytest
from hilnas.search import (
    Objective,
    Problem,
    SearchError,
    SpaceDomain,
    list_strategies,
    run_search,
    table_problem,
    true_front,
)
from hilnas.search.costs import AnalyticCosts
from hilnas.search.synthetic import board_like
from hilnas.space import get_space


class Recording:
    """Wraps an evaluator and keeps every candidate it was asked about."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.seen: list[Any] = []

    def __call__(self, xs: Sequence[Any]) -> Any:
        self.seen += list(xs)
        return self.inner(xs)


def _assert_feasible_only(problem: Problem, seen: list[Any], result: Any) -> None:
    # Re-check with the cost function itself, not the problem's cache.
    raw = problem.costs_fn(seen)  # type: ignore[misc]
    for cand, costs in zip(seen, raw, strict=True):
        assert "infeasible" not in costs, cand
        for key, bound in problem.constraints.items():
            assert costs[key] <= bound, (cand, key, costs[key], bound)
    returned = [r.x for r in result.front()] + [result.winner().x]
    decoded = {problem.domain.describe(v)["x"].__repr__() for v in returned}
    assert decoded <= {repr(list(v)) for v in seen}


@pytest.mark.parametrize("strategy", list_strategies())
def test_no_strategy_evaluates_or_returns_an_infeasible_candidate(strategy: str) -> None:
    problem = board_like()
    rec = Recording(problem.evaluate_fn)
    problem.evaluate_fn = rec
    members = problem.domain.enumerate()
    assert members is not None
    n_bad = sum(not f.ok for f in problem.check(members))
    assert n_bad > len(members) // 4  # the budgets really cut the space
    result = run_search(problem, strategy, 40, seed=3, batch_size=8)
    assert len(result.records) == 40
    assert len(rec.seen) == 40 and len(set(rec.seen)) == 40
    _assert_feasible_only(problem, rec.seen, result)


def _proxy_accuracy(space: Any) -> Any:
    costs = AnalyticCosts(space)

    def evaluate(archs: Sequence[Any]) -> list[dict[str, float]]:
        out = []
        for c in costs(archs):
            out.append({"accuracy": 1 - 1 / (1 + c["params"] / 4e3) + 0.01 * c["n_blocks"] / 20})
        return out

    return evaluate


def test_hyt_on_a_real_space_never_evaluates_beyond_its_budgets() -> None:
    """The NSGA-II-on-acquisition path (a space far too big to enumerate)."""
    space = get_space("hybrid")
    costs = AnalyticCosts(space, max_blocks=14)
    domain = SpaceDomain(space)
    rec = Recording(_proxy_accuracy(space))
    smallest, largest = costs([space.smallest(), space.largest()])
    bound = smallest["latency_ms"] + 0.25 * (largest["latency_ms"] - smallest["latency_ms"])
    problem = Problem(
        domain,
        [Objective("accuracy", "max"), Objective("latency_ms", "min", "cost")],
        rec,
        costs_fn=costs,
        constraints={"latency_ms": bound, "params": 40_000},
        reference={"accuracy": 0.0, "latency_ms": bound},
    )
    result = run_search(problem, "hyt", 24, seed=0, batch_size=6, n_init=12, pop_size=30,
                        n_gen=5)
    assert len(result.records) == 24
    raw = costs(rec.seen)
    assert all("infeasible" not in c and c["latency_ms"] <= bound and c["params"] <= 40_000
               for c in raw)
    assert result.timings and all(t["optimise_s"] > 0 for t in result.timings)
    assert all(r.candidate["space"] == "hybrid" for r in result.records)


def test_an_infeasible_candidate_is_refused_by_evaluate() -> None:
    problem = board_like()
    bad = next(v for v in problem.domain.enumerate() or [] if not problem.feasible(v))
    with pytest.raises(AssertionError, match="infeasible"):
        problem.evaluate([bad])


def test_table_records_carry_the_row_index_and_values(hybrid_table: Any) -> None:
    problem = table_problem(hybrid_table, ["accuracy"], ["latency_ms"], ["latency_ms<=30"])
    result = run_search(problem, "random", 15, seed=0)
    rows = problem.domain.rows
    for r in result.records:
        row = r.candidate["row"]
        assert r.objectives["accuracy"] == rows[row]["accuracy"]
        assert r.candidate["latency_ms"] == rows[row]["latency_ms"] <= 30
    # latency is constrained, so it is known before evaluation: a cost objective
    assert [o.source for o in problem.objectives] == ["evaluator", "cost"]
    assert len(true_front(problem)) >= 3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"maximize": ["acc"], "minimize": ["latency_ms"]}, "column 'acc' is not in"),
        ({"maximize": ["accuracy"], "constraints": ["latency_ms<=1"]}, "cannot be met"),
        ({"maximize": ["accuracy"], "constraints": ["latency_ms>=1"]}, "COLUMN<=NUMBER"),
        ({"maximize": ["accuracy"], "constraints": ["latency_ms<=x"]}, "'x' is not a number"),
        ({"maximize": ["accuracy"], "constraints": ["flops<=3"]}, "column 'flops'"),
        ({}, "at least one --maximize"),
    ],
)
def test_bad_table_problems_are_refused_naming_the_culprit(
    hybrid_table: Any, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(SearchError, match=message):
        table_problem(hybrid_table, **kwargs)


def test_duplicate_knob_rows_are_refused(tmp_path: Any) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a,b,acc\n1,2,0.5\n1,2,0.6\n")
    with pytest.raises(SearchError, match="rows 0 and 1 have the same knob values"):
        table_problem(path, ["acc"])


def test_a_cost_function_without_a_constrained_cost_is_named() -> None:
    problem = board_like()
    problem.constraints = {"flash_bytes": 3.0}
    with pytest.raises(SearchError, match="no 'flash_bytes'"):
        problem.check([problem.domain.sample(random.Random(0))])


def test_hyt_under_a_budget_only_the_smallest_members_meet_still_searches() -> None:
    """Uniform samples of the hybrid space almost never meet a latency just above the
    smallest member's: HyT-Search grows its initial sample from the feasible anchor."""
    space = get_space("hybrid")
    costs = AnalyticCosts(space)
    rec = Recording(_proxy_accuracy(space))
    bound = costs([space.smallest()])[0]["latency_ms"] * 1.05
    problem = Problem(
        SpaceDomain(space),
        [Objective("accuracy", "max"), Objective("latency_ms", "min", "cost")],
        rec,
        costs_fn=costs,
        constraints={"latency_ms": bound},
        reference={"accuracy": 0.0, "latency_ms": bound},
    )
    result = run_search(problem, "hyt", 6, seed=0, batch_size=3, n_init=3, pop_size=20,
                        n_gen=3)
    assert len(result.records) >= 3
    assert all(c["latency_ms"] <= bound for c in costs(rec.seen))
    networks = {tuple(space.block_signatures(a)) for a in rec.seen}
    assert len(networks) == len(rec.seen), "a network was evaluated twice"


# Two encodings of one network, from a demo run's Pareto front (it listed this member
# twice): at 32 px stages 4 and 5 see 4x4 and 2x2 maps, so their patch windows clamp to
# the same size, and growth 1.25 then 1.0 rounds to the channels of 1.0 then 1.25.
_TWIN = {"resolution": 32, "s1.depth": 1, "s1.expand": 1, "s1.channels": 8, "s2.depth": 1,
         "s2.expand": 1, "s2.growth": 1.0, "s3.depth": 1, "s3.expand": 1, "s3.growth": 1.0,
         "s3.heads": 1, "s3.ffn": 1.0, "s3.patch": 4, "s4.depth": 1, "s4.expand": 1,
         "s4.growth": 1.25, "s4.heads": 1, "s4.ffn": 1.0, "s4.patch": 4, "s5.depth": 1,
         "s5.expand": 2, "s5.growth": 1.0, "s5.heads": 1, "s5.ffn": 1.0, "s5.patch": 1}


def test_two_encodings_of_one_network_are_evaluated_once() -> None:
    space = get_space("hybrid")
    domain = SpaceDomain(space)
    a = domain.encode(space.make(_TWIN))
    b = domain.encode(space.make({**_TWIN, "s4.growth": 1.0, "s4.patch": 2,
                                  "s5.growth": 1.25, "s5.patch": 4}))
    c = domain.encode(space.make({**_TWIN, "s5.expand": 1}))
    assert a != b and domain.network_key(a) == domain.network_key(b)
    assert domain.network_key(a) != domain.network_key(c)
    rec = Recording(_proxy_accuracy(space))
    problem = Problem(domain, [Objective("accuracy", "max"), Objective("latency_ms", "min",
                                                                         "cost")],
                      rec, costs_fn=AnalyticCosts(space))

    class Asks(list):  # a strategy stand-in that asks for the twins, then one other
        name = "fixed"

        def setup(self, *args: Any) -> Any:
            return self

        def ask(self, n_max: int) -> list[Any]:
            return [self.pop(0)] if self else []

        def tell(self, *args: Any) -> None:
            pass

    result = run_search(problem, Asks([a, b, c]), 3, seed=0)
    assert [r.x for r in result.records] == [a, c]
    assert len(rec.seen) == 2
