"""The cheapest additional payments that make a target profile an equilibrium: k-implementation
(D. Monderer and M. Tennenholtz, "k-Implementation", Journal of Artificial Intelligence
Research 21, 2004), the exact counterpart of seed 001 chapter 4's planning agent (a planner
that hands out additional rewards ``r^p_i`` in ``[-c, c]``, ``c = 3``, so that learners
cooperate; Table 4.1 games, Tables 4.2-4.3 average additional rewards).

An interested party promises every player ``i`` a payment ``x_i(s)`` at every joint pure
outcome ``s`` (paid when ``s`` is played), ``|x_i(s)| <= B`` (``bound``; ``payments=
"nonnegative"``: ``0 <= x_i(s) <= B``). The players then play the game ``u + x``. With
``t = (t_1, ..., t_n)`` the target profile and ``m >= 0`` the margin:

- ``kind="nash"``: ``t`` is a Nash equilibrium of ``u + x`` in which every unilateral
  deviation loses at least ``m`` (strict for ``m > 0``): for every player ``i`` and action
  ``a != t_i``::

      u_i(t) + x_i(t) >= u_i(a, t_-i) + x_i(a, t_-i) + m

- ``kind="dominant"``: ``t_i`` is dominant for every player, by at least ``m`` against every
  profile of the others: for every ``i``, ``a != t_i`` and ``s_-i``::

      u_i(t_i, s_-i) + x_i(t_i, s_-i) >= u_i(a, s_-i) + x_i(a, s_-i) + m

- ``revenue_neutral=True`` (seed 001's redistribution, ``sum_i r^p_i = 0``): ``sum_i x_i(s) =
  0`` at every outcome.

Costs (what the party pays; Monderer and Tennenholtz charge only what is paid at the
equilibrium, the promises off it are free): the payment at the target ``T = sum_i |x_i(t)|``
and the worst case over all outcomes ``W = max_s sum_i |x_i(s)|`` (what the party risks when
the players do not play ``t``). Objectives, solved lexicographically (each stage among the
optima of the previous ones, :mod:`._lexicographic`):

- ``objective="target"``: min ``T``, then min ``W``;
- ``objective="worst_case"``: min ``W``, then min ``T``;

and in both cases finally min ``sum_s sum_i |x_i(s)|`` (no payment promised where none is
needed: the returned tensor is the sparsest of the optima in this sense). With ``x = p - q``,
``p, q >= 0`` (one column each for ``"any"``; ``x = p`` for ``"nonnegative"``), ``|x| <= p +
q``, with equality at the last stage's optimum; ``W`` is an epigraph column ``W >= sum_i (p_i(s)
+ q_i(s))`` for every ``s``. Every constraint is linear: an LP, solved with HiGHS on payoffs,
the deviation gains plus margin scaled into ``[-1, 1]`` (HiGHS' tolerances are absolute).

Closed forms the tests check (``g_i(a) = u_i(a, t_-i) - u_i(t) + m``, the gain of the
deviation ``a`` plus the margin; Nash, no revenue neutrality, ``objective="target"``): each
player separately, ``nonnegative``: ``x_i(t) = max(0, max_a g_i(a))`` (feasible iff that is
``<= B``); ``any``: ``|x_i(t)| = max(0, max_a g_i(a) - B)`` (the deviations are punished by
``-B`` first; feasible iff ``max_a g_i(a) <= 2B``). An infeasible request is a result with
termination ``INFEASIBLE``, never an error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from ..core import highs_backend as hb
from ..core import validation as v
from ..core.limits import Limits, resolve
from ..core.results import (
    HasSolveInfo,
    SolveInfo,
    Stopwatch,
    Termination,
    TerminationReason,
    readonly,
)
from ..games.normal_form import NormalFormGame, as_game
from ._lexicographic import solve_lexicographic

KINDS = ("nash", "dominant")
PAYMENTS = ("any", "nonnegative")
OBJECTIVES = ("target", "worst_case")

DEFAULT_BOUND = 3.0
"""Seed 001 chapter 4: the planning agent's rewards lie in ``[-c, c]`` with ``c = 3``."""

