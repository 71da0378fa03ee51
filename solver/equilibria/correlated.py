"""Correlated and coarse correlated equilibria of n-player normal-form games as LPs (seed 000
section 2.2: correlated equilibria as the weaker mediator; Aumann 1974; Moulin & Vial 1978).

A mediator draws a joint pure outcome ``s = (s_1, ..., s_n)`` from a public distribution ``p``
and tells every player its own component. The variables are ``p(s) >= 0`` for every joint pure
outcome, ``sum_s p(s) = 1``; ``u_i`` is player i's payoff and ``E[u_i] = sum_s p(s) u_i(s)``.

- Correlated equilibrium (CE, Aumann 1974, "Subjectivity and correlation in randomized
  strategies"): no player gains by disobeying a recommendation, for every player ``i`` and
  every pair of its own actions ``a != a'``::

      sum_{s_-i} p(a, s_-i) [u_i(a', s_-i) - u_i(a, s_-i)] <= epsilon

- Coarse correlated equilibrium (CCE, Moulin & Vial 1978, "Strategically zero-sum games"): no
  player gains by committing to a fixed action ``a'`` before hearing its recommendation, for
  every player ``i`` and every own action ``a'``::

      sum_s p(s) [u_i(a', s_-i) - u_i(s)] <= epsilon

  Every CCE row is the sum over ``a`` of the CE rows ``a -> a'``, so every CE is a CCE.

Both sides are unconditional expected gains (probability-weighted, in payoff units), so an
``epsilon``-CE bounds what a deviation gains over the whole distribution. Every mixed Nash
equilibrium is a CE (Nash 1950 gives one), so the polytope is never empty.

Objectives over the polytope (``objective="welfare"`` with a welfare function of the expected
utilities, in the vocabulary of :mod:`~mechsolve.solver.games.welfare`, ``d`` its disagreement
point, zeros by default; or ``objective="player"``):

- utilitarian: ``max sum_i w_i (E[u_i] - d_i)`` (weights default 1), an LP;
- player ``j``: ``max E[u_j]``, an LP;
- egalitarian: ``max t  s.t.  E[u_i] - d_i >= t`` for all i (an epigraph variable: an LP);
- Kalai-Smorodinsky: ``max t  s.t.  E[u_i] - d_i >= t (ideal_i - d_i)`` over the players with
  ``ideal_i > d_i``, ``ideal_i`` player i's best expected utility over the polytope (one LP
  each first): an LP;
- inequity-averse: ``max sum_i (E[u_i] - d_i) - beta * mean_{i<j} s_ij`` with
  ``s_ij >= |(E[u_i] - d_i) - (E[u_j] - d_j)|``: an LP;
- Nash: ``max prod_i (E[u_i] - d_i)``, i.e. ``max sum_i log(E[u_i] - d_i)`` (exponential
  cone, cvxpy with Clarabel, by column generation with an LP certificate of optimality, see
  :func:`_nash`), then an LP polish that finds a basic distribution of the polytope with the
  same expected utilities. When no distribution of the polytope gives every player more than
  ``d`` (the max-min LP says ``max min_i (E[u_i] - d_i) <= 0``), the Nash welfare is ``-inf``
  everywhere: the result is ``INFEASIBLE`` with a detail saying so. ``info.bound`` is the
  certified upper bound on the optimal Nash welfare.

The LPs are solved with HiGHS; a second stage maximizes ``sum_i E[u_i]`` among the optimal
distributions (the utilitarian tie-break of the welfare module), except for the plain
utilitarian objective. ``OPTIMAL`` only when the solvers proved it (for the Nash objective: an
LP certificate); a time limit gives ``FEASIBLE`` or ``NO_SOLUTION_FOUND`` with ``Limit.TIME``.
The constraint matrix is built sparse and vectorized per player (no loop over outcomes):
``sum_i (k_i - 1) * prod_j k_j`` nonzeros for either kind, checked against
``Limits.max_candidates`` (as are the outcomes, the LP's columns) before it is allocated.

After the solve, tiny negative probabilities are clipped and the distribution renormalized;
``utilities``, ``welfare`` and ``gap`` are recomputed from the returned distribution (the gap is
a measurement, see :func:`equilibrium_gap`, not the LP's claim).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, replace
from typing import Any

import highspy
import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from ..core import highs_backend as hb
from ..core import validation as v
from ..core.cvxpy_backend import cvxpy
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
from ..games.lotteries import EXACT_RTOL, scaled_welfare, unit_scale
from ..games.normal_form import NormalFormGame, as_game
from ..games.welfare import WELFARE_NAMES, Welfare, WelfareKind, make_welfare, tie_tolerance

KINDS = ("ce", "cce")
OBJECTIVES = ("welfare", "player", *WELFARE_NAMES)

NEGATIVE_TOL = 1e-9
""":func:`equilibrium_gap` accepts probabilities down to ``-NEGATIVE_TOL`` (solver noise)."""
SUM_TOL = 1e-6
""":func:`equilibrium_gap` accepts distributions summing to 1 within this."""
IPM_COLUMNS = 500
"""LPs with rows over the expected utilities (egalitarian, the Nash polish) and this many
columns (outcomes) or more start with HiGHS' interior point method with crossover (a basic
solution): the dual simplex is slow on them (the egalitarian CE LP of a random 4-player
10-action game: 3 s against 0.5 s; 2-player 70-action, with the tie-break: 390 s against 20 s),
while it is the faster method on the plain linear objectives (utilitarian, player, the Nash
linearization LPs) and from a warm start (the tie-break)."""
_IPM = {"solver": "ipm"}


@dataclass(frozen=True, eq=False)
class CorrelatedResult(HasSolveInfo):
    """A welfare-optimal (coarse) correlated equilibrium.

    Attributes:
        kind: ``"ce"`` or ``"cce"``.
        distribution: shape ``game.num_actions`` ``(k_1, ..., k_n)``, ``>= 0``, summing to 1
            (read-only); all ``nan`` when the solve produced no distribution.
        utilities: ``(n,)`` every player's expected utility under ``distribution``.
        objective_name: what was maximized: the welfare function's name (``"utilitarian"``,
            ``"egalitarian"``, ``"nash"``, ``"kalai_smorodinsky"``, ``"inequity_averse"``) or
            ``"player <index>"`` (the 0-based index passed as ``player``).
        welfare: the objective's value at ``distribution``: the welfare function of
            ``utilities`` (:meth:`Welfare.evaluate`; Nash ``-inf`` outside its domain;
            Kalai-Smorodinsky with the ideal point over the polytope) or ``E[u_player]``;
            ``nan`` without a solution. The tie-break may give up ``1e-9`` of it, relative
            (:data:`~mechsolve.solver.games.welfare.TIE_RTOL`).
        gap: ``distribution``'s largest deviation gain, recomputed from it
            (:func:`equilibrium_gap`; ``<= epsilon`` up to the LP tolerances); ``nan`` without
            a solution.
        epsilon: the epsilon used (0 for an exact CE/CCE).
        info: termination, objective (= ``welfare``), method (``"lp"`` or ``"convex"``),
            backend, wall time; ``bound``: for ``"nash"``, the certified upper bound on the
            optimal Nash welfare (``nan`` otherwise).
    """

    kind: str
    distribution: NDArray[np.float64]
    utilities: NDArray[np.float64]
    objective_name: str
    welfare: float
    gap: float
    epsilon: float
    info: SolveInfo


@dataclass(frozen=True, eq=False)
class GapResult:
    """How far a distribution is from a (coarse) correlated equilibrium.

    Attributes:
        kind: ``"ce"`` or ``"cce"``.
        gap: the largest expected gain of any deviation of any player, ``max(0, ...)``: not
            deviating gains 0 (for a CE the maximum includes the deviation ``a -> a``, so it is
            ``>= 0`` anyway; for a CCE every fixed action may be strictly worse than obeying,
            and the gap is then 0). The distribution is an ``epsilon``-CE/CCE iff
            ``gap <= epsilon``.
        player: the player with the largest gain (the smallest index among ties); ``-1`` when
            ``gap == 0`` (no deviation gains anything).
        deviation: the maximizing deviation of ``player`` (the first in C order among ties):
            CE ``(from_action, to_action)``, CCE ``(to_action,)``; all ``-1`` when
            ``player == -1``.
        player_gaps: ``(n,)`` every player's largest gain, ``max(0, ...)`` as for ``gap``.
    """

    kind: str
    gap: float
    player: int
    deviation: NDArray[np.int64]
    player_gaps: NDArray[np.float64]


def correlated_equilibrium(
    game: NormalFormGame | Any,
    *,
    kind: str = "ce",
    objective: str = "welfare",
    welfare: str | Welfare | WelfareKind = "utilitarian",
    player: int | None = None,
    epsilon: float = 0.0,
    time_limit: float | None = None,
    limits: Limits | None = None,
) -> CorrelatedResult:
    """An objective-maximizing ``epsilon``-CE or -CCE of ``game`` (module docstring).

    Args:
        game: a :class:`NormalFormGame` or its payoff array ``(n, k_1, ..., k_n)``.
        kind: ``"ce"`` or ``"cce"``.
        objective: ``"welfare"`` (the welfare function ``welfare`` of the expected
            utilities) or ``"player"`` (``player``'s expected utility); the names
            ``"utilitarian"``, ``"egalitarian"``, ``"nash"``, ``"kalai_smorodinsky"`` and
            ``"inequity_averse"`` are short for ``objective="welfare"`` with that function
            (``welfare`` must then be left at its default or be of the same kind, carrying its
            parameters).
        welfare: the welfare function: a name, a :class:`WelfareKind` or a :class:`Welfare`
            with its weights (utilitarian), disagreement point ``d`` and ``beta``; validated
            but unused with ``objective="player"``.
        player: with ``objective="player"`` (and only then): the 0-based player whose expected
            utility is maximized.
        epsilon: ``>= 0``; every deviation gains at most ``epsilon`` (unconditional expected
            gain, in payoff units).
        time_limit: seconds for the whole call (``None``: no limit); a limit gives
            ``FEASIBLE`` or ``NO_SOLUTION_FOUND`` with ``Limit.TIME``.
        limits: size limits (``None``: the defaults): the outcomes (columns) and the
            nonzeros (:func:`_check_size`) within ``max_candidates``.
    """
    fn = "correlated_equilibrium"
    watch = Stopwatch()
    lim = resolve(limits)
    g = as_game(fn, game, lim)
    k = v.choice(fn, "kind", kind, KINDS)
    obj = _objective(fn, objective, welfare, player, g.n_players)
    eps = v.real(fn, "epsilon", epsilon, min_value=0.0)
    tl = v.time_limit(fn, time_limit)
    _check_size(fn, g, lim, objective_rows=True)
    # the LPs see payoffs scaled into [-1, 1] (unit_scale): HiGHS' tolerances are absolute;
    # the result is measured on the game itself (_result)
    scale = unit_scale(g.payoffs)
    poly = _scaled_polytope(g.payoffs, k, eps)
    u = g.payoffs.reshape(g.n_players, -1)
    if obj.welfare is not None and obj.welfare.kind is WelfareKind.NASH:
        d = obj.welfare.d(np.arange(g.n_players))
        x, term, backend, bound = _nash(poly, u, d, k, tl, watch)
        method = "convex"
    else:
        us = u * scale
        scaled = obj if obj.welfare is None else replace(
            obj, welfare=scaled_welfare(obj.welfare, scale)
        )  # fmt: skip
        if obj.welfare is not None and obj.welfare.kind is WelfareKind.KALAI_SMORODINSKY:
            ideal, failed = _ideal(poly, us, tl, watch)
            if failed is not None:
                return _result(g, k, obj, eps, np.empty(0), failed, "lp", "highs", math.nan, watch)
            obj = replace(obj, ideal=ideal / scale)
            scaled = replace(scaled, ideal=ideal)
        x, term, backend = _linear(poly, us, scaled, tl, watch)
        method, bound = "lp", math.nan
    return _result(g, k, obj, eps, x, term, method, backend, bound, watch)


def equilibrium_gap(
    game: NormalFormGame | Any,
    distribution: Any,
    *,
    kind: str = "ce",
    limits: Limits | None = None,
) -> GapResult:
    """The largest expected gain of a deviation from ``distribution`` (:class:`GapResult`).

    CE: ``max_i max_{a, a'} sum_{s_-i} p(a, s_-i) [u_i(a', s_-i) - u_i(a, s_-i)]``; CCE:
    ``max_i max_{a'} sum_s p(s) [u_i(a', s_-i) - u_i(s)]``; both reported as ``max(0, ...)``
    (not deviating gains 0). These are the left-hand sides of the constraints of
    :func:`correlated_equilibrium`: ``distribution`` is an ``epsilon``-equilibrium iff
    ``gap <= epsilon``.

    ``distribution`` has shape ``game.num_actions``, is finite, ``>= -1e-9`` and sums to 1
    within ``1e-6``; it is used as given (no clipping or renormalization). The work is the
    constraint nonzeros, checked against ``limits.max_candidates`` like the solve.
    """
    fn = "equilibrium_gap"
    lim = resolve(limits)
    g = as_game(fn, game, lim)
    k = v.choice(fn, "kind", kind, KINDS)
    p = _distribution(fn, distribution, g.num_actions)
    _check_size(fn, g, lim, objective_rows=False)
    return _gap(g.payoffs, p, k)


# -- validation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Objective:
    """What is maximized: a welfare function, or one player's expected utility; ``ideal``:
    the ideal point of the Kalai-Smorodinsky welfare (every player's best expected utility
    over the polytope), once computed."""

    name: str
    welfare: Welfare | None  # None: objective="player"
    player: int | None
    ideal: NDArray[np.float64] | None = None


def _objective(fn: str, objective: Any, welfare: Any, player: Any, n: int) -> _Objective:
    name = v.choice(fn, "objective", objective, OBJECTIVES)
    w = make_welfare(fn, welfare, n)
    if name in WELFARE_NAMES and w.kind.value != name:
        if welfare != "utilitarian":  # (the default: the shorthand names the function)
            raise MechsolveInputError(
                fn,
                "welfare",
                f"is {w.kind.value!r} but objective={name!r}; pass objective='welfare' with the "
                f"welfare function, or a {name} welfare (or none)",
            )
        w = Welfare(WelfareKind(name))
    if name != "player":
        if player is not None:
            raise MechsolveInputError(
                fn, "player", f"must be None unless objective='player'; got {player!r}"
            )
        return _Objective(w.name, w, None)
    if player is None:
        raise MechsolveInputError(fn, "player", "is required with objective='player'; got None")
    if isinstance(player, bool) or not isinstance(player, int | np.integer):
        raise MechsolveInputError(fn, "player", f"must be an integer; got {player!r}")
    if not 0 <= player < n:
        raise MechsolveInputError(fn, "player", f"must be in [0, {n}); got {player}")
    return _Objective(f"player {int(player)}", None, int(player))


def _check_size(fn: str, g: NormalFormGame, lim: Limits, *, objective_rows: bool) -> None:
    """The outcomes (LP columns) and the nonzeros, both against ``max_candidates``, before
    anything is allocated: the incentive rows' ``sum_i (k_i - 1) * outcomes`` (the same for
    both kinds; the work of :func:`equilibrium_gap`), plus, for a solve, ``(n + 1) * outcomes``
    for the sum row and the dense rows over the expected utilities (egalitarian,
    Kalai-Smorodinsky, inequity-averse, the Nash polish, the tie-break)."""
    n_out = g.n_outcomes
    lim.check(fn, "game", n_out, "max_candidates")
    nonzeros = sum((k - 1) * n_out for k in g.num_actions)
    if objective_rows:
        nonzeros += (g.n_players + 1) * n_out
    lim.check(fn, "game constraint nonzeros", nonzeros, "max_candidates")


def _distribution(fn: str, value: Any, ks: tuple[int, ...]) -> NDArray[np.float64]:
    p = v.float_array(fn, "distribution", value, shape=ks, min_value=-NEGATIVE_TOL)
    total = float(p.sum())
    if abs(total - 1.0) > SUM_TOL:
        raise MechsolveInputError(
            fn, "distribution", f"must sum to 1 (within {SUM_TOL:g}); got sum {total!r}"
        )
    return p


# -- the polytope --------------------------------------------------------------------------


def _player_view(a: NDArray[Any], i: int) -> NDArray[Any]:
    """An array over outcomes ``(k_1, ..., k_n)`` as ``(k_i, outcomes / k_i)``: player i's
    action first, the others' joint action ``s_-i`` (C order) second."""
    return np.moveaxis(a, i, 0).reshape(a.shape[i], -1)


