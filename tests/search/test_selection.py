"""Pareto sorting, hypervolume and greedy hypervolume-improvement selection."""

from __future__ import annotations

import numpy as np
from hilnas.search.selection import hvi_greedy, hypervolume, pareto_mask
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