HUGE = 2.0**1020
"""Payoffs (or a margin) above this are multiplied by :data:`HUGE_PRESCALE` (exactly, a power
of two) before the deviation gains ``u_i(a, .) - u_i(t_i, .) + m`` are formed, so that none
overflows float64 (``1e308 - (-1e308)``)."""

HUGE_PRESCALE = 0.25

ZERO_RTOL = 1e-8
"""Returned payments below this (relative to the largest deviation gain plus margin) are 0."""

LOSS_RTOL = 1e-7
"""A returned payment tensor whose recomputed least deviation loss falls short of the margin by
more than this (relative to the largest deviation gain plus margin) is ``IMPRECISE``."""


@dataclass(frozen=True, eq=False)
class IncentiveResult(HasSolveInfo):
    """The cheapest payments implementing a target profile (module docstring).

    Attributes:
        kind: ``"nash"`` or ``"dominant"``.
        target: ``(n,)`` the target pure profile.
        payments: ``(n, k_1, ..., k_n)`` the payment tensor ``x`` (``payments[i, s]`` to player
            ``i`` at outcome ``s``); all ``nan`` without a solution.
        target_payments: ``(n,)`` the signed payments at the target, ``x_i(t)``.
        target_payment: ``T = sum_i |x_i(t)|``, recomputed from ``payments``.
        worst_case_payment: ``W = max_s sum_i |x_i(s)|``, recomputed.
        worst_case_outcome: ``(n,)`` an outcome attaining ``W`` (the first in C order).
        deviation_loss: the least loss of any constrained deviation in ``u + x``, recomputed
            (``>= margin`` up to the LP tolerance; ``nan`` without a solution).
        objective_name: ``"target"`` or ``"worst_case"`` (the first stage).
        payments_sign: ``"any"`` or ``"nonnegative"``.
        bound: ``B`` (``inf`` when unbounded).
        margin: the margin asked for.
        revenue_neutral: whether ``sum_i x_i(s) = 0`` was imposed.
        info: termination, objective (the first stage's value, recomputed: ``T`` or ``W``),
            method ``"lp"``, backend ``"highs"``, wall time.
    """

    kind: str
    target: NDArray[np.int64]
    payments: NDArray[np.float64]
    target_payments: NDArray[np.float64]
    target_payment: float
    worst_case_payment: float
    worst_case_outcome: NDArray[np.int64]
    deviation_loss: float
    objective_name: str
    payments_sign: str
    bound: float
    margin: float
    revenue_neutral: bool
    info: SolveInfo