def _incentive_matrix(payoffs: NDArray[np.float64], kind: str) -> sp.csr_array:
    """The incentive rows' left-hand sides over ``p`` (flat, C order), zeros dropped.

    For player i with ``U[a, m] = u_i(a, s_-i = m)`` and ``D[a, b, m] = U[b, m] - U[a, m]``
    (the gain of ``a -> b`` at ``m``), column ``(a, m)`` of row ``(i, a, b)`` (CE, ``a != b``)
    or of row ``(i, b)`` (CCE) is ``D[a, b, m]``. Rows: player-major, then ``(a, b)`` in C
    order (CE) or ``b`` (CCE).
    """
    n = payoffs.shape[0]
    ks = payoffs.shape[1:]
    n_out = math.prod(ks)
    flat = np.arange(n_out, dtype=np.int64).reshape(ks)
    rows, cols, data = [], [], []
    offset = 0
    for i in range(n):
        k = ks[i]
        u = _player_view(payoffs[i], i)  # (k, M)
        idx = _player_view(flat, i)  # (k, M)
        gain = u[None, :, :] - u[:, None, :]  # [a, b, m]
        if kind == "ce":
            off_diag = ~np.eye(k, dtype=bool)
            row_of = np.full((k, k), -1, dtype=np.int64)
            row_of[off_diag] = offset + np.arange(k * (k - 1))
            keep = (gain != 0) & off_diag[:, :, None]
            offset += k * (k - 1)
        else:
            row_of = np.broadcast_to(offset + np.arange(k, dtype=np.int64)[None, :], (k, k))
            keep = gain != 0
            offset += k
        a, b, m = np.nonzero(keep)
        rows.append(row_of[a, b])
        cols.append(idx[a, m])
        data.append(gain[a, b, m])
    return sp.csr_array(
        (np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))),
        shape=(offset, n_out),
    )


