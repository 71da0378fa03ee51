"""Welfare optima and the normalized score of seed 003 (bargaining over a game's outcomes).

Welfare optimum: for a welfare function ``W`` of the solver core (utilitarian, egalitarian,
Nash, Kalai-Smorodinsky, inequity-averse, each with its weights, disagreement point ``d`` and
``beta``; :mod:`mechsolve.solver.games.welfare`), the best pure outcome::

    max_{s in S} W(u(s))                       (enumeration; ties: higher total, lower index)

or the best lottery over outcomes (correlated play by a trusted device)::

    max_x W(sum_s x_s u(s))   s.t.  sum_s x_s = 1, x >= 0

(:func:`mechsolve.solver.games.lotteries.best_lottery`: LPs with HiGHS, the Nash welfare by
the exponential cone with cvxpy). The lottery optimum is never below the pure one. The
Kalai-Smorodinsky ideal point is each player's best pure utility (the same over lotteries).

Normalized score (seed 003, section 5, "NormalizedScore"): for a profile with utilities
``u``, a set of welfare functions ``𝒲`` and the disagreement profile's utilities ``u^d``::

    score(u) = max_{w in 𝒲} (w(u) - w(u^d)) / (max_{u'} w(u') - w(u^d))

so 0 is the disagreement point and 1 the best achievable under some ``w`` (``u'`` over
lotteries by default: the feasible payoffs of a repeated game are their convex hull; over
pure outcomes on request). For the Nash welfare the score uses the product of the positive
parts of ``u - d`` (0 on and below the disagreement point, where the welfare function itself
is ``-inf``), so it is continuous there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..core import validation as v
from ..core.errors import MechsolveInputError
from ..core.limits import Limits, resolve
from ..core.results import (
    HasSolveInfo,
    Limit,
    SolveInfo,
    Stopwatch,
    Termination,
    readonly,
)
from ..games.lotteries import SUPPORT_TOL, best_lottery, scaled_welfare, unit_scale
from ..games.normal_form import NormalFormGame, as_game
from ..games.welfare import Welfare, WelfareKind, make_welfare, tie_tolerance


@dataclass(frozen=True, eq=False)
class WelfareOptimum(HasSolveInfo):
    """The welfare-optimal pure outcome or lottery of a game.

    Attributes:
        welfare_function: the welfare function's name.
        lottery: whether lotteries over outcomes were allowed.
        support: ``(s, n)`` the outcomes played with positive probability (one row for a
            pure optimum).
        probabilities: ``(s,)``, summing to 1.
        utilities: ``(n,)`` every player's expected utility.
        welfare: ``W(utilities)`` (``-inf`` for the Nash welfare when no outcome is strictly
            above the disagreement point; ``nan`` without a solution).
        info: termination, objective (= ``welfare``), method, backend, wall time.
    """

    welfare_function: str
    lottery: bool
    support: NDArray[np.int64]
    probabilities: NDArray[np.float64]
    utilities: NDArray[np.float64]
    welfare: float
    info: SolveInfo


def welfare_optimum(
    game: NormalFormGame | Any,
    *,
    welfare: str | Welfare | WelfareKind = "utilitarian",
    lottery: bool = False,
    time_limit: float | None = None,
    limits: Limits | None = None,
) -> WelfareOptimum:
    """The outcome (or, with ``lottery``, the distribution over outcomes) maximizing
    ``welfare`` of the players' (expected) utilities (module docstring)."""
    fn = "welfare_optimum"
    watch = Stopwatch()
    lim = resolve(limits)
    g = as_game(fn, game, lim)
    w = make_welfare(fn, welfare, g.n_players)
    tl = v.time_limit(fn, time_limit)
    lottery = v.flag(fn, "lottery", lottery)
    u = g.payoffs.reshape(g.n_players, -1)
    players = np.arange(g.n_players)
    ideal = u.max(axis=1) if w.needs_ideal else None
    scale = unit_scale(u)  # ties decided on utilities scaled into [-1, 1]
    pure = _best_pure(
        u * scale, scaled_welfare(w, scale), players, None if ideal is None else ideal * scale
    )
    if not lottery:
        value = float(w.evaluate(u[:, pure], players, ideal=ideal))
        info = SolveInfo(Termination.optimal(), value, "enumeration", "numpy", watch.elapsed)
        return _result(g, w, False, np.array([pure]), np.ones(1), u, value, info)
    x, term, backend = best_lottery(u, players, w, None, ideal, tl, watch)
    if not term.has_solution:  # the pure optimum is a feasible lottery
        value = float(w.evaluate(u[:, pure], players, ideal=ideal))
        detail = f"lottery solve ended {term.reason.value}: the pure optimum"
        term = Termination.feasible(term.limit or Limit.OTHER, term.with_detail(detail).detail)
        info = SolveInfo(term, value, "lp", backend, watch.elapsed)
        return _result(g, w, True, np.array([pure]), np.ones(1), u, value, info)
    x = np.where(x > SUPPORT_TOL, x, 0.0)
    x /= x.sum()
    cols = np.flatnonzero(x)
    value = float(w.evaluate(u @ x, players, ideal=ideal))
    pure_value = float(w.evaluate(u[:, pure], players, ideal=ideal))
    if pure_value > value + float(tie_tolerance(value)):  # an imprecise conic answer
        x = np.zeros(u.shape[1])
        x[pure] = 1.0
        cols, value = np.array([pure]), pure_value
    method = "convex" if w.kind is WelfareKind.NASH else "lp"
    info = SolveInfo(term, value, method, backend, watch.elapsed)
    return _result(g, w, True, cols, x[cols], u, value, info)


