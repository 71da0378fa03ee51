"""The best lottery over outcomes for a welfare function: ``max_x W(U x - d)`` over the
probability simplex, optionally above a floor (the Pareto rows of the lottery mediator).

Over ``C`` outcomes with utilities ``U`` (``(n, C)``) the caller picks a distribution ``x``;
with ``y_i = sum_c U[i, c] x_c - d_i`` for the players ``P`` whose welfare counts::

    max   W(y)
    s.t.  sum_c x_c = 1,  x >= 0
          sum_c U[i, c] x_c >= floor_i     for i in P   (when a floor is given)

- utilitarian ``w . y``; egalitarian ``max t, t <= y_i``; Kalai-Smorodinsky
  ``max t, t (ideal_i - d_i) <= y_i``; inequity-averse ``sum y - beta/npairs sum s_ij,
  s_ij >= |y_i - y_j|``: LPs solved with HiGHS (simplex: a sparse, basic support), then a
  second stage maximizing ``sum_P E[u]`` among welfare-optimal lotteries (the utilitarian
  tie-break).
- Nash ``max sum_i log y_i`` (exponential cone) with cvxpy, then an LP polish that finds a
  basic lottery with the same expected utilities (``y >= y* - tol``), so the support stays
  small, and a few Newton steps on that support (the conic lottery is accurate only to about
  the square root of the solver's tolerance). Both solves see only the outcomes no other
  outcome dominates for every player of ``P`` (exact; the conic solver stalls on thousands of
  dominated columns). When no lottery puts every ``y_i > 0`` (outside the Nash domain every
  welfare is ``-inf``), the utilitarian tie-break decides.

Used by the Lottery Pareto Mediator (seed 000 eq. 3 relaxed), leader selection and welfare
optima (:mod:`mechsolve.solver.equilibria`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from ..core import highs_backend as hb
from ..core.cvxpy_backend import cvxpy
from ..core.results import Limit, Stopwatch, Termination, TerminationReason
from .welfare import Welfare, WelfareKind, tie_tolerance

SUPPORT_TOL = 1e-9
"""Probabilities at or below this are dropped from the support (the rest renormalized)."""
EXACT_RTOL = 1e-12
"""How far below the optimal welfare the tie-break stage may go, relative (first try)."""


def unit_scale(u: NDArray[np.float64]) -> float:
    """``1 / max |u|`` (1 when that is 0 or not finite): payoffs multiplied by it lie in
    ``[-1, 1]``, so the solvers' absolute tolerances (1e-9) are relative to the game's
    magnitude. A positive scale changes no equilibrium, commitment or welfare optimum."""
    top = float(np.max(np.abs(u))) if u.size else 0.0
    return 1.0 / top if 0.0 < top < math.inf else 1.0


def scaled_welfare(w: Welfare, scale: float) -> Welfare:
    """``w`` for payoffs multiplied by ``scale`` (its disagreement point scaled with them)."""
    if w.disagreement is None or scale == 1.0:
        return w
    return Welfare(w.kind, w.weights, tuple(d * scale for d in w.disagreement), w.beta)


def best_lottery(
    u: NDArray[np.float64],
    players: NDArray[np.int64],
    w: Welfare,
    floor: NDArray[np.float64] | None,
    ideal: NDArray[np.float64] | None,
    time_limit: float | None,
    watch: Stopwatch,
) -> tuple[NDArray[np.float64], Termination, str]:
    """The welfare-optimal lottery ``x`` over the columns of ``u`` (module docstring), its
    termination and the backend that solved it (``x`` empty without a solution).

    Args:
        u: ``(n, C)`` every player's utility at each outcome.
        players: whose welfare counts (rows of ``u``).
        w: the welfare function (its disagreement point per player of the game).
        floor: ``(n,)`` each counted player's least expected utility, or ``None``.
        ideal: ``(n,)`` per player (Kalai-Smorodinsky only): the best utility reachable.

    The problem is solved on utilities scaled by :func:`unit_scale` (the lottery is the same).
    """
    scale = unit_scale(u)
    if scale != 1.0:
        u, w = u * scale, scaled_welfare(w, scale)
        floor = None if floor is None else floor * scale
        ideal = None if ideal is None else ideal * scale
    if w.kind is WelfareKind.NASH:
        if _max_min_gain(u, players, w, floor, time_limit, watch) > 0:
            return _nash_lottery(u, players, w, floor, time_limit, watch)
        plain = Welfare(WelfareKind.UTILITARIAN, None, w.disagreement)
        return _lp_lottery(u, players, plain, floor, None, time_limit, watch)
    return _lp_lottery(u, players, w, floor, ideal, time_limit, watch)


def _lp_lottery(
    u: NDArray[np.float64],
    dele: NDArray[np.int64],
    w: Welfare,
    before: NDArray[np.float64] | None,
    ideal: NDArray[np.float64] | None,
    tl: float | None,
    watch: Stopwatch,
) -> tuple[NDArray[np.float64], Termination, str]:
    """Stage 1: max W(y) as an LP; stage 2: max sum_D E[u] s.t. W(y) >= W* - 1e-12 (relative;
    the tie tolerance when HiGHS finds that row infeasible within its tolerances), kept only
    when its total beats stage 1's by more than the tie tolerance."""
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
    hi2 = np.append(model.hi, hb.INF)
    cost2 = np.zeros_like(model.cost)
    cost2[:c] = u[dele].sum(axis=0)
    for slack in (EXACT_RTOL * max(1.0, abs(best)), float(tie_tolerance(best))):
        sol2 = hb.solve(
            cost2,
            a2,
            np.append(model.lo, best - slack),
            hi2,
            model.col_lo,
            model.col_hi,
            maximize=True,
            time_limit=watch.remaining(tl),
        )
        if sol2.termination.has_solution:
            break
    if sol2.termination.has_solution:
        # the tie-break may trade welfare within the tolerance for a total that is no better
        # beyond it: keep the stage-1 lottery then (its welfare is the proven optimum)
        total1, total2 = float(cost2 @ sol.x), float(cost2 @ sol2.x)
        if total2 <= total1 + float(tie_tolerance(total1)):
            return sol.x[:c], sol.termination, "highs"
        return sol2.x[:c], sol2.termination, "highs"
    detail = f"tie-break LP ended {sol2.termination.reason.value}: welfare-optimal lottery kept"
    return sol.x[:c], Termination.feasible(sol2.termination.limit or Limit.OTHER, detail), "highs"


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
    before: NDArray[np.float64] | None,
    ideal: NDArray[np.float64] | None,
) -> _WelfareLp:
    c = u.shape[1]
    k = len(dele)
    ud = u[dele]  # (k, C)
    dd = w.d(dele)
    # Base rows: sum x = 1; the floor U_D x >= floor_D (the lottery mediator's Pareto rows).
    rows = [np.ones((1, c))]
    lo = [np.ones(1)]
    hi = [np.ones(1)]
    if before is not None:
        rows.append(ud)
        lo.append(before[dele])
        hi.append(np.full(k, hb.INF))
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
    before: NDArray[np.float64] | None,
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
    before: NDArray[np.float64] | None,
    tl: float | None,
    watch: Stopwatch,
) -> tuple[NDArray[np.float64], Termination, str]:
    """``max sum_i log y_i`` with cvxpy (exponential cone, Clarabel, within the time limit),
    then an LP polish that finds a basic lottery with the same expected gains.

    The conic optimum is ``OPTIMAL`` only when Clarabel says so and the polish LP is optimal;
    ``optimal_inaccurate`` or an unpolished vector is ``IMPRECISE``; a limit is ``FEASIBLE``
    or ``NO_SOLUTION_FOUND``; a solver failure is ``NUMERICAL_ERROR`` (never an input error).
    """
    cp = cvxpy()
    c = u.shape[1]
    # Both solves run over the undominated candidates only: exact (see _undominated), and
    # Clarabel stalls (InsufficientProgress) on the thousands of dominated columns of a
    # larger game (16 of 20 random 30 x 30 games failed).
    cols = _undominated(u[dele])
    ud, dd = u[dele][:, cols], w.d(dele)
    nc = len(cols)
    x = cp.Variable(nc, nonneg=True)
    y = ud @ x - dd
    floor = np.full(len(dele), -np.inf) if before is None else before[dele]
    constraints = [cp.sum(x) == 1] + ([] if before is None else [ud @ x >= floor])
    prob = cp.Problem(cp.Maximize(cp.sum(cp.log(y))), constraints)
    backend = "cvxpy:CLARABEL"
    options = {} if tl is None else {"time_limit": max(1e-3, watch.remaining(tl) or 0.0)}
    try:
        prob.solve(solver=cp.CLARABEL, **options)
    except cp.error.SolverError as exc:
        return np.empty(0), Termination.failed(TerminationReason.NUMERICAL_ERROR, str(exc)), backend
    if prob.status == cp.USER_LIMIT:
        return np.empty(0), Termination.no_solution(Limit.TIME, "conic solver: user_limit"), backend
    if prob.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE) or x.value is None:
        return (
            np.empty(0),
            Termination.failed(TerminationReason.NUMERICAL_ERROR, str(prob.status)),
            backend,
        )
    raw = np.clip(x.value, 0, None)
    raw /= max(raw.sum(), 1e-300)
    imprecise = Termination(TerminationReason.IMPRECISE, None, f"conic solver: {prob.status}")
    y_star = ud @ raw - dd
    # Polish: a basic lottery with expected gains >= y* - tol (and the Pareto rows exactly),
    # best delegator total. The conic answer may miss a Pareto row by the solver's tolerance,
    # which can make the polish infeasible when the rows trade off steeply: then the rows
    # y >= y* - tol are loosened (the result is IMPRECISE).
    a = sp.csr_array(np.vstack([np.ones((1, nc)), ud, ud]))
    hi = np.concatenate([[1.0], np.full(2 * len(dele), hb.INF)])
    for rel in (1e-7, 1e-5, 1e-3):
        slack = rel * np.maximum(1.0, np.abs(y_star))
        lo = np.concatenate([[1.0], floor, y_star + dd - slack])
        sol = hb.solve(
            ud.sum(axis=0),
            a,
            lo,
            hi,
            np.zeros(nc),
            np.full(nc, hb.INF),
            maximize=True,
            time_limit=watch.remaining(tl),
        )
        if sol.termination.reason is not TerminationReason.INFEASIBLE:
            break
        imprecise = imprecise.with_detail(f"polish LP infeasible within {rel:g} of the conic gains")

    def full(xc: NDArray[np.float64]) -> NDArray[np.float64]:
        out = np.zeros(c)
        out[cols] = _nash_refine(xc, ud, dd, floor)
        return out

    if sol.termination.is_optimal and prob.status == cp.OPTIMAL and rel == 1e-7:
        return full(sol.x), Termination.optimal(), f"{backend}+highs"
    if sol.termination.has_solution:
        return (
            full(sol.x),
            imprecise.with_detail(f"polish LP: {sol.termination.reason.value}"),
            f"{backend}+highs",
        )
    # No polished lottery: the conic one, mixed with a Pareto-feasible outcome where it misses
    # a Pareto row (the caller keeps the deterministic outcome when that is better).
    if before is not None:
        raw = _pareto_repair(raw, ud, floor)
    if watch.expired(tl):
        return (
            full(raw),
            Termination.feasible(Limit.TIME, "time limit before the polish LP: conic solution"),
            backend,
        )
    return full(raw), imprecise.with_detail("polish LP failed: conic solution"), backend


