"""The restaurant reservation game and its mediators (seed 000 section 4.3, Figure 1, eq. 4).

Model (SPEC section 3). Agents ``i`` choose restaurants ``r_i``; restaurant ``r`` has an integer
capacity ``c_r >= 1`` and ``n_r`` diners. Agent i's utility for r is ``u_i(r) = U_k[i, r] +
alpha * U_u[i, r]`` (``U_k`` known to the platform, ``U_u`` private); the mediator uses ``U_k``
unless told to use the true utility. The *congested payoff* is::

    p_i = u_i(r_i) * min(1, c_{r_i} / n_{r_i})      (the expected value of snagging a table)

Utilities must be >= 0: not getting a table is worth 0, so congestion can only hurt.

Mediators (D = delegators, non-delegators fixed; every solve returns a :class:`RestaurantResult`):

- :func:`restaurant_pareto`, the paper's method (eq. 4). With ``m_r`` non-delegators at r, r has
  ``s_r = max(0, c_r - m_r)`` remaining seats. A delegator may take a seat at r only if
  ``U[i, r] >= U[i, r_i]``. Maximize the known utility of the seated delegators::

      max sum_{i in D, r} U[i, r] x_ir   s.t.  sum_i x_ir <= s_r,  sum_r x_ir <= 1,
                                              sum_r x_ir = 1 if r_i had room (n_r <= c_r)

  A delegator without a seat stays at ``r_i``. Two rules make the Pareto guarantee exact under
  congestion (the paper is silent): a delegator whose restaurant had room must be seated (its own
  seat is always available, so the problem is feasible), and the seats of a restaurant that was
  over capacity in the submitted profile are open only to the delegators who chose it (a stayer
  there never increases its crowd, an outsider could share its congestion). It is a transportation
  problem solved as a min-cost flow with restaurants as capacitated nodes (OR-Tools), or as an LP
  with HiGHS (integral by total unimodularity), or by the paper's own seat-expanded assignment
  (scipy ``linear_sum_assignment`` over tables; a reference, O(n^3)).
- :func:`restaurant_pareto_exact` (beyond the paper): the MILP of eq. 3 over all reassignments of
  D, overbooking allowed, with the congested payoff linearized by occupancy levels.
- :func:`restaurant_punishing` and :func:`restaurant_central_planner` (the paper's comparison).

Both Pareto mediators apply the SPEC section 2 rule: with fewer than two delegators the profile
is returned unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

from ..core import highs_backend as hb
from ..core import validation as v
from ..core.errors import MechsolveInputError, SolverBackendError
from ..core.limits import Limits, resolve
from ..core.results import (
    HasOutcome,
    HasSolveInfo,
    Limit,
    SolveInfo,
    Stopwatch,
    Termination,
    TerminationReason,
)

PARETO_METHODS = ("min_cost_flow", "highs_lp", "seat_assignment")
"""Backends of the paper's Pareto method and the central planner (same optimum)."""

MEDIATOR_UTILITIES = ("known", "true")
"""Which utility the mediator optimizes: ``U_k`` (default) or ``U_k + alpha * U_u``."""

PARETO_TOL = 1e-9
"""Relative tolerance of the exact MILP's Pareto check (HiGHS' feasibility tolerance)."""

_FLOW_COST_BITS = 52
"""Scaled flow costs are integers of at most this many bits (exact in float64)."""


# --------------------------------------------------------------------------------------------
# Instances and results
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class RestaurantInstance:
    """A restaurant game: utilities and capacities (no profile).

    Attributes:
        known: ``U_k``, shape ``(n_agents, n_restaurants)``, >= 0 (what the platform predicts).
        capacities: ``c_r``, shape ``(n_restaurants,)``, integers >= 1.
        private: ``U_u``, same shape as ``known``, >= 0.
        alpha: weight of the private utility in the true utility, >= 0.
    """

    known: NDArray[np.float64]
    capacities: NDArray[np.int64]
    private: NDArray[np.float64]
    alpha: float

    @property
    def true_utilities(self) -> NDArray[np.float64]:
        """``U_k + alpha * U_u``."""
        return self.known + self.alpha * self.private

    @property
    def n_agents(self) -> int:
        return int(self.known.shape[0])

    @property
    def n_restaurants(self) -> int:
        return int(self.known.shape[1])


@dataclass(frozen=True, eq=False)
class RestaurantResult(HasSolveInfo, HasOutcome):
    """What a mediator did to one submitted profile (names as in every family: docs/api.md).

    Utilities are congested payoffs (module docstring): ``utilities_*`` under the utility the
    mediator optimized (``mediator_utility``), ``true_utilities_*`` under the true utility
    ``U_k + alpha U_u`` (empty, shape ``(0,)``, when no private utilities were given).

    Attributes:
        mediator: ``"pareto"``, ``"pareto_exact"``, ``"punishing"`` or ``"central_planner"``.
        actions_before, actions_after: every agent's restaurant before and after, ``(n,)``.
        delegate: the delegate bits the mediator acted on (all true for the central planner).
        seated: delegators the paper's method gave a seat (others stayed); for the other
            mediators, the agents whose choice the mediator set (moved or kept).
        utilities_before, utilities_after: congested payoffs, ``(n,)``.
        true_utilities_before, true_utilities_after: the same under the true utility, or empty.
        beneficiaries: whose welfare the mediator maximizes: the delegators (everyone for the
            central planner).
        welfare_function: ``"utilitarian"`` (the total payoff of the beneficiaries).
        welfare_before, welfare_after: the beneficiaries' total congested payoff.
        gain_over_paper: exact MILP only: its ``welfare_after`` minus the paper's method's
            (``nan`` for the other mediators, or when the paper's method found no solution).
        mediator_utility: ``"known"`` or ``"true"``.
        build_time_s, solve_time_s: seconds to build the model and to solve it.
        info: termination, objective of the formulation solved, method, backend, wall time.
    """

    mediator: str
    actions_before: NDArray[np.int64]
    delegate: NDArray[np.bool_]
    actions_after: NDArray[np.int64]
    seated: NDArray[np.bool_]
    utilities_before: NDArray[np.float64]
    utilities_after: NDArray[np.float64]
    true_utilities_before: NDArray[np.float64]
    true_utilities_after: NDArray[np.float64]
    beneficiaries: NDArray[np.bool_]
    welfare_function: str
    welfare_before: float
    welfare_after: float
    gain_over_paper: float
    mediator_utility: str
    build_time_s: float
    solve_time_s: float
    info: SolveInfo

    @property
    def true_total_utility_before(self) -> float:
        """Total true congested payoff before (``nan`` without private utilities)."""
        return (
            float(self.true_utilities_before.sum()) if self.true_utilities_before.size else math.nan
        )

    @property
    def true_total_utility_after(self) -> float:
        """Total true congested payoff after (``nan`` without private utilities)."""
        return (
            float(self.true_utilities_after.sum()) if self.true_utilities_after.size else math.nan
        )


