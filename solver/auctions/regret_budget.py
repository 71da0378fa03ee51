"""Revenue at a regret budget: the best any mechanism on the grid can do with that much regret.

RegretNet-style learners (seed 004, first study, Table 1) report revenue at a budget ``R_max``
on the mean ex-post regret. On a grid the exact ceiling is an LP with an epigraph variable
``r_i(t) >= 0`` per bidder and profile (utility form, payment ``q . t_i - u``)::

    max   sum_t f(t) sum_i (q_i(t) . t_i - u_i(t))
    s.t.  r_i(t) >= u_i(s_i, t_-i) + q_i(s_i, t_-i) . (t_i - s_i) - u_i(t)   for all s_i
          (1/n) sum_i sum_t f(t) r_i(t) <= epsilon
          u_i(t) >= 0 (ex-post IR),  sum_i q_ij(t) <= 1,  q >= 0

``r_i(t)`` bounds bidder ``i``'s ex-post regret at ``t`` (the best misreport gain), so the mean
regret of the optimum is at most ``epsilon`` (RegretNet's convention: averaged over bidders).
``epsilon = 0`` is the DSIC LP. Solved by constraint generation like the DSIC LP.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ..core import validation as v
from ..core.limits import Limits
from ..core.results import Limit, Stopwatch, Termination
from .arguments import SolveArgs, flag, solve_args
from .multi_bidder import ex_post_result
from .results import AuctionResult, Incentive
from .rochet_lp import empty_solution, ex_post_layout, solve_rochet

DEFAULT_EPSILONS = (0.0, 1e-4, 1e-3)
"""The budgets of the comparison with the seed's Table 1 (0 = DSIC, then its R_max values)."""


def regret_budget_auction(
    priors: Any,
    n_bidders: int | None = None,
    *,
    epsilon: float,
    unit_demand: bool = False,
    constraints: str = "generation",
    symmetry: bool = True,
    limits: Limits | None = None,
    time_limit: float | None = None,
) -> AuctionResult:
    """The revenue-maximizing ex-post IR mechanism whose mean ex-post regret (averaged over
    bidders, misreports to any grid type) is at most ``epsilon``.

    Other arguments as :func:`~mechsolve.solver.auctions.multi_bidder.optimal_dsic_auction`.
    """
    watch = Stopwatch()
    args = solve_args(
        "regret_budget_auction",
        priors,
        n_bidders,
        constraints=constraints,
        symmetry=symmetry,
        limits=limits,
        time_limit=time_limit,
    )
    eps = v.real(args.function, "epsilon", epsilon, min_value=0.0)
    ud = flag(args.function, "unit_demand", unit_demand)
    layout = ex_post_layout(args.priors, unit_demand=ud, use_symmetry=args.symmetry)
    sol = solve_rochet(layout, args, regret_budget=eps, watch=watch)
    return ex_post_result(
        args.priors,
        sol,
        Incentive.REGRET_BUDGET,
        eps,
        ud,
        f"regret_budget_lp_{args.constraints}",
        watch,
    )


def regret_budget_curve(
    priors: Any,
    n_bidders: int | None = None,
    *,
    epsilons: Sequence[float] = DEFAULT_EPSILONS,
    unit_demand: bool = False,
    constraints: str = "generation",
    symmetry: bool = True,
    limits: Limits | None = None,
    time_limit: float | None = None,
) -> tuple[AuctionResult, ...]:
    """:func:`regret_budget_auction` at every budget in ``epsilons``, in order.

    ``time_limit`` bounds the whole call: each budget gets what is left of it, and a budget
    reached after it has run out is not solved (``NO_SOLUTION_FOUND`` with limit ``TIME``).
    Budgets x type profiles is at most ``limits.max_types`` (each budget returns its tables).
    """
    fn = "regret_budget_curve"
    watch = Stopwatch()
    eps = v.float_array(fn, "epsilons", epsilons, ndim=1, min_value=0.0)
    args = solve_args(
        fn, priors, n_bidders, constraints=constraints, symmetry=symmetry, limits=limits,
        time_limit=time_limit,
    )  # fmt: skip
    ud = flag(fn, "unit_demand", unit_demand)
    # every budget returns its own tables: the answer grows with budgets x type profiles
    profiles = math.prod(p.n_types for p in args.priors)
    args.limits.check(fn, "epsilons", len(eps) * profiles, "max_types")
    out = []
    for e in eps:
        remaining = watch.remaining(args.time_limit)
        if remaining is not None and remaining <= 0.0:
            out.append(_not_reached(args, float(e), ud))
            continue
        out.append(
            regret_budget_auction(
                args.priors,
                epsilon=float(e),
                unit_demand=ud,
                constraints=args.constraints,
                symmetry=args.symmetry,
                limits=args.limits,
                time_limit=remaining,
            )
        )
    return tuple(out)


def _not_reached(args: SolveArgs, epsilon: float, unit_demand: bool) -> AuctionResult:
    """The result for a budget the call's time limit did not reach (no LP was solved)."""
    layout = ex_post_layout(args.priors, unit_demand=unit_demand, use_symmetry=args.symmetry)
    term = Termination.no_solution(Limit.TIME, "time limit reached before this budget")
    sol = empty_solution(layout, args.constraints, term)
    method = f"regret_budget_lp_{args.constraints}"
    return ex_post_result(
        args.priors, sol, Incentive.REGRET_BUDGET, epsilon, unit_demand, method, Stopwatch()
    )