def _scaled_polytope(payoffs: NDArray[np.float64], kind: str, eps: float) -> _Polytope:
    """The incentive rows with each player's rows (and epsilon) multiplied by that player's
    :func:`unit_scale`: the same polytope, with HiGHS' absolute tolerances relative to each
    player's own payoff magnitude (players may be paid in different units)."""
    scales = np.array([unit_scale(payoffs[i]) for i in range(payoffs.shape[0])])
    ks = np.asarray(payoffs.shape[1:], dtype=np.int64)
    counts = ks * (ks - 1) if kind == "ce" else ks
    scaled = payoffs * scales.reshape((-1,) + (1,) * (payoffs.ndim - 1))
    return _Polytope(_incentive_matrix(scaled, kind), np.repeat(eps * scales, counts))


@dataclass(frozen=True, eq=False)
class _Polytope:
    """``incentive @ p <= epsilon`` (plus ``p >= 0``, ``sum p = 1``); ``epsilon`` per row."""

    incentive: sp.csr_array
    epsilon: float | NDArray[np.float64]

    def rows(
        self, extra_cols: int = 0
    ) -> tuple[sp.csr_array, NDArray[np.float64], NDArray[np.float64]]:
        """``A, lo, hi`` over ``[p, extra columns (zero here)]``: the sum row, then incentive."""
        r, c = self.incentive.shape
        a = sp.vstack([sp.csr_array(np.ones((1, c))), self.incentive], format="csr")
        if extra_cols:
            a = sp.hstack([a, sp.csr_array((r + 1, extra_cols))], format="csr")
        lo = np.concatenate([[1.0], np.full(r, -hb.INF)])
        hi = np.concatenate([[1.0], np.full(r, self.epsilon)])
        return a, lo, hi