@dataclass(frozen=True, eq=False)
class _Game:
    """A validated instance and profile; ``utilities`` is what the mediator optimizes."""

    utilities: NDArray[np.float64]
    true_utilities: NDArray[np.float64] | None
    capacities: NDArray[np.int64]
    choices: NDArray[np.int64]
    delegate: NDArray[np.bool_]
    mediator_utility: str
    mediator: str

    @property
    def n_restaurants(self) -> int:
        return int(self.utilities.shape[1])


@dataclass(frozen=True, eq=False)
class _Transport:
    """A solved transportation problem: each agent's restaurant (-1 = no seat)."""

    restaurant: NDArray[np.int64]
    objective: float
    termination: Termination
    backend: str
    build_s: float
    solve_s: float


# --------------------------------------------------------------------------------------------
# Payoffs and validation
# --------------------------------------------------------------------------------------------
def congestion_factors(capacities: NDArray[np.int64], counts: NDArray[np.int64]) -> NDArray[Any]:
    """``min(1, c_r / n_r)`` per restaurant (1 for an empty restaurant)."""
    return np.minimum(1.0, capacities / np.maximum(counts, 1))


def congested_payoffs(
    utilities: Any, capacities: Any, choices: Any, *, limits: Limits | None = None
) -> NDArray[np.float64]:
    """Every agent's congested payoff ``u_i(r_i) * min(1, c_{r_i} / n_{r_i})``."""
    fn = "congested_payoffs"
    u = v.float_array(fn, "utilities", utilities, ndim=2, min_value=0.0)
    caps = _capacities(fn, capacities, u.shape[1])
    ch = v.int_array(fn, "choices", choices, shape=(u.shape[0],), low=0, high=u.shape[1])
    _check_size(fn, "utilities", u.shape, resolve(limits))
    return _payoffs(u, caps, ch)


def _payoffs(
    u: NDArray[np.float64], caps: NDArray[np.int64], choices: NDArray[np.int64]
) -> NDArray[np.float64]:
    counts = np.bincount(choices, minlength=len(caps))
    return u[np.arange(len(choices)), choices] * congestion_factors(caps, counts)[choices]


def _capacities(fn: str, capacities: Any, n_restaurants: int) -> NDArray[np.int64]:
    caps = v.int_array(fn, "capacities", capacities, shape=(n_restaurants,))
    bad = np.flatnonzero(caps < 1)
    if len(bad):
        raise MechsolveInputError(fn, f"capacities[{bad[0]}]", f"must be >= 1; got {caps[bad[0]]}")
    return caps


def _check_size(fn: str, argument: str, shape: tuple[int, ...], limits: Limits) -> None:
    limits.check(fn, argument, int(shape[0]), "max_agents")
    limits.check(fn, "capacities", int(shape[1]), "max_restaurants")


def _validate(
    fn: str,
    known: Any,
    capacities: Any,
    choices: Any,
    delegate: Any,
    private: Any,
    alpha: Any,
    mediator_utility: Any,
    limits: Limits,
) -> _Game:
    known_a = v.float_array(fn, "known", known, ndim=2, min_value=0.0)
    n, n_rest = known_a.shape
    _check_size(fn, "known", known_a.shape, limits)
    caps = _capacities(fn, capacities, n_rest)
    ch = v.int_array(fn, "choices", choices, shape=(n,), low=0, high=n_rest)
    if delegate is None:  # the central planner: everyone is assigned
        dl = np.ones(n, dtype=np.bool_)
    else:
        dl = v.bool_array(fn, "delegate", delegate, shape=(n,))
    view = v.choice(fn, "mediator_utility", mediator_utility, MEDIATOR_UTILITIES)
    a = v.real(fn, "alpha", alpha, min_value=0.0)
    true_u: NDArray[np.float64] | None = None
    if private is not None:
        priv = v.float_array(fn, "private", private, shape=(n, n_rest), min_value=0.0)
        true_u = known_a + a * priv
    elif view == "true":
        raise MechsolveInputError(
            fn, "private", "must be given when mediator_utility='true'; got None"
        )
    u = true_u if view == "true" and true_u is not None else known_a
    return _Game(u, true_u, caps, ch, dl, view, fn.removeprefix("restaurant_"))


def _result(
    game: _Game,
    new_choices: NDArray[np.int64],
    seated: NDArray[np.bool_],
    *,
    objective: float,
    termination: Termination,
    method: str,
    backend: str,
    sw: Stopwatch,
    build_s: float,
    solve_s: float,
    gain_over_paper: float = math.nan,
) -> RestaurantResult:
    before = _payoffs(game.utilities, game.capacities, game.choices)
    after = _payoffs(game.utilities, game.capacities, new_choices)
    t_before = t_after = np.empty(0)
    if game.true_utilities is not None:
        t_before = _payoffs(game.true_utilities, game.capacities, game.choices)
        t_after = _payoffs(game.true_utilities, game.capacities, new_choices)
    d = game.delegate
    return RestaurantResult(
        mediator=game.mediator,
        actions_before=game.choices,
        delegate=d,
        actions_after=new_choices,
        seated=seated,
        utilities_before=before,
        utilities_after=after,
        true_utilities_before=t_before,
        true_utilities_after=t_after,
        beneficiaries=d.copy(),
        welfare_function="utilitarian",
        welfare_before=float(before[d].sum()),
        welfare_after=float(after[d].sum()),
        gain_over_paper=gain_over_paper,
        mediator_utility=game.mediator_utility,
        build_time_s=build_s,
        solve_time_s=solve_s,
        info=SolveInfo(termination, objective, method, backend, sw.elapsed),
    )


