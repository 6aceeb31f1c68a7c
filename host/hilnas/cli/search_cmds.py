"""``hilnas search``: constrained multi-objective search on a board, on a table, or compared.

* ``hilnas search --space S --board B --lut F --supernet C --latency-ms X ... -o RUN/``:
  accuracy (supernet) vs LUT-predicted latency under the board's budgets;
* ``hilnas search table FILE.csv --maximize COL --minimize COL ... -o RUN/``: a finite table
  of configurations with known values (prints how many true Pareto points were found);
* ``hilnas search compare FILE.csv ... --strategies hyt,random --seeds 10 -o DIR/``.

Handlers parse and print; the work is in :mod:`hilnas.search`. A run folder is resumed
by rerunning the same command.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any

STRATEGY_NAMES = ("hyt", "random", "nsga2", "evolution")


def register(subparsers: argparse._SubParsersAction) -> None:
    search = subparsers.add_parser(
        "search",
        help="constrained multi-objective search (HyT-Search and baselines)",
        description="Search a space for one board (options below), or a table (`table`), "
        "or compare strategies (`compare`).",
    )
    search.add_argument("--space", help="search space name (see `hilnas space show`)")
    search.add_argument("--board", help="board profile name (its budgets apply by default)")
    search.add_argument("--lut", type=Path, help="latency/memory LUT file of the board")
    search.add_argument("--supernet", type=Path, help="supernet checkpoint (accuracy)")
    search.add_argument("--latency-ms", type=float, help="latency budget in milliseconds")
    search.add_argument("--latency", type=float, help="latency budget in board units")
    search.add_argument("--sram-kb", type=float, help="SRAM budget (default: the board's)")
    search.add_argument("--flash-kb", type=float, help="flash budget (default: the board's)")
    _common(search)
    search.set_defaults(handler=cmd_search)
    sub = search.add_subparsers(dest="search_command", metavar="ACTION")

    table = sub.add_parser("table", help="search a CSV table of configurations")
    _table_args(table)
    table.add_argument("--strategy", default="hyt", choices=STRATEGY_NAMES)
    table.add_argument("--seed", type=int, default=0)
    table.add_argument("-o", "--out", type=Path, required=True, help="run folder")
    table.set_defaults(handler=cmd_table)

    cmp = sub.add_parser("compare", help="strategies x seeds on a CSV table, with plots")
    _table_args(cmp)
    cmp.add_argument("--strategies", default="hyt,random,nsga2,evolution")
    cmp.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1 (default 10)")
    cmp.add_argument("-o", "--out", type=Path, required=True, help="output folder")
    cmp.set_defaults(handler=cmd_compare)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--budget", type=int, help="number of true evaluations")
    p.add_argument("--strategy", default="hyt", choices=STRATEGY_NAMES)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=10)
    p.add_argument("-o", "--out", type=Path, help="run folder (rerun to resume)")


def _table_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("table", type=Path, help="CSV file, one configuration per row")
    p.add_argument("--maximize", action="append", default=[], metavar="COL")
    p.add_argument("--minimize", action="append", default=[], metavar="COL")
    p.add_argument("--constraint", action="append", default=[], metavar="COL<=X",
                   help="upper bound on a column known before evaluation (repeatable)")
    p.add_argument("--knob", action="append", metavar="COL",
                   help="knob columns (default: the other columns with few distinct values)")
    p.add_argument("--budget", type=int, required=True, help="number of true evaluations")
    p.add_argument("--batch-size", type=int, default=10)


# ---------------------------------------------------------------------------- handlers
def cmd_search(args: argparse.Namespace) -> int:
    from hilnas.board.profiles import load_profile
    from hilnas.search.budgets import board_constraints, board_problem
    from hilnas.search.costs import load_lut_costs
    from hilnas.search.evaluators import SupernetAccuracy
    from hilnas.search.problem import SearchError
    from hilnas.space import get_space

    missing = [f"--{n.replace('_', '-')}" for n in ("space", "board", "lut", "supernet",
                                                    "budget", "out") if getattr(args, n) is None]
    if missing:
        raise SearchError(f"`hilnas search` needs {', '.join(missing)} "
                          "(or use `hilnas search table`)")
    _check_budget(args.budget)
    space = get_space(args.space)
    budget = load_profile(args.board).budget()
    # Budgets first: a wrong flag is named before any file is opened.
    board_constraints(budget, args.latency_ms, args.latency, args.sram_kb, args.flash_kb)
    if not args.supernet.is_file():
        raise SearchError(f"{args.supernet}: supernet checkpoint does not exist")
    costs = load_lut_costs(args.lut, space, args.board)
    problem = board_problem(space, budget, costs, SupernetAccuracy(args.supernet),
                            args.latency_ms, args.latency, args.sram_kb, args.flash_kb,
                            name=f"{space.name}@{args.board}")
    return _run_and_report(problem, args, {"space": space.name, "board": args.board,
                                           "lut": str(args.lut), "supernet": str(args.supernet)})


def cmd_table(args: argparse.Namespace) -> int:
    from hilnas.search import table_problem, true_front
    from hilnas.search.report import found_curve

    _check_budget(args.budget)
    problem = table_problem(args.table, args.maximize, args.minimize, args.constraint,
                            args.knob)
    result = _run_and_report(problem, args, {"table": str(args.table)}, quiet=True)
    front = true_front(problem)
    found = found_curve(result.records, set(front))
    at = {r.x: r.i + 1 for r in result.records}
    print(f"Pareto points found: {len(result.front())} (evaluated front); true Pareto points "
          f"found: {found[-1] if found else 0} of {len(front)} in {len(result.records)} "
          "evaluations")
    for v in sorted(front, key=lambda v: problem.domain.decode(v)):
        row = problem.domain.describe(v)
        where = f"found at evaluation {at[v]}" if v in at else "not found"
        values = ", ".join(f"{o.name}={row[o.name]:g}" for o in problem.objectives)
        print(f"  row {row['row']}: {values} — {where}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from hilnas.search import table_problem
    from hilnas.search.compare import compare, write_compare

    _check_budget(args.budget)
    names = [s.strip() for s in args.strategies.split(",") if s.strip()]
    unknown = [s for s in names if s not in STRATEGY_NAMES]
    if unknown or not names:
        from hilnas.search.problem import SearchError

        raise SearchError(f"unknown strategies {unknown}; known: {', '.join(STRATEGY_NAMES)}")
    def make() -> Any:
        return table_problem(args.table, args.maximize, args.minimize, args.constraint, args.knob)

    make()  # refuse bad columns/budgets before any run
    res = compare(make, names, range(args.seeds), args.budget,
                  {"hyt": {"batch_size": args.batch_size}}, progress=print)
    write_compare(res, args.out)
    print(f"true Pareto points: {res['true_front_size']}; budget {args.budget}")
    for name, s in res["strategies"].items():
        print(f"  {name:10s} median found {s['median_found']:.1f} "
              f"({100 * s['median_found_fraction']:.0f}%), median hypervolume "
              f"{s['median_hypervolume']:.5g}")
    print(f"wrote {args.out}/compare.json, hypervolume.png, pareto_found.png")
    return 0


# ---------------------------------------------------------------------------- shared
def _check_budget(budget: int | None) -> None:
    from hilnas.search.problem import SearchError

    if budget is None or budget < 1:
        raise SearchError(f"--budget must be a positive number of evaluations, got {budget}")


def _run_and_report(problem: Any, args: argparse.Namespace, extra: dict[str, Any],
                    quiet: bool = False) -> Any:
    from hilnas.search import run_search
    from hilnas.search.report import write_outputs

    settings = {**extra, "command": shlex.join(["hilnas", *sys.argv[1:]])}
    with _Progress(f"{args.strategy} seed {args.seed}") as progress:
        result = run_search(problem, args.strategy, args.budget, seed=args.seed,
                            out_dir=args.out, settings=settings, progress=progress,
                            batch_size=args.batch_size)
    info = write_outputs(result, args.out)
    winner = info["winner"]
    print(f"{len(result.records)} evaluations, {len(info['front'])} on the front, "
          f"hypervolume {info['hypervolume']:.5g}; outputs in {args.out}")
    if info["overhead_s_per_iteration"] is not None:
        print(f"search overhead {info['overhead_s_per_iteration']:.2f} s/iteration")
    if info["evaluations_per_s"] is not None:
        print(f"evaluations/s {info['evaluations_per_s']:.3g}")
    if winner and not quiet:
        print(f"winner ({info['winner_rule']}): {winner['objectives']}")
    return result


class _Progress:
    """rich progress on a terminal; one plain line per iteration otherwise (logs, CI)."""

    def __init__(self, label: str) -> None:
        from rich.console import Console

        self.console = Console()
        self.label = label
        self.bar: Any = None

    def __enter__(self) -> _Progress:
        if self.console.is_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self.bar = Progress(TextColumn("{task.description}"), BarColumn(),
                                MofNCompleteColumn(), TextColumn("{task.fields[note]}"),
                                console=self.console)
            self.bar.start()
            self.task = self.bar.add_task(self.label, total=None, note="")
        return self

    def __call__(self, done: int, total: int, result: Any) -> None:
        note = f"front {len(result.front())}"
        if self.bar is not None:
            self.bar.update(self.task, completed=done, total=total, note=note)
        else:
            print(f"[{self.label}] {done}/{total} evaluations, {note}", flush=True)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()