@dataclass(frozen=True, eq=False)
class _Lp:
    """``max cost . z  s.t.  lo <= A z <= hi``, ``z = [p (outcomes), extra columns]``."""

    cost: NDArray[np.float64]
    a: sp.csr_array
    lo: NDArray[np.float64]
    hi: NDArray[np.float64]
    col_lo: NDArray[np.float64]
    col_hi: NDArray[np.float64]
    utility_rows: bool = False  # rows over E[u_i]: interior point from IPM_COLUMNS on

    def highs(self, tl: float | None, watch: Stopwatch) -> highspy.Highs:
        """A HiGHS instance holding this LP, limited to the time left (see
        :data:`IPM_COLUMNS` for the method)."""
        ipm = self.utility_rows and len(self.cost) >= IPM_COLUMNS
        h = hb.new_highs(watch.remaining(tl), options=_IPM if ipm else None)
        hb.pass_model(
            h, self.cost, self.a, self.lo, self.hi, self.col_lo, self.col_hi, maximize=True
        )
        return h

    def solve(self, tl: float | None, watch: Stopwatch) -> hb.HighsSolution:
        return hb.run(self.highs(tl, watch))


def _objective_lp(poly: _Polytope, u: NDArray[np.float64], obj: _Objective) -> _Lp:
    """The LP of a linear objective (``y_i = U_i p``, the expected utilities):

    - player ``j``: ``max U_j p``; utilitarian: ``max sum_i w_i U_i p`` (``- w . d`` is a
      constant);
    - egalitarian and Kalai-Smorodinsky: ``max t  s.t.  U_i p - span_i t >= d_i`` with
      ``span_i = 1`` (egalitarian) or ``ideal_i - d_i`` over the players with
      ``ideal_i > d_i`` (KS; with none, the welfare is 0 everywhere and the LP is the
      utilitarian tie-break's);
    - inequity-averse: columns ``[p, y, s]``, ``y_i = U_i p``, ``s_ij >= |(y_i - d_i) -
      (y_j - d_j)|`` for the pairs ``i < j``: ``max sum_i y_i - beta / pairs * sum s_ij``.
    """
    n, c = u.shape
    w = obj.welfare
    if w is None:
        assert obj.player is not None
        return _plain_lp(poly, u[obj.player].copy())
    d = w.d(np.arange(n))
    if w.kind is WelfareKind.UTILITARIAN:
        return _plain_lp(poly, u.sum(axis=0) if w.weights is None else np.asarray(w.weights) @ u)
    if w.kind in (WelfareKind.EGALITARIAN, WelfareKind.KALAI_SMORODINSKY):
        span = _span(obj, d)
        valid = span > 0
        if not valid.any():
            return _plain_lp(poly, u.sum(axis=0))
        a, lo, hi = poly.rows(extra_cols=1)
        epi = sp.csr_array(np.hstack([u[valid], -span[valid, None]]))
        return _Lp(
            np.concatenate([np.zeros(c), [1.0]]),
            sp.vstack([a, epi], format="csr"),
            np.concatenate([lo, d[valid]]),
            np.concatenate([hi, np.full(int(valid.sum()), hb.INF)]),
            np.concatenate([np.zeros(c), [-hb.INF]]),
            np.full(c + 1, hb.INF),
            utility_rows=True,
        )
    if w.kind is WelfareKind.INEQUITY_AVERSE:
        return _inequity_averse_lp(poly, u, d, w.beta)
    raise AssertionError(f"no LP for {w.kind}")  # Nash: _nash


def _plain_lp(poly: _Polytope, cost: NDArray[np.float64]) -> _Lp:
    """``max cost . p`` over the polytope."""
    a, lo, hi = poly.rows()
    c = len(cost)
    return _Lp(cost, a, lo, hi, np.zeros(c), np.full(c, hb.INF))