def _unchanged(
    game: _Game, method: str, sw: Stopwatch, detail: str, gain_over_paper: float = math.nan
) -> RestaurantResult:
    n = len(game.choices)
    return _result(
        game,
        game.choices.copy(),
        np.zeros(n, dtype=np.bool_),
        objective=0.0,
        termination=Termination.optimal(detail),
        method=method,
        backend="numpy",
        sw=sw,
        build_s=0.0,
        solve_s=0.0,
        gain_over_paper=gain_over_paper,
    )


# --------------------------------------------------------------------------------------------
# Transportation problem: max sum value_e x_e, each agent <= 1 (== 1 unless optional),
# each restaurant <= capacity. Three interchangeable backends.
# --------------------------------------------------------------------------------------------
def _keep_best_optional(
    eligible: NDArray[np.bool_],
    u: NDArray[np.float64],
    optional: NDArray[np.bool_],
    seats: int,
) -> NDArray[np.bool_]:
    """Drop the arcs (i, r) of optional agents outside restaurant r's ``seats`` best eligible
    optional agents (by ``u[:, r]``); some optimal transportation solution never uses them.
    ``seats`` must bound the number of optional agents a feasible solution seats (the free
    seats minus the agents that must be seated).

    Exchange argument: if an optimal solution seats optional agent i at r although i is not
    among those best, not all of them are seated (at most ``seats`` optional agents are), so an
    unseated one, j, can take i's seat and i can go unseated: the objective changes by
    ``u[j, r] - u[i, r] >= 0``. Repeating this ends with only kept arcs in use.
    """
    if seats >= int(optional.sum()) or int(eligible.sum()) <= seats * eligible.shape[1]:
        return eligible  # nothing to gain
    if seats == 0:
        return eligible & ~optional[:, None]
    opt = np.flatnonzero(optional)
    el_opt = eligible[opt]
    crowded = np.flatnonzero(el_opt.sum(axis=0) > seats)  # the restaurants worth pruning
    if len(crowded) == 0:
        return eligible
    # one contiguous row per crowded restaurant; its ``seats``-th best value is the threshold
    # (arcs tied with it are kept too: a superset of the kept arcs keeps an optimum)
    u_opt = u[np.ix_(opt, crowded)].T
    score = np.where(el_opt[:, crowded].T, u_opt, -np.inf)
    kth = -np.partition(-score, seats - 1, axis=1)[:, seats - 1]
    out = eligible.copy()
    out[np.ix_(opt, crowded)] &= (u_opt >= kth[:, None]).T
    return out


def _solve_transport(
    tails: NDArray[np.int64],
    heads: NDArray[np.int64],
    values: NDArray[np.float64],
    n_agents: int,
    capacity: NDArray[np.int64],
    optional: NDArray[np.bool_],
    method: str,
    time_limit: float | None,
    limits: Limits,
    fn: str,
) -> _Transport:
    """Seat agents: arc e lets agent ``tails[e]`` take a seat at ``heads[e]`` worth ``values[e]``.

    The caller guarantees feasibility (every non-optional agent can be seated).
    """
    if method == "min_cost_flow":
        return _transport_flow(tails, heads, values, n_agents, capacity, optional)
    if method == "highs_lp":
        return _transport_lp(tails, heads, values, n_agents, capacity, optional, time_limit)
    return _transport_seats(tails, heads, values, n_agents, capacity, optional, limits, fn)


def _flow_scale(values: NDArray[np.float64], num_nodes: int) -> float:
    """A power of two ``S`` with ``max|round(S v)| * (num_nodes + 1) < 2^61``, exact in float64.

    OR-Tools multiplies costs by ``num_nodes + 1`` internally and refuses (BAD_COST_RANGE)
    what could overflow int64; the power of two keeps ``S * v`` exact, so the only error is
    the rounding to integers, at most ``0.5 / S`` per arc.
    """
    vmax = float(values.max()) if len(values) else 0.0
    bits = min(_FLOW_COST_BITS, 61 - math.ceil(math.log2(num_nodes + 2)))
    if vmax <= 0.0:
        return 1.0
    return math.ldexp(1.0, min(bits - math.frexp(vmax)[1], 1000))  # 2^1000: tiny utilities


def _ortools_min_cost_flow() -> Any:
    """OR-Tools' min-cost flow module, imported on first use.

    OR-Tools 9.15 bundles HiGHS 1.12.0 as ``libhighs.so.1``; a process that has loaded another
    ``libhighs.so.1`` (e.g. from highspy 1.15) cannot load it, and vice versa. The import is
    lazy so that such a clash fails this backend only, with a clear message.
    """
    try:
        from ortools.graph.python import min_cost_flow
    except ImportError as exc:  # pragma: no cover - depends on the installed wheels
        raise SolverBackendError(
            "OR-Tools min-cost flow cannot be loaded next to the installed highspy (both ship "
            f"libhighs.so.1; OR-Tools 9.15 needs highspy==1.12.0): {exc}"
        ) from exc
    return min_cost_flow