def cheapest_incentives(
    game: NormalFormGame | Any,
    target: Any,
    *,
    kind: str = "nash",
    bound: float = DEFAULT_BOUND,
    payments: str = "any",
    revenue_neutral: bool = False,
    margin: float = 0.0,
    objective: str = "target",
    time_limit: float | None = None,
    limits: Limits | None = None,
) -> IncentiveResult:
    """The cheapest payments ``x`` making ``target`` a Nash equilibrium (every deviation losing
    at least ``margin``) or a dominant-strategy profile of ``u + x`` (module docstring).

    Args:
        game: a :class:`NormalFormGame` or its payoff array ``(n, k_1, ..., k_n)``.
        target: ``(n,)`` the target pure profile, ``0 <= target[i] < k_i``.
        kind: ``"nash"`` or ``"dominant"``.
        bound: ``B >= 0``, every ``|x_i(s)| <= B`` (default 3, seed 001's ``c``); ``math.inf``
            (or ``None``): unbounded.
        payments: ``"any"`` (either sign) or ``"nonnegative"`` (``x >= 0``: rewards only).
        revenue_neutral: impose ``sum_i x_i(s) = 0`` at every outcome.
        margin: ``m >= 0`` in payoff units; ``m > 0`` makes the equilibrium (or the dominance)
            strict. ``m = 0`` gives the weak version, whose optimum is the infimum of the
            strict versions' (the optimum is continuous in ``m``).
        objective: ``"target"`` (min ``T``, then ``W``) or ``"worst_case"`` (min ``W``, then
            ``T``); both then minimize the total promised payment.
        time_limit: seconds for the whole call (``None``: no limit).
        limits: size limits: the LP's columns ``2 n prod k_i + 1`` within ``max_candidates``.
    """
    fn = "cheapest_incentives"
    watch = Stopwatch()
    lim = resolve(limits)
    g = as_game(fn, game, lim)
    t = g.check_actions(fn, target, "target")
    k = v.choice(fn, "kind", kind, KINDS)
    unbounded = bound is None or (isinstance(bound, float | np.floating) and bound == math.inf)
    b = math.inf if unbounded else v.real(fn, "bound", bound, min_value=0.0)
    sign = v.choice(fn, "payments", payments, PAYMENTS)
    neutral = v.flag(fn, "revenue_neutral", revenue_neutral)
    m = v.real(fn, "margin", margin, min_value=0.0)
    obj = v.choice(fn, "objective", objective, OBJECTIVES)
    tl = v.time_limit(fn, time_limit)
    n, size = g.n_players, g.n_outcomes
    splits = 2 if sign == "any" else 1
    lim.check(fn, "game", splits * n * size + 1, "max_candidates")
    pre = HUGE_PRESCALE if max(float(np.max(np.abs(g.payoffs))), m) > HUGE else 1.0
    lp = _build(g.payoffs * pre, t, k, b * pre, sign, neutral, m * pre)
    scale = _scale(lp.lo)
    lp = lp.scaled(scale)
    scale *= pre  # from payoff units to the LP's
    first, second = (lp.target_cost, lp.worst_cost)
    if obj == "worst_case":
        first, second = second, first
    sol = solve_lexicographic(
        [first, second, lp.total_cost],
        lp.a,
        lp.lo,
        lp.hi,
        lp.col_lo,
        lp.col_hi,
        maximize=False,
        time_limit=tl,
        watch=watch,
        names=(obj, "second", "total payment"),
    )
    x, term = np.empty(0), sol.termination
    if term.has_solution:
        with np.errstate(over="ignore"):
            x = lp.payments(sol.x) / scale
        if not np.isfinite(x).all():
            x = np.empty(0)
            term = Termination.failed(
                TerminationReason.NUMERICAL_ERROR, "the payments overflow float64"
            )
    return _result(g, t, k, sign, b, m, neutral, obj, x, term, scale, watch)


# -- the LP --------------------------------------------------------------------------------


def _scale(lo: NDArray[np.float64]) -> float:
    """One factor putting the incentive rows' right-hand sides ``u_i(a, .) - u_i(t_i, .) + m``
    into ``[-1, 1]`` (1 when all are 0). The rows' coefficients are all +-1, so the payments
    scale with it: HiGHS' absolute tolerances become relative to the largest deviation gain,
    whatever the bound (a bound far above the payoffs must not shrink them below the
    tolerances) and whatever constant the payoffs carry."""
    finite = lo[np.isfinite(lo)]
    top = float(np.max(np.abs(finite))) if finite.size else 0.0
    return 1.0 / top if 0.0 < top < math.inf else 1.0


def _player_view(a: NDArray[Any], i: int) -> NDArray[Any]:
    """An array over outcomes as ``(k_i, outcomes / k_i)``: player i's action first."""
    return np.moveaxis(a, i, 0).reshape(a.shape[i], -1)


@dataclass(frozen=True, eq=False)
class _IncentiveLp:
    """Columns ``[p (n * S), q (n * S) for "any", W]``, ``x_i(s) = p[i*S + s] - q[i*S + s]``;
    rows: incentive, revenue neutrality, the epigraph of ``W``."""

    n: int
    size: int
    splits: int
    a: sp.csr_array
    lo: NDArray[np.float64]
    hi: NDArray[np.float64]
    col_lo: NDArray[np.float64]
    col_hi: NDArray[np.float64]
    target_cost: NDArray[np.float64]
    worst_cost: NDArray[np.float64]
    total_cost: NDArray[np.float64]

    def scaled(self, factor: float) -> _IncentiveLp:
        """The same LP in payments multiplied by ``factor`` (every coefficient is +-1 or 0, so
        only the right-hand sides and the bounds change)."""
        return replace(self, lo=self.lo * factor, hi=self.hi * factor, col_hi=self.col_hi * factor)

    def payments(self, z: NDArray[np.float64]) -> NDArray[np.float64]:
        """``x`` as ``(n, S)`` from the LP's columns."""
        ns = self.n * self.size
        x = z[:ns].copy()
        if self.splits == 2:
            x -= z[ns : 2 * ns]
        return x.reshape(self.n, self.size)