def _span(obj: _Objective, d: NDArray[np.float64]) -> NDArray[np.float64]:
    """``1`` per player (egalitarian) or ``ideal_i - d_i`` (Kalai-Smorodinsky)."""
    assert obj.welfare is not None
    if obj.welfare.kind is WelfareKind.KALAI_SMORODINSKY:
        assert obj.ideal is not None
        return obj.ideal - d
    return np.ones(len(d))


def _inequity_averse_lp(
    poly: _Polytope, u: NDArray[np.float64], d: NDArray[np.float64], beta: float
) -> _Lp:
    """The inequity-averse LP of :func:`_objective_lp` (one player: the utilitarian LP)."""
    n, c = u.shape
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    if not pairs:
        return _plain_lp(poly, u.sum(axis=0))
    m = len(pairs)
    a, lo, hi = poly.rows(extra_cols=n + m)
    define = sp.hstack([-sp.csr_array(u), sp.eye_array(n), sp.csr_array((n, m))])  # y - U p
    first = np.array([i for i, _ in pairs])
    second = np.array([j for _, j in pairs])
    diff = sp.csr_array(
        (
            np.concatenate([np.ones(m), -np.ones(m)]),
            (np.concatenate([np.arange(m), np.arange(m)]), np.concatenate([first, second])),
        ),
        shape=(m, n),
    )  # y_i - y_j
    ident = sp.eye_array(m)
    zeros = sp.csr_array((m, c))
    above = sp.hstack([zeros, -diff, ident])  # s - (y_i - y_j) >= -(d_i - d_j)
    below = sp.hstack([zeros, diff, ident])  # s + (y_i - y_j) >= d_i - d_j
    shift = d[first] - d[second]
    return _Lp(
        np.concatenate([np.zeros(c), np.ones(n), np.full(m, -beta / m)]),
        sp.vstack([a, define, above, below], format="csr"),
        np.concatenate([lo, np.zeros(n), -shift, shift]),
        np.concatenate([hi, np.zeros(n), np.full(2 * m, hb.INF)]),
        np.concatenate([np.zeros(c), np.full(n, -hb.INF), np.zeros(m)]),
        np.full(c + n + m, hb.INF),
        utility_rows=True,
    )


def _ideal(
    poly: _Polytope, u: NDArray[np.float64], tl: float | None, watch: Stopwatch
) -> tuple[NDArray[np.float64], Termination | None]:
    """The Kalai-Smorodinsky ideal point over the polytope: every player's largest expected
    utility (one LP each), and ``None``, or the termination of the first LP that was not
    solved to optimality (no solution: the welfare needs the exact ideal)."""
    ideal = np.empty(u.shape[0])
    for i in range(u.shape[0]):
        sol = _plain_lp(poly, u[i].copy()).solve(tl, watch)
        if not sol.termination.is_optimal:
            detail = f"the ideal point's LP of player {i}: {sol.termination.reason.value}"
            limit = sol.termination.limit
            if limit is not None:
                return ideal, Termination.no_solution(limit, detail)
            return ideal, Termination.failed(sol.termination.reason, detail)
        ideal[i] = sol.objective
    return ideal, None


def _linear(
    poly: _Polytope, u: NDArray[np.float64], obj: _Objective, tl: float | None, watch: Stopwatch
) -> tuple[NDArray[np.float64], Termination, str]:
    """Stage 1: max the objective; stage 2 (unless plain utilitarian): max ``sum_i E[u_i]``
    s.t. objective ``>= best - 1e-12`` relative, or, when HiGHS finds that row infeasible
    within its tolerances (some large games), ``>= best - tie_tolerance(best)`` (the welfare
    module's ties, :data:`~mechsolve.solver.games.welfare.TIE_RTOL` relative), warm-started
    from stage 1's basis. A
    tie-break stopped by a limit is ``FEASIBLE`` (the lexicographic problem is unsolved; stage
    1's distribution when the limit left none); one that fails otherwise keeps stage 1's
    distribution and termination, with a detail. Stage 2's answer is kept only when its total
    beats stage 1's by more than the tie tolerance (the objective it may trade away is the
    proven optimum otherwise)."""
    c = u.shape[1]
    lp = _objective_lp(poly, u, obj)
    h = lp.highs(tl, watch)
    sol = hb.run(h)
    w = obj.welfare
    plain_sum = w is not None and w.kind is WelfareKind.UTILITARIAN and w.weights is None
    if w is not None and w.kind is WelfareKind.KALAI_SMORODINSKY:
        plain_sum = not (_span(obj, w.d(np.arange(u.shape[0]))) > 0).any()  # W = 0: the sum
    if not sol.termination.is_optimal or plain_sum:
        return sol.x[:c], sol.termination, "highs"
    on = np.flatnonzero(lp.cost).astype(np.int32)
    best = sol.objective
    h.addRow(best - EXACT_RTOL * max(1.0, abs(best)), hb.INF, len(on), on, lp.cost[on])
    total = np.zeros_like(lp.cost)
    total[:c] = u.sum(axis=0)
    h.changeColsCost(len(total), np.arange(len(total), dtype=np.int32), total)
    h.setOptionValue("solver", "choose")  # the dual simplex from stage 1's basis
    left = watch.remaining(tl)
    if left is not None:  # HiGHS' time limit counts the instance's whole run time
        h.setOptionValue("time_limit", float(h.getRunTime()) + max(left, 1e-3))
    sol2 = hb.run(h)
    if not sol2.termination.has_solution and not watch.expired(tl):  # infeasible within tol
        row = h.getNumRow() - 1
        h.changeRowBounds(row, best - float(tie_tolerance(best)), hb.INF)
        sol2 = hb.run(h)
    if sol2.termination.has_solution:
        # a total no better beyond the tolerance does not pay for the objective traded away
        total1, total2 = float(total @ sol.x), float(total @ sol2.x)
        if total2 <= total1 + float(tie_tolerance(total1)):
            return sol.x[:c], sol.termination, "highs"
        return sol2.x[:c], sol2.termination, "highs"
    detail = f"tie-break LP ended {sol2.termination.reason.value}: objective-optimal solution kept"
    if sol2.termination.limit is not None:  # the lexicographic problem was not solved
        return sol.x[:c], Termination.feasible(sol2.termination.limit, detail), "highs"
    return sol.x[:c], sol.termination.with_detail(detail), "highs"