def _best_pure(
    u: NDArray[np.float64],
    w: Welfare,
    players: NDArray[np.int64],
    ideal: NDArray[np.float64] | None,
) -> int:
    """The best outcome's flat index: the highest welfare, ties (within the tie tolerance) by
    the highest total utility, then the lowest index."""
    values = w.evaluate(u.T, players, ideal=ideal)
    best = float(values.max())
    if not math.isfinite(best):
        tied = np.flatnonzero(values == best)
    else:
        tied = np.flatnonzero(values >= best - float(tie_tolerance(best)))
    totals = u[:, tied].sum(axis=0)
    return int(tied[int(np.argmax(totals))])


def _result(
    g: NormalFormGame,
    w: Welfare,
    lottery: bool,
    cols: NDArray[np.int64],
    probs: NDArray[np.float64],
    u: NDArray[np.float64],
    value: float,
    info: SolveInfo,
) -> WelfareOptimum:
    support = np.stack(np.unravel_index(cols, g.num_actions), axis=1).astype(np.int64)
    expected = u[:, cols] @ probs
    return WelfareOptimum(
        w.name, lottery, readonly(support), readonly(np.array(probs, dtype=np.float64)),
        readonly(expected), value, info,
    )  # fmt: skip


# -- normalized score ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ScoreResult(HasSolveInfo):
    """The normalized score of a payoff profile (module docstring).

    Attributes:
        score: ``max_w`` of the per-function scores (``nan`` when no function's optimum is
            above its value at the disagreement profile).
        best_function: the welfare function reaching ``score``.
        welfare_functions: the functions' names, in the order given.
        scores: ``(m,)`` each function's score.
        optima: ``(m,)`` each function's best achievable value ``max_{u'} w(u')``.
        info: termination (the least certain of the optima's solves), objective (= ``score``),
            method, backend, wall time.
    """

    score: float
    best_function: str
    welfare_functions: tuple[str, ...]
    scores: NDArray[np.float64]
    optima: NDArray[np.float64]
    info: SolveInfo


def normalized_score(
    game: NormalFormGame | Any,
    utilities: Any,
    disagreement_utilities: Any,
    *,
    welfare_functions: Sequence[str | Welfare | WelfareKind] = ("utilitarian",),
    lottery: bool = True,
    time_limit: float | None = None,
    limits: Limits | None = None,
) -> ScoreResult:
    """Seed 003's NormalizedScore of the profile with ``utilities`` against the disagreement
    profile's ``disagreement_utilities`` (module docstring)."""
    fn = "normalized_score"
    watch = Stopwatch()
    lim = resolve(limits)
    g = as_game(fn, game, lim)
    n = g.n_players
    u = v.float_array(fn, "utilities", utilities, shape=(n,))
    ud = v.float_array(fn, "disagreement_utilities", disagreement_utilities, shape=(n,))
    if not isinstance(welfare_functions, list | tuple) or not welfare_functions:
        raise MechsolveInputError(
            fn, "welfare_functions", f"must be a non-empty list; got {welfare_functions!r}"
        )
    lim.check(fn, "welfare_functions", len(welfare_functions), "max_players")
    specs = [_welfare_at(fn, i, f, n) for i, f in enumerate(welfare_functions)]
    tl = v.time_limit(fn, time_limit)
    players = np.arange(n)
    scores, optima, terms, backends = [], [], [], []
    for w in specs:
        left = watch.remaining(tl)  # an exhausted budget still gets a (limited) solve
        best = welfare_optimum(
            g, welfare=w, lottery=lottery, time_limit=None if left is None else max(left, 1e-3),
            limits=lim,
        )  # fmt: skip
        ideal = g.payoffs.reshape(n, -1).max(axis=1) if w.needs_ideal else None
        at = _score_welfare(w, np.stack([u, ud, best.utilities]), players, ideal)
        span = at[2] - at[1]
        scores.append((at[0] - at[1]) / span if span > 0 else math.nan)
        optima.append(float(at[2]))
        terms.append(best.termination)
        backends.append(best.backend)
    s = np.asarray(scores)
    k = int(np.nanargmax(s)) if not np.isnan(s).all() else 0
    term = next((t for t in terms if not t.is_optimal), Termination.optimal())
    score = float(s[k])
    info = SolveInfo(term, score, "lp" if lottery else "enumeration", "+".join(
        sorted(set(backends))), watch.elapsed)  # fmt: skip
    return ScoreResult(
        score, specs[k].name, tuple(w.name for w in specs), readonly(s),
        readonly(np.asarray(optima)), info,
    )  # fmt: skip


def _welfare_at(fn: str, i: int, spec: Any, n: int) -> Welfare:
    """The ``i``-th welfare function, its errors naming ``welfare_functions[i]``."""
    try:
        return make_welfare(fn, spec, n)
    except MechsolveInputError as exc:
        at = exc.argument.removeprefix("welfare").lstrip(".")
        path = f"welfare_functions[{i}]" + (f".{at}" if at else "")
        raise MechsolveInputError(fn, path, exc.detail) from exc


def _score_welfare(
    w: Welfare,
    u: NDArray[np.float64],
    players: NDArray[np.int64],
    ideal: NDArray[np.float64] | None,
) -> NDArray[np.float64]:
    """``w`` of each row of ``u``; the Nash welfare as the product of positive gains."""
    if w.kind is WelfareKind.NASH:
        return np.prod(np.maximum(u - w.d(players), 0.0), axis=-1)
    return np.asarray(w.evaluate(u, players, ideal=ideal), dtype=np.float64)
