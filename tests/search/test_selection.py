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


def _product_objective(x: np.ndarray) -> np.ndarray:
    """A latency-like cost: a product of per-knob factors (MACs x a depth factor ...)."""
    factor = np.array([[1.0, 2.0, 4.0], [1.0, 1.5, 3.0], [1.0, 2.5, 6.0], [1.0, 1.2, 1.5]])
    return 3.0 * np.prod(factor[np.arange(4), x.astype(int)], axis=1)


def test_the_surrogate_models_the_log_of_a_positive_product_objective() -> None:
    """Cross-validation picks the log target for a product of knob effects, and it
    predicts unseen members several times better than the same model of y itself."""
    rng = np.random.default_rng(2)
    x = rng.integers(0, 3, (50, 4)).astype(float)
    test = rng.integers(0, 3, (60, 4)).astype(float)
    config = {"n_models": 3, "n_rounds": 50}
    model = EnsembleSurrogate(SurrogateConfig(**config), seed=0).fit(x, _product_objective(x))
    assert model.transform == "log"
    plain = EnsembleSurrogate(SurrogateConfig(**config, transforms=("none",)), seed=0)
    plain.fit(x, _product_objective(x))
    truth = _product_objective(test)
    err = np.sqrt(np.mean((model.predict(test)[0] - truth) ** 2))
    err_plain = np.sqrt(np.mean((plain.predict(test)[0] - truth) ** 2))
    assert err < err_plain / 3


def test_a_log_form_is_not_used_on_values_that_are_not_positive() -> None:
    """A maximised objective is negative in minimisation form: no log is tried; and a log
    form kept from earlier (positive) points is dropped once a value <= 0 arrives."""
    rng = np.random.default_rng(3)
    x = rng.integers(0, 3, (40, 4)).astype(float)
    y = _product_objective(x)
    config = SurrogateConfig(n_models=2, n_rounds=30)
    assert EnsembleSurrogate(config, seed=0).fit(x, -y).transform == "none"
    log_form = EnsembleSurrogate(config, seed=0).fit(x, y).form
    assert log_form[2] == "log"
    y[0] = 0.0
    model = EnsembleSurrogate(config, seed=0).fit(x, y, log_form)
    assert model.transform == "none"
    assert np.all(np.isfinite(model.predict(x)[0]))