def _pareto_repair(
    x: NDArray[np.float64], ud: NDArray[np.float64], lo: NDArray[np.float64]
) -> NDArray[np.float64]:
    """``x`` mixed, as little as needed, with one Pareto-feasible pure candidate so that every
    delegator's expected utility is >= ``lo`` (a conic solution may miss a row by the solver's
    tolerance). The candidate is the one needing the smallest mix; one exists (the submitted
    profile, or a candidate that dominates it)."""
    short = lo - ud @ x
    need = short > 0
    if not need.any():
        return x
    slack = ud - lo[:, None]
    feasible = np.all(slack >= 0, axis=0)
    if not feasible.any():  # cannot happen (see above); leave the solution as it is
        return x
    with np.errstate(divide="ignore", invalid="ignore"):
        mix = np.max(short[need, None] / (short[need, None] + slack[need]), axis=0)
    mix = np.where(feasible, mix, np.inf)
    best = int(np.argmin(mix))
    for grow in (1.0 + 1e-6, 1.01, 2.0, 10.0, math.inf):  # more for rounding; at worst all
        t = min(1.0, float(mix[best]) * grow)
        out = (1.0 - t) * x
        out[best] += t
        if np.all(ud @ out >= lo):
            return out
    return out


def _nash_refine(
    x: NDArray[np.float64],
    ud: NDArray[np.float64],
    dd: NDArray[np.float64],
    lo: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Safeguarded Newton steps for ``max sum_i log(ud x - dd)_i`` over lotteries on the
    support of ``x`` (``sum x = 1``, ``x >= 0``, ``ud x >= lo``).

    The conic solver's welfare is accurate, but near the optimum the objective is flat, so
    its lottery is accurate only to about the square root of its tolerance (1e-5 on a
    two-outcome mix); Newton's method on the small support reaches machine precision. A step
    is taken only when it keeps every constraint (no Pareto row worse than it was) and does
    not lower the objective, so the result is never worse than ``x``.
    """
    s = np.flatnonzero(x > SUPPORT_TOL)
    if len(s) < 2:
        return x
    a = ud[:, s]
    xs = x[s] / x[s].sum()

    def objective(z: NDArray[np.float64]) -> float:
        y = a @ z - dd
        return float(np.log(y).sum()) if np.all(y > 0) else -math.inf

    fx = objective(xs)
    if not math.isfinite(fx):
        return x
    active = np.ones(len(s), dtype=bool)  # outcomes still in the support
    for _ in range(50):
        on = np.flatnonzero(active)
        m = len(on)
        if m < 2:
            break
        y = a @ xs - dd
        kkt = np.zeros((m + 1, m + 1))
        kkt[:m, m] = kkt[m, :m] = 1.0
        kkt[:m, :m] = -(a[:, on].T / y**2) @ a[:, on]
        rhs = np.concatenate([-(a[:, on].T @ (1.0 / y)), [0.0]])
        step = np.zeros(len(s))
        step[on] = np.linalg.lstsq(kkt, rhs, rcond=None)[0][:m]
        # an ascent direction; go at most to the boundary x >= 0 (an outcome leaving the
        # support), then halve until the objective and the Pareto rows allow the step
        down = step < 0
        t = min(1.0, float(np.min(-xs[down] / step[down]))) if down.any() else 1.0
        floor = np.minimum(lo, a @ xs)
        while t >= 1e-9:
            z = np.maximum(xs + t * step, 0.0)
            if np.all(a @ z >= floor) and (fz := objective(z)) >= fx:
                break
            t /= 2.0
        else:
            break
        done = np.abs(z - xs).max() <= 1e-15
        xs, fx = z, fz
        active &= xs > 0.0
        if done:
            break
    out = np.zeros_like(x)
    out[s] = xs / xs.sum()
    return out


UNDOMINATED_MAX = 4096
"""Most undominated candidates :func:`_undominated` collects before it gives up (and keeps
every candidate): the reduction is an aid to the solvers, not needed for exactness."""

_BLOCK = 512


def _undominated(ud: NDArray[np.float64]) -> NDArray[np.int64]:
    """Indices of the candidates (columns of ``ud``, the delegators' utilities) that no other
    candidate weakly dominates (one of equal columns), or of every candidate when there are
    more than :data:`UNDOMINATED_MAX`.

    Dropping a dominated candidate loses nothing for the Nash lottery and its polish: moving
    its probability to a candidate that dominates it lowers no delegator's expected utility,
    so the Pareto rows still hold, ``sum log y`` and the delegators' total do not decrease.
    Candidates are scanned by decreasing total (a dominating candidate comes first), in
    blocks compared with the undominated ones found so far, then with each other.
    """
    k, c = ud.shape
    order = np.lexsort((np.arange(c), -ud.sum(axis=0)))
    kept: list[NDArray[np.int64]] = []
    front = np.empty((k, 0))
    for start in range(0, c, _BLOCK):
        block = order[start : start + _BLOCK]
        ub = ud[:, block]
        alive = np.ones(len(block), dtype=bool)
        for f0 in range(0, front.shape[1], _BLOCK):  # dominated by an earlier survivor
            f = front[:, f0 : f0 + _BLOCK]
            alive &= ~np.all(f[:, :, None] >= ub[:, None, :], axis=0).any(axis=0)
        block, ub = block[alive], ub[:, alive]
        # dominated by an earlier candidate of the block (then, by transitivity, by a survivor)
        dominated = np.triu(np.all(ub[:, :, None] >= ub[:, None, :], axis=0), 1).any(axis=0)
        kept.append(block[~dominated])
        front = np.hstack([front, ub[:, ~dominated]])
        if front.shape[1] > UNDOMINATED_MAX:
            return np.arange(c, dtype=np.int64)
    return np.sort(np.concatenate(kept)).astype(np.int64)
