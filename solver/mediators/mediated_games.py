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
from ..games.welfare import Welfare, WelfareKind, tie_tolerance
from .candidates import candidate_utilities, chunks, lex_argmax
from .deterministic import MediatorKind, MediatorSpec, _Call, mediator_spec


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
    """Build the full mediated game of ``game`` under ``mediator``.

    Every mediated profile ``(a, d)`` is mediated exactly as :func:`mediate_batch` would
    (same candidates, feasibility, lexicographic scores and tie-breaking), but per delegate
    mask at once: the profiles of a mask that agree on the fixed players share one candidate
    set, so the payoff tensor is only transposed (fixed players first, free players last),
    never gathered per profile, and the scores are computed once per candidate set
    (:func:`_mask_outcomes`). Kalai-Smorodinsky welfare (its ideal point depends on each
    profile's feasible set) goes through :func:`mediate_batch`.
    """
    fn = "mediated_game"
    watch = Stopwatch()
    lim = resolve(limits)
    g = as_game(fn, game, lim)
    ks = np.asarray(g.num_actions, dtype=np.int64)
    shape = tuple(int(2 * k) for k in ks)
    size = math.prod(shape)  # every mediated profile is mediated: a batch of that many
    lim.check(fn, "game mediated outcomes", size, "max_outcomes")
    lim.check(fn, "game mediated outcomes", size, "max_batch_profiles")
    call = _Call.validate(fn, g, mediator, welfare, "enumeration", None, None, lim)
    kind, w = call.kind, call.welfare
    n = g.n_players
    if w.needs_ideal:
        idx = np.indices(shape, dtype=np.int64).reshape(n, -1).T
        res = call.solve(idx % ks, idx >= ks, watch)
        flat = np.ravel_multi_index(tuple(np.asarray(res.actions_after).T), tuple(ks))
        flat = flat.reshape(shape)
    else:
        masks = list(itertools.product([False, True], repeat=n))
        specs = [mediator_spec(kind, np.asarray(mk)) for mk in masks]
        for spec in specs:  # every candidate set within the limit before solving any
            n_cand = math.prod(int(ks[i]) for i in spec.free)
            lim.check(fn, "game candidates", n_cand, "max_candidates")
        flat = np.empty(shape, dtype=np.int64)
        for mk, spec in zip(masks, specs, strict=True):
            region = tuple(slice(int(k) * d, int(k) * (d + 1)) for k, d in zip(ks, mk, strict=True))
            flat[region] = _mask_outcomes(g.payoffs, spec, w)
    payoffs = g.payoffs.reshape(n, -1)[:, flat]
    labels = tuple(tuple(acts) + tuple(f"{x}+" for x in acts) for acts in g.actions)
    title = f"{g.title or 'game'} ({kind.value}-mediated)"
    mg = NormalFormGame(payoffs, players=g.players, actions=labels, title=title)
    outcomes = np.stack(np.unravel_index(flat, tuple(ks)), axis=-1).astype(np.int64)
    return MediatedGame(mg, g, outcomes, kind, w.name, watch.elapsed)