def _transport_flow(
    tails: NDArray[np.int64],
    heads: NDArray[np.int64],
    values: NDArray[np.float64],
    n_agents: int,
    capacity: NDArray[np.int64],
    optional: NDArray[np.bool_],
) -> _Transport:
    """Min-cost flow: agents (supply 1) -> restaurants (cap. ``c_r`` to the sink) -> sink.

    Optional agents also have a zero-cost arc straight to the sink (no seat). Costs are
    ``-round(S * value)``; the flow is optimal for the rounded values, hence within
    ``n_agents / S`` of the exact optimum (reported in the message).
    """
    sw = Stopwatch()
    n_rest = len(capacity)
    sink = n_agents + n_rest
    scale = _flow_scale(values, sink + 1)
    opt_agents = np.flatnonzero(optional)
    arc_tails = np.concatenate([tails, n_agents + np.arange(n_rest), opt_agents])
    arc_heads = np.concatenate(
        [n_agents + heads, np.full(n_rest, sink), np.full(len(opt_agents), sink)]
    )
    caps = np.concatenate(
        [np.ones(len(tails), np.int64), capacity, np.ones(len(opt_agents), np.int64)]
    )
    costs = np.concatenate([-np.rint(values * scale), np.zeros(n_rest + len(opt_agents))]).astype(
        np.int64
    )
    smcf = _ortools_min_cost_flow().SimpleMinCostFlow()
    smcf.add_arcs_with_capacity_and_unit_cost(
        arc_tails.astype(np.int32), arc_heads.astype(np.int32), caps, costs
    )
    supplies = np.concatenate([np.ones(n_agents, np.int64), [-n_agents]])
    nodes = np.concatenate([np.arange(n_agents), [sink]]).astype(np.int32)
    smcf.set_nodes_supplies(nodes, supplies)
    build_s = sw.elapsed
    status = smcf.solve()
    solve_s = sw.elapsed - build_s
    if status != smcf.OPTIMAL:
        return _Transport(
            np.full(n_agents, -1, np.int64),
            math.nan,
            Termination.failed(
                TerminationReason.NUMERICAL_ERROR, f"OR-Tools min-cost flow status {status.name}"
            ),
            "ortools",
            build_s,
            solve_s,
        )
    used = np.asarray(smcf.flows(np.arange(len(tails), dtype=np.int32))) > 0
    restaurant = np.full(n_agents, -1, np.int64)
    restaurant[tails[used]] = heads[used]
    bound = n_agents / scale
    return _Transport(
        restaurant,
        float(values[used].sum()),
        Termination.optimal(
            f"integer costs = round(value * 2^{math.frexp(scale)[1] - 1}); "
            f"welfare within {bound:.1e} of the exact optimum"
        ),
        "ortools",
        build_s,
        solve_s,
    )


def _transport_lp(
    tails: NDArray[np.int64],
    heads: NDArray[np.int64],
    values: NDArray[np.float64],
    n_agents: int,
    capacity: NDArray[np.int64],
    optional: NDArray[np.bool_],
    time_limit: float | None,
) -> _Transport:
    """The same problem as an LP (HiGHS simplex); its constraint matrix is the incidence matrix
    of a bipartite graph, totally unimodular, so every vertex (simplex answer) is integral.
    The objective is recomputed from the unscaled values of the arcs used."""
    sw = Stopwatch()
    n_rest = len(capacity)
    opt_agents = np.flatnonzero(optional)
    n_arc = len(tails)
    cols = np.concatenate([np.arange(n_arc), np.arange(n_arc), n_arc + np.arange(len(opt_agents))])
    rows = np.concatenate([tails, n_agents + heads, opt_agents])
    a = sp.csc_array(
        (np.ones(len(rows)), (rows, cols)), shape=(n_agents + n_rest, n_arc + len(opt_agents))
    )
    row_lower = np.concatenate([np.ones(n_agents), np.full(n_rest, -hb.INF)])
    row_upper = np.concatenate([np.ones(n_agents), capacity.astype(np.float64)])
    n_col = n_arc + len(opt_agents)
    # Costs scaled to max 1 and a tight dual tolerance: HiGHS' tolerances are absolute.
    vmax = float(values.max(initial=0.0))
    h = hb.new_highs(time_limit, options={"solver": "simplex", "dual_feasibility_tolerance": 1e-10})
    hb.pass_model(
        h,
        np.concatenate([values / vmax if vmax > 0 else values, np.zeros(len(opt_agents))]),
        a,
        row_lower,
        row_upper,
        np.zeros(n_col),
        np.ones(n_col),
        maximize=True,
    )
    build_s = sw.elapsed
    sol = hb.run(h)
    solve_s = sw.elapsed - build_s
    restaurant = np.full(n_agents, -1, np.int64)
    if not sol.termination.has_solution:
        return _Transport(restaurant, math.nan, sol.termination, "highs", build_s, solve_s)
    x = sol.x[:n_arc]
    if np.abs(x - np.rint(x)).max(initial=0.0) > 1e-6:
        return _Transport(
            restaurant,
            math.nan,
            Termination.failed(
                TerminationReason.NUMERICAL_ERROR,
                "HiGHS returned a fractional transportation solution",
            ),
            "highs",
            build_s,
            solve_s,
        )
    used = x > 0.5
    restaurant[tails[used]] = heads[used]
    return _Transport(
        restaurant,
        float(values[used].sum()),
        sol.termination,
        "highs",
        build_s,
        solve_s,
    )


def _transport_seats(
    tails: NDArray[np.int64],
    heads: NDArray[np.int64],
    values: NDArray[np.float64],
    n_agents: int,
    capacity: NDArray[np.int64],
    optional: NDArray[np.bool_],
    limits: Limits,
    fn: str,
) -> _Transport:
    """The paper's construction: one column per table (seat), ``-inf`` for a seat the agent may
    not take, one zero-valued "stay" column per optional agent; scipy's Hungarian-type
    ``linear_sum_assignment``. Seats per restaurant are capped by the agents that may use them."""
    sw = Stopwatch()
    n_rest = len(capacity)
    seats = np.minimum(capacity, np.bincount(heads, minlength=n_rest))
    start = np.concatenate([[0], np.cumsum(seats)])
    n_seats = int(start[-1])
    opt_agents = np.flatnonzero(optional)
    n_cols = n_seats + len(opt_agents)
    # the size of method="seat_assignment"'s agents x tables matrix
    limits.check(fn, "method", n_agents * n_cols, "max_candidates")
    m = np.full((n_agents, n_cols), -np.inf)
    per_arc = seats[heads]
    arc = np.repeat(np.arange(len(tails)), per_arc)
    offset = np.arange(len(arc)) - np.repeat(np.cumsum(per_arc) - per_arc, per_arc)
    m[tails[arc], start[heads[arc]] + offset] = values[arc]
    m[opt_agents, n_seats + np.arange(len(opt_agents))] = 0.0
    seat_restaurant = np.repeat(np.arange(n_rest), seats)
    build_s = sw.elapsed
    rows, cols = linear_sum_assignment(m, maximize=True)
    solve_s = sw.elapsed - build_s
    restaurant = np.full(n_agents, -1, np.int64)
    taken = cols < n_seats
    restaurant[rows[taken]] = seat_restaurant[cols[taken]]
    return _Transport(
        restaurant,
        float(m[rows[taken], cols[taken]].sum()),
        Termination.optimal(f"{n_agents} x {n_cols} seat-expanded assignment"),
        "scipy",
        build_s,
        solve_s,
    )


