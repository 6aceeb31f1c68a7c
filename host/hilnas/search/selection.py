"""Pareto sorting, hypervolume and greedy hypervolume-improvement (HVI) batch selection.

Everything is in minimisation form (see :meth:`Problem.to_min`). 2-objective hypervolumes
use an exact sweep (the common case, and it runs once per candidate per pick); more
objectives go through pymoo's exact HV indicator.
"""

from __future__ import annotations

import numpy as np
from pymoo.indicators.hv import HV
from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting


def pareto_mask(f: np.ndarray) -> np.ndarray:
    """True for rows no other row dominates (duplicates of a front point are all kept)."""
    f = np.asarray(f, dtype=np.float64)
    n = len(f)
    if n == 0:
        return np.zeros(0, dtype=bool)
    mask = np.ones(n, dtype=bool)
    for i in range(n):
        if not mask[i]:
            continue
        dominated = np.all(f[i] <= f, axis=1) & np.any(f[i] < f, axis=1)
        mask &= ~dominated
    return mask


def fronts(f: np.ndarray) -> list[np.ndarray]:
    """Non-dominated fronts, best first (indices into ``f``)."""
    if len(f) == 0:
        return []
    return [np.asarray(x) for x in NonDominatedSorting().do(np.asarray(f, dtype=np.float64))]


def hypervolume(f: np.ndarray, ref: np.ndarray) -> float:
    """Volume dominated by ``f`` and bounded by ``ref`` (points beyond ``ref`` add nothing)."""
    f = np.asarray(f, dtype=np.float64).reshape(-1, len(ref))
    f = f[np.all(f < ref, axis=1)]
    if len(f) == 0:
        return 0.0
    if f.shape[1] == 1:
        return float(ref[0] - f[:, 0].min())
    if f.shape[1] == 2:
        return _hv2d(f, ref)
    return float(HV(ref_point=ref)(f))


def _hv2d(f: np.ndarray, ref: np.ndarray) -> float:
    """Exact 2-D volume: a staircase over the points sorted by the first objective."""
    pts = f[np.lexsort((f[:, 1], f[:, 0]))]
    volume, prev_y = 0.0, float(ref[1])
    for x, y in pts:
        if y < prev_y:
            volume += (ref[0] - x) * (prev_y - y)
            prev_y = y
    return float(volume)


def hvi_greedy(
    candidates: np.ndarray, current: np.ndarray, ref: np.ndarray, k: int
) -> list[int]:
    """Pick ``k`` candidate rows, each maximising the hypervolume gain over ``current`` plus
    the rows already picked; when nothing gains any more, the rest go by smallest distance
    to the (growing) front, so a batch is always full and spread.

    Why greedy: the exact best batch is a subset search; greedy HVI is what HyT-NAS uses and
    is within (1 - 1/e) of it because hypervolume is submodular.
    """
    cand = np.asarray(candidates, dtype=np.float64)
    picked: list[int] = []
    front = np.asarray(current, dtype=np.float64).reshape(-1, cand.shape[1])
    base = hypervolume(front, ref)
    left = list(range(len(cand)))
    while left and len(picked) < k:
        gains = np.array([hypervolume(np.vstack([front, cand[i]]), ref) - base for i in left])
        if gains.max() > 1e-12:
            j = int(np.argmax(gains))
        else:
            j = int(np.argmin([_gap_to_front(cand[i], front) for i in left]))
        best = left.pop(j)
        picked.append(best)
        front = np.vstack([front, cand[best]])
        base = hypervolume(front, ref)
    return picked


def expected_hvi_greedy(
    samples: np.ndarray, believed: np.ndarray, current: np.ndarray, ref: np.ndarray, k: int
) -> list[int]:
    """Greedy batch by *expected* hypervolume improvement over posterior samples.

    ``samples`` is (members, candidates, objectives): each surrogate ensemble member's
    prediction. A candidate's score is its mean gain over members, so one that is on the
    front under some plausible models but not under the mean still gets picked (what
    finding *every* Pareto point needs). After a pick, its ``believed`` value (the mean
    prediction) joins the front ("Kriging believer"), which spreads the batch.
    """
    picked: list[int] = []
    front = np.asarray(current, dtype=np.float64).reshape(-1, samples.shape[2])
    left = list(range(samples.shape[1]))
    while left and len(picked) < k:
        base = hypervolume(front, ref)
        gains = np.array(
            [
                np.mean([hypervolume(np.vstack([front, s[i]]), ref) - base for s in samples])
                for i in left
            ]
        )
        if gains.max() > 1e-12:
            j = int(np.argmax(gains))
        else:
            j = int(np.argmin([_gap_to_front(believed[i], front) for i in left]))
        best = left.pop(j)
        picked.append(best)
        front = np.vstack([front, believed[best]])
        front = front[pareto_mask(front)]
    return picked


def _gap_to_front(point: np.ndarray, front: np.ndarray) -> float:
    """Additive epsilon: how much ``point`` must improve to be non-dominated by ``front``."""
    if len(front) == 0:
        return 0.0
    return float(np.min(np.max(point - front, axis=1)))


def improvement_probability_greedy(
    samples: np.ndarray,
    believed: np.ndarray,
    optimistic: np.ndarray,
    current: np.ndarray,
    ref: np.ndarray,
    k: int,
    tie: float = 0.02,
) -> list[int]:
    """Greedy batch by the *probability* of hypervolume improvement (PHVI).

    ``samples`` is (draws, candidates, objectives): plausible true values of each candidate
    (surrogate mean plus noise of its predicted spread; exact costs). A candidate improves
    the hypervolume exactly when it is not dominated by the front, so the share of draws
    in which nothing on the front dominates it is the probability that evaluating it
    yields a new Pareto point — what finding *every* Pareto point needs, while the amount
    of improvement (``hvi_greedy``) prefers wide gaps and starves the near-ties a front is
    made of. Each pick's ``believed`` value (the mean) then joins the front (Kriging
    believer), which lowers the probability of the candidates it would dominate and so
    spreads the batch. Near-ties in probability (within ``tie``) go to the largest
    hypervolume gain of the ``optimistic`` values (the acquisition), as in ``hvi_greedy``.
    """
    samples = np.asarray(samples, dtype=np.float64)
    n = samples.shape[1]
    dominated = np.zeros(samples.shape[:2], dtype=bool)
    front = np.asarray(current, dtype=np.float64).reshape(-1, samples.shape[2])
    for point in front:
        dominated |= _dominates(point, samples)
    picked: list[int] = []
    left = np.ones(n, dtype=bool)
    while left.any() and len(picked) < k:
        prob = np.where(left, 1.0 - dominated.mean(axis=0), -1.0)
        top = np.flatnonzero(prob >= prob.max() - tie)
        if len(top) > 1:
            top = top[np.argsort(-prob[top], kind="stable")][:100]
            base = hypervolume(front, ref)
            gains = [hypervolume(np.vstack([front, optimistic[i]]), ref) - base for i in top]
            best = int(top[int(np.argmax(gains))])
        else:
            best = int(top[0])
        picked.append(best)
        left[best] = False
        front = np.vstack([front, believed[best]])
        dominated |= _dominates(believed[best], samples)
    return picked


def _dominates(point: np.ndarray, samples: np.ndarray) -> np.ndarray:
    """(draws, candidates): whether ``point`` dominates each draw of each candidate."""
    return np.all(point <= samples, axis=-1) & np.any(point < samples, axis=-1)