def _mask_outcomes(
    payoffs: NDArray[np.float64], spec: MediatorSpec, welfare: Welfare
) -> NDArray[np.int64]:
    """The C-order flat outcome index of every joint action ``a`` under one delegate mask,
    shape ``(k_1, ..., k_n)``: :func:`~.candidates.lex_argmax` over the candidates of ``a``
    (the free players' actions, the fixed players keeping ``a``).

    Rows are pairs ``(f, c0)``: the fixed players' profile and the submitted candidate. With
    one score (e.g. utilitarian Pareto), :func:`_first_feasible` finds each row's best
    feasible candidate by scanning the candidates of ``f`` in decreasing score; rows where
    another candidate's score is within the tie tolerance of that best, and every row when
    there are several scores, go through :func:`_exact_rows` (the batch mediator's own
    selection)."""
    n, ks = payoffs.shape[0], payoffs.shape[1:]
    grid = np.arange(math.prod(ks), dtype=np.int64).reshape(ks)
    if spec.unchanged:
        return grid
    free = [int(i) for i in spec.free]
    fixed = [i for i in range(n) if i not in free]
    perm = fixed + free
    c = math.prod(ks[i] for i in free)
    f_count = math.prod(ks[i] for i in fixed)
    u = payoffs.transpose(0, *[1 + i for i in perm]).reshape(n, f_count, c)
    flat_t = grid.transpose(perm).reshape(f_count, c)  # original flat index of (f, c)
    ben = u[spec.beneficiaries]
    scores = []
    if len(spec.punish):
        scores.append(-u[spec.punish].sum(axis=0))
    scores.append(welfare.evaluate(ben, spec.beneficiaries, axis=0))
    if not (welfare.kind is WelfareKind.UTILITARIAN and welfare.weights is None):
        scores.append(ben.sum(axis=0))
    rows = np.arange(f_count * c, dtype=np.int64)
    if len(scores) == 1:
        chosen, unsure = _first_feasible(u[spec.pareto], scores[0])
        rows = np.flatnonzero(unsure)
    else:
        chosen = np.empty(f_count * c, dtype=np.int64)
    for sl in chunks(len(rows), c * (len(spec.pareto) + len(scores) + 2)):
        r = rows[sl]
        chosen[r] = _exact_rows(u[spec.pareto], scores, r // c, r % c)
    out = flat_t[:, 0][:, None] + (flat_t[0] - flat_t[0, 0])[chosen.reshape(f_count, c)]
    return out.reshape([ks[i] for i in perm]).transpose(np.argsort(perm))


_SCAN_BLOCK = 64
"""Candidates examined per step of :func:`_first_feasible`."""


def _first_feasible(
    u: NDArray[np.float64], score: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """For every row ``(f, c0)`` (flat, ``f * C + c0``): the candidate of highest ``score[f]``
    with ``u[i, f, c] >= u[i, f, c0]`` for every constrained player i (``u``: ``(p, F, C)``),
    scanning the candidates in decreasing score, ``_SCAN_BLOCK`` at a time, only for the rows
    not yet answered (``c0`` itself is feasible, so every row is answered by its own rank).

    Also returns, per row, whether the answer may be tied (the next candidate in that order
    scores within :func:`~mechsolve.solver.games.welfare.tie_tolerance` of the best): those
    rows need the full lexicographic tie-breaking."""
    p, f_count, c = u.shape
    order = np.argsort(-score, axis=1, kind="stable")
    s_sorted = np.take_along_axis(score, order, axis=1)
    u_sorted = np.take_along_axis(u, order[None], axis=2)
    before = u.reshape(p, f_count * c)
    chosen_pos = np.zeros(f_count * c, dtype=np.int64)
    active = np.arange(f_count * c, dtype=np.int64)
    for start in range(0, c, _SCAN_BLOCK):
        if len(active) == 0:
            break
        stop = min(c, start + _SCAN_BLOCK)
        f = active // c
        ok = np.ones((len(active), stop - start), dtype=bool)
        for i in range(p):
            ok &= u_sorted[i, f, start:stop] >= before[i, active][:, None]
        hit = ok.any(axis=1)
        chosen_pos[active[hit]] = start + ok[hit].argmax(axis=1)
        active = active[~hit]
    f_all = np.repeat(np.arange(f_count), c)
    best = s_sorted[f_all, chosen_pos]
    nxt = s_sorted[f_all, np.minimum(chosen_pos + 1, c - 1)]
    unsure = (chosen_pos + 1 < c) & (nxt >= best - tie_tolerance(best))
    return order[f_all, chosen_pos], unsure


def _exact_rows(
    u: NDArray[np.float64],
    scores: list[NDArray[np.float64]],
    f: NDArray[np.int64],
    c0: NDArray[np.int64],
) -> NDArray[np.int64]:
    """:func:`~.candidates.lex_argmax` for rows ``(f, c0)``: feasible candidates keep every
    constrained player's utility (``u``: ``(p, F, C)``) at least its value at ``c0``."""
    feasible = np.ones((len(f), u.shape[2]), dtype=bool)
    for i in range(u.shape[0]):
        feasible &= u[i, f] >= u[i, f, c0][:, None]
    return lex_argmax([s[f] for s in scores], feasible, c0)


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
