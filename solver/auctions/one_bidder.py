"""The revenue-optimal menu for one additive bidder (SPEC section 6; seed 004, first study).

On a finite type set ``T`` with probabilities ``f`` (Rochet utility form, lotteries allowed)::

    max   sum_t f(t) (q(t) . t - u(t))
    s.t.  u(t) >= u(s) + q(s) . (t - s)     for all types t != s     (IC)
          u(t) >= 0,  0 <= q(t) <= 1       (IR; sum_j q_j(t) <= 1 if unit-demand)

solved by constraint generation (:mod:`.rochet_lp`), with identical items merged by symmetry.
The returned menu is truly IC for continuous types too: a buyer picks the utility-maximizing
entry (see :mod:`.evaluation`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..core.limits import Limits
from ..core.results import Limit, SolveInfo, Stopwatch, Termination
from .arguments import flag, solve_args
from .results import MenuResult
from .rochet_lp import RochetSolution, ex_post_layout, solve_rochet, verify
from .separation import seller_favoured_choice


def optimal_menu(
    prior: Any,
    *,
    unit_demand: bool = False,
    constraints: str = "generation",
    symmetry: bool = True,
    limits: Limits | None = None,
    time_limit: float | None = None,
) -> MenuResult:
    """The revenue-optimal IC and IR menu for one bidder with type set ``prior``.

    Args:
        prior: a :class:`~mechsolve.solver.auctions.priors.TypePrior`.
        unit_demand: the bidder wants at most one item (``sum_j q_j <= 1``).
        constraints: ``"generation"`` (neighbour-seeded IC rows plus exact separation) or
            ``"full"`` (every IC row up front; for comparison on small grids).
        symmetry: merge types that differ by a permutation of identical items (exact).
        limits: size limits (``max_types``, ``max_lp_rows``).
        time_limit: seconds for the whole call. If it runs out before constraint generation
            converges, every type picks its best entry of the last LP's menu (an exactly IC and
            IR menu, returned as ``FEASIBLE``; ``info.bound`` is the last LP's value, an upper
            bound on the grid optimum).
    """
    watch = Stopwatch()
    args = solve_args(
        "optimal_menu",
        prior,
        None,
        constraints=constraints,
        symmetry=symmetry,
        limits=limits,
        time_limit=time_limit,
        max_bidders=1,
        argument="prior",
    )
    (p,) = args.priors
    ud = flag(args.function, "unit_demand", unit_demand)
    layout = ex_post_layout(args.priors, unit_demand=ud, use_symmetry=args.symmetry)
    sol = solve_rochet(layout, args, regret_budget=None, watch=watch)
    term = sol.termination
    q, u, pay, ver = sol.q, sol.u, sol.pay, sol.verification
    if not sol.converged and q.size:
        q, u, pay = _repair(sol, layout.own_values)
        ver = verify(layout, q, u, np.zeros_like(u), None)
        if ver.passed:
            detail = (
                "every type given its best entry of the last LP's menu (IC, not proven optimal)"
            )
            term = Termination.feasible(term.limit or Limit.OTHER, term.with_detail(detail).detail)
    if not term.has_solution:  # no menu; a relaxation's value is only a bound
        q, u, pay = np.empty((0, p.n_items)), np.empty(0), np.empty(0)
    revenue = float(p.probs @ pay) if pay.size else float("nan")
    method = f"rochet_lp_{args.constraints}"
    info = SolveInfo(term, revenue, method, "highs", watch.elapsed, bound=sol.lp_objective)
    return MenuResult(info, p, q, pay, u, revenue, ud, ver, sol.stats)


def _repair(
    sol: RochetSolution, values: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Let every type pick its best entry (or nothing) from the LP's menu: ``(q, u, pay)``."""
    alloc = np.vstack([sol.q, np.zeros((1, sol.q.shape[1]))])
    price = np.concatenate([sol.pay, [0.0]])
    pick = seller_favoured_choice(values, alloc, price)
    q = alloc[pick]
    return q, np.einsum("tm,tm->t", q, values) - price[pick], price[pick]
