"""Tabular problems: a CSV whose rows are configurations with known objective values.

This is how strategies are compared on tabular NAS/HPO benchmarks: the evaluator looks a
row's values up instead of training anything, and because every value is known the true
Pareto front is too. Columns named in ``--constraint`` are treated as *known before
evaluation* (like LUT-predicted costs): an objective that is also constrained is therefore
a cost objective, every other objective is learnt by the surrogates. Columns that are
neither objectives nor constraints are the knobs when they have few distinct values, else
(numeric ones) known features such as parameter counts; both are the surrogates' inputs.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hilnas.search.problem import Objective, Problem, SearchError, TableDomain, Vector
from hilnas.search.selection import pareto_mask

#: A column with more distinct values than this is a measured figure (parameters, MACs),
#: fed to the surrogates as a feature, not a knob the baselines mutate.
MAX_KNOB_LEVELS = 32
_CONSTRAINT = re.compile(r"^\s*([^<>=]+?)\s*<=\s*(\S+)\s*$")


def read_table(path: Path) -> tuple[list[str], list[dict[str, Any]]]:
    """Columns and rows of a CSV; cells that parse as numbers become floats (ints stay ints)."""
    path = Path(path)
    if not path.is_file():
        raise SearchError(f"{path}: table file does not exist")
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        columns = list(reader.fieldnames or [])
        rows = [{k: _number(v) for k, v in row.items()} for row in reader]
    if not columns or not rows:
        raise SearchError(f"{path}: no header or no rows")
    return columns, rows


def _number(cell: Any) -> Any:
    if cell is None:
        return ""
    text = str(cell).strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def parse_constraint(text: str) -> tuple[str, float]:
    """``"COL<=X"`` → (column, X); anything else is refused with the accepted form."""
    match = _CONSTRAINT.match(text)
    if not match:
        raise SearchError(f"constraint {text!r}: write it as COLUMN<=NUMBER (upper bounds only)")
    try:
        bound = float(match.group(2))
    except ValueError:
        raise SearchError(f"constraint {text!r}: {match.group(2)!r} is not a number") from None
    if not math.isfinite(bound):
        raise SearchError(f"constraint {text!r}: the bound must be finite")
    return match.group(1), bound


def table_problem(
    path: Path,
    maximize: Sequence[str] = (),
    minimize: Sequence[str] = (),
    constraints: Sequence[str] = (),
    knobs: Sequence[str] | None = None,
) -> Problem:
    """A :class:`Problem` over the rows of ``path`` (see module docstring)."""
    path = Path(path)
    columns, rows = read_table(path)
    bounds = dict(parse_constraint(c) for c in constraints)
    wanted = [*maximize, *minimize, *bounds, *(knobs or [])]
    for col in wanted:
        if col not in columns:
            raise SearchError(
                f"column {col!r} is not in {path} (columns: {', '.join(columns)})"
            )
    if not maximize and not minimize:
        raise SearchError("give at least one --maximize or --minimize column")
    numeric = [*maximize, *minimize, *bounds]
    for col in numeric:
        for i, row in enumerate(rows):
            if not isinstance(row[col], int | float) or not math.isfinite(row[col]):
                raise SearchError(f"{path}: row {i} column {col!r} is {row[col]!r}, not a number")
    for col, bound in bounds.items():
        best = min(r[col] for r in rows)
        if best > bound:
            raise SearchError(
                f"constraint {col}<={bound:g} cannot be met: the smallest {col} in {path} "
                f"is {best:g}"
            )
    rest = [c for c in columns if c not in numeric and c != "row"]
    if knobs is None:
        knobs = _default_knobs(rows, rest)
    extra = [
        c for c in rest if c not in knobs and all(isinstance(r[c], int | float) for r in rows)
    ]
    objectives = [
        Objective(c, d, "cost" if c in bounds else "evaluator")
        for cols, d in ((maximize, "max"), (minimize, "min"))
        for c in cols
    ]
    domain = TableDomain(rows, knobs, name=path.stem, extra_features=extra)
    feasible = [r for r in rows if all(r[c] <= b for c, b in bounds.items())]
    reference = {
        o.name: (min if o.direction == "max" else max)(r[o.name] for r in feasible)
        for o in objectives
    }
    cost_cols = sorted({*bounds, *(o.name for o in objectives if o.source == "cost")})
    return Problem(
        domain=domain,
        objectives=objectives,
        evaluate_fn=TableEvaluator(rows, [o.name for o in objectives]),
        costs_fn=TableEvaluator(rows, cost_cols) if cost_cols else None,
        constraints=bounds,
        reference=reference,
        name=f"table:{path.name}",
    )


def _default_knobs(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> list[str]:
    """Columns in file order with few distinct values, until they tell every row apart.

    A later column (parameters, MACs) is then a function of the knobs within the table: it
    stays a surrogate feature but is no knob for the baselines to mutate.
    """
    knobs: list[str] = []
    for col in columns:
        if len({tuple(r[k] for k in knobs) for r in rows}) == len(rows) and knobs:
            break
        if len({r[col] for r in rows}) <= MAX_KNOB_LEVELS:
            knobs.append(col)
    return knobs


class TableEvaluator:
    """Looks the named columns of row indices up (the tabular evaluator and cost function)."""

    def __init__(self, rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> None:
        self.rows = rows
        self.columns = list(columns)
        self.calls = 0

    def __call__(self, row_ids: Sequence[int]) -> list[dict[str, float]]:
        self.calls += len(row_ids)
        return [{c: float(self.rows[i][c]) for c in self.columns} for i in row_ids]


def true_front(problem: Problem, limit: int = 200_000) -> list[Vector]:
    """The feasible Pareto-optimal members of a finite problem, found by evaluating all of them.

    Only for benchmarks whose evaluator is cheap (tables, synthetic problems).
    """
    members = problem.domain.enumerate(limit)
    if members is None:
        raise SearchError(f"{problem.name}: domain too large to enumerate (> {limit})")
    ok = [v for v, f in zip(members, problem.check(members), strict=True) if f.ok]
    f = problem.to_min(problem.evaluate(ok))
    return [v for v, m in zip(ok, pareto_mask(f), strict=True) if m]