# --------------------------------------------------------------------------------------------
# Pareto Mediator, the paper's method (eq. 4)
# --------------------------------------------------------------------------------------------
def restaurant_pareto(
    known: Any,
    capacities: Any,
    choices: Any,
    delegate: Any,
    *,
    private: Any = None,
    alpha: float = 0.0,
    mediator_utility: str = "known",
    method: str = "min_cost_flow",
    limits: Limits | None = None,
    time_limit: float | None = None,
) -> RestaurantResult:
    """The paper's Pareto Mediator (seed 000 eq. 4) as a transportation problem.

    Non-delegators are fixed; restaurant r keeps ``s_r = max(0, c_r - m_r)`` seats. Delegator i
    may take a seat at r iff ``U[i, r] >= U[i, r_i]`` and (r had room, ``n_r <= c_r``, or
    ``r = r_i``). Maximize the seated delegators' utility; delegators whose restaurant had room
    must be seated; the others may stay at ``r_i`` without a seat. No delegator is worse off in
    congested payoff (module docstring). ``method``: ``"min_cost_flow"`` (OR-Tools; ignores
    ``time_limit``), ``"highs_lp"`` or ``"seat_assignment"`` (the paper's O(n^3) construction).
    The flow and the LP drop arcs no optimal solution needs (:func:`_keep_best_optional`).
    ``info.objective`` is the seated delegators' utility (eq. 4).
    """
    fn = "restaurant_pareto"
    sw = Stopwatch()
    lim = resolve(limits)
    planner_delegate(fn, fn.removeprefix("restaurant_"), delegate)  # only the planner has none
    game = _validate(
        fn, known, capacities, choices, delegate, private, alpha, mediator_utility, lim
    )
    method = v.choice(fn, "method", method, PARETO_METHODS)
    tl = v.time_limit(fn, time_limit)
    return _pareto(fn, game, method, tl, lim, sw)


@dataclass(frozen=True, eq=False)
class _ParetoProblem:
    """The transportation problem of the paper's method: arc e lets delegator ``dels[tails[e]]``
    take one of the ``seats[heads[e]]`` free seats at ``heads[e]``, worth ``values[e]``;
    ``optional`` delegators (their restaurant was over capacity) may stay unseated."""

    dels: NDArray[np.int64]
    tails: NDArray[np.int64]
    heads: NDArray[np.int64]
    values: NDArray[np.float64]
    seats: NDArray[np.int64]
    optional: NDArray[np.bool_]


def _pareto_problem(game: _Game, prune: bool) -> _ParetoProblem:
    """Eq. 4's arcs (module docstring); ``prune`` drops the arcs :func:`_keep_best_optional`
    shows no optimal solution needs. At least two delegators."""
    dels = np.flatnonzero(game.delegate)
    n_rest = game.n_restaurants
    caps, ch = game.capacities, game.choices
    had_room = np.bincount(ch, minlength=n_rest) <= caps
    seats = np.maximum(caps - np.bincount(ch[~game.delegate], minlength=n_rest), 0)
    u_d = game.utilities[dels]
    own_r = ch[dels]
    own_u = u_d[np.arange(len(dels)), own_r]
    eligible = (u_d >= own_u[:, None]) & (seats > 0)[None, :]
    eligible &= had_room[None, :] | (np.arange(n_rest)[None, :] == own_r[:, None])
    optional = ~had_room[own_r]
    if prune:
        # required delegators are always seated: at most sum(seats) - #required optional ones
        room = int(seats.sum()) - int((~optional).sum())
        eligible = _keep_best_optional(eligible, u_d, optional, max(room, 0))
    tails, heads = np.nonzero(eligible)
    return _ParetoProblem(
        dels, tails.astype(np.int64), heads.astype(np.int64), u_d[tails, heads], seats, optional
    )


def _pareto(
    fn: str, game: _Game, method: str, tl: float | None, lim: Limits, sw: Stopwatch
) -> RestaurantResult:
    if int(game.delegate.sum()) < 2:
        return _unchanged(game, method, sw, "fewer than two delegators: profile unchanged")
    # the paper's construction (seat_assignment) stays as the paper has it: no pruning
    pb = _pareto_problem(game, prune=method != "seat_assignment")
    t = _solve_transport(
        pb.tails, pb.heads, pb.values, len(pb.dels), pb.seats, pb.optional, method, tl, lim, fn
    )
    return _transport_result(game, pb.dels, t, method, sw)


def _transport_result(
    game: _Game, agents: NDArray[np.int64], t: _Transport, method: str, sw: Stopwatch
) -> RestaurantResult:
    """The result of seating ``agents`` (the transportation problem's rows) as ``t`` says;
    agents without a seat keep their choice."""
    new = game.choices.copy()
    got = t.restaurant >= 0
    new[agents[got]] = t.restaurant[got]
    seated = np.zeros(len(new), dtype=np.bool_)
    seated[agents[got]] = True
    return _result(
        game,
        new,
        seated,
        objective=t.objective,
        termination=t.termination,
        method=method,
        backend=t.backend,
        sw=sw,
        build_s=t.build_s,
        solve_s=t.solve_s,
    )


