"""Stackelberg commitments, sequential leaders and a leader-selection mediator (seed 002).

**Strong Stackelberg equilibrium** of a bimatrix game (von Stackelberg 1934; the "strong"
tie rule of Leitmann 1978 and Breton, Alj & Haurie 1988; von Stengel & Zamir 2010). The
leader ``L`` commits to a mixed strategy ``x`` over its ``k_L`` actions; the follower ``F``
observes ``x`` and plays a pure best response, breaking ties in the leader's favour. With
``U_L(a, b)``, ``U_F(a, b)`` the payoffs at leader action ``a`` and follower action ``b``, the
*multiple-LPs* method of Conitzer & Sandholm (2006, "Computing the optimal strategy to commit
to", EC'06, section 3) solves, for every follower action ``b``::

    v_b = max_x   sum_a x_a U_L(a, b)
          s.t.    sum_a x_a U_F(a, b) >= sum_a x_a U_F(a, b')    for every b' != b
                  sum_a x_a = 1,  x >= 0

(``b`` is a best response to ``x``; infeasible when ``b`` is never one). The strong
Stackelberg value is ``max_b v_b``, attained by the commitment of the best feasible LP with
response ``b``: a follower indifferent between ``b`` and others picks ``b``, the leader's
favourite. Each LP is solved with HiGHS; among LPs within :data:`TIE_RTOL` of the best the
lowest ``b`` is taken.

**Sequential (pure) Stackelberg outcome** of an n-player game: the players move one after
another in a given order, each observing the earlier moves; the subgame-perfect outcome
(Selten 1965) is computed by backward induction over the payoff tensor, one vectorized
``argmax`` per mover along its axis followed by a gather (no recursion over outcomes).

**Leader selection.** Seed 002 (JAM-QL, Dodwadmath & Maghsudi, arXiv 2508.02421) has a
mediator that "actively selects leaders to maximize fairness in the expected returns of all
agents". The one-shot analogue here: every leader order ``o`` gives a value vector
``V[o] = u(sequential outcome under o)``; the mediator picks the order (``lottery=False``)
or a lottery ``p`` over orders (``lottery=True``) maximizing a welfare function
``W(sum_o p_o V[o])`` of :mod:`mechsolve.solver.games.welfare` (egalitarian by default, the
fairness criterion). Over lotteries: utilitarian welfare is linear, so its optimum is the best
single order; egalitarian, Kalai-Smorodinsky (ideal = each player's best value over the
orders) and inequity-averse welfare are LPs, Nash welfare ``max sum_i log(y_i - d_i)`` a
conic program (:func:`mechsolve.solver.games.lotteries.best_lottery`, HiGHS and cvxpy).

Tie rules (welfare values within :data:`TIE_RTOL`, relative, are equal):

- :func:`strong_stackelberg`: the follower's response ``b`` with the best LP value, lowest
  ``b`` among ties.
- :func:`sequential_stackelberg`: a mover indifferent between actions takes the one best for
  the first mover, then (among those still tied) for the second mover, and so on up to the
  mover just before it, then the lowest action index. With two players this is the strong
  (leader-favouring) tie rule restricted to pure commitments.
- :func:`select_leader`: the highest welfare, then the highest utilitarian welfare (sum of the
  utilities, the project's welfare tie-break), then the lowest order index; a lottery is
  returned only when it beats the best single order by more than the tolerance.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from ..core import highs_backend as hb
from ..core import validation as v
from ..core.errors import MechsolveInputError
from ..core.limits import Limits, resolve
from ..core.results import (
    HasSolveInfo,
    Limit,
    SolveInfo,
    Stopwatch,
    Termination,
    TerminationReason,
    readonly,
)
from ..games.lotteries import SUPPORT_TOL, best_lottery, scaled_welfare, unit_scale
from ..games.normal_form import NormalFormGame, as_game
from ..games.welfare import TIE_RTOL, Welfare, WelfareKind, make_welfare, tie_tolerance

__all__ = [
    "ORDER_SETS",
    "TIE_RTOL",
    "LeaderSelectionResult",
    "SequentialResult",
    "StackelbergResult",
    "select_leader",
    "sequential_stackelberg",
    "strong_stackelberg",
]

ORDER_SETS = ("all", "leader")
"""``select_leader(orders=...)``: every permutation, or one order per first mover."""


# -- results ---------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class StackelbergResult(HasSolveInfo):
    """A strong Stackelberg equilibrium of a bimatrix game.

    Attributes:
        leader: the committing player (0 or 1); the other one follows.
        commitment: ``(k_leader,)`` the leader's mixed strategy (non-negative, summing to 1).
        response: the follower's pure best response to ``commitment`` (ties in the leader's
            favour).
        utilities: ``(2,)`` both players' expected utilities, indexed by player (not by role),
            recomputed from ``commitment`` and ``response``.
        info: termination, objective (= the leader's utility), method ``"multiple_lps"``,
            backend, wall time.
    """

    leader: int
    commitment: NDArray[np.float64]
    response: int
    utilities: NDArray[np.float64]
    info: SolveInfo


@dataclass(frozen=True, eq=False)
class SequentialResult(HasSolveInfo):
    """The subgame-perfect pure outcome when the players move one after another.

    Attributes:
        order: ``(n,)`` the players from the first mover to the last.
        actions: ``(n,)`` the outcome's joint action, indexed by player.
        utilities: ``(n,)`` the utilities at ``actions``, indexed by player.
        info: termination (always optimal), objective (= the first mover's utility), method
            ``"backward_induction"``, backend ``"numpy"``, wall time.
    """

    order: NDArray[np.int64]
    actions: NDArray[np.int64]
    utilities: NDArray[np.float64]
    info: SolveInfo


@dataclass(frozen=True, eq=False)
class LeaderSelectionResult(HasSolveInfo):
    """The mediator's choice of leader order (or lottery over orders).

    Attributes:
        orders: ``(m, n)`` the orders considered, each a permutation of the players (first
            mover first), in lexicographic order (``orders="all"``) or by first mover
            (``orders="leader"``).
        values: ``(m, n)`` each order's sequential-Stackelberg utilities, by player.
        probabilities: ``(m,)`` the chosen lottery over the orders (non-negative, summing to
            1; a point mass when ``lottery=False`` or when no lottery beats the best order).
        utilities: ``(n,)`` the expected utilities under the lottery.
        welfare_function: the welfare function's name.
        welfare: ``W(utilities)``.
        info: termination, objective (= ``welfare``; ``nan`` without a solution), method,
            backend, wall time.
    """

    orders: NDArray[np.int64]
    values: NDArray[np.float64]
    probabilities: NDArray[np.float64]
    utilities: NDArray[np.float64]
    welfare_function: str
    welfare: float
    info: SolveInfo


# -- strong Stackelberg: multiple LPs --------------------------------------------------------


def strong_stackelberg(
    game: NormalFormGame | Any,
    *,
    leader: int = 0,
    time_limit: float | None = None,
    limits: Limits | None = None,
) -> StackelbergResult:
    """The strong Stackelberg equilibrium of a two-player game by the multiple-LPs method.

    For every follower action ``b`` (Conitzer & Sandholm 2006)::

        v_b = max_x  x . U_L[:, b]
              s.t.   x . U_F[:, b] >= x . U_F[:, b']   for all b' != b
                     1 . x = 1,  x >= 0

    and the equilibrium is the commitment of ``argmax_b v_b`` (the lowest ``b`` within
    :data:`TIE_RTOL`) with response ``b``. The LP solution is clipped to ``x >= 0`` and
    renormalized; ``utilities`` are recomputed from it.

    Status: ``OPTIMAL`` when every LP ended optimal or infeasible. When an LP stopped at a
    limit (or failed), the best commitment found is compared with the best *pure* commitment
    (a feasible commitment, from backward induction) and the better one is returned as
    ``FEASIBLE``, never claimed optimal.

    Raises:
        MechsolveInputError: ``game`` is not a two-player game; ``leader`` is not 0 or 1.
        ProblemTooLargeError: the game, or the LPs' rows ``k_F^2``, are over ``limits``.
    """
    fn = "strong_stackelberg"
    watch = Stopwatch()
    lim = resolve(limits)
    g = as_game(fn, game, lim)
    if g.n_players != 2:
        raise MechsolveInputError(
            fn, "game", f"must have 2 players (a leader and a follower); got {g.n_players}"
        )
    lead = _player(fn, "leader", leader, 2)
    tl = v.time_limit(fn, time_limit)
    ul, uf = _roles(g.payoffs * unit_scale(g.payoffs), lead)  # tolerances relative to the game
    lim.check(fn, "game follower actions", uf.shape[1] ** 2, "max_lp_rows")
    x, b, term = _multiple_lps(ul, uf, tl, watch)
    if not term.is_optimal:
        x, b = _better_of(ul, (x, b), _pure_commitment(g.payoffs, lead))
    ul, uf = _roles(g.payoffs, lead)  # measured on the game itself
    utilities = np.empty(2)
    utilities[lead], utilities[1 - lead] = x @ ul[:, b], x @ uf[:, b]
    info = SolveInfo(term, float(utilities[lead]), "multiple_lps", "highs", watch.elapsed)
    return StackelbergResult(lead, readonly(x), b, readonly(utilities), info)


def _player(fn: str, argument: str, value: Any, n: int) -> int:
    """``value`` as a player index in ``[0, n)``."""
    p = v.positive_int(fn, argument, value, minimum=0)
    if p >= n:
        raise MechsolveInputError(fn, argument, f"must be in [0, {n}); got {p}")
    return p


def _roles(
    payoffs: NDArray[np.float64], leader: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``(U_L, U_F)``, both ``(k_L, k_F)``: rows are the leader's actions."""
    if leader == 0:
        return payoffs[0], payoffs[1]
    return payoffs[1].T, payoffs[0].T


def _response_lp(
    ul: NDArray[np.float64], uf: NDArray[np.float64], b: int, tl: float | None
) -> hb.HighsSolution:
    """The LP of follower action ``b``: the leader's best commitment to which ``b`` is a best
    response (rows: ``1 . x = 1``, then ``x . (U_F[:, b] - U_F[:, b']) >= 0``)."""
    k_l, k_f = uf.shape
    others = np.delete(np.arange(k_f), b)
    incentive = (uf[:, [b]] - uf[:, others]).T  # (k_f - 1, k_l)
    a = sp.csr_array(np.vstack([np.ones((1, k_l)), incentive]))
    lo = np.concatenate([[1.0], np.zeros(len(others))])
    hi = np.concatenate([[1.0], np.full(len(others), hb.INF)])
    cols_lo, cols_hi = np.zeros(k_l), np.full(k_l, hb.INF)
    return hb.solve(ul[:, b], a, lo, hi, cols_lo, cols_hi, maximize=True, time_limit=tl)


def _multiple_lps(
    ul: NDArray[np.float64], uf: NDArray[np.float64], tl: float | None, watch: Stopwatch
) -> tuple[NDArray[np.float64], int, Termination]:
    """The best commitment over the follower actions' LPs, its response and the status
    (the commitment is empty and the response -1 when no LP produced a solution; the caller
    then falls back on the best pure commitment)."""
    commitments: list[NDArray[np.float64]] = []
    responses: list[int] = []
    unfinished: list[str] = []
    limit: Limit | None = None
    for b in range(uf.shape[1]):
        if watch.expired(tl):
            unfinished.append(f"response {b}: not solved (time limit)")
            limit = limit or Limit.TIME
            continue
        sol = _response_lp(ul, uf, b, watch.remaining(tl))
        term = sol.termination
        if term.has_solution:
            commitments.append(_simplex_point(sol.x))
            responses.append(b)
        if not (term.is_optimal or term.reason is TerminationReason.INFEASIBLE):
            unfinished.append(f"response {b}: {term.reason.value}")
            limit = limit or term.limit or Limit.OTHER
    if not commitments:
        x, b = np.empty(0), -1
    else:
        leader_values = np.array(
            [c @ ul[:, r] for c, r in zip(commitments, responses, strict=True)]
        )
        best = _first_best(leader_values)
        x, b = commitments[best], responses[best]
    if limit is None:
        return x, b, Termination.optimal()
    detail = (
        f"{len(unfinished)} of {uf.shape[1]} response LPs unfinished (first: {unfinished[0]}): "
        "the better of the best commitment found and the best pure commitment"
    )
    return x, b, Termination.feasible(limit, detail)


def _simplex_point(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """An LP's ``x`` clipped to ``x >= 0`` and renormalized to sum 1."""
    out = np.clip(np.asarray(x, dtype=np.float64), 0.0, None)
    return out / out.sum()


def _first_best(values: NDArray[np.float64]) -> int:
    """The lowest index whose value is within :data:`TIE_RTOL` of the maximum."""
    best = values.max()
    return int(np.flatnonzero(values >= best - tie_tolerance(best))[0])


def _pure_commitment(payoffs: NDArray[np.float64], leader: int) -> tuple[NDArray[np.float64], int]:
    """The best pure commitment (strong tie rule), as a one-hot mixed strategy and response."""
    actions, _ = _backward_induction(payoffs, np.array([leader, 1 - leader]))
    x = np.zeros(payoffs.shape[1 + leader])
    x[actions[leader]] = 1.0
    return x, int(actions[1 - leader])


def _better_of(
    ul: NDArray[np.float64],
    found: tuple[NDArray[np.float64], int],
    fallback: tuple[NDArray[np.float64], int],
) -> tuple[NDArray[np.float64], int]:
    """``found`` unless it is empty or worse for the leader than ``fallback``."""
    x, b = found
    if b < 0 or x @ ul[:, b] < fallback[0] @ ul[:, fallback[1]]:
        return fallback
    return found


# -- sequential Stackelberg: backward induction ----------------------------------------------


def sequential_stackelberg(
    game: NormalFormGame | Any,
    order: Any = None,
    *,
    limits: Limits | None = None,
) -> SequentialResult:
    """The pure subgame-perfect outcome when players move in ``order`` (default ``0..n-1``),
    each observing the earlier moves.

    Backward induction over the payoff tensor ``u`` with axes permuted to the order
    ``o_1, ..., o_n``: with ``V_n = u``, mover ``o_j`` picks, at every history
    ``h = (a_{o_1}, ..., a_{o_{j-1}})``,
    ``s_j(h) in argmax_a V_j[o_j](h, a)`` (tie rule in the module docstring) and
    ``V_{j-1}(h) = V_j(h, s_j(h))``; the outcome follows the strategies from the empty history.

    Raises:
        MechsolveInputError: ``order`` is not a permutation of ``0..n-1``.
    """
    fn = "sequential_stackelberg"
    watch = Stopwatch()
    g = as_game(fn, game, resolve(limits))
    o = _order(fn, order, g.n_players)
    actions = _outcome(g.payoffs, o)
    utilities = g.payoffs[(slice(None), *actions)]
    info = SolveInfo(
        Termination.optimal(), float(utilities[o[0]]), "backward_induction", "numpy", watch.elapsed
    )
    return SequentialResult(readonly(o), readonly(actions), readonly(utilities), info)


def _order(fn: str, order: Any, n: int) -> NDArray[np.int64]:
    """``order`` as a permutation of ``0..n-1`` (``None``: the identity)."""
    if order is None:
        return np.arange(n, dtype=np.int64)
    o = v.int_array(fn, "order", order, shape=(n,), low=0, high=n)
    if len(np.unique(o)) != n:
        raise MechsolveInputError(
            fn, "order", f"must be a permutation of 0..{n - 1}; got {o.tolist()}"
        )
    return o


def _backward_induction(
    payoffs: NDArray[np.float64], order: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """The subgame-perfect outcome (actions by player) and its utilities (by player)."""
    n = payoffs.shape[0]
    values = np.transpose(payoffs, (0, *(1 + order).tolist()))  # axis j + 1: mover order[j]
    strategies: list[NDArray[np.int64]] = []  # strategies[j]: over histories of movers < j
    for j in range(n - 1, -1, -1):
        pick = _tie_broken_choice(values, int(order[j]), order[:j])
        strategies.append(pick)
        values = np.take_along_axis(values, pick[None, ..., None], axis=-1)[..., 0]
    strategies.reverse()
    actions = np.empty(n, dtype=np.int64)
    history: tuple[int, ...] = ()
    for j, mover in enumerate(order.tolist()):
        a = int(strategies[j][history])
        actions[mover] = a
        history = (*history, a)
    return actions, np.array(values, dtype=np.float64)


def _tie_broken_choice(
    values: NDArray[np.float64], mover: int, earlier: NDArray[np.int64]
) -> NDArray[np.int64]:
    """The mover's choice along the last axis of ``values`` (``(n, ..., k)``) at every history:
    its best actions (within :data:`TIE_RTOL`), narrowed to the best for each earlier mover in
    turn (first mover first), then the lowest index."""
    own = values[mover]
    best = own.max(axis=-1, keepdims=True)
    ok = own >= best - tie_tolerance(best)
    for e in earlier.tolist():
        theirs = np.where(ok, values[e], -np.inf)
        top = theirs.max(axis=-1, keepdims=True)
        ok &= theirs >= top - tie_tolerance(top)
    return np.argmax(ok, axis=-1).astype(np.int64)


# -- leader selection ------------------------------------------------------------------------


def select_leader(
    game: NormalFormGame | Any,
    *,
    welfare: str | Welfare | WelfareKind = "egalitarian",
    lottery: bool = True,
    orders: str = "all",
    time_limit: float | None = None,
    limits: Limits | None = None,
) -> LeaderSelectionResult:
    """The mediator's leader order, or lottery over orders, maximizing the players' welfare.

    ``orders="all"`` considers the ``n!`` permutations (lexicographic), ``"leader"`` the ``n``
    orders in which player ``i`` moves first and the others follow in index order. Each order
    ``o`` is worth ``V[o]`` (:func:`sequential_stackelberg`). Then:

    - ``lottery=False``: ``argmax_o W(V[o])`` (ties: module docstring).
    - ``lottery=True``: ``max_p W(p @ V)`` over the simplex (module docstring for the
      formulations; Kalai-Smorodinsky's ideal is ``max_o V[o]`` per player). The best single
      order is a feasible lottery and is kept unless the lottery beats it, so the lottery's
      welfare is never below the best order's.

    Nash welfare is ``-inf`` unless every player gets more than its disagreement value. When
    no order (``lottery=False``) or no lottery over orders (``lottery=True``) achieves that,
    the termination is ``INFEASIBLE`` (the Nash bargaining set is empty); the result still
    carries the best single order by the tie rules (highest total utility, then the lowest
    index) as a point mass, with ``welfare = -inf`` and ``objective = nan``.

    A lottery solve that stops at a limit or fails returns the best single order as
    ``FEASIBLE`` (the lottery optimum is not proven).

    Raises:
        MechsolveInputError: bad ``welfare`` (a name, or a :class:`Welfare` with its weights,
            disagreement point and beta), ``lottery``, ``orders``.
        ProblemTooLargeError: the number of orders, or orders times outcomes (the backward
            inductions' work), over ``limits.max_candidates`` (checked before any order is
            built).
    """
    fn = "select_leader"
    watch = Stopwatch()
    lim = resolve(limits)
    g = as_game(fn, game, lim)
    n = g.n_players
    w = make_welfare(fn, welfare, n)
    lottery = v.flag(fn, "lottery", lottery)
    which = v.choice(fn, "orders", orders, ORDER_SETS)
    tl = v.time_limit(fn, time_limit)
    m = math.factorial(n) if which == "all" else n
    lim.check(fn, "game leader orders", m, "max_candidates")
    lim.check(fn, "game order outcomes", m * g.n_outcomes, "max_candidates")
    perms = _leader_orders(n, which)
    outcomes = [_outcome(g.payoffs, o) for o in perms]
    values = np.stack([g.payoffs[(slice(None), *a)] for a in outcomes])
    scale = unit_scale(values)  # ties among orders decided on values scaled into [-1, 1]
    probs, term, method, backend = _choose(
        values * scale, scaled_welfare(w, scale), bool(lottery), tl, watch
    )
    utilities = probs @ values
    value = float(_welfare_of(w, utilities, values))
    objective = value if term.has_solution else math.nan
    info = SolveInfo(term, objective, method, backend, watch.elapsed)
    return LeaderSelectionResult(
        readonly(perms), readonly(values), readonly(probs), readonly(utilities), w.name, value, info
    )


def _outcome(payoffs: NDArray[np.float64], order: NDArray[np.int64]) -> NDArray[np.int64]:
    """The backward-induction outcome, its ties decided on payoffs scaled into [-1, 1] (the
    tie tolerance is relative to the game's magnitude, whatever its units)."""
    return _backward_induction(payoffs * unit_scale(payoffs), order)[0]


def _leader_orders(n: int, which: str) -> NDArray[np.int64]:
    """``(m, n)`` the orders (call only after the size check)."""
    if which == "all":
        return np.array(list(itertools.permutations(range(n))), dtype=np.int64).reshape(-1, n)
    return np.array(
        [[i, *(j for j in range(n) if j != i)] for i in range(n)], dtype=np.int64
    ).reshape(n, n)


def _welfare_of(
    w: Welfare, u: NDArray[np.float64], values: NDArray[np.float64]
) -> NDArray[np.float64]:
    """``W`` of utility vectors ``u`` (last axis: players); the KS ideal is each player's best
    value over the orders (the best over lotteries as well)."""
    players = np.arange(values.shape[1], dtype=np.int64)
    ideal = values.max(axis=0) if w.needs_ideal else None
    return w.evaluate(u, players, ideal=ideal)


def _best_order(w: Welfare, values: NDArray[np.float64]) -> int:
    """The order with the best ``W``, then the best total utility, then the lowest index."""
    scores = _welfare_of(w, values, values)
    top = scores.max()
    tied = np.flatnonzero(scores >= top - tie_tolerance(top)) if np.isfinite(top) else None
    if tied is None:  # every W is -inf (Nash outside its domain): all orders tie
        tied = np.arange(len(scores))
    totals = values[tied].sum(axis=1)
    return int(tied[_first_best(totals)])


def _choose(
    values: NDArray[np.float64], w: Welfare, lottery: bool, tl: float | None, watch: Stopwatch
) -> tuple[NDArray[np.float64], Termination, str, str]:
    """The lottery over orders, its termination, method and backend."""
    m = len(values)
    best = _best_order(w, values)
    point = np.zeros(m)
    point[best] = 1.0
    best_w = float(_welfare_of(w, values[best], values))
    if best_w == -np.inf and (not lottery or m == 1):  # one order: its only lottery
        return point, _nash_infeasible("no order"), "enumeration", "numpy"
    if not lottery or w.kind is WelfareKind.UTILITARIAN or m == 1:
        # utilitarian welfare is linear: the best order is an optimal lottery
        return point, Termination.optimal(), "enumeration", "numpy"
    players = np.arange(values.shape[1], dtype=np.int64)
    ideal = values.max(axis=0) if w.needs_ideal else None
    x, term, backend = best_lottery(values.T, players, w, None, ideal, tl, watch)
    method = "lp" if backend == "highs" else "convex"
    if not term.has_solution:
        detail = f"lottery solve ended {term.reason.value}: the best single order"
        return point, Termination.feasible(term.limit or Limit.OTHER, detail), method, backend
    probs = _support(x)
    lot_w = float(_welfare_of(w, probs @ values, values))
    if lot_w == -np.inf:
        return point, _nash_infeasible("no lottery over orders"), method, backend
    if _beats(lot_w, float((probs @ values).sum()), best_w, float(values[best].sum())):
        return probs, term, method, backend
    return point, term, method, backend


def _support(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """A lottery with probabilities at or below :data:`SUPPORT_TOL` dropped, renormalized."""
    p = np.where(x > SUPPORT_TOL, x, 0.0)
    return p / p.sum()


def _beats(w_a: float, total_a: float, w_b: float, total_b: float) -> bool:
    """``a`` better than ``b``: higher welfare beyond the tolerance, or a tie and a higher
    total beyond the tolerance."""
    if w_a > w_b + float(tie_tolerance(w_b)):
        return True
    tie = w_a >= w_b - float(tie_tolerance(w_b))
    return tie and total_a > total_b + float(tie_tolerance(total_b))


def _nash_infeasible(what: str) -> Termination:
    return Termination.failed(
        TerminationReason.INFEASIBLE,
        f"{what} gives every player more than its disagreement value (Nash welfare -inf): "
        "the best single order by total utility",
    )