# -- Nash welfare --------------------------------------------------------------------------

NASH_TOL = 1e-6
"""``OPTIMAL`` for the Nash objective: the returned distribution's ``sum_i log(E[u_i] - d_i)``
is certified within this of the optimum (its product welfare within a factor ``1 - 1e-6``)."""
NASH_ROUND_GAP = 1e-7
"""Column generation stops when the linearization LP certifies the conic point within this."""
NASH_ROUNDS = 100
"""Most linearization LPs (column-generation rounds and Frank-Wolfe steps) of the Nash
objective (then ``FEASIBLE``, ``Limit.ITERATION``)."""
SUPPORT_TOL = 1e-12
"""LP probabilities above this bring their outcome into the conic master's columns."""


@dataclass
class _NashRun:
    """The state of the Nash column generation: the best point ``p`` so far (the max-min LP's,
    a conic master's or a Frank-Wolfe step's, full length), the best certified upper bound on
    ``max sum_i log(E[u_i] - d_i)`` (``inf`` before the first linearization LP), whether every
    conic solve said ``optimal``, how many conic points there were, and why the loop stopped
    (``None``: certified)."""

    p: NDArray[np.float64]
    log_bound: float = math.inf
    conic_optimal: bool = True
    conic_points: int = 0
    stop: Termination | None = None


def _nash(
    poly: _Polytope,
    u: NDArray[np.float64],
    d: NDArray[np.float64],
    kind: str,
    tl: float | None,
    watch: Stopwatch,
) -> tuple[NDArray[np.float64], Termination, str, float]:
    """``max sum_i log(U_i p - d_i)`` over the polytope; also returns the certified bound on
    the product welfare (``nan`` when none).

    1. The max-min LP ``t* = max min_i (U_i p - d_i)``: ``t* <= 0`` means no distribution is
       inside the Nash domain (``INFEASIBLE``); its support seeds the column set ``S``.
    2. Column generation (simplicial decomposition): the conic master ``max sum_i log(y_i)``
       over distributions supported on ``S`` (cvxpy, exponential cone, Clarabel; small, so
       well conditioned: Clarabel stalls on the full CCE of a 10^4-outcome game); then, with
       ``g = 1 / y``, the linearization LP ``max_p g . (U p - d)`` over the whole polytope
       (HiGHS). Concavity of ``log`` gives ``sum log y' <= sum log y + g . (y' - y)`` for every
       feasible ``y'``, so ``gap = max_p g . (U p - d) - n`` certifies ``y`` within ``gap`` of
       the optimum; otherwise the LP's support joins ``S`` and the master is solved again (or,
       when ``S`` already holds it, a Frank-Wolfe step improves the imprecise conic point:
       :func:`_nash_columns`).
    3. The LP polish of :func:`_nash_polish`.

    ``OPTIMAL`` is decided by the certificate, not by the conic solver's status: only when the
    returned distribution is an optimal solution of the polish LP (a point of the polytope
    within HiGHS' tolerance) and the linearization LP proves it within :data:`NASH_TOL` of the
    optimum (the detail says when a conic solve ended ``optimal_inaccurate``; that status alone
    is never taken for ``OPTIMAL``). A limit is ``FEASIBLE`` or ``NO_SOLUTION_FOUND``; anything
    else with a distribution is ``IMPRECISE`` (the detail and ``info.bound`` say how far it may
    be); a conic failure before any conic point is ``NUMERICAL_ERROR``.
    """
    c = u.shape[1]
    empty = np.empty(0)
    egal = _Objective("egalitarian", Welfare(WelfareKind.EGALITARIAN, None, tuple(d)), None)
    pre = _objective_lp(poly, u, egal).solve(tl, watch)
    if not pre.termination.has_solution:
        detail = "max-min gain LP (the Nash domain check)"
        return empty, pre.termination.with_detail(detail), "highs", math.nan
    if pre.objective <= 0.0:
        detail = (
            f"no {kind.upper()} gives every player more than its disagreement value "
            f"(max min_i (E[u_i] - d_i) = {pre.objective:.6g} <= 0): the Nash welfare is -inf "
            "on the whole feasible set"
        )
        if pre.termination.is_optimal:
            term = Termination.failed(TerminationReason.INFEASIBLE, detail)
        else:
            term = Termination.no_solution(pre.termination.limit or Limit.OTHER, detail)
        return empty, term, "highs", math.nan
    backend = "cvxpy:CLARABEL+highs"
    start = np.clip(pre.x[:c], 0.0, None)
    run = _nash_columns(poly, u, d, start / start.sum(), tl, watch)
    if run.stop is not None and not run.stop.has_solution:
        return empty, run.stop, backend, math.nan
    x, polished, notes = _nash_polish(poly, u, run.p, tl, watch)
    y = u @ np.clip(x, 0.0, None) / max(float(np.clip(x, 0.0, None).sum()), 1e-300) - d
    value = float(np.log(y).sum()) if np.all(y > 0) else -math.inf
    shortfall = max(0.0, run.log_bound - value)  # (rounding can put the bound just below)
    bound = math.exp(max(run.log_bound, value)) if run.log_bound < math.inf else math.nan
    reasons = [] if run.conic_optimal else ["a conic solve ended optimal_inaccurate"]
    reasons += [notes] if notes else []
    reasons += [f"certified within {shortfall:.3g} of the optimal log Nash welfare"]
    detail = "; ".join(reasons)
    if run.stop is not None:
        return x, run.stop.with_detail(detail), backend, bound
    if polished and shortfall <= NASH_TOL:
        return x, Termination.optimal(detail), backend, bound
    if watch.expired(tl):
        return x, Termination.feasible(Limit.TIME, detail), backend, bound
    return x, Termination(TerminationReason.IMPRECISE, None, detail), backend, bound