def _build(
    u: NDArray[np.float64],
    t: NDArray[np.int64],
    kind: str,
    bound: float,
    sign: str,
    neutral: bool,
    margin: float,
) -> _IncentiveLp:
    """The LP of the module docstring in payoff units (:meth:`_IncentiveLp.scaled` rescales
    it)."""
    n, ks = u.shape[0], u.shape[1:]
    size = math.prod(ks)
    ns = n * size
    splits = 2 if sign == "any" else 1
    n_col = splits * ns + 1
    flat = np.arange(size, dtype=np.int64).reshape(ks)
    t_flat = int(flat[tuple(t.tolist())])
    blocks: list[sp.csr_array] = []
    lows: list[NDArray[np.float64]] = []
    highs: list[NDArray[np.float64]] = []

    def x_matrix(
        rows: NDArray[np.int64], cols: NDArray[np.int64], vals: NDArray[np.float64], n_rows: int
    ) -> sp.csr_array:
        """Rows over ``x`` (given by ``x``'s flat index ``i*S + s``) as rows over the columns."""
        r = np.concatenate([rows] * splits)
        c = np.concatenate([cols + j * ns for j in range(splits)])
        d = np.concatenate([vals * (1.0 if j == 0 else -1.0) for j in range(splits)])
        return sp.csr_array((d, (r, c)), shape=(n_rows, n_col))

    rows_i, cols_i, vals_i, rhs = [], [], [], []
    count = 0
    for i in range(n):
        ui = _player_view(u[i], i)  # (k_i, M): M profiles of the others
        idx = _player_view(flat, i) + i * size  # x_i's flat index
        if kind == "nash":  # only against t_-i
            rest = [j for j in range(n) if j != i]
            at = [int(np.ravel_multi_index([int(t[j]) for j in rest], [ks[j] for j in rest]))]
            ui, idx = ui[:, at], idx[:, at]
        width = ui.shape[1]
        for a in range(ks[i]):
            if a == t[i]:
                continue
            r = count + np.arange(width)
            rows_i += [r, r]
            cols_i += [idx[t[i]], idx[a]]
            vals_i += [np.ones(width), -np.ones(width)]
            rhs.append(ui[a] - ui[t[i]] + margin)
            count += width
    if count:
        blocks.append(
            x_matrix(np.concatenate(rows_i), np.concatenate(cols_i), np.concatenate(vals_i), count)
        )
        lows.append(np.concatenate(rhs))
        highs.append(np.full(count, hb.INF))
    if neutral:
        s = np.arange(size)
        blocks.append(x_matrix(np.tile(s, n), np.arange(ns), np.ones(ns), size))
        lows.append(np.zeros(size))
        highs.append(np.zeros(size))
    # W - sum_i (p_i(s) + q_i(s)) >= 0
    s = np.arange(size)
    r = np.concatenate([np.tile(s, n * splits), s])
    c = np.concatenate([np.arange(splits * ns), np.full(size, n_col - 1)])
    d = np.concatenate([-np.ones(splits * ns), np.ones(size)])
    blocks.append(sp.csr_array((d, (r, c)), shape=(size, n_col)))
    lows.append(np.zeros(size))
    highs.append(np.full(size, hb.INF))
    col_hi = np.full(n_col, bound if math.isfinite(bound) else hb.INF)
    col_hi[-1] = hb.INF
    target_cost = np.zeros(n_col)
    for j in range(splits):
        target_cost[j * ns + t_flat + size * np.arange(n)] = 1.0
    worst_cost = np.zeros(n_col)
    worst_cost[-1] = 1.0
    total_cost = np.ones(n_col)
    total_cost[-1] = 0.0
    return _IncentiveLp(
        n,
        size,
        splits,
        sp.vstack(blocks, format="csr"),
        np.concatenate(lows),
        np.concatenate(highs),
        np.zeros(n_col),
        col_hi,
        target_cost,
        worst_cost,
        total_cost,
    )


