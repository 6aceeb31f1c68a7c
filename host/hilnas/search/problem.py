"""What a search solves: candidates, objectives, hard constraints and a black-box evaluator.

A :class:`Problem` is pymoo's shape made discrete: it knows the *domain* (integer vectors,
one choice index per knob — a :class:`~hilnas.space.SearchSpace`, a finite table, or a
plain box of integers), which objectives to maximise or minimise, a batched *cost function*
(cheap predicted costs such as ``latency_ms`` or ``sram_bytes``) with upper bounds on some
of them, and a batched *evaluator* for the expensive objectives (accuracy).

Why constraints sit here and not in the strategies: every candidate goes through
:meth:`Problem.check` before anything is evaluated, so no strategy — however buggy — can
spend an accuracy evaluation on, or return, a model the board cannot run. The problem imports
none of supernet/lut/board: those are plugged in as callables (see :mod:`.costs`,
:mod:`.evaluators`).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from hilnas.errors import ConfigError

Vector = tuple[int, ...]
#: A cost function's mapping may carry this key with a reason (str) to mark a candidate
#: infeasible whatever the budgets (a model beyond the engine's limits, a LUT miss).
INFEASIBLE = "infeasible"

CostFn = Callable[[Sequence[Any]], Sequence[Mapping[str, Any]]]
EvalFn = Callable[[Sequence[Any]], Sequence[Mapping[str, float]]]


class SearchError(ConfigError):
    """A search problem or run cannot be set up as asked (names the budget/column/board)."""


@dataclass(frozen=True)
class Objective:
    """One objective: ``source`` says who knows its value.

    ``"evaluator"`` objectives are expensive (trained accuracy, a measured table column) and
    are learnt by surrogates; ``"cost"`` objectives come from the cost function (LUT-predicted
    latency) and are known exactly for every candidate before evaluation.
    """

    name: str
    direction: Literal["max", "min"]
    source: Literal["evaluator", "cost"] = "evaluator"

    def __post_init__(self) -> None:
        if self.direction not in ("max", "min"):
            raise SearchError(f"objective {self.name!r}: direction must be 'max' or 'min'")
        if self.source not in ("evaluator", "cost"):
            raise SearchError(f"objective {self.name!r}: source must be 'evaluator' or 'cost'")

    @property
    def sign(self) -> float:
        """Multiplier into minimisation form (strategies all minimise)."""
        return -1.0 if self.direction == "max" else 1.0


# ---------------------------------------------------------------------------- domains
class Domain:
    """The discrete set searched: integer vectors with ``bounds[i]`` choices at position i."""

    name: str = "domain"
    bounds: tuple[int, ...] = ()

    def contains(self, v: Vector) -> bool:
        return len(v) == len(self.bounds) and all(
            0 <= x < b for x, b in zip(v, self.bounds, strict=True)
        )

    def decode(self, v: Vector) -> Any:
        """What the cost function and the evaluator receive for ``v``."""
        return v

    def describe(self, v: Vector) -> dict[str, Any]:
        """JSON for the run log (an arch JSON, a table row)."""
        return {"x": list(v)}

    def network_key(self, v: Vector) -> Hashable:
        """What makes two vectors the same candidate; the vector itself unless the domain
        knows that different encodings build the same network."""
        return v

    def features(self, vs: Sequence[Vector]) -> np.ndarray:
        """Numeric inputs of the surrogates (choice indices are ordered small → large)."""
        return np.asarray(vs, dtype=np.float64).reshape(len(vs), len(self.bounds))

    def enumerate(self, limit: int = 200_000) -> list[Vector] | None:
        """Every member when there are at most ``limit`` of them, else None."""
        if math.prod(self.bounds) > limit:
            return None
        grids = np.indices(self.bounds).reshape(len(self.bounds), -1).T
        return [tuple(int(x) for x in row) for row in grids]

    def sample(self, rng: random.Random) -> Vector:
        return tuple(rng.randrange(b) for b in self.bounds)

    def anchors(self) -> list[Vector]:
        """Members known to be cheap (a space's smallest): where a search under tight
        budgets looks for feasible candidates when uniform samples find none."""
        return []

    def mutate(self, v: Vector, rng: random.Random, prob: float | None = None) -> Vector:
        """Resample each position with probability ``prob`` (1/d by default); one always moves."""
        prob = 1.0 / len(v) if prob is None else prob
        out = list(v)
        movable = [i for i, b in enumerate(self.bounds) if b > 1]
        changed = [i for i in movable if rng.random() < prob] or [rng.choice(movable)]
        for i in changed:
            pick = rng.randrange(self.bounds[i] - 1)
            out[i] = pick if pick < out[i] else pick + 1
        return tuple(out)

    def crossover(self, a: Vector, b: Vector, rng: random.Random) -> Vector:
        return tuple(x if rng.random() < 0.5 else y for x, y in zip(a, b, strict=True))


class VectorDomain(Domain):
    """A plain box of integers (synthetic problems)."""

    def __init__(self, bounds: Sequence[int], name: str = "vector") -> None:
        if not bounds or any(int(b) < 1 for b in bounds):
            raise SearchError(f"domain {name!r}: every position needs at least one choice")
        self.bounds = tuple(int(b) for b in bounds)
        self.name = name


class SpaceDomain(Domain):
    """A :class:`~hilnas.space.SearchSpace` seen through its integer encoding."""

    def __init__(self, space: Any) -> None:
        self.space = space
        self.name = space.name
        self.bounds = tuple(space.bounds())

    def decode(self, v: Vector) -> Any:
        return self.space.decode(list(v))

    def describe(self, v: Vector) -> dict[str, Any]:
        return self.space.decode(list(v)).to_json()

    def encode(self, arch: Any) -> Vector:
        return tuple(self.space.encode(arch))

    def network_key(self, v: Vector) -> Hashable:
        """The member's block signatures (shapes and settings of every block). Knobs can be
        inert for a member: a patch or pooling window clamped to a small map, a width
        growth rounded back to the same channel count, a setting of a block that a smaller
        depth leaves out. Such twins build the same network with the same shared weights,
        so evaluating both would spend budget on one network and list it twice."""
        return tuple(self.space.block_signatures(self.decode(v)))

    def anchors(self) -> list[Vector]:
        return [self.encode(self.space.smallest())]


class TableDomain(Domain):
    """A finite list of configurations: row ``i`` of a table is one candidate.

    Each knob column is encoded as the index of the row's value among the column's sorted
    distinct values, so the vectors keep the columns' order for the surrogates and the
    mutation/crossover operators of the baselines work unchanged; a vector that is no row
    of the table is not in the domain. Without knob columns the row index is the only knob.
    ``extra_features`` are numeric columns known before evaluation (parameters, MACs) that
    are no knobs but tell the surrogates a lot.
    """

    def __init__(
        self,
        rows: Sequence[Mapping[str, Any]],
        knobs: Sequence[str],
        name: str = "table",
        extra_features: Sequence[str] = (),
    ) -> None:
        if not rows:
            raise SearchError(f"table {name!r} has no rows")
        self.name = name
        self.rows = [dict(r) for r in rows]
        self.knobs = list(knobs)
        self.extra_features = list(extra_features)
        self._extra = np.array(
            [[float(r[c]) for c in self.extra_features] for r in self.rows]
        ).reshape(len(self.rows), len(self.extra_features))
        if self.knobs:
            self.levels = [sorted({r[k] for r in self.rows}, key=_sort_key) for k in self.knobs]
            index = [{v: i for i, v in enumerate(lv)} for lv in self.levels]
            self.vectors = [
                tuple(index[j][r[k]] for j, k in enumerate(self.knobs)) for r in self.rows
            ]
        else:
            self.levels = [list(range(len(self.rows)))]
            self.vectors = [(i,) for i in range(len(self.rows))]
        self.bounds = tuple(len(lv) for lv in self.levels)
        self.row_of: dict[Vector, int] = {}
        for i, v in enumerate(self.vectors):
            if v in self.row_of:
                raise SearchError(
                    f"table {name!r}: rows {self.row_of[v]} and {i} have the same knob values "
                    f"({', '.join(self.knobs)}); a candidate must be one row"
                )
            self.row_of[v] = i

    def contains(self, v: Vector) -> bool:
        return v in self.row_of

    def decode(self, v: Vector) -> int:
        return self.row_of[v]

    def describe(self, v: Vector) -> dict[str, Any]:
        row = self.row_of[v]
        return {"row": row, **self.rows[row]}

    def features(self, vs: Sequence[Vector]) -> np.ndarray:
        """Knob levels, then the values of the known numeric columns (params, MACs ...)."""
        levels = np.asarray(vs, dtype=np.float64).reshape(len(vs), len(self.bounds))
        if not self.extra_features:
            return levels
        extra = self._extra[[self.row_of[v] for v in vs]]
        return np.hstack([levels, extra])

    def enumerate(self, limit: int = 200_000) -> list[Vector] | None:
        return list(self.vectors) if len(self.vectors) <= limit else None

    def sample(self, rng: random.Random) -> Vector:
        return self.vectors[rng.randrange(len(self.vectors))]


def _sort_key(value: Any) -> tuple[int, Any]:
    return (0, value) if isinstance(value, int | float) else (1, str(value))


# ---------------------------------------------------------------------------- feasibility
@dataclass(frozen=True)
class Feasibility:
    """The verdict on one candidate: its predicted costs and what (if anything) it breaks."""

    ok: bool
    costs: dict[str, float]
    reason: str = ""


@dataclass
class Problem:
    """A constrained multi-objective problem over a discrete domain (see module docstring).

    ``constraints`` are upper bounds on named costs; ``reference`` gives, per objective, the
    value that hypervolumes are measured from (it only affects reported figures).
    """

    domain: Domain
    objectives: Sequence[Objective]
    evaluate_fn: EvalFn
    costs_fn: CostFn | None = None
    constraints: Mapping[str, float] = field(default_factory=dict)
    reference: Mapping[str, float] = field(default_factory=dict)
    name: str = "problem"

    def __post_init__(self) -> None:
        self.objectives = tuple(self.objectives)
        names = [o.name for o in self.objectives]
        if not names:
            raise SearchError("a search needs at least one objective")
        if len(set(names)) != len(names):
            raise SearchError(f"objective named twice in {names}")
        for key, bound in self.constraints.items():
            if not isinstance(bound, int | float) or not math.isfinite(bound):
                raise SearchError(f"constraint {key!r}: bound {bound!r} is not a finite number")
        if (self.constraints or self.cost_objectives) and self.costs_fn is None:
            raise SearchError("constraints or cost objectives need a cost function")
        self._verdicts: dict[Vector, Feasibility] = {}

    @property
    def cost_objectives(self) -> list[Objective]:
        return [o for o in self.objectives if o.source == "cost"]

    @property
    def evaluator_objectives(self) -> list[Objective]:
        return [o for o in self.objectives if o.source == "evaluator"]

    @property
    def signs(self) -> np.ndarray:
        return np.array([o.sign for o in self.objectives])

    # ------------------------------------------------------------ constraints
    def check(self, vectors: Sequence[Vector]) -> list[Feasibility]:
        """Feasibility of every vector (cached; the cost function sees each candidate once)."""
        todo = [v for v in dict.fromkeys(vectors) if v not in self._verdicts]
        outside = [v for v in todo if not self.domain.contains(v)]
        for v in outside:
            self._verdicts[v] = Feasibility(False, {}, f"not a member of {self.domain.name}")
        inside = [v for v in todo if v not in self._verdicts]
        if inside:
            if self.costs_fn is None:
                for v in inside:
                    self._verdicts[v] = Feasibility(True, {})
            else:
                costs = list(self.costs_fn([self.domain.decode(v) for v in inside]))
                if len(costs) != len(inside):
                    raise SearchError(
                        f"cost function returned {len(costs)} results for {len(inside)} candidates"
                    )
                for v, c in zip(inside, costs, strict=True):
                    self._verdicts[v] = self._verdict(c)
        return [self._verdicts[v] for v in vectors]

    def _verdict(self, raw: Mapping[str, Any]) -> Feasibility:
        reason = str(raw.get(INFEASIBLE) or "")
        costs = {k: float(x) for k, x in raw.items() if k != INFEASIBLE}
        if reason:
            return Feasibility(False, costs, reason)
        needed = [*self.constraints, *(o.name for o in self.cost_objectives)]
        missing = [k for k in needed if k not in costs]
        if missing:
            raise SearchError(
                f"the cost function gives no {', '.join(map(repr, missing))} "
                f"(it gives: {', '.join(sorted(costs)) or 'nothing'})"
            )
        broken = [
            f"{k} {costs[k]:g} > {bound:g}"
            for k, bound in self.constraints.items()
            if not costs[k] <= bound
        ]
        return Feasibility(not broken, costs, "; ".join(broken))

    def feasible(self, v: Vector) -> bool:
        return self.check([v])[0].ok

    def sample_feasible(
        self, rng: random.Random, n: int, exclude: set[Vector] | None = None, tries: int = 50
    ) -> list[Vector]:
        """Up to ``n`` distinct feasible vectors not in ``exclude`` (rejection sampling)."""
        exclude = exclude or set()
        found: list[Vector] = []
        seen: set[Vector] = set()
        for _ in range(max(1, tries)):
            want = n - len(found)
            if want <= 0:
                break
            batch = [self.domain.sample(rng) for _ in range(4 * want)]
            batch = [v for v in dict.fromkeys(batch) if v not in seen and v not in exclude]
            seen.update(batch)
            verdicts = self.check(batch)
            found += [v for v, f in zip(batch, verdicts, strict=True) if f.ok][:want]
        return found

    # ------------------------------------------------------------ evaluation
    def evaluate(self, vectors: Sequence[Vector]) -> list[dict[str, float]]:
        """Objective values (natural units) of feasible vectors; an infeasible one is refused.

        Cost objectives come from the cached costs; evaluator objectives from one batched
        call of the black-box evaluator.
        """
        verdicts = self.check(vectors)
        bad = [(v, f.reason) for v, f in zip(vectors, verdicts, strict=True) if not f.ok]
        if bad:
            raise AssertionError(f"refusing to evaluate infeasible candidates: {bad[:3]}")
        results: list[dict[str, float]] = [
            {o.name: f.costs.get(o.name, math.nan) for o in self.objectives} for f in verdicts
        ]
        if self.evaluator_objectives and vectors:
            measured = list(self.evaluate_fn([self.domain.decode(v) for v in vectors]))
            if len(measured) != len(vectors):
                raise SearchError(
                    f"evaluator returned {len(measured)} results for {len(vectors)} candidates"
                )
            for res, m in zip(results, measured, strict=True):
                for o in self.evaluator_objectives:
                    value = float(m[o.name])
                    if not math.isfinite(value):
                        raise SearchError(f"evaluator gave {o.name} = {value}")
                    res[o.name] = value
        return results

    def to_min(self, values: Sequence[Mapping[str, float]]) -> np.ndarray:
        """Objective values → minimisation matrix (rows = candidates)."""
        f = np.array([[v[o.name] for o in self.objectives] for v in values], dtype=np.float64)
        return f.reshape(len(values), len(self.objectives)) * self.signs

    def reference_min(self) -> np.ndarray | None:
        if not all(o.name in self.reference for o in self.objectives):
            return None
        return np.array([self.reference[o.name] for o in self.objectives]) * self.signs