def _nash_columns(
    poly: _Polytope,
    u: NDArray[np.float64],
    d: NDArray[np.float64],
    start: NDArray[np.float64],
    tl: float | None,
    watch: Stopwatch,
) -> _NashRun:
    """Step 2 of :func:`_nash` from the max-min LP's distribution ``start`` (inside the Nash
    domain; its support is the first column set): conic master, linearization LP, repeat.

    When the linearization LP's support is already among the master's columns but its gap is
    still over :data:`NASH_ROUND_GAP`, the master's point is only imprecise (the conic
    tolerance): a Frank-Wolfe step toward the LP's solution, with an exact line search, then
    improves it, and the LP is solved again at the new point.
    """
    n = u.shape[0]
    run = _NashRun(p=start)
    cols = start > SUPPORT_TOL
    lps = 0
    while True:
        if watch.expired(tl):
            run.stop = Termination.feasible(Limit.TIME, "time limit in the Nash column generation")
            return run
        p, status = _nash_master(poly, u, d, np.flatnonzero(cols), tl, watch)
        if p is None:
            if status == "user_limit":
                limit = Limit.TIME if watch.expired(tl) else Limit.ITERATION
                run.stop = Termination.feasible(limit, "conic solver: user_limit")
            else:
                run.stop = _failure(run, f"conic solver: {status}")
            return run
        if not np.all(u @ p - d > 0):  # the conic point left the log's domain: numerical
            run.stop = _failure(run, "conic solver returned a point with E[u_i] <= d_i")
            return run
        if run.conic_points == 0 or _log_nash(u, d, p) >= _log_nash(u, d, run.p):
            run.p = p
        run.conic_points += 1
        run.conic_optimal &= status == "optimal"
        while True:
            if lps == NASH_ROUNDS:
                detail = f"{NASH_ROUNDS} linearization LPs"
                run.stop = Termination.feasible(Limit.ITERATION, detail)
                return run
            lps += 1
            y = u @ run.p - d
            if not np.all(y > 0):  # (the max-min LP's point, within its tolerance of d)
                run.stop = _failure(run, "no point strictly inside the Nash domain")
                return run
            g = 1.0 / y
            lin = _Lp(g @ u, *poly.rows(), np.zeros(u.shape[1]), np.full(u.shape[1], hb.INF))
            sol = lin.solve(tl, watch)
            if not sol.termination.is_optimal:
                detail = f"linearization LP: {sol.termination.reason.value}"
                stopped_by = sol.termination.limit
                run.stop = (
                    _failure(run, detail)
                    if stopped_by is None
                    else Termination.feasible(stopped_by, detail)
                )
                return run
            gap = max(0.0, float(sol.objective - g @ d - n))
            run.log_bound = min(run.log_bound, float(np.log(y).sum()) + gap)
            if gap <= NASH_ROUND_GAP:
                return run
            new = (sol.x > SUPPORT_TOL) & ~cols
            if new.any():
                cols |= new
                break
            t = _line_search(y, u @ sol.x - d - y)
            if t <= 0.0:
                return run
            run.p = run.p + t * (sol.x - run.p)


def _log_nash(u: NDArray[np.float64], d: NDArray[np.float64], p: NDArray[np.float64]) -> float:
    """``sum_i log(U_i p - d_i)`` (``-inf`` outside the domain)."""
    y = u @ p - d
    return float(np.log(y).sum()) if np.all(y > 0) else -math.inf


def _line_search(y: NDArray[np.float64], dy: NDArray[np.float64]) -> float:
    """``argmax_{t in [0, 1]} sum_i log(y_i + t dy_i)`` (``y > 0``) by bisection on the
    derivative, which decreases in ``t`` (to ``-inf`` where a ``y_i + t dy_i`` reaches 0)."""

    def rising(t: float) -> bool:
        z = y + t * dy
        return bool(np.all(z > 0)) and float(np.sum(dy / np.where(z > 0, z, 1.0))) > 0.0

    if not rising(0.0):
        return 0.0
    if rising(1.0):
        return 1.0
    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if rising(mid) else (lo, mid)
    return lo


def _failure(run: _NashRun, detail: str) -> Termination:
    """``IMPRECISE`` (the best point so far is kept) after a conic point, else
    ``NUMERICAL_ERROR`` (no solution: the max-min LP's point is not a Nash solution of any
    precision)."""
    if run.conic_points == 0:
        return Termination.failed(TerminationReason.NUMERICAL_ERROR, detail)
    return Termination(TerminationReason.IMPRECISE, None, f"{detail}: best point so far")


MASTER_TOLERANCES = {"tol_gap_abs": 1e-12, "tol_gap_rel": 1e-12, "tol_feas": 1e-12}
"""Clarabel's tolerances for the conic master (its defaults are 1e-8). The master's point, not
only its value, must be accurate: the objective is flat near the optimum, so a point is only
as accurate as about the square root of the value's tolerance, and the linearization
certificate is loose by the point's error (at the defaults and without the Frank-Wolfe steps,
58 of 281 random small games were certified only within 1e-6 to 5e-4; with both, none).
Clarabel often ends ``optimal_inaccurate`` (its reduced tolerances) at these: the
certificate, not that status, decides ``OPTIMAL``."""


