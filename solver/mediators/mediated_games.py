"""Mediated games (seed 000 Table 1, Propositions 1-2) and their pure-equilibrium analysis.

The mediated game ``Gamma(M)`` gives player i the strategies ``(a_i, d_i)`` in
``S_i x {0, 1}``; its payoff at ``(a, d)`` is ``u(M(a, d))``. Its tensor has shape
``(n, 2k_1, ..., 2k_n)`` with strategy index ``a_i + k_i d_i`` (the last ``k_i`` rows are the
delegating copies, the paper's Table 1 layout).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..core import validation as v
from ..core.limits import Limits, resolve
from ..core.results import Stopwatch
from ..games.normal_form import NormalFormGame, as_game
from ..games.welfare import Welfare, WelfareKind
from .candidates import candidate_utilities
from .deterministic import MediatorKind, mediate_batch


@dataclass(frozen=True, eq=False)
class MediatedGame:
    """A mediated game.

    Attributes:
        game: the mediated game, payoffs ``(n, 2k_1, ..., 2k_n)``; action labels ``"x"`` and
            ``"x+"`` (delegating).
        base: the original game.
        outcomes: ``(2k_1, ..., 2k_n, n)`` the original joint action each mediated profile maps to.
        mediator: the mediator used.
        welfare_function: the mediator's welfare function.
        wall_time_s: seconds to build it.
    """

    game: NormalFormGame
    base: NormalFormGame
    outcomes: NDArray[np.int64]
    mediator: MediatorKind
    welfare_function: str
    wall_time_s: float


def mediated_game(
    game: NormalFormGame | Any,
    mediator: str | MediatorKind = "pareto",
    *,
    welfare: str | Welfare | WelfareKind = "utilitarian",
    limits: Limits | None = None,
) -> MediatedGame:
    """Build the full mediated game of ``game`` under ``mediator`` (vectorized enumeration)."""
    fn = "mediated_game"
    watch = Stopwatch()
    lim = resolve(limits)
    g = as_game(fn, game, lim)
    ks = np.asarray(g.num_actions, dtype=np.int64)
    shape = tuple(int(2 * k) for k in ks)
    size = math.prod(shape)  # every mediated profile is mediated: a batch of that many
    lim.check(fn, "game mediated outcomes", size, "max_outcomes")
    lim.check(fn, "game mediated outcomes", size, "max_batch_profiles")
    idx = np.indices(shape, dtype=np.int64).reshape(g.n_players, -1).T
    res = mediate_batch(
        g, idx % ks, idx >= ks, mediator=mediator, welfare=welfare, limits=lim, _function=fn
    )
    payoffs = np.ascontiguousarray(res.utilities_after.T).reshape(g.n_players, *shape)
    labels = tuple(tuple(acts) + tuple(f"{x}+" for x in acts) for acts in g.actions)
    kind = res.mediator
    title = f"{g.title or 'game'} ({kind.value}-mediated)"
    mg = NormalFormGame(payoffs, players=g.players, actions=labels, title=title)
    outcomes = np.asarray(res.actions_after).reshape(*shape, g.n_players)
    return MediatedGame(mg, g, outcomes, kind, res.welfare_function, watch.elapsed)


def pure_nash_equilibria(
    game: NormalFormGame | Any, *, tol: float = 0.0, limits: Limits | None = None
) -> NDArray[np.int64]:
    """All pure Nash equilibria as an ``(e, n)`` array of joint actions (C order).

    ``a`` is an equilibrium iff ``u_i(a) >= max_{s_i} u_i(s_i, a_-i) - tol`` for every i
    (seed 000 Definition 1).
    """
    g = as_game("pure_nash_equilibria", game, limits)
    tol = v.real("pure_nash_equilibria", "tol", tol, min_value=0.0)
    p = g.payoffs
    is_ne = np.ones(p.shape[1:], dtype=bool)
    for i in range(g.n_players):
        is_ne &= p[i] >= p[i].max(axis=i, keepdims=True) - tol
    return np.argwhere(is_ne).astype(np.int64)


@dataclass(frozen=True, eq=False)
class StrongNashResult:
    """Whether a profile is a strong Nash equilibrium (Aumann: no coalition can deviate so
    that every member is strictly better off); a witness coalition and deviation if not."""

    profile: NDArray[np.int64]
    is_strong: bool
    coalition: tuple[int, ...]
    deviation: NDArray[np.int64] | None


def strong_nash(
    game: NormalFormGame | Any, profile: Any, *, limits: Limits | None = None
) -> StrongNashResult:
    """Check every non-empty coalition ``S`` and every joint deviation of ``S`` (others fixed):
    ``sum_S prod_{i in S} k_i`` deviations, at most ``2^n`` times the outcomes (``limits``
    bounds both)."""
    fn = "strong_nash"
    g = as_game(fn, game, limits)
    a = g.check_actions(fn, profile, "profile")
    base = g.payoffs[(slice(None), *a.tolist())]
    n = g.n_players
    for size in range(1, n + 1):
        for coal in itertools.combinations(range(n), size):
            s = np.asarray(coal, dtype=np.int64)
            u = candidate_utilities(g.payoffs, a[None], s)[s, 0, :]  # (|S|, C)
            better = (u > base[s, None]).all(axis=0)
            if better.any():
                c = int(np.argmax(better))
                dev = a.copy()
                dev[s] = np.unravel_index(c, tuple(int(g.num_actions[j]) for j in s))
                return StrongNashResult(a, False, coal, dev)
    return StrongNashResult(a, True, (), None)


@dataclass(frozen=True, eq=False)
class DominanceResult:
    """Whether delegating weakly dominates not delegating for ``player`` in a mediated game:
    ``u_i((s_i, 1), t_-i) >= u_i((s_i, 0), t_-i)`` for every own action ``s_i`` and every
    mediated profile ``t_-i`` of the others (seed 000 Proposition 1). ``strict_somewhere``
    tells whether the inequality is strict for some profile; ``witness`` is a mediated profile
    where delegating is strictly worse (``None`` when it weakly dominates)."""

    player: int
    weakly_dominates: bool
    strict_somewhere: bool
    witness: NDArray[np.int64] | None


def delegation_dominance(mediated: MediatedGame, player: int) -> DominanceResult:
    """Test Proposition 1 for ``player`` in a :class:`MediatedGame`."""
    fn = "delegation_dominance"
    n = mediated.base.n_players
    i = v.int_array(fn, "player", [player], shape=(1,), low=0, high=n)[0]
    k = mediated.base.num_actions[int(i)]
    u = np.moveaxis(mediated.game.payoffs[int(i)], int(i), 0)  # own strategy first
    gain = u[k:] - u[:k]  # delegating copy minus plain action, for every other profile
    worse = gain < 0
    witness = None
    if worse.any():
        w = list(np.unravel_index(int(np.argmax(worse)), gain.shape))
        w[0] += k  # the delegating strategy that is worse
        own = w.pop(0)
        w.insert(int(i), own)
        witness = np.asarray(w, dtype=np.int64)
    return DominanceResult(int(i), not worse.any(), bool((gain > 0).any()), witness)


@dataclass(frozen=True)
class EquilibriumWelfare:
    """Total utility of the best and worst pure Nash equilibria (``nan`` if there is none)."""

    n_equilibria: int
    best: float
    worst: float


def equilibrium_welfare(game: NormalFormGame | Any) -> EquilibriumWelfare:
    """Utilitarian welfare (sum of utilities) of the best and worst pure equilibria."""
    g = as_game("equilibrium_welfare", game)
    ne = pure_nash_equilibria(g)
    if len(ne) == 0:
        return EquilibriumWelfare(0, float("nan"), float("nan"))
    totals = g.payoffs[(slice(None), *ne.T)].sum(axis=0)
    return EquilibriumWelfare(len(ne), float(totals.max()), float(totals.min()))


@dataclass(frozen=True)
class MediationSummary:
    """Pure-equilibrium welfare of a game and of its mediated game, and Proposition 1 per player.

    ``all_delegate`` covers the mediated equilibria in which every player delegates (the
    equilibria Proposition 2 speaks of).
    """

    original: EquilibriumWelfare
    mediated: EquilibriumWelfare
    all_delegate: EquilibriumWelfare
    delegation_weakly_dominant: tuple[bool, ...]


def summarize_mediation(
    game: NormalFormGame | Any,
    mediator: str | MediatorKind = "pareto",
    *,
    welfare: str | Welfare | WelfareKind = "utilitarian",
    limits: Limits | None = None,
) -> MediationSummary:
    """Equilibrium welfare in the original and mediated games, and delegation dominance."""
    mg = mediated_game(game, mediator, welfare=welfare, limits=limits)
    ks = np.asarray(mg.base.num_actions)
    ne = pure_nash_equilibria(mg.game)
    full = ne[(ne >= ks).all(axis=1)] if len(ne) else ne
    totals = mg.game.payoffs[(slice(None), *full.T)].sum(axis=0) if len(full) else np.empty(0)
    all_del = (
        EquilibriumWelfare(len(full), float(totals.max()), float(totals.min()))
        if len(full)
        else EquilibriumWelfare(0, float("nan"), float("nan"))
    )
    dom = tuple(delegation_dominance(mg, i).weakly_dominates for i in range(mg.base.n_players))
    return MediationSummary(
        equilibrium_welfare(mg.base), equilibrium_welfare(mg.game), all_del, dom
    )
