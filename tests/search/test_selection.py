"""Pareto sorting, hypervolume and greedy hypervolume-improvement selection."""

from __future__ import annotations

import numpy as np
from hilnas.search.selection import (
    hvi_greedy,
    hypervolume,
    improvement_probability_greedy,
    pareto_mask,
)
from hilnas.search.surrogate import EnsembleSurrogate, SurrogateConfig
from pymoo.indicators.hv import HV


def test_pareto_mask_keeps_exactly_the_non_dominated_rows() -> None:
    f = np.array([[1, 5], [2, 2], [3, 3], [5, 1], [2, 2.5]])
    assert pareto_mask(f).tolist() == [True, True, False, True, False]


def test_hypervolume_2d_matches_pymoo_and_a_hand_computed_value() -> None:
    f = np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0], [3.5, 3.5]])
    ref = np.array([4.0, 4.0])
    assert hypervolume(f, ref) == 6.0  # 3x1 + 2x1 + 1x1 staircase
    rng = np.random.default_rng(0)
    pts = rng.random((40, 2))
    assert np.isclose(hypervolume(pts, np.ones(2)), HV(ref_point=np.ones(2))(pts))
    pts3 = rng.random((30, 3))
    assert np.isclose(hypervolume(pts3, np.ones(3)), HV(ref_point=np.ones(3))(pts3))


def test_points_beyond_the_reference_add_nothing() -> None:
    assert hypervolume(np.array([[5.0, 0.0]]), np.array([4.0, 4.0])) == 0.0


def test_hvi_greedy_picks_the_largest_gain_first_then_spreads() -> None:
    current = np.array([[0.0, 1.0], [1.0, 0.0]])
    cand = np.array([[0.5, 0.5], [0.45, 0.45], [0.9, 0.9], [0.2, 0.8]])
    picks = hvi_greedy(cand, current, np.array([1.1, 1.1]), 2)
    assert picks[0] == 1  # dominates candidate 0, the biggest gain
    assert picks[1] == 3  # candidate 0 gains nothing once 1 is in


def test_improvement_probability_prefers_a_likely_near_tie_over_a_wide_unlikely_gap() -> None:
    """A candidate almost surely on the front (tiny gain) beats one that would add a large
    volume but is almost surely dominated; the believer then keeps its twin out."""
    rng = np.random.default_rng(0)
    current = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.52]])
    mean = np.array([[0.5, 0.5], [0.51, 0.51], [0.6, 0.6], [0.3, 1.5]])
    sd = np.array([[0.001, 0.001], [0.001, 0.001], [0.1, 0.1], [0.001, 0.001]])
    draws = mean + sd * rng.standard_normal((256, 4, 2))
    optimistic = mean - sd
    picks = improvement_probability_greedy(draws, mean, optimistic, current,
                                           np.array([1.5, 1.5]), 2)
    assert picks[0] == 0  # non-dominated in every draw
    assert 1 not in picks  # dominated by the believed value of candidate 0
    assert picks[1] == 2  # next most likely: the uncertain one, non-dominated in ~30%


def test_the_surrogate_picks_an_additive_base_for_an_additive_objective() -> None:
    """Main effects of three-level knobs: the ridge base fits them exactly, so held-out
    cross-validation picks it and predictions on unseen members are close."""
    rng = np.random.default_rng(1)
    x = rng.integers(0, 3, (60, 5)).astype(float)
    effect = np.array([[0, 0.3, 0.4], [0, 0.1, -0.2], [0, 0.5, 0.6], [0, 0, 0.1], [0, 0.2, 0.2]])
    y = effect[np.arange(5), x.astype(int)].sum(axis=1)
    model = EnsembleSurrogate(SurrogateConfig(n_models=3, n_rounds=50), seed=0).fit(x, y)
    assert model.base == "ridge"
    test = rng.integers(0, 3, (40, 5)).astype(float)
    mean, std = model.predict(test)
    truth = effect[np.arange(5), test.astype(int)].sum(axis=1)
    assert np.max(np.abs(mean - truth)) < 0.05
    assert std.shape == (40,) and np.all(std >= 0)
