"""Revenue-optimal auctions for n additive bidders with independent discrete priors
(SPEC section 6; seed 004, first study: DSIC + ex-post IR, the constraint RegretNet relaxes).

DSIC (ex-post LP over type profiles ``t = (t_1, ..., t_n)`` with probability ``f(t)``)::

    max   sum_t f(t) sum_i (q_i(t) . t_i - u_i(t))
    s.t.  u_i(t) >= u_i(s_i, t_-i) + q_i(s_i, t_-i) . (t_i - s_i)   for all i, t, s_i  (DSIC)
          u_i(t) >= 0                                                  (ex-post IR)
          sum_i q_ij(t) <= 1,  q >= 0                                   (supply)

BIC (reduced form: interim allocation ``Q_i(t_i)`` and utility ``U_i(t_i)`` per bidder)::

    max   sum_i sum_t f_i(t) (Q_i(t) . t - U_i(t))
    s.t.  U_i(t) >= U_i(s) + Q_i(s) . (t - s)   (BIC),   U_i(t) >= 0   (interim IR)
          Border's condition for every item (implementable by some ex-post allocation)

Border rows are added by exact separation (types sorted by interim allocation; nested sets),
so the LP grows with ``sum_i T_i`` instead of ``prod_i T_i``. Identical bidders and identical
items are merged by symmetry (exact; see :mod:`.symmetry`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..core.limits import Limits
from ..core.results import SolveInfo, Stopwatch
from .arguments import flag, solve_args
from .priors import TypePrior, profile_probs
from .results import AuctionResult, Incentive, InterimAuctionResult
from .rochet_lp import RochetSolution, ex_post_layout, interim_layout, solve_rochet


def optimal_dsic_auction(
    priors: Any,
    n_bidders: int | None = None,
    *,
    unit_demand: bool = False,
    constraints: str = "generation",
    symmetry: bool = True,
    limits: Limits | None = None,
    time_limit: float | None = None,
) -> AuctionResult:
    """The revenue-optimal DSIC, ex-post IR auction on the product of the bidders' type sets.

    Args:
        priors: one :class:`~mechsolve.solver.auctions.priors.TypePrior` shared by
            ``n_bidders`` i.i.d. bidders, or one prior per bidder.
        n_bidders: number of bidders when ``priors`` is a single prior (default 1).
        unit_demand: each bidder gets at most one item (``sum_j q_ij <= 1``).
        constraints: ``"generation"`` or ``"full"``.
        symmetry: merge identical bidders and identical items (exact).
        limits: ``max_types`` bounds the number of type profiles; ``max_lp_rows`` the LP.
        time_limit: seconds for the whole call; without convergence the result is
            ``NO_SOLUTION_FOUND`` with no tables (the last LP solution is a relaxation: its
            value is ``info.bound``, an upper bound on the grid optimum).
    """
    watch = Stopwatch()
    args = solve_args(
        "optimal_dsic_auction",
        priors,
        n_bidders,
        constraints=constraints,
        symmetry=symmetry,
        limits=limits,
        time_limit=time_limit,
    )
    ud = flag(args.function, "unit_demand", unit_demand)
    layout = ex_post_layout(args.priors, unit_demand=ud, use_symmetry=args.symmetry)
    sol = solve_rochet(layout, args, regret_budget=None, watch=watch)
    return ex_post_result(
        args.priors, sol, Incentive.DSIC, 0.0, ud, f"rochet_lp_{args.constraints}", watch
    )


def ex_post_result(
    priors: tuple[TypePrior, ...],
    sol: RochetSolution,
    incentive: Incentive,
    budget: float,
    unit_demand: bool,
    method: str,
    watch: Stopwatch,
) -> AuctionResult:
    """Shape a full-row solution of an ex-post LP into allocation/payment tables."""
    shape = tuple(p.n_types for p in priors)
    n, m = len(priors), priors[0].n_items
    if sol.termination.has_solution:
        alloc = np.moveaxis(sol.q.reshape(n, *shape, m), 0, -2)
        pay = np.moveaxis(sol.pay.reshape(n, *shape), 0, -1)
        prob = profile_probs(priors)
        revenue = float((pay.sum(axis=-1) * prob).sum())
    else:  # no mechanism; a relaxation's value is only a bound
        alloc, pay, revenue = np.empty((*shape, n, 0)), np.empty((*shape, 0)), float("nan")
    info = SolveInfo(
        sol.termination, revenue, method, "highs", watch.elapsed, bound=sol.lp_objective
    )
    return AuctionResult(
        info,
        priors,
        incentive,
        alloc,
        pay,
        revenue,
        budget,
        unit_demand,
        sol.verification,
        sol.stats,
    )


def optimal_bic_auction(
    priors: Any,
    n_bidders: int | None = None,
    *,
    constraints: str = "generation",
    symmetry: bool = True,
    limits: Limits | None = None,
    time_limit: float | None = None,
) -> InterimAuctionResult:
    """The revenue-optimal BIC, interim IR auction as a reduced form.

    Arguments as :func:`optimal_dsic_auction` (``max_types`` bounds ``sum_i T_i``). With
    non-identical bidders the exact Border separation enumerates
    ``prod_{i<n} (T_i + 1)`` threshold combinations, bounded by ``limits.max_border_sets``.
    """
    watch = Stopwatch()
    args = solve_args(
        "optimal_bic_auction",
        priors,
        n_bidders,
        constraints=constraints,
        symmetry=symmetry,
        limits=limits,
        time_limit=time_limit,
        interim=True,
    )
    ps = args.priors
    layout = interim_layout(ps, use_symmetry=args.symmetry)
    assert layout.border is not None
    if not layout.border.symmetric:
        n_sets = math.prod(p.n_types + 1 for p in ps[:-1])
        args.limits.check(args.function, "priors", n_sets, "max_border_sets")
    sol = solve_rochet(layout, args, regret_budget=None, watch=watch)
    off = layout.border.offsets
    if sol.termination.has_solution:
        alloc = tuple(sol.q[off[i] : off[i + 1]] for i in range(len(ps)))
        util = tuple(sol.u[off[i] : off[i + 1]] for i in range(len(ps)))
        pay = tuple(sol.pay[off[i] : off[i + 1]] for i in range(len(ps)))
        revenue = float(sum(p.probs @ x for p, x in zip(ps, pay, strict=True)))
    else:
        alloc = util = pay = ()
        revenue = float("nan")
    info = SolveInfo(
        sol.termination,
        revenue,
        f"reduced_form_{args.constraints}",
        "highs",
        watch.elapsed,
        bound=sol.lp_objective,
    )
    return InterimAuctionResult(info, ps, alloc, pay, util, revenue, sol.verification, sol.stats)
