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
  lottery with the same expected utilities (``y >= y* - tol``), so the support stays small,
  and a few Newton steps on that support (the conic lottery is accurate only to about the
  square root of the solver's tolerance). Both solves see only the candidates no other
  candidate dominates for every delegator (exact; the conic solver stalls on thousands of
  dominated columns).

A second stage maximizes the delegators' expected total utility among welfare-optimal
lotteries (the utilitarian tie-break). The deterministic mediator's outcome is a feasible
lottery, so the optimal lottery welfare is >= the deterministic welfare. The solves are
:func:`mechsolve.solver.games.lotteries.best_lottery` with the Pareto rows as its floor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..core import validation as v
from ..core.limits import Limits, resolve
from ..core.results import (
    HasSolveInfo,
    Limit,
    SolveInfo,
    Stopwatch,
    Termination,
    readonly,
)
from ..games.lotteries import SUPPORT_TOL, best_lottery
from ..games.normal_form import NormalFormGame, as_game
from ..games.welfare import Welfare, WelfareKind, make_welfare, tie_tolerance
from .candidates import unflatten
from .deterministic import MediatorKind, MediatorResult, candidate_block, mediate, mediator_spec


@dataclass(frozen=True, eq=False)
class LotteryResult(HasSolveInfo):
    """A lottery over outcomes chosen by the Lottery Pareto Mediator.

    Attributes:
        actions_before, delegate, utilities_before: the submitted profile and ``u(a)``.
        support: ``(s, n)`` joint actions with positive probability.
        probabilities: ``(s,)``, summing to 1.
        utilities_after: ``(n,)`` every player's expected utility under the lottery.
        beneficiaries: ``(n,)`` whose welfare the mediator maximizes (``D``; nobody when ``D``
            is empty).
        welfare_function: the welfare function's name.
        welfare_before: ``W`` of the beneficiaries at ``a``.
        welfare_after: ``W`` of the beneficiaries' expected utilities; never below the
            deterministic Pareto Mediator's welfare (its outcome is a feasible lottery, and the
            better of the two is returned).
        sampled_actions: one outcome drawn from the lottery with ``seed``.
        seed: the seed of that draw (drawn from fresh entropy when the call gave none), so the
            draw can be repeated.
        info: termination, objective (= ``welfare_after``), method, backend, wall time.
    """

    actions_before: NDArray[np.int64]
    delegate: NDArray[np.bool_]
    utilities_before: NDArray[np.float64]
    support: NDArray[np.int64]
    probabilities: NDArray[np.float64]
    utilities_after: NDArray[np.float64]
    beneficiaries: NDArray[np.bool_]
    welfare_function: str
    welfare_before: float
    welfare_after: float
    sampled_actions: NDArray[np.int64]
    seed: int
    info: SolveInfo


def lottery_pareto_mediator(
    game: NormalFormGame | Any,
    actions: Any,
    delegate: Any,
    *,
    welfare: str | Welfare | WelfareKind = "utilitarian",
    seed: int | None = None,
    time_limit: float | None = None,
    limits: Limits | None = None,
) -> LotteryResult:
    """Lottery Pareto Mediator (module docstring): the LP relaxation of seed 000 eq. 3.

    ``seed`` (``None``: fresh entropy, recorded in the result) draws ``sampled_actions``.
    """
    fn = "lottery_pareto_mediator"
    watch = Stopwatch()
    lim = resolve(limits)
    g = as_game(fn, game, lim)
    w = make_welfare(fn, welfare, g.n_players)
    tl = v.time_limit(fn, time_limit)
    seed_used = v.seed(fn, seed)
    det = mediate(g, actions, delegate, mediator="pareto", welfare=w, limits=lim, _function=fn)
    a, d = det.actions_before, det.delegate
    spec = mediator_spec(MediatorKind.PARETO, d)
    term, backend = Termination.optimal(), "numpy"
    support, probs, expected = det.actions_after[None], np.ones(1), det.utilities_after
    value = det.welfare_after
    if not spec.unchanged:
        lot = _solve_lottery(g, w, spec, a, det, tl, watch, lim, fn)
        term, backend = lot.termination, lot.backend
        if lot.termination.has_solution and lot.welfare > value + float(tie_tolerance(value)):
            support, probs, expected, value = lot.support, lot.probs, lot.expected, lot.welfare
        elif not lot.termination.has_solution:  # the deterministic outcome is a feasible lottery
            detail = f"lottery solve ended {term.reason.value}: the Pareto Mediator's outcome"
            term = Termination.feasible(term.limit or Limit.OTHER, term.with_detail(detail).detail)
    sampled = support[np.random.default_rng(seed_used).choice(len(probs), p=probs)]
    method = "lp" if backend in ("highs", "numpy") else "convex"
    info = SolveInfo(term, value, method, backend, watch.elapsed)
    return LotteryResult(
        a, d, det.utilities_before, readonly(support), readonly(probs), readonly(np.array(expected)),
        det.beneficiaries, w.name, det.welfare_before, value, readonly(sampled.copy()), seed_used, info,
    )  # fmt: skip


@dataclass(frozen=True, eq=False)
class _Lottery:
    support: NDArray[np.int64]
    probs: NDArray[np.float64]
    expected: NDArray[np.float64]
    welfare: float
    termination: Termination
    backend: str


def _solve_lottery(
    g: NormalFormGame,
    w: Welfare,
    spec: Any,
    a: NDArray[np.int64],
    det: MediatorResult,
    tl: float | None,
    watch: Stopwatch,
    lim: Limits,
    fn: str,
) -> _Lottery:
    """The optimal lottery over the Pareto Mediator's candidates (empty support when no solver
    produced one)."""
    n_cand = math.prod(g.num_actions[i] for i in spec.free)
    lim.check(fn, "game candidates", n_cand, "max_candidates")
    before = det.utilities_before
    blk = candidate_block(g.payoffs, spec, w, a[None], before[None], g.num_actions)
    u = blk.utilities[:, 0, :]  # (n, C)
    ideal = None  # per player of the game (KS): the best pure feasible utility
    if blk.ideal is not None:
        ideal = np.full(g.n_players, np.nan)
        ideal[spec.beneficiaries] = blk.ideal[:, 0, 0]
    x, term, backend = best_lottery(u, spec.free, w, before, ideal, tl, watch)
    if not term.has_solution:
        return _Lottery(
            np.empty((0, g.n_players), np.int64), np.empty(0), before, -np.inf, term, backend
        )
    x = np.where(x > SUPPORT_TOL, x, 0.0)
    x /= x.sum()
    cols = np.flatnonzero(x)
    support = unflatten(cols, spec.free, g.num_actions, np.repeat(a[None], len(cols), axis=0))
    expected = u @ x
    ben = spec.beneficiaries
    value = float(w.evaluate(expected[ben], ben, ideal=None if ideal is None else ideal[ben]))
    return _Lottery(support, x[cols], expected, value, term, backend)