# --------------------------------------------------------------------------------------------
# Pareto Mediator, exact (eq. 3 with congestion): MILP
# --------------------------------------------------------------------------------------------
def restaurant_pareto_exact(
    known: Any,
    capacities: Any,
    choices: Any,
    delegate: Any,
    *,
    private: Any = None,
    alpha: float = 0.0,
    mediator_utility: str = "known",
    limits: Limits | None = None,
    time_limit: float | None = None,
) -> RestaurantResult:
    """Eq. 3 exactly: any reassignment of D (overbooking allowed), Pareto on congested payoffs.

    The congested payoff is linearized by occupancy levels: restaurant r is in exactly one
    level b (binary ``y_b``): "room" (``n_r <= c_r``, factor 1, at most ``c_r - m_r``
    delegators) or "exactly k diners" for ``k > c_r`` (factor ``phi_b = c_r / k``, exactly
    ``k - m_r`` delegators). Binary ``z_ib``: delegator i dines at r in level b, created only
    when ``U[i, r] phi_b >= p_i`` (i's submitted congested payoff), so every solution leaves
    every delegator no worse off by construction::

        max sum_{i,b} U[i, r_b] phi_b z_ib  s.t.  sum_b z_ib = 1   (each delegator somewhere)
                                                  sum_{b of r} y_b = 1   (each restaurant)
                                                  sum_i z_ib = (k_b - m_r) y_b   (<= for "room")

    The submitted profile is feasible and so is the paper's solution, hence the optimum is
    never worse than the paper's method; ``gain_over_paper`` is the difference in delegator
    welfare. The MILP's assignment is re-scored exactly and kept only if it passes the Pareto
    check (tolerance :data:`PARETO_TOL`) and is at least as good as the paper's solution, which
    is returned otherwise. ``time_limit`` stops the search with the best solution found
    (FEASIBLE). Model size: delegators x occupancy levels, checked against ``max_candidates``.
    """
    fn = "restaurant_pareto_exact"
    sw = Stopwatch()
    lim = resolve(limits)
    planner_delegate(fn, fn.removeprefix("restaurant_"), delegate)  # only the planner has none
    game = _validate(
        fn, known, capacities, choices, delegate, private, alpha, mediator_utility, lim
    )
    tl = v.time_limit(fn, time_limit)
    dels = np.flatnonzero(game.delegate)
    lim.check(fn, "delegate", len(dels), "max_exact_agents")
    lim.check(fn, "delegate x restaurants", len(dels) * game.n_restaurants, "max_candidates")
    if len(dels) < 2:
        return _unchanged(game, "milp", sw, "fewer than two delegators: profile unchanged", 0.0)
    paper = _pareto(fn, game, "min_cost_flow", None, lim, Stopwatch())
    levels = _occupancy_levels(game, dels, paper.utilities_before[dels])
    lim.check(fn, "delegate x occupancy levels", len(dels) * len(levels.r), "max_candidates")
    return _pareto_milp(game, dels, paper, levels, tl, sw)


@dataclass(frozen=True, eq=False)
class _Levels:
    """Occupancy levels of the exact MILP, one row per level."""

    r: NDArray[np.int64]  # restaurant
    count: NDArray[np.float64]  # delegators at r in this level (an upper bound for "room")
    room: NDArray[np.bool_]  # the level n_r <= c_r
    phi: NDArray[np.float64]  # congestion factor min(1, c_r / k)


def _occupancy_levels(game: _Game, dels: NDArray[np.int64], p0: NDArray[np.float64]) -> _Levels:
    """Every level restaurant r can reach: "room" (if ``m_r <= c_r``), then ``k = max(c_r + 1,
    m_r) .. k_r``. Delegator i can dine at r with k diners only if ``U[i, r] c_r / k >= p_i``,
    i.e. ``k <= t_ir = U[i, r] c_r / p_i``; k diners need ``k - m_r`` such delegators, so
    ``k_r = m_r + max{j : the j-th largest t_ir >= m_r + j}`` (the submitted occupancy always
    qualifies: its delegators have ``t_ir = n_r``)."""
    caps = game.capacities
    m = np.bincount(game.choices[~game.delegate], minlength=game.n_restaurants)
    u = game.utilities[dels]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(p0[:, None] > 0, u * caps[None, :] / p0[:, None], np.inf) * (1 + 1e-12)
    t_desc = -np.sort(-t, axis=0)
    j = np.arange(1, len(dels) + 1)[:, None]
    submitted = np.bincount(game.choices, minlength=game.n_restaurants)
    kmax = np.maximum(m + (t_desc >= m[None, :] + j).sum(axis=0), submitted)
    rs: list[NDArray[np.int64]] = []
    ks: list[NDArray[np.int64]] = []
    for r in range(game.n_restaurants):  # a short range per restaurant, not per agent
        k = np.arange(max(int(caps[r]) + 1, int(m[r])), int(kmax[r]) + 1)
        if m[r] <= caps[r]:
            k = np.concatenate([[caps[r]], k])  # "room": up to c_r diners
        rs.append(np.full(len(k), r))
        ks.append(k)
    r_of = np.concatenate(rs).astype(np.int64)
    k_of = np.concatenate(ks).astype(np.int64)
    room = k_of <= caps[r_of]
    return _Levels(
        r_of,
        (k_of - m[r_of]).astype(np.float64),
        room,
        np.minimum(1.0, caps[r_of] / k_of),
    )


