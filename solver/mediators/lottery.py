"""Lottery Pareto Mediator: the LP relaxation of seed 000 eq. 3 (beyond the paper, SPEC 2).

Over the candidate outcomes ``c`` (non-delegators fixed) the mediator picks a distribution
``x``; with ``y_i = sum_c U[i, c] x_c - d_i`` the expected gain of delegator ``i``::

    max   W(y)                        (welfare of the delegators' expected utilities)
    s.t.  sum_c x_c = 1,  x >= 0
          sum_c U[i, c] x_c >= u_i(a)     for i in D   (Pareto in expectation)

- utilitarian ``w . y``; egalitarian ``max t, t <= y_i``; Kalai-Smorodinsky
  ``max t, t (ideal_i - d_i) <= y_i`` (ideal from the pure feasible set, as the deterministic
  mediator uses); inequity-averse ``sum y - beta/npairs sum s_ij, s_ij >= |y_i - y_j|``: LPs
  solved with HiGHS (simplex: a sparse, basic support).
- Nash ``max sum_i log y_i`` (exponential cone) with cvxpy, then an LP polish that finds a basic
  lottery with the same expected utilities (``y >= y* - tol``), so the support stays small.

A second stage maximizes the delegators' expected total utility among welfare-optimal
lotteries (the utilitarian tie-break). The deterministic mediator's outcome is a feasible
lottery, so the optimal lottery welfare is >= the deterministic welfare.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from ..core import highs_backend as hb
from ..core import validation as v
from ..core.cvxpy_backend import cvxpy
from ..core.errors import MechsolveInputError
from ..core.limits import Limits, resolve
from ..core.results import HasSolveInfo, SolveInfo, Stopwatch, Termination
from ..games.normal_form import NormalFormGame, as_game
from ..games.welfare import Welfare, WelfareKind, make_welfare, tie_tolerance
from .candidates import unflatten
from .deterministic import MediatorKind, candidate_block, mediator_spec

SUPPORT_TOL = 1e-9
"""Probabilities at or below this are dropped from the support (the rest renormalized)."""


@dataclass(frozen=True, eq=False)
class LotteryResult(HasSolveInfo):
    """A lottery over outcomes chosen by the Lottery Pareto Mediator.

    Attributes:
        actions_before, delegate, utilities_before: the submitted profile and ``u(a)``.
        support: ``(s, n)`` joint actions with positive probability.
        probabilities: ``(s,)``, summing to 1.
        expected_utilities: ``(n,)`` every player's expected utility under the lottery.
        welfare: ``W_D`` of the delegators' expected utilities (``nan`` if ``|D| < 2``: then
            the lottery is the point mass on ``a``).
        sampled_actions: one outcome drawn from the lottery with the given seed.
        welfare_name: the welfare function's name.
    """

    actions_before: NDArray[np.int64]
    delegate: NDArray[np.bool_]
    utilities_before: NDArray[np.float64]
    support: NDArray[np.int64]
    probabilities: NDArray[np.float64]
    expected_utilities: NDArray[np.float64]
    welfare: float
    sampled_actions: NDArray[np.int64]
    welfare_name: str
    info: SolveInfo


def lottery_pareto_mediator(
    game: NormalFormGame | Any,
    actions: Any,
    delegate: Any,
    *,
    welfare: str | Welfare | WelfareKind = "utilitarian",
    seed: int | np.random.Generator | None = 0,
    time_limit: float | None = None,
    limits: Limits | None = None,
) -> LotteryResult:
    """Lottery Pareto Mediator (see the module docstring for the program)."""
    fn = "lottery_pareto_mediator"
    watch = Stopwatch()
    lim = resolve(limits)
    g = as_game(fn, game, lim)
    a = g.check_actions(fn, actions)
    d = v.bool_array(fn, "delegate", delegate, shape=(g.n_players,))
    w = make_welfare(fn, welfare, g.n_players)
    tl = v.time_limit(fn, time_limit)
    rng = v.rng(fn, seed)
    before = g.payoffs[(slice(None), *a.tolist())].astype(np.float64)
    spec = mediator_spec(MediatorKind.PARETO, d)
    if spec.unchanged:
        info = SolveInfo(Termination.OPTIMAL, float("nan"), "lp", "none", watch.elapsed)
        return LotteryResult(
            a,
            d,
            before,
            a[None].copy(),
            np.ones(1),
            before.copy(),
            float("nan"),
            a.copy(),
            w.name,
            info,
        )
    n_cand = int(np.prod([g.num_actions[i] for i in spec.free], dtype=np.int64))
    lim.check(fn, "candidates", n_cand, "max_candidates")
    blk = candidate_block(g.payoffs, spec, w, a[None], before[None], g.num_actions)
    u = blk.utilities[:, 0, :]  # (n, C)
    ideal = None  # per player of the game (KS): the best pure feasible utility
    if blk.ideal is not None:
        ideal = np.full(g.n_players, np.nan)
        ideal[spec.beneficiaries] = blk.ideal[:, 0, 0]
    if w.kind is WelfareKind.NASH:
        if _max_min_gain(u, spec.free, w, before, tl, watch) > 0:
            x, term, backend = _nash_lottery(u, spec.free, w, before, tl, watch)
        else:  # no lottery inside the Nash domain: every W is -inf, the tie-break decides
            plain = Welfare(WelfareKind.UTILITARIAN, None, w.disagreement)
            x, term, backend = _lp_lottery(u, spec.free, plain, before, None, tl, watch)
    else:
        x, term, backend = _lp_lottery(u, spec.free, w, before, ideal, tl, watch)
    if not term.has_solution:
        x = np.zeros(u.shape[1])
        x[blk.submitted[0]] = 1.0
        term = Termination.FEASIBLE
    x = np.where(x > SUPPORT_TOL, x, 0.0)
    x /= x.sum()
    cols = np.flatnonzero(x)
    support = unflatten(cols, spec.free, g.num_actions, np.repeat(a[None], len(cols), axis=0))
    expected = u @ x
    ben = expected[spec.beneficiaries]
    value = float(
        w.evaluate(
            ben, spec.beneficiaries, ideal=None if ideal is None else ideal[spec.beneficiaries]
        )
    )
    sampled = support[rng.choice(len(cols), p=x[cols])]
    info = SolveInfo(term, value, "lp" if backend == "highs" else "convex", backend, watch.elapsed)
    return LotteryResult(
        a, d, before, support, x[cols], expected, value, sampled.copy(), w.name, info
    )


# -- LP welfare forms -----------------------------------------------------------------------


def _lp_lottery(
    u: NDArray[np.float64],
    dele: NDArray[np.int64],
    w: Welfare,
    before: NDArray[np.float64],
    ideal: NDArray[np.float64] | None,
    tl: float | None,
    watch: Stopwatch,
) -> tuple[NDArray[np.float64], Termination, str]:
    """Stage 1: max W(y) as an LP; stage 2: max sum_D E[u] s.t. W(y) >= W* - tol."""
    c = u.shape[1]
    model = _welfare_lp(u, dele, w, before, ideal)
    sol = hb.solve(
        model.cost,
        model.a,
        model.lo,
        model.hi,
        model.col_lo,
        model.col_hi,
        maximize=True,
        time_limit=watch.remaining(tl),
    )
    plain_sum = w.kind is WelfareKind.UTILITARIAN and w.weights is None
    if not sol.termination.has_solution or model.constant_welfare or plain_sum:
        return sol.x[:c], sol.termination, "highs"
    best = sol.objective
    a2 = sp.vstack([model.a, sp.csr_array(model.cost[None])])
    lo2 = np.append(model.lo, best - float(tie_tolerance(best)))
    hi2 = np.append(model.hi, hb.INF)
    cost2 = np.zeros_like(model.cost)
    cost2[:c] = u[dele].sum(axis=0)
    sol2 = hb.solve(
        cost2,
        a2,
        lo2,
        hi2,
        model.col_lo,
        model.col_hi,
        maximize=True,
        time_limit=watch.remaining(tl),
    )
    if sol2.termination.has_solution:
        return sol2.x[:c], sol2.termination, "highs"
    return sol.x[:c], Termination.FEASIBLE, "highs"


@dataclass(frozen=True, eq=False)
class _WelfareLp:
    """``max cost . z  s.t.  lo <= A z <= hi``, ``z = [x (C), extra vars]``."""

    cost: NDArray[np.float64]
    a: sp.csr_array
    lo: NDArray[np.float64]
    hi: NDArray[np.float64]
    col_lo: NDArray[np.float64]
    col_hi: NDArray[np.float64]
    constant_welfare: bool


def _welfare_lp(
    u: NDArray[np.float64],
    dele: NDArray[np.int64],
    w: Welfare,
    before: NDArray[np.float64],
    ideal: NDArray[np.float64] | None,
) -> _WelfareLp:
    c = u.shape[1]
    k = len(dele)
    ud = u[dele]  # (k, C)
    dd = w.d(dele)
    # Base rows: sum x = 1; Pareto U_D x >= u_D(a).
    rows = [np.ones((1, c)), ud]
    lo = [np.ones(1), before[dele]]
    hi = [np.ones(1), np.full(k, hb.INF)]
    n_extra = 0
    cost_extra: list[float] = []
    constant = False
    kind = w.kind
    if kind is WelfareKind.UTILITARIAN:
        wts = np.ones(k) if w.weights is None else np.asarray(w.weights)[dele]
        cost_x = wts @ ud
    elif kind in (WelfareKind.EGALITARIAN, WelfareKind.KALAI_SMORODINSKY):
        # t <= (y_i) / span_i  <=>  span_i t - U_i x <= -d_i
        span = np.ones(k)
        if kind is WelfareKind.KALAI_SMORODINSKY:
            assert ideal is not None
            span = ideal[dele] - dd
        valid = span > 0
        if not valid.any():
            constant = True
            cost_x = ud.sum(axis=0)
        else:
            n_extra = 1
            cost_x = np.zeros(c)
            cost_extra = [1.0]
            block = np.hstack([-ud[valid], span[valid, None]])
            rows = [np.hstack([r, np.zeros((r.shape[0], 1))]) for r in rows] + [block]
            lo += [np.full(int(valid.sum()), -hb.INF)]
            hi += [-dd[valid]]
    elif kind is WelfareKind.INEQUITY_AVERSE:  # sum y - beta/npairs sum s_ij, s_ij >= |y_i - y_j|
        pairs = [(i, j) for i in range(k) for j in range(i + 1, k)]
        n_extra = len(pairs)
        cost_x = ud.sum(axis=0)
        cost_extra = [-w.beta / max(1, len(pairs))] * len(pairs)
        rows = [np.hstack([r, np.zeros((r.shape[0], n_extra))]) for r in rows]
        for p, (i, j) in enumerate(pairs):
            diff = ud[i] - ud[j]
            shift = dd[i] - dd[j]
            e = np.zeros(n_extra)
            e[p] = 1.0
            # s - (y_i - y_j) >= 0  and  s + (y_i - y_j) >= 0
            rows.append(np.concatenate([-diff, e])[None])
            lo.append(np.array([-shift]))
            hi.append(np.array([hb.INF]))
            rows.append(np.concatenate([diff, e])[None])
            lo.append(np.array([shift]))
            hi.append(np.array([hb.INF]))
    else:
        raise AssertionError(f"no LP form for {kind}")  # Nash goes through cvxpy
    cost = np.concatenate([cost_x, np.asarray(cost_extra, dtype=np.float64)])
    col_lo = np.concatenate([np.zeros(c), np.full(n_extra, -hb.INF)])
    col_hi = np.concatenate([np.full(c, hb.INF), np.full(n_extra, hb.INF)])
    return _WelfareLp(
        cost,
        sp.csr_array(np.vstack(rows)),
        np.concatenate(lo),
        np.concatenate(hi),
        col_lo,
        col_hi,
        constant,
    )


def _max_min_gain(
    u: NDArray[np.float64],
    dele: NDArray[np.int64],
    w: Welfare,
    before: NDArray[np.float64],
    tl: float | None,
    watch: Stopwatch,
) -> float:
    """``max_x min_i y_i`` (egalitarian LP): positive iff some lottery is inside the Nash domain."""
    egal = Welfare(WelfareKind.EGALITARIAN, None, w.disagreement, w.beta)
    m = _welfare_lp(u, dele, egal, before, None)
    sol = hb.solve(
        m.cost, m.a, m.lo, m.hi, m.col_lo, m.col_hi, maximize=True, time_limit=watch.remaining(tl)
    )
    return sol.objective if sol.termination.has_solution else -np.inf


def _nash_lottery(
    u: NDArray[np.float64],
    dele: NDArray[np.int64],
    w: Welfare,
    before: NDArray[np.float64],
    tl: float | None,
    watch: Stopwatch,
) -> tuple[NDArray[np.float64], Termination, str]:
    """``max sum_i log y_i`` with cvxpy (exponential cone), then a basic-solution LP polish."""
    cp = cvxpy()
    c = u.shape[1]
    ud, dd = u[dele], w.d(dele)
    x = cp.Variable(c, nonneg=True)
    y = ud @ x - dd
    prob = cp.Problem(cp.Maximize(cp.sum(cp.log(y))), [cp.sum(x) == 1, ud @ x >= before[dele]])
    try:
        prob.solve(solver=cp.CLARABEL)
    except cp.error.SolverError as exc:
        raise MechsolveInputError(
            "lottery_pareto_mediator", "welfare", f"nash: the conic solver failed ({exc})"
        ) from exc
    if prob.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE) or x.value is None:
        return np.empty(0), Termination.NUMERICAL_ERROR, "cvxpy:CLARABEL"
    y_star = ud @ np.clip(x.value, 0, None) / max(np.clip(x.value, 0, None).sum(), 1e-300) - dd
    # Polish: a basic lottery with expected gains >= y* - tol, best delegator total.
    tol = 1e-7 * np.maximum(1.0, np.abs(y_star))
    a = sp.csr_array(np.vstack([np.ones((1, c)), ud, ud]))
    lo = np.concatenate([[1.0], before[dele], y_star + dd - tol])
    hi = np.concatenate([[1.0], np.full(2 * len(dele), hb.INF)])
    sol = hb.solve(
        ud.sum(axis=0),
        a,
        lo,
        hi,
        np.zeros(c),
        np.full(c, hb.INF),
        maximize=True,
        time_limit=watch.remaining(tl),
    )
    if sol.termination.has_solution:
        return sol.x, Termination.OPTIMAL, "cvxpy:CLARABEL+highs"
    xv = np.clip(x.value, 0, None)
    return xv / xv.sum(), Termination.OPTIMAL, "cvxpy:CLARABEL"
