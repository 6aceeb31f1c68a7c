"""Constrained multi-objective architecture search (HyT-Search and baselines).

A :class:`Problem` (domain + objectives + cost function with hard budgets + black-box
evaluator) is solved by a strategy from :data:`STRATEGIES` through :func:`run_search`, which
checks every candidate's feasibility *before* evaluating it, logs every evaluation to a run
folder and resumes a killed run by replaying its log. :mod:`.report` writes the front,
hypervolume curve and winner; :mod:`.tabular` builds problems from CSV tables. Nothing here
imports the supernet, the LUT or the board: :mod:`.costs` and :mod:`.evaluators` adapt
them lazily.
"""

from hilnas.search.problem import (
    INFEASIBLE,
    Domain,
    Feasibility,
    Objective,
    Problem,
    SearchError,
    SpaceDomain,
    TableDomain,
    VectorDomain,
)
from hilnas.search.run import EvalRecord, SearchResult, run_search
from hilnas.search.strategies import STRATEGIES, Strategy, get_strategy, list_strategies
from hilnas.search.tabular import table_problem, true_front

__all__ = [
    "INFEASIBLE",
    "STRATEGIES",
    "Domain",
    "EvalRecord",
    "Feasibility",
    "Objective",
    "Problem",
    "SearchError",
    "SearchResult",
    "SpaceDomain",
    "Strategy",
    "TableDomain",
    "VectorDomain",
    "get_strategy",
    "list_strategies",
    "run_search",
    "table_problem",
    "true_front",
]