def _pareto_milp(
    game: _Game,
    dels: NDArray[np.int64],
    paper: RestaurantResult,
    lv: _Levels,
    tl: float | None,
    sw: Stopwatch,
) -> RestaurantResult:
    p0 = paper.utilities_before[dels]
    k, n_lv = len(dels), len(lv.r)
    value = game.utilities[dels][:, lv.r] * lv.phi[None, :]  # delegators x levels
    # the submitted level must qualify despite rounding, hence the tiny slack
    pair_i, pair_b = np.nonzero(value >= p0[:, None] - 1e-12 * np.maximum(1.0, p0[:, None]))
    npair = len(pair_i)
    rows = np.concatenate([pair_i, k + pair_b, k + np.arange(n_lv), k + n_lv + lv.r])
    cols = np.concatenate(
        [np.arange(npair), np.arange(npair), npair + np.arange(n_lv), npair + np.arange(n_lv)]
    )
    vals = np.concatenate([np.ones(npair), np.ones(npair), -lv.count, np.ones(n_lv)])
    n_row = k + n_lv + game.n_restaurants
    a = sp.csc_array((vals, (rows, cols)), shape=(n_row, npair + n_lv))
    row_lo = np.concatenate(
        [np.ones(k), np.where(lv.room, -hb.INF, 0.0), np.ones(game.n_restaurants)]
    )
    row_hi = np.concatenate([np.ones(k), np.zeros(n_lv), np.ones(game.n_restaurants)])
    n_col = npair + n_lv
    # Presolve off: on this model it costs more than it saves (320 agents x 40 restaurants:
    # 24 s with, 7 s without) and does not check the time limit often enough.
    # No MIP start: HiGHS (1.12 and 1.15) presolve, given the paper's solution as a start,
    # declared it optimal on instances where it is not. The paper's solution is the fallback.
    # A large time-limited model runs in a child process with a hard deadline (HiGHS' root
    # phases on hundreds of thousands of binaries do not check the time limit).
    model = (np.concatenate([value[pair_i, pair_b], np.zeros(n_lv)]), a, row_lo, row_hi)
    bounds = (np.zeros(n_col), np.ones(n_col))
    kw: dict[str, Any] = {
        "integrality": np.ones(n_col, np.int32),
        "maximize": True,
        "options": {"presolve": "off"},
    }
    build_s = sw.elapsed
    if tl is not None and n_col > hb.ISOLATE_COLUMNS:
        sol = hb.solve_isolated(*model, *bounds, time_limit=max(1e-3, tl - sw.elapsed), **kw)
    else:
        sol = hb.solve(*model, *bounds, time_limit=None if tl is None else tl - sw.elapsed, **kw)
    solve_s = sw.elapsed - build_s
    # The fallback and baseline: the paper's solution if it has one, else the submitted profile.
    paper_ok = paper.termination.has_solution
    fallback = paper.actions_after if paper_ok else game.choices
    paper_w = paper.welfare_after if paper.termination.is_optimal else math.nan  # the gain's base
    kept = (
        "paper's solution kept"
        if paper_ok
        else (f"the paper's method ended {paper.termination.reason.value}: submitted profile kept")
    )
    new, term = fallback, sol.termination
    if sol.termination.has_solution:
        z = sol.x[:npair] > 0.5
        cand = game.choices.copy()
        cand[dels[pair_i[z]]] = lv.r[pair_b[z]]
        after = _payoffs(game.utilities, game.capacities, cand)[dels]
        ok = np.all(after >= p0 - PARETO_TOL * np.maximum(1.0, np.abs(p0)))
        floor = paper.welfare_after if paper_ok else float(p0.sum())
        if ok and after.sum() >= floor - PARETO_TOL * max(1.0, abs(floor)):
            new = cand
        else:  # keep the limit that stopped the MILP (if one did) in the label
            detail = f"MILP solution failed the exact Pareto check; {kept}"
            term = Termination.feasible(
                sol.termination.limit or Limit.OTHER, term.with_detail(detail).detail
            )
    else:
        term = Termination.feasible(
            term.limit or Limit.OTHER, term.with_detail(f"no MILP solution; {kept}").detail
        )
    dw = float(_payoffs(game.utilities, game.capacities, new)[dels].sum())
    seated = np.zeros(len(new), dtype=np.bool_)
    seated[dels] = True
    return _result(
        game,
        new,
        seated,
        objective=dw,
        termination=term,
        method="milp",
        backend="highs",
        sw=sw,
        build_s=build_s,
        solve_s=solve_s,
        gain_over_paper=dw - paper_w,
    )


# --------------------------------------------------------------------------------------------
# Punishing Mediator and central planner
# --------------------------------------------------------------------------------------------
def restaurant_punishing(
    known: Any,
    capacities: Any,
    choices: Any,
    delegate: Any,
    *,
    private: Any = None,
    alpha: float = 0.0,
    mediator_utility: str = "known",
    method: str = "min_cost_flow",
    limits: Limits | None = None,
    time_limit: float | None = None,
) -> RestaurantResult:
    """The Punishing Mediator (seed 000 section 4.3, SPEC section 3).

    Everyone delegates: the central planner's assignment (``method`` as there). Otherwise every
    delegator goes to the one restaurant r* chosen by some non-delegator that minimizes the
    non-delegators' total congested payoff ``sum_r S_r phi_r(m_r + |D| [r = r*])`` (S_r: their
    utility at r); ties toward higher delegator welfare, then the smallest index. No delegator:
    unchanged. ``info.objective`` is the non-delegators' total payoff, minimized over these
    single-restaurant assignments only (method ``"punishing_one_restaurant"``): splitting the
    delegators over several restaurants can punish more, and is not searched.
    """
    fn = "restaurant_punishing"
    sw = Stopwatch()
    lim = resolve(limits)
    planner_delegate(fn, fn.removeprefix("restaurant_"), delegate)  # only the planner has none
    game = _validate(
        fn, known, capacities, choices, delegate, private, alpha, mediator_utility, lim
    )
    method = v.choice(fn, "method", method, PARETO_METHODS)
    tl = v.time_limit(fn, time_limit)
    d = game.delegate
    if not d.any():
        return _unchanged(game, "punishing_one_restaurant", sw, "no delegator: profile unchanged")
    if d.all():
        return _planner(fn, game, method, tl, lim, sw)
    n_rest, caps, ch, u = game.n_restaurants, game.capacities, game.choices, game.utilities
    nd = np.flatnonzero(~d)
    m = np.bincount(ch[nd], minlength=n_rest)
    s = np.bincount(ch[nd], weights=u[nd, ch[nd]], minlength=n_rest)
    cand = np.flatnonzero(m > 0)
    n_d = int(d.sum())
    base = float((s * congestion_factors(caps, m)).sum())
    crowded = congestion_factors(caps[cand], m[cand] + n_d)
    nd_total = base - s[cand] * congestion_factors(caps[cand], m[cand]) + s[cand] * crowded
    d_total = u[d][:, cand].sum(axis=0) * crowded
    best = cand[np.lexsort((cand, -d_total, nd_total))[0]]
    new = ch.copy()
    new[d] = best
    return _result(
        game,
        new,
        d.copy(),
        objective=float(nd_total[np.searchsorted(cand, best)]),
        termination=Termination.optimal(
            f"every delegator sent to restaurant {best}: the minimum over single-restaurant "
            "assignments, not over splits"
        ),
        method="punishing_one_restaurant",
        backend="numpy",
        sw=sw,
        build_s=0.0,
        solve_s=sw.elapsed,
    )


def restaurant_central_planner(
    known: Any,
    capacities: Any,
    choices: Any,
    *,
    private: Any = None,
    alpha: float = 0.0,
    mediator_utility: str = "known",
    method: str = "min_cost_flow",
    limits: Limits | None = None,
    time_limit: float | None = None,
) -> RestaurantResult:
    """The central planner (seed 000 section 4.3: eq. 4 with D = P and u instead of u-hat).

    Seats every agent it can: ``max sum U[i, r] x_ir`` s.t. ``sum_i x_ir <= c_r``,
    ``sum_r x_ir <= 1``; agents without a seat (only when agents outnumber seats) keep their
    submitted choice. The flow and the LP keep only each restaurant's ``sum c`` best agents'
    arcs (:func:`_keep_best_optional`), at most ``sum(c) * n_restaurants`` arcs.
    """
    fn = "restaurant_central_planner"
    sw = Stopwatch()
    lim = resolve(limits)
    game = _validate(fn, known, capacities, choices, None, private, alpha, mediator_utility, lim)
    method = v.choice(fn, "method", method, PARETO_METHODS)
    tl = v.time_limit(fn, time_limit)
    return _planner(fn, game, method, tl, lim, sw)