# -- results -------------------------------------------------------------------------------


def _deviation_loss(
    payoffs: NDArray[np.float64], x: NDArray[np.float64], t: NDArray[np.int64], kind: str
) -> float:
    """The least loss ``(u + x)_i(t_i, s_-i) - (u + x)_i(a, s_-i)`` over the constrained
    deviations (``s_-i = t_-i`` for Nash, every ``s_-i`` for dominance); ``inf`` when no
    player has a second action. Computed in halves, ``2 ((u_own/2 - u_a/2) + (x_own/2 -
    x_a/2))``, so that no intermediate overflows unless the loss itself does."""
    n = payoffs.shape[0]
    best = math.inf
    for i in range(n):
        half = 0.0
        for part in (payoffs, x):
            pi = np.moveaxis(part[i], i, 0) / 2.0
            if kind == "nash":
                pi = pi[(slice(None), *[int(t[j]) for j in range(n) if j != i])]
            half = half + (pi[int(t[i])][None] - np.delete(pi, int(t[i]), axis=0))
        if np.size(half):
            with np.errstate(over="ignore"):
                best = min(best, 2.0 * float(np.min(half)))
    return best


def _result(
    g: NormalFormGame,
    t: NDArray[np.int64],
    kind: str,
    sign: str,
    bound: float,
    margin: float,
    neutral: bool,
    obj: str,
    x: NDArray[np.float64],
    term: Termination,
    scale: float,
    watch: Stopwatch,
) -> IncentiveResult:
    n, ks = g.n_players, g.num_actions
    if not term.has_solution or x.size == 0:
        info = SolveInfo(term, math.nan, "lp", "highs", watch.elapsed)
        return IncentiveResult(
            kind,
            readonly(t.copy()),
            readonly(np.full((n, *ks), np.nan)),
            readonly(np.full(n, np.nan)),
            math.nan,
            math.nan,
            readonly(np.full(n, -1, dtype=np.int64)),
            math.nan,
            obj,
            sign,
            bound,
            margin,
            neutral,
            info,
        )
    # solver noise (and what the later stages may take from an earlier optimum, 1e-9
    # relative): |x| below ZERO_RTOL of the scale is 0, and the bounds hold exactly
    x = np.where(np.abs(x) * scale < ZERO_RTOL, 0.0, x)
    lo = 0.0 if sign == "nonnegative" else -bound
    x = np.clip(x, lo, bound)
    pay = x.reshape(n, *ks)
    at_t = pay[(slice(None), *t.tolist())].copy()
    per_outcome = np.abs(x).sum(axis=0)
    worst_flat = int(np.argmax(per_outcome))
    worst = float(per_outcome[worst_flat])
    target_payment = float(np.abs(at_t).sum())
    loss = _deviation_loss(g.payoffs, pay, t, kind)
    top = 1.0 / scale
    if term.is_optimal and loss < margin - LOSS_RTOL * top:
        term = Termination(
            TerminationReason.IMPRECISE,
            None,
            f"recomputed least deviation loss {loss:.6g} below the margin {margin:.6g}",
        )
    value = target_payment if obj == "target" else worst
    info = SolveInfo(term, value, "lp", "highs", watch.elapsed)
    worst_at = np.array(np.unravel_index(worst_flat, ks), dtype=np.int64)
    return IncentiveResult(
        kind,
        readonly(t.copy()),
        readonly(pay),
        readonly(at_t),
        target_payment,
        worst,
        readonly(worst_at),
        loss,
        obj,
        sign,
        bound,
        margin,
        neutral,
        info,
    )
