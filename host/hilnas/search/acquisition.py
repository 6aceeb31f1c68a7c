"""Acquisition functions, in minimisation form (smaller is more promising).

``ucb``: the optimistic bound ``mean - beta * std`` of a minimised objective (the UCB of
the maximised one, sign flipped). ``ei``: minus the expected improvement over the best value
seen so far, per objective; the multi-objective trade-off is then left to NSGA-II and the
hypervolume selection, as in HyT-NAS.
"""

from __future__ import annotations

from collections.abc import Callable
from math import sqrt

import numpy as np
from scipy.special import ndtr

Acquisition = Callable[[np.ndarray, np.ndarray, float], np.ndarray]


def ucb(mean: np.ndarray, std: np.ndarray, best: float, beta: float = 1.0) -> np.ndarray:
    return mean - beta * std


def ei(mean: np.ndarray, std: np.ndarray, best: float, beta: float = 0.0) -> np.ndarray:
    std = np.maximum(std, 1e-12)
    z = (best - mean) / std
    pdf = np.exp(-0.5 * z * z) / sqrt(2 * np.pi)
    return -((best - mean) * ndtr(z) + std * pdf)


ACQUISITIONS: dict[str, Callable[..., np.ndarray]] = {"ucb": ucb, "ei": ei}
