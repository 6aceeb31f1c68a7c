"""Search strategies, looked up by name; each only *asks* for candidates and is *told* results.

A strategy never evaluates anything itself: :func:`hilnas.search.run.run_search` takes what
it asks for, refuses anything infeasible or seen before, evaluates the rest and tells it the
objective values (minimisation form). All randomness comes from the seed given to
:meth:`Strategy.setup`, so one seed gives one run — which is also how a killed run resumes
(it replays its log, see :mod:`.run`).

* ``hyt``: HyT-Search (surrogates + acquisition + NSGA-II + hypervolume-improvement batch);
* ``random``: uniform over the feasible candidates;
* ``nsga2``: pymoo's NSGA-II on true evaluations;
* ``evolution``: regularized (aging) evolution, OFA/ViT-ResNAS style, with Pareto-rank
  tournaments.
"""

from __future__ import annotations

import math
import random
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np

from hilnas.search.acquisition import ACQUISITIONS
from hilnas.search.problem import Problem, SearchError, Vector
from hilnas.search.selection import (
    expected_hvi_greedy,
    fronts,
    hvi_greedy,
    improvement_probability_greedy,
    pareto_mask,
)
from hilnas.search.surrogate import EnsembleSurrogate, Form, SurrogateConfig


class Strategy:
    """Base class: ``setup`` → repeated ``ask(n_max)`` / ``tell(X, F)``; subclasses fill hooks."""

    name = ""

    def __init__(self, batch_size: int = 10, **options: Any) -> None:
        if batch_size < 1:
            raise SearchError(f"batch size must be at least 1, got {batch_size}")
        self.batch_size = batch_size
        if options:
            raise SearchError(f"strategy {self.name!r}: unknown options {sorted(options)}")

    def setup(self, problem: Problem, seed: int, budget: int) -> Strategy:
        self.problem = problem
        self.seed = seed
        self.budget = budget
        self.rng = random.Random(seed)
        self.X: list[Vector] = []
        self.F = np.zeros((0, len(problem.objectives)))
        self.seen: set[Vector] = set()
        self._setup()
        return self

    def ask(self, n_max: int) -> list[Vector]:
        """Up to ``n_max`` new candidates (the strategy's next batch, or what is left of it)."""
        out = list(dict.fromkeys(v for v in self._ask(n_max) if v not in self.seen))[:n_max]
        self.seen.update(out)
        return out

    def tell(self, xs: list[Vector], f: np.ndarray) -> None:
        self.X += xs
        self.F = np.vstack([self.F, np.asarray(f, dtype=np.float64).reshape(len(xs), -1)])
        self.seen.update(xs)
        self._tell(xs, f)

    # ------------------------------------------------------------ TO BE OVERWRITTEN
    def _setup(self) -> None:
        pass

    def _ask(self, n_max: int) -> list[Vector]:
        raise NotImplementedError

    def _tell(self, xs: list[Vector], f: np.ndarray) -> None:
        pass

    # ------------------------------------------------------------ shared helpers
    def feasible_pool(self, limit: int = 20_000) -> list[Vector] | None:
        """Every feasible member when the domain is finite and small enough, else None."""
        if not hasattr(self, "_pool"):
            members = self.problem.domain.enumerate(limit)
            self._pool = None
            if members is not None:
                ok = self.problem.check(members)
                self._pool = [v for v, f in zip(members, ok, strict=True) if f.ok]
        return self._pool

    def feasible_near_anchors(self, n: int) -> list[Vector]:
        """Up to ``n`` feasible members grown from the domain's anchors by mutation.

        Under a tight budget (a latency that only small members meet) uniform samples are
        almost never feasible; walking out from a feasible cheap member finds its
        feasible neighbourhood in a bounded number of checks.
        """
        anchors = self.problem.domain.anchors()
        found = [v for v, f in zip(anchors, self.problem.check(anchors), strict=True)
                 if f.ok and v not in self.seen]
        if not found:
            return []
        for _ in range(40 * n):
            if len(found) >= n:
                break
            v = self.problem.domain.mutate(self.rng.choice(found), self.rng)
            if v not in found and v not in self.seen and self.problem.check([v])[0].ok:
                found.append(v)
        return found[:n]

    def random_feasible(self, n: int) -> list[Vector]:
        pool = self.feasible_pool()
        if pool is not None:
            fresh = [v for v in pool if v not in self.seen]
            return self.rng.sample(fresh, min(n, len(fresh)))
        return self.problem.sample_feasible(self.rng, n, exclude=self.seen)