def _nash_master(
    poly: _Polytope,
    u: NDArray[np.float64],
    d: NDArray[np.float64],
    cols: NDArray[np.int64],
    tl: float | None,
    watch: Stopwatch,
) -> tuple[NDArray[np.float64] | None, str]:
    """``max sum_i log(U_i p - d_i)`` over distributions of the polytope supported on
    ``cols`` (Clarabel within the time left, :data:`MASTER_TOLERANCES`): the full-length
    ``p`` (clipped, renormalized) and cvxpy's status, or ``None`` and the reason."""
    cp = cvxpy()
    sub = poly.incentive.tocsc()[:, cols]
    options = dict(MASTER_TOLERANCES)
    if tl is not None:
        options["time_limit"] = max(1e-3, watch.remaining(tl) or 0.0)
    with warnings.catch_warnings():
        # cvxpy's "Solution may be inaccurate" (the status says so), and numpy's "invalid value
        # encountered in reduce" from cvxpy's shape inference (np.sum over np.empty)
        warnings.simplefilter("ignore", UserWarning)
        warnings.filterwarnings("ignore", "invalid value", RuntimeWarning, r"numpy\.")
        x = cp.Variable(len(cols), nonneg=True)
        constraints = [cp.sum(x) == 1]
        if sub.shape[0]:
            constraints.append(sub @ x <= poly.epsilon)
        prob = cp.Problem(cp.Maximize(cp.sum(cp.log(u[:, cols] @ x - d))), constraints)
        try:
            prob.solve(solver=cp.CLARABEL, **options)
        except cp.error.SolverError as exc:
            return None, str(exc)
    if prob.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE) or x.value is None:
        return None, str(prob.status)
    p = np.zeros(u.shape[1])
    p[cols] = np.clip(np.asarray(x.value, dtype=np.float64), 0.0, None)
    p /= max(float(p.sum()), 1e-300)
    return p, str(prob.status)


POLISH_SLACKS = (1e-7, 1e-5, 1e-3)


def _nash_polish(
    poly: _Polytope,
    u: NDArray[np.float64],
    raw: NDArray[np.float64],
    tl: float | None,
    watch: Stopwatch,
) -> tuple[NDArray[np.float64], bool, str]:
    """A basic distribution of the polytope with ``U p >= U raw - slack``, best ``sum U p``;
    whether it is an optimal polish LP solution; notes (``""`` for the clean polish).

    A conic point satisfies the incentive rows only to the solver's tolerance, so ``U raw``
    may be just out of reach: the slack grows (:data:`POLISH_SLACKS`, relative) until the
    polish is feasible. Without a polished distribution ``raw`` (the column generation's best
    point) is returned (its gap says how far it is from the polytope).
    """
    y_star = u @ raw
    a, lo, hi = poly.rows()
    a = sp.vstack([a, sp.csr_array(u)], format="csr")
    c = u.shape[1]
    notes: list[str] = []
    for rel in POLISH_SLACKS:
        slack = rel * np.maximum(1.0, np.abs(y_star))
        lp = _Lp(
            u.sum(axis=0),
            a,
            np.concatenate([lo, y_star - slack]),
            np.concatenate([hi, np.full(len(y_star), hb.INF)]),
            np.zeros(c),
            np.full(c, hb.INF),
            utility_rows=True,
        )
        sol = lp.solve(tl, watch)
        if sol.termination.has_solution:
            if notes or not sol.termination.is_optimal:
                notes.append(f"polish LP {sol.termination.reason.value} within {rel:g}")
            return sol.x, sol.termination.is_optimal, "; ".join(notes)
        notes.append(f"polish LP {sol.termination.reason.value} within {rel:g}")
        if sol.termination.reason is not TerminationReason.INFEASIBLE:
            break
    notes.append("unpolished distribution returned")
    return raw, False, "; ".join(notes)


# -- results -------------------------------------------------------------------------------


def _result(
    g: NormalFormGame,
    kind: str,
    obj: _Objective,
    eps: float,
    x: NDArray[np.float64],
    term: Termination,
    method: str,
    backend: str,
    bound: float,
    watch: Stopwatch,
) -> CorrelatedResult:
    """Clip and renormalize the solver's ``p``; recompute utilities, welfare and gap from it."""
    n, ks = g.n_players, g.num_actions
    if not term.has_solution or x.size != g.n_outcomes or not np.all(np.isfinite(x)):
        nan = np.full(ks, np.nan)
        info = SolveInfo(term, math.nan, method, backend, watch.elapsed, bound)
        return CorrelatedResult(
            kind,
            readonly(nan),
            readonly(np.full(n, np.nan)),
            obj.name,
            math.nan,
            math.nan,
            eps,
            info,
        )
    p = np.clip(x, 0.0, None)
    p /= p.sum()
    dist = p.reshape(ks)
    utilities = g.payoffs.reshape(n, -1) @ p
    if obj.welfare is None:
        assert obj.player is not None
        welfare = float(utilities[obj.player])
    else:
        welfare = float(obj.welfare.evaluate(utilities, np.arange(n), ideal=obj.ideal))
    gap = _gap(g.payoffs, dist, kind).gap
    if math.isfinite(bound):  # the optimum is at least what was found (rounding aside)
        bound = max(bound, welfare)
    info = SolveInfo(term, welfare, method, backend, watch.elapsed, bound)
    return CorrelatedResult(
        kind, readonly(dist), readonly(utilities), obj.name, welfare, gap, eps, info
    )


def _gap(payoffs: NDArray[np.float64], p: NDArray[np.float64], kind: str) -> GapResult:
    """:func:`equilibrium_gap` on validated input: per player the CE gains
    ``G[a, b] = sum_m P[a, m] (U[b, m] - U[a, m])`` (one vectorized product per own action
    ``a``, memory of one ``(k_i, outcomes / k_i)`` block); the CCE gains are its column sums."""
    n = payoffs.shape[0]
    best: list[NDArray[np.float64]] = []
    for i in range(n):
        u = _player_view(payoffs[i], i)
        pv = _player_view(p, i)
        gains = np.stack([(u - u[a]) @ pv[a] for a in range(u.shape[0])])  # [from, to]
        best.append(gains if kind == "ce" else gains.sum(axis=0))
    player_gaps = np.array([max(0.0, float(b.max())) for b in best])
    gap = float(player_gaps.max())
    width = 2 if kind == "ce" else 1
    if gap <= 0.0:
        return GapResult(
            kind, 0.0, -1, readonly(np.full(width, -1, dtype=np.int64)), readonly(player_gaps)
        )
    who = int(np.argmax(player_gaps))
    at = np.unravel_index(int(np.argmax(best[who])), best[who].shape)
    deviation = np.array([int(j) for j in at], dtype=np.int64)
    return GapResult(kind, gap, who, readonly(deviation), readonly(player_gaps))