def _planner(
    fn: str, game: _Game, method: str, tl: float | None, lim: Limits, sw: Stopwatch
) -> RestaurantResult:
    u, caps = game.utilities, game.capacities
    n = u.shape[0]
    everyone = np.ones(n, dtype=np.bool_)
    arcs = np.ones(u.shape, dtype=np.bool_)
    if method != "seat_assignment":
        arcs = _keep_best_optional(arcs, u, everyone, int(caps.sum()))
    tails, heads = (a.astype(np.int64) for a in np.nonzero(arcs))
    t = _solve_transport(
        tails,
        heads,
        u[tails, heads],
        n,
        caps,
        everyone,
        method,
        tl,
        lim,
        fn,
    )
    return _transport_result(game, np.arange(n), t, f"planner_{method}", sw)


# --------------------------------------------------------------------------------------------
# Synthetic instances (seed 000 section 4.3: 300 restaurants, capacities 1..10, U_u ~ U[0, 1))
# --------------------------------------------------------------------------------------------
def random_restaurant_instance(
    n_agents: int,
    n_restaurants: int = 300,
    *,
    max_capacity: int = 10,
    alpha: float = 0.0,
    seed: Any = None,
) -> RestaurantInstance:
    """Synthetic instance: ``U_k, U_u ~ U[0, 1)`` i.i.d., capacities uniform on ``1..max_capacity``.

    ``U_k`` stands in for recommender predictions scaled to [0, 1] (see
    :func:`mechsolve.solver.structured.recommender.known_utilities`).
    """
    fn = "random_restaurant_instance"
    n = v.positive_int(fn, "n_agents", n_agents)
    n_rest = v.positive_int(fn, "n_restaurants", n_restaurants)
    cmax = v.positive_int(fn, "max_capacity", max_capacity)
    a = v.real(fn, "alpha", alpha, min_value=0.0)
    gen = v.rng(fn, seed)
    capacities = gen.integers(1, cmax + 1, size=n_rest).astype(np.int64)
    known = gen.random((n, n_rest))
    private = gen.random((n, n_rest))
    return RestaurantInstance(known, capacities, private, a)


def random_restaurant_profile(
    n_agents: int,
    n_restaurants: int,
    *,
    delegate_share: float = 0.5,
    popularity: float = 0.0,
    seed: Any = None,
) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """Random ``(choices, delegate)``: each agent delegates with probability ``delegate_share``
    and picks restaurant r with probability proportional to ``rank(r)^-popularity`` over a random
    ranking (0 = uniform; larger values crowd a few popular restaurants and leave seats free
    elsewhere)."""
    fn = "random_restaurant_profile"
    n = v.positive_int(fn, "n_agents", n_agents)
    n_rest = v.positive_int(fn, "n_restaurants", n_restaurants)
    share = v.real(fn, "delegate_share", delegate_share, min_value=0.0, max_value=1.0)
    pop = v.real(fn, "popularity", popularity, min_value=0.0)
    gen = v.rng(fn, seed)
    weights = (np.arange(n_rest) + 1.0) ** -pop
    ranking = gen.permutation(n_rest)
    choices = ranking[gen.choice(n_rest, size=n, p=weights / weights.sum())].astype(np.int64)
    return choices, gen.random(n) < share


# --------------------------------------------------------------------------------------------
# One entry point for the four mediators (the service's MediateRestaurant)
# --------------------------------------------------------------------------------------------
STRUCTURED_MEDIATORS = ("pareto", "pareto_exact", "punishing", "central_planner")
"""The mediators of the restaurant and matching games."""


def planner_delegate(function: str, mediator: str, delegate: Any) -> None:
    """The central planner assigns everyone: ``delegate`` must be absent (or empty); every
    other mediator needs it."""
    if mediator == "central_planner":
        if delegate is not None and np.size(delegate) > 0:
            raise MechsolveInputError(
                function,
                "delegate",
                "must be empty for the central planner (every agent is assigned); "
                f"got {np.size(delegate)} value(s)",
            )
    elif delegate is None:
        raise MechsolveInputError(function, "delegate", f"is required for mediator={mediator!r}")


def mediate_restaurant(
    known: Any,
    capacities: Any,
    choices: Any,
    delegate: Any = None,
    *,
    mediator: str = "pareto",
    private: Any = None,
    alpha: float = 0.0,
    mediator_utility: str = "known",
    method: str | None = None,
    limits: Limits | None = None,
    time_limit: float | None = None,
) -> RestaurantResult:
    """One restaurant mediator of :data:`STRUCTURED_MEDIATORS` on one profile:
    :func:`restaurant_pareto` (the paper's eq. 4), :func:`restaurant_pareto_exact` (eq. 3 as a
    MILP), :func:`restaurant_punishing` or :func:`restaurant_central_planner` (which takes no
    ``delegate``). ``method`` (``None``: ``"min_cost_flow"``) selects the transportation
    backend and must be ``None`` for ``"pareto_exact"``."""
    fn = "mediate_restaurant"
    kind = v.choice(fn, "mediator", mediator, STRUCTURED_MEDIATORS)
    planner_delegate(fn, kind, delegate)
    kw: dict[str, Any] = {
        "private": private,
        "alpha": alpha,
        "mediator_utility": mediator_utility,
        "limits": limits,
        "time_limit": time_limit,
    }
    if kind == "pareto_exact":
        if method is not None:
            raise MechsolveInputError(
                fn, "method", f"does not apply to the exact mediator (a MILP); got {method!r}"
            )
        return restaurant_pareto_exact(known, capacities, choices, delegate, **kw)
    kw["method"] = "min_cost_flow" if method is None else method
    if kind == "central_planner":
        return restaurant_central_planner(known, capacities, choices, **kw)
    solve = restaurant_pareto if kind == "pareto" else restaurant_punishing
    return solve(known, capacities, choices, delegate, **kw)