class RandomSearch(Strategy):
    name = "random"

    def _ask(self, n_max: int) -> list[Vector]:
        return self.random_feasible(min(n_max, self.batch_size))


class RegularizedEvolution(Strategy):
    """Aging evolution (Real et al. 2019): tournament → mutate → the oldest member dies.

    With several objectives the tournament winner is drawn from the sample's first
    non-dominated front, so the population drifts toward the whole Pareto front.
    """

    name = "evolution"

    def __init__(
        self, batch_size: int = 10, population: int = 50, sample: int = 10, **options: Any
    ) -> None:
        super().__init__(batch_size, **options)
        self.population_size = population
        self.sample_size = sample

    def _setup(self) -> None:
        size = max(4, min(self.population_size, self.budget // 4))
        self.population: deque[tuple[Vector, np.ndarray]] = deque(maxlen=size)

    def _ask(self, n_max: int) -> list[Vector]:
        n = min(n_max, self.batch_size)
        if len(self.X) < self.population.maxlen:  # type: ignore[operator]
            return self.random_feasible(min(n, self.population.maxlen - len(self.X)))  # type: ignore[operator]
        self._batch: set[Vector] = set()
        return [self._child() for _ in range(n)]

    def _child(self) -> Vector:
        members = list(self.population)
        sample = self.rng.sample(members, min(self.sample_size, len(members)))
        best = np.flatnonzero(pareto_mask(np.array([f for _, f in sample])))
        parent = sample[int(self.rng.choice(list(best)))][0]
        domain = self.problem.domain
        for _ in range(50):
            child = domain.mutate(parent, self.rng)
            if child not in self.seen and child not in self._batch and self.problem.feasible(
                child
            ):
                break
        else:
            fallback = self.random_feasible(1)
            child = fallback[0] if fallback else parent
        self._batch.add(child)
        return child

    def _tell(self, xs: list[Vector], f: np.ndarray) -> None:
        for v, row in zip(xs, np.asarray(f), strict=True):
            self.population.append((v, row))


class NSGA2Search(Strategy):
    """pymoo's NSGA-II, driven by ask/tell on true evaluations.

    Offspring that are infeasible, outside a table or already evaluated are not sent for
    evaluation: infeasible ones get a constraint violation (pymoo ranks them last), known
    ones their recorded values, so only new feasible candidates spend budget.
    """

    name = "nsga2"

    def __init__(self, batch_size: int = 10, population: int = 20, **options: Any) -> None:
        super().__init__(batch_size, **options)
        self.population_size = population

    def _setup(self) -> None:
        from pymoo.algorithms.moo.nsga2 import NSGA2
        from pymoo.termination.default import DefaultMultiObjectiveTermination

        self.known: dict[Vector, np.ndarray] = {}
        size = max(4, min(self.population_size, self.budget // 4))
        start = self.random_feasible(size)
        while len(start) < size:
            start.append(self.problem.domain.sample(self.rng))
        self.algorithm = NSGA2(
            pop_size=size,
            sampling=np.array(start, dtype=float),
            crossover=_sbx(),
            mutation=_pm(),
            eliminate_duplicates=True,
        )
        self.algorithm.setup(
            _box_problem(self.problem, n_constr=1),
            termination=DefaultMultiObjectiveTermination(n_max_gen=10**9),
            seed=self.seed,
            verbose=False,
        )
        self.pending: Any = None

    def _ask(self, n_max: int) -> list[Vector]:
        for _ in range(100):
            if self.pending is None:
                self.pending = self.algorithm.ask()
            need = self._unevaluated(self.pending)
            if need:
                return need[:n_max]
            self._tell_pending()
        return []

    def _unevaluated(self, pop: Any) -> list[Vector]:
        vecs = _vectors(pop.get("X"))
        fresh = [v for v in dict.fromkeys(vecs) if v not in self.known]
        verdicts = self.problem.check(fresh)
        return [v for v, ok in zip(fresh, verdicts, strict=True) if ok.ok]

    def _tell(self, xs: list[Vector], f: np.ndarray) -> None:
        for v, row in zip(xs, np.asarray(f), strict=True):
            self.known[v] = row
        if self.pending is not None and not self._unevaluated(self.pending):
            self._tell_pending()

    def _tell_pending(self) -> None:
        from pymoo.core.evaluator import Evaluator
        from pymoo.problems.static import StaticProblem

        vecs = _vectors(self.pending.get("X"))
        m = len(self.problem.objectives)
        worst = np.full(m, 1e12)
        f = np.array([self.known.get(v, worst) for v in vecs])
        g = np.array([[-1.0] if v in self.known else [1.0] for v in vecs])
        static = StaticProblem(self.algorithm.problem, F=f, G=g)
        Evaluator().eval(static, self.pending)
        self.algorithm.tell(infills=self.pending)
        self.pending = None


class HyTSearch(Strategy):
    """HyT-Search: multi-objective Bayesian optimisation with XGBoost surrogates.

    1. a feasible, space-filling initial sample (greedy max-min distance);
    2. per evaluator objective, a bootstrap ensemble of XGBoost models (mean + spread);
       cross-validation picks their depth and whether they boost from an additive ridge
       base (NAS objectives are mostly main effects of the knobs, which trees alone
       approximate in coarse steps; ``surrogate_bases`` may add "ridge2", pairwise
       products too) and, for an objective that is positive, whether they model its log
       (``surrogate_transforms``: a latency that is MACs times a depth factor is a sum in
       log space, which the additive base fits); the pick is kept until the evaluated
       points have grown by ``refit_growth`` (25%), since the cross-validation is most of
       a fit's cost;
    3. an acquisition per objective (UCB by default, EI as an option); cost objectives
       (LUT-predicted latency) enter with their exact values;
    4. NSGA-II (pymoo) minimises the acquisitions under the constraints (evaluated
       candidates count as infeasible, so it looks for new ones); on a finite domain of at
       most ``enumerate_limit`` members every feasible member is scored instead, which is the
       exact optimum NSGA-II approximates;
    5. non-dominated sorting of the candidates, then a greedy hypervolume-improvement batch
       against the evaluated front: by default (``selection="phvi"``) each pick maximises
       the *probability* of improving the hypervolume (of being non-dominated; Gaussian
       draws of the surrogate), ties going to the largest improvement of the acquisition
       values, and each pick's predicted value joins the front before the next (Kriging
       believer); ``"hvi"`` ranks by the improvement of the acquisition values alone,
       ``"ehvi"`` by its mean over the ensemble members;
    6. batches of ``batch_size``, but never more than ``taper`` (half) of the evaluations
       left, so a run ends in batches of halving size, each chosen with the results of
       the one before.

    Defaults (beta 0.3, depth 2 or 4 and the base by cross-validation, ``phvi``) come
    from the benchmarks in ``bench/search.py``: a small beta wins when the budget is a
    small share of the space; ``phvi`` finds the near-ties a front is made of, which the
    amount of improvement (largest gaps first) leaves for last; the log target and the
    taper lifted the noisy table from a median 13.5 to 15 of 15 true Pareto points.
    """

    name = "hyt"

    def __init__(
        self,
        batch_size: int = 10,
        n_init: int | None = None,
        acquisition: str = "ucb",
        beta: float = 0.3,
        pop_size: int = 100,
        n_gen: int = 20,
        n_models: int = 5,
        n_rounds: int = 200,
        depths: tuple[int, ...] = (2, 4),
        learning_rate: float = 0.2,
        threads: int = 1,
        enumerate_limit: int = 20_000,
        selection: str = "phvi",
        n_draws: int = 128,
        surrogate_bases: tuple[str, ...] = ("none", "ridge"),
        refit_growth: float = 0.25,
        residual_std: bool = False,
        ref_margin: float = 0.5,
        taper: float = 0.5,
        surrogate_transforms: tuple[str, ...] = ("none", "log"),
        **options: Any,
    ) -> None:
        super().__init__(batch_size, **options)
        if acquisition not in ACQUISITIONS:
            raise SearchError(
                f"unknown acquisition {acquisition!r}; known: {', '.join(ACQUISITIONS)}"
            )
        self.n_init = n_init
        self.acquisition = acquisition
        self.beta = beta
        self.pop_size = pop_size
        self.n_gen = n_gen
        self.surrogate_config = SurrogateConfig(
            n_models=n_models,
            n_rounds=n_rounds,
            depths=tuple(depths),
            learning_rate=learning_rate,
            threads=threads,
            bases=tuple(surrogate_bases),
            residual_std=residual_std,
            transforms=tuple(surrogate_transforms),
        )
        self.enumerate_limit = enumerate_limit
        if selection not in SELECTIONS:
            raise SearchError(
                f"unknown selection {selection!r}; known: {', '.join(SELECTIONS)}"
            )
        self.selection = selection
        self.n_draws = n_draws
        self.ref_margin = ref_margin
        self.taper = taper
        self.refit_growth = refit_growth
        self.timings: list[dict[str, float]] = []

    def _setup(self) -> None:
        n_init = self.n_init or max(self.batch_size, min(30, self.budget // 5))
        self.initial = self._space_filling(min(n_init, self.budget))
        self.iteration = 0
        #: per objective: the surrogate form cross-validation picked, and at how many points
        self._forms: dict[int, tuple[Form, int]] = {}

    # ------------------------------------------------------------ initial sample
    def _space_filling(self, n: int) -> list[Vector]:
        pool = self.feasible_pool(self.enumerate_limit)
        if pool is None or len(pool) > 50 * n:
            pool = self.random_feasible(50 * n) if pool is None else self.rng.sample(pool, 50 * n)
        if len(pool) < n:  # tight budgets: grow the feasible region from the anchors
            pool += [v for v in self.feasible_near_anchors(n) if v not in pool]
        if not pool:
            return []
        x = self._normalised(pool)
        chosen = [self.rng.randrange(len(pool))]
        dist = np.linalg.norm(x - x[chosen[0]], axis=1)
        while len(chosen) < min(n, len(pool)):
            nxt = int(np.argmax(dist))
            chosen.append(nxt)
            dist = np.minimum(dist, np.linalg.norm(x - x[nxt], axis=1))
        return [pool[i] for i in chosen]

    def _normalised(self, vecs: list[Vector]) -> np.ndarray:
        scale = np.maximum(np.array(self.problem.domain.bounds, dtype=float) - 1, 1)
        return np.asarray(vecs, dtype=np.float64) / scale

    # ------------------------------------------------------------ iterations
    def _ask(self, n_max: int) -> list[Vector]:
        fresh = [v for v in self.initial if v not in self.seen]
        if fresh:
            return fresh[:n_max]
        if not self.X:  # nothing evaluated yet: no surrogate to fit
            return (self.random_feasible(n_max) or self.feasible_near_anchors(n_max))[:n_max]
        return self._next_batch(self._batch_size_now(n_max))

    def _batch_size_now(self, left: int) -> int:
        """The next batch's size with ``left`` evaluations to go: ``batch_size``, but at
        most ``taper`` of what is left (at least one), so the run ends in batches of
        halving size. Why: every pick in a batch after the first rests on a guess (the
        believer), and the last picks are the near-ties the surrogate ranks worst; each
        smaller batch is chosen with the results of the one before, for a handful of
        extra iterations (log2 of the batch size)."""
        k = min(left, self.batch_size)
        if self.taper > 0:
            k = min(k, max(1, math.ceil(left * self.taper)))
        return k

    def _next_batch(self, k: int) -> list[Vector]:
        t0 = time.perf_counter()
        self._fit()
        t1 = time.perf_counter()
        candidates = self._candidates()
        t2 = time.perf_counter()
        picked = self._select(candidates, k) if candidates else []
        t3 = time.perf_counter()
        self.iteration += 1
        self.timings.append(
            {"fit_s": t1 - t0, "optimise_s": t2 - t1, "select_s": t3 - t2, "n": len(self.X)}
        )
        return picked

    def _fit(self) -> None:
        feats = self.problem.domain.features(self.X)
        self.models: dict[int, EnsembleSurrogate] = {}
        for j, obj in enumerate(self.problem.objectives):
            if obj.source == "evaluator":
                seed = self.seed * 7919 + self.iteration * 31 + j
                model = EnsembleSurrogate(self.surrogate_config, seed=seed)
                form, n_then = self._forms.get(j, (None, 0))
                if form is not None and len(self.X) > n_then * (1 + self.refit_growth):
                    form = None
                self.models[j] = model.fit(feats, self.F[:, j], form)
                if form is None:
                    self._forms[j] = (model.form, len(self.X))

    def acquire(self, vecs: list[Vector]) -> np.ndarray:
        """Acquisition matrix (minimisation form) of ``vecs``, one column per objective."""
        acq_fn: Callable[..., np.ndarray] = ACQUISITIONS[self.acquisition]
        out = np.zeros((len(vecs), len(self.problem.objectives)))
        feats = self.problem.domain.features(vecs)
        verdicts = self.problem.check(vecs)
        for j, obj in enumerate(self.problem.objectives):
            if obj.source == "cost":
                out[:, j] = [obj.sign * f.costs.get(obj.name, np.inf) for f in verdicts]
            else:
                mean, std = self.models[j].predict(feats)
                out[:, j] = acq_fn(mean, std, float(self.F[:, j].min()), self.beta)
        return out

    def _candidates(self) -> list[Vector]:
        pool = self.feasible_pool(self.enumerate_limit)
        if pool is not None:
            return [v for v in pool if v not in self.seen]
        return self._nsga2_on_acquisition()

    def _nsga2_on_acquisition(self) -> list[Vector]:
        from pymoo.algorithms.moo.nsga2 import NSGA2
        from pymoo.optimize import minimize

        start = self.random_feasible(self.pop_size // 2)
        front = [self.X[i] for i in np.flatnonzero(pareto_mask(self.F))]
        start += [self.problem.domain.mutate(v, self.rng) for v in front][: self.pop_size // 2]
        while len(start) < self.pop_size:
            start.append(self.problem.domain.sample(self.rng))
        problem = _box_problem(self.problem, n_constr=1, objective=self._acq_objective)
        algorithm = NSGA2(
            pop_size=self.pop_size,
            sampling=np.array(start, dtype=float),
            crossover=_sbx(),
            mutation=_pm(),
            eliminate_duplicates=True,
        )
        seed = (self.seed * 100_003 + self.iteration) % (2**31)
        res = minimize(problem, algorithm, ("n_gen", self.n_gen), seed=seed, verbose=False)
        found = _vectors(res.pop.get("X")) + list(start)
        ok = self.problem.check(found)
        return [
            v for v, f in zip(found, ok, strict=True) if f.ok and v not in self.seen
        ]

    def _acq_objective(self, vecs: list[Vector]) -> tuple[np.ndarray, np.ndarray]:
        verdicts = self.problem.check(vecs)
        g = np.array([[-1.0] if f.ok and v not in self.seen else [1.0]
                      for v, f in zip(vecs, verdicts, strict=True)])
        f = self.acquire(vecs)
        f[~np.isfinite(f)] = 1e12
        return f, g

    def _select(self, candidates: list[Vector], k: int) -> list[Vector]:
        acq = self.acquire(candidates)
        pool: list[int] = []
        for layer in fronts(acq):
            pool += list(layer)
            if len(pool) >= (max(20 * k, 200) if self.selection == "phvi" else max(5 * k, 50)):
                break
        lo, hi = self.F.min(axis=0), self.F.max(axis=0)
        scale = np.where(hi > lo, hi - lo, 1.0)
        current = (self.F[pareto_mask(self.F)] - lo) / scale
        cand = (acq[pool] - lo) / scale
        ref = np.full(cand.shape[1], 1.0 + self.ref_margin)
        if self.selection == "ehvi":
            samples = (self._member_predictions([candidates[i] for i in pool]) - lo) / scale
            picks = expected_hvi_greedy(samples, cand, current, ref, k)
        elif self.selection == "phvi":
            draws, mean = self._draws([candidates[i] for i in pool])
            picks = improvement_probability_greedy(
                (draws - lo) / scale, (mean - lo) / scale, cand, current, ref, k
            )
        else:
            picks = hvi_greedy(cand, current, ref, k)
        return [candidates[pool[i]] for i in picks]

    def _draws(self, vecs: list[Vector]) -> tuple[np.ndarray, np.ndarray]:
        """(draws, candidates, objectives) plausible true values and the (candidates,
        objectives) means, minimisation form: each evaluator objective's mean plus Gaussian
        noise of its predicted spread, cost objectives exact. The generator is seeded by
        the run's seed and iteration, so a resumed run draws the same."""
        feats = self.problem.domain.features(vecs)
        verdicts = self.problem.check(vecs)
        rng = np.random.default_rng([self.seed, self.iteration, 17])
        n_obj = len(self.problem.objectives)
        mean = np.zeros((len(vecs), n_obj))
        draws = np.zeros((self.n_draws, len(vecs), n_obj))
        for j, obj in enumerate(self.problem.objectives):
            if obj.source == "cost":
                mean[:, j] = [obj.sign * f.costs[obj.name] for f in verdicts]
                draws[:, :, j] = mean[:, j]
            else:
                mu, sd = self.models[j].predict(feats)
                mean[:, j] = mu
                draws[:, :, j] = mu + sd * rng.standard_normal((self.n_draws, len(vecs)))
        return draws, mean

    def _member_predictions(self, vecs: list[Vector]) -> np.ndarray:
        """(members, candidates, objectives) in minimisation form; cost objectives exact."""
        feats = self.problem.domain.features(vecs)
        verdicts = self.problem.check(vecs)
        n_m = self.surrogate_config.n_models
        out = np.zeros((n_m, len(vecs), len(self.problem.objectives)))
        for j, obj in enumerate(self.problem.objectives):
            if obj.source == "cost":
                out[:, :, j] = [obj.sign * f.costs[obj.name] for f in verdicts]
            else:
                out[:, :, j] = self.models[j].members(feats)
        return out


# ---------------------------------------------------------------------------- pymoo glue
def _vectors(x: np.ndarray) -> list[Vector]:
    return [tuple(int(v) for v in row) for row in np.rint(np.atleast_2d(x))]


def _sbx() -> Any:
    from pymoo.operators.crossover.sbx import SBX
    from pymoo.operators.repair.rounding import RoundingRepair

    return SBX(prob=0.9, eta=15, vtype=float, repair=RoundingRepair())


def _pm() -> Any:
    from pymoo.operators.mutation.pm import PM
    from pymoo.operators.repair.rounding import RoundingRepair

    return PM(eta=20, vtype=float, repair=RoundingRepair())


def _box_problem(
    problem: Problem,
    n_constr: int,
    objective: Callable[[list[Vector]], tuple[np.ndarray, np.ndarray]] | None = None,
) -> Any:
    """The domain as a pymoo integer box; ``objective`` fills F and G when it is evaluated."""
    from pymoo.core.problem import Problem as PymooProblem

    bounds = np.array(problem.domain.bounds)

    class _Box(PymooProblem):
        def _evaluate(self, x: np.ndarray, out: dict[str, Any], *args: Any, **kw: Any) -> None:
            if objective is None:
                raise RuntimeError("this problem is evaluated through ask/tell only")
            out["F"], out["G"] = objective(_vectors(x))

    return _Box(
        n_var=len(bounds),
        n_obj=len(problem.objectives),
        n_ieq_constr=n_constr,
        xl=np.zeros(len(bounds)),
        xu=(bounds - 1).astype(float),
        vtype=int,
    )


SELECTIONS = ("phvi", "hvi", "ehvi")

STRATEGIES: dict[str, type[Strategy]] = {
    "hyt": HyTSearch,
    "random": RandomSearch,
    "nsga2": NSGA2Search,
    "evolution": RegularizedEvolution,
}


def list_strategies() -> list[str]:
    return list(STRATEGIES)


def get_strategy(name: str, **options: Any) -> Strategy:
    try:
        cls = STRATEGIES[name]
    except KeyError:
        raise SearchError(
            f"unknown strategy {name!r}; known: {', '.join(STRATEGIES)}"
        ) from None
    return cls(**options)
