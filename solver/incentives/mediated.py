"""Welfare-optimal mediated equilibria as LPs (seed 004 "Mediated Multi-Agent Reinforcement
Learning", Table 3; D. Monderer and M. Tennenholtz, "Strong mediated equilibrium", Artificial
Intelligence 173, 2009; seed 000 section 2 for mediators that see the outsiders' actions).

**The committed game.** Every player either commits to the mediator or plays an action of the
original game ``u`` itself. For every coalition ``C`` of committed players (``C != {}``) the
mediator has a policy ``pi_C``: a distribution over the members' joint actions ``b_C``,

- ``observes_outsiders=False`` (seed 004: the Markov mediator "observes the same information as
  the agents in the coalition"): ``pi_C(b_C)``, the same whatever the outsiders play (they move
  simultaneously);
- ``observes_outsiders=True`` (seed 000's mediators condition on the non-delegating players'
  actions): ``pi_C(b_C | a_O)`` for every outsiders' profile ``a_O``, ``O = N \\ C``.

Player ``j``'s payoff when ``C`` commits and the outsiders play ``a_O`` is ``V_j(C, a_O) =
sum_{b_C} pi_C(b_C [| a_O]) u_j(b_C, a_O)`` (``V_j({}, a) = u_j(a)``).

**Constraints** (all linear in the policies), for every ``C`` in a set of coalitions, every
member ``i`` of ``C``, every outsiders' profile ``a_O`` and every action ``a`` of ``i``::

    V_i(C, a_O) >= V_i(C \\ {i}, (a_O, a))          member i does not gain by leaving

- always for ``C = N``: full commitment is a Nash equilibrium of the committed game (no player
  gains by playing any original action while the others commit and the mediator serves
  ``N \\ {i}``);
- ``ic=True`` (Incentive Compatibility, seed 004: agents "receiving at least as much payoff as
  they would independently"): for every coalition, ``1 <= |C| <= N - 1``;
- ``e=True`` (Encouragement, seed 004: a non-member's "payoff does not exceed what they would
  receive if they had committed"): outsider ``j`` of ``C`` playing ``a_j`` gets
  ``V_j(C, a_O) <= V_j(C + {j}, a_O \\ a_j)``, which is the row above for the coalition
  ``C + {j}`` and member ``j``. The authors' code enforces E for ``1 < |C| < N``, so ``e=True``
  adds the rows of the coalitions of size ``3 .. N - 1`` (size ``N`` is the equilibrium itself);
  pointwise in the outsiders' actions E is therefore a part of IC. (The code compares with the
  coalition's per-member value ``V_M(|C|+1) / (|C|+1)``; under the exchangeable policies of a
  symmetric game every member's payoff is that average, so the two agree there.)

Constraints hold for every outsiders' profile, not in expectation over some assumed behaviour of
the outsiders (the seed's agents learn theirs): the guarantee is robust, and no outsider model
is needed.

**Objective.** A welfare function of the payoffs at full commitment ``V_i(N)`` (the vocabulary
of :mod:`~mechsolve.solver.games.welfare`, its linear members): utilitarian ``sum_i w_i (V_i -
d_i)`` or egalitarian ``min_i (V_i - d_i)`` (an epigraph column). Then, lexicographically
(:mod:`._lexicographic`): the plain sum ``sum_i V_i(N)`` (for weighted or egalitarian welfare),
and last the members' welfare of every other coalition, ``sum_{C != N} sum_{a_O}
weight(C, a_O) sum_{i in C} V_i(C, a_O)`` with ``weight = 1 / (binom(N, |C|) prod_{j in O}
k_j)`` (each coalition size weighs 1, its coalitions and the outsiders' profiles alike): every
mediator acts for its coalition's aggregate reward (seed 004) as far as the equilibrium allows.
Without that last stage the off-path policies are arbitrary among the optima.

**Formulations.**

- :func:`mediated_equilibrium`, explicit: any ``n``-player game, coalitions as bitmasks
  ``sum_{i in C} 2^i``. Columns: ``prod_{i in C} k_i`` per coalition, or ``prod_i k_i`` (with
  the outsiders' profiles) when observing; at most ``2^n prod_i k_i``, checked against
  ``Limits.max_candidates`` before anything is built.
- :func:`anonymous_mediated_equilibrium`, for symmetric games (:class:`SymmetricGame`):
  exchangeable policies that depend on the coalition size ``k`` (and, observing, the counts
  ``o`` of the outsiders' actions) and give a distribution over the members' action counts
  ``c`` (a composition of ``k`` into ``q`` parts). A member's payoff is ``w(k, o, c) = sum_a
  (c_a / k) U(a, c - e_a + o)``; a deviator to ``a`` from ``(k, o)`` faces ``(k - 1, o +
  e_a)`` and gets ``U(a, c' + o)``. Averaging an explicit solution over the permutations of
  the players keeps it feasible (the constraint set is permutation-invariant) and keeps a
  permutation-invariant welfare, so both formulations have the same optimal welfare on a
  symmetric game (the tests check this). Sizes: ``sum_k C(k+q-1, q-1)`` columns, times
  ``C(N-k+q-1, q-1)`` observing: the Public Goods Game at ``N = 100`` has 5,150 (176,750)
  columns.

Payoffs are centered (each player's range around 0, :func:`_midpoints`) and scaled into
``[-1, 1]`` for HiGHS (absolute tolerances); the reported policy is clipped and renormalized,
and every payoff, welfare and ``violation`` (the largest gain of any constrained deviation) is
recomputed from it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
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
from ..games.lotteries import unit_scale
from ..games.normal_form import NormalFormGame, as_game
from ..games.welfare import Welfare, WelfareKind, make_welfare
from ._lexicographic import solve_lexicographic
from .symmetric import SymmetricGame, as_symmetric, compositions, lookup, read_mask

LINEAR_WELFARE = (WelfareKind.UTILITARIAN, WelfareKind.EGALITARIAN)

BUILD_TIMEOUT = "time limit reached while building the LP"

VIOLATION_RTOL = 1e-7
"""A returned policy whose recomputed violation exceeds this (relative to the largest absolute
centered payoff, half the widest player's payoff range, at least 1) is ``IMPRECISE``."""


@dataclass(frozen=True, eq=False)
class MediatedEquilibriumResult(HasSolveInfo):
    """A welfare-optimal mediated equilibrium of an explicit game (module docstring).

    Attributes:
        policy: ``(2^n, k_1, ..., k_n)``: ``policy[C, s] = pi_C(s_C | s_O)`` for the coalition
            with bitmask ``C = sum_{i in C} 2^i``, the probability that the mediator plays the
            members' part ``s_C`` of ``s`` when the outsiders play ``s_O`` (without observation
            the same for every ``s_O``); row ``0`` (nobody commits) is all ones. All ``nan``
            without a solution.
        distribution: ``(k_1, ..., k_n)`` the joint action at full commitment,
            ``policy[2^n - 1]``.
        utilities: ``(n,)`` every player's payoff at full commitment.
        welfare: the welfare function of ``utilities``.
        member_action_probabilities: ``(2^n, n, max_k)``: the probability that member ``i``
            of ``C`` plays each action, averaged over the outsiders' profiles (each equally
            likely); ``nan`` for non-members and actions a player does not have.
        size_policy: ``(n + 1, max_k)``: the same averaged over the coalitions of each size and
            their members (row ``k`` = coalition size; row 0 ``nan``), seed 004 Table 3's
            ``pi^M(a | |C| = k)`` for symmetric games.
        violation: the largest gain of any constrained deviation, recomputed (``<= 0`` up to
            the LP tolerance; reported as ``max(0, .)``); ``nan`` without a solution.
        constrained_sizes: the coalition sizes whose members' rows were imposed.
        observes_outsiders, ic, e: the options.
        welfare_name: ``"utilitarian"`` or ``"egalitarian"``.
        info: termination, objective (= ``welfare``), method ``"lp"``, backend ``"highs"``.
    """

    policy: NDArray[np.float64]
    distribution: NDArray[np.float64]
    utilities: NDArray[np.float64]
    welfare: float
    member_action_probabilities: NDArray[np.float64]
    size_policy: NDArray[np.float64]
    violation: float
    constrained_sizes: NDArray[np.int64]
    observes_outsiders: bool
    ic: bool
    e: bool
    welfare_name: str
    info: SolveInfo


@dataclass(frozen=True, eq=False)
class AnonymousMediatedResult(HasSolveInfo):
    """A welfare-optimal mediated equilibrium of a symmetric game with exchangeable policies.

    Attributes:
        n_players: ``N``.
        size_policy: ``(N + 1, q)``: ``size_policy[k, a]``, the probability that a member of a
            coalition of size ``k`` plays ``a`` (observing: averaged over the outsiders'
            profiles, each equally likely); row 0 ``nan``. For the Public Goods Game column 1
            is seed 004 Table 3's ``pi^M(c | |C| = k)``.
        state_sizes: ``(S,)`` observing only (else empty): the coalition size of each state.
        state_outsider_counts: ``(S, q)`` the outsiders' action counts of each state.
        state_policy: ``(S, q)`` the probability that a member plays each action there.
        full_commitment_counts: ``(M, q)`` the members' action counts at full commitment ...
        full_commitment_distribution: ``(M,)`` ... and their probabilities.
        member_payoff: every player's payoff at full commitment.
        utilities: ``(N,)`` the same, per player.
        welfare: the welfare function of ``utilities``.
        violation: the largest gain of any constrained deviation, recomputed (``max(0, .)``).
        constrained_sizes, observes_outsiders, ic, e, welfare_name, info: as for
            :class:`MediatedEquilibriumResult`.
    """

    n_players: int
    size_policy: NDArray[np.float64]
    state_sizes: NDArray[np.int64]
    state_outsider_counts: NDArray[np.int64]
    state_policy: NDArray[np.float64]
    full_commitment_counts: NDArray[np.int64]
    full_commitment_distribution: NDArray[np.float64]
    member_payoff: float
    utilities: NDArray[np.float64]
    welfare: float
    violation: float
    constrained_sizes: NDArray[np.int64]
    observes_outsiders: bool
    ic: bool
    e: bool
    welfare_name: str
    info: SolveInfo


# -- shared --------------------------------------------------------------------------------


def constrained_sizes(n: int, ic: bool, e: bool) -> NDArray[np.int64]:
    """The coalition sizes whose members' rows are imposed: ``N`` always, ``1 .. N-1`` with
    IC, ``3 .. N-1`` with E (module docstring)."""
    sizes = {n}
    if ic:
        sizes |= set(range(1, n))
    if e:
        sizes |= set(range(3, n))
    return np.array(sorted(sizes), dtype=np.int64)


def _welfare(fn: str, welfare: Any, n: int) -> Welfare:
    w = make_welfare(fn, welfare, n)
    if w.kind not in LINEAR_WELFARE:
        raise MechsolveInputError(
            fn,
            "welfare",
            "must be utilitarian or egalitarian (the LP's objective is linear); got "
            f"{w.kind.value!r}",
        )
    return w


@dataclass(frozen=True, eq=False)
class _Lp:
    """``max`` the stages' costs s.t. ``lo <= A z <= hi``, ``0 <= z``; ``n_policy`` policy
    columns first (then the egalitarian epigraph column, if any); ``incentive``: the rows
    ``member - deviator >= const`` (scaled), for the violation."""

    costs: list[NDArray[np.float64]]
    a: sp.csr_array
    lo: NDArray[np.float64]
    hi: NDArray[np.float64]
    n_policy: int
    incentive: sp.csr_array
    incentive_lo: NDArray[np.float64]

    def solve(self, tl: float | None, watch: Stopwatch) -> tuple[NDArray[np.float64], Termination]:
        n_col = len(self.costs[0])
        col_lo = np.zeros(n_col)
        col_hi = np.full(n_col, hb.INF)
        if n_col > self.n_policy:
            col_lo[self.n_policy :] = -hb.INF
        sol = solve_lexicographic(
            self.costs,
            self.a,
            self.lo,
            self.hi,
            col_lo,
            col_hi,
            maximize=True,
            time_limit=tl,
            watch=watch,
            names=("welfare", "utilitarian tie-break", "coalition welfare"),
        )
        x = sol.x[: self.n_policy] if sol.termination.has_solution else np.empty(0)
        return x, sol.termination

    def violation(self, z: NDArray[np.float64], scale: float) -> float:
        if self.incentive.shape[0] == 0:
            return 0.0
        slack = self.incentive @ z - self.incentive_lo
        return max(0.0, -float(slack.min()) / scale)


def _objective_costs(
    w: Welfare, values: sp.csr_array, n_col: int, offpath: NDArray[np.float64]
) -> tuple[list[NDArray[np.float64]], sp.csr_array | None]:
    """The stage costs over ``[policy columns, t?]`` from ``values`` (``(n, n_policy)``: each
    player's payoff at full commitment as a row over the policy columns); for egalitarian also
    the epigraph rows ``V_i - t`` (``>= d_i``)."""
    n, n_pol = values.shape
    total = np.zeros(n_col)
    total[:n_pol] = np.asarray(values.sum(axis=0)).ravel()
    off = np.zeros(n_col)
    off[:n_pol] = offpath
    if w.kind is WelfareKind.UTILITARIAN:
        if w.weights is None:
            return [total, off], None
        first = np.zeros(n_col)
        first[:n_pol] = np.asarray(w.weights, dtype=np.float64) @ values.toarray()
        return [first, total, off], None
    first = np.zeros(n_col)
    first[-1] = 1.0
    epi = sp.hstack([values, sp.csr_array(-np.ones((n, 1)))], format="csr")
    return [first, total, off], epi


def _midpoints(u: NDArray[np.float64]) -> NDArray[np.float64]:
    """Per row (player), the middle of its payoffs' range. Subtracting a constant from a
    player's payoffs (and disagreement value) changes no constraint (every policy sums to 1)
    and shifts each welfare stage by a constant, so both LPs are built on centered payoffs:
    ``1e12 + O(1)`` payoffs keep their ``O(1)`` differences above HiGHS' tolerances."""
    return u.max(axis=1) / 2.0 + u.min(axis=1) / 2.0  # no overflow at +-1.7e308


def _assemble(
    w: Welfare,
    floor: NDArray[np.float64],
    simplex: sp.csr_array,
    incentive: sp.csr_array,
    incentive_lo: NDArray[np.float64],
    values: sp.csr_array,
    offpath: NDArray[np.float64],
) -> _Lp:
    """The LP of both formulations from their parts over the policy columns: the simplex rows
    (``= 1``), the incentive rows (``>= incentive_lo``), each player's payoff at full
    commitment (``values``) and the coalitions' welfare (``offpath``); egalitarian welfare
    adds its epigraph column and rows ``V_i - t >= floor_i`` (``d_i`` in the LP's units)."""
    n, n_pol = values.shape
    n_col = n_pol + (1 if w.kind is WelfareKind.EGALITARIAN else 0)
    costs, epi = _objective_costs(w, values, n_col, offpath)
    blocks = [_pad(simplex, n_col), _pad(incentive, n_col)]
    lo = [np.ones(simplex.shape[0]), incentive_lo]
    hi = [np.ones(simplex.shape[0]), np.full(incentive.shape[0], hb.INF)]
    if epi is not None:
        blocks.append(epi)
        lo.append(floor)
        hi.append(np.full(n, hb.INF))
    return _Lp(
        costs,
        sp.vstack(blocks, format="csr"),
        np.concatenate(lo),
        np.concatenate(hi),
        n_pol,
        incentive,
        incentive_lo,
    )


def _simplex_rows(blocks: list[NDArray[np.int64]], n_col: int) -> sp.csr_array:
    """One row ``sum_j z[block[r, j]] = 1`` per row ``r`` of each ``(rows, width)`` block of
    policy columns (a distribution per coalition, and outsiders' profile when observing)."""
    cols = np.concatenate([b.ravel() for b in blocks])
    rows = np.concatenate([np.repeat(np.arange(b.shape[0]), b.shape[1]) for b in blocks])
    starts = np.cumsum([0] + [b.shape[0] for b in blocks[:-1]])
    rows += np.repeat(starts, [b.size for b in blocks])
    n_rows = int(sum(b.shape[0] for b in blocks))
    return sp.csr_array((np.ones(len(cols)), (rows, cols)), shape=(n_rows, n_col))


def _termination(term: Termination, violation: float, top: float) -> Termination:
    if term.is_optimal and violation > VIOLATION_RTOL * max(1.0, top):
        return Termination(
            TerminationReason.IMPRECISE,
            None,
            f"recomputed largest deviation gain {violation:.3g} above the tolerance",
        )
    return term


# -- explicit ------------------------------------------------------------------------------


def mediated_equilibrium(
    game: NormalFormGame | Any,
    *,
    observes_outsiders: bool = False,
    ic: bool = False,
    e: bool = False,
    welfare: str | Welfare | WelfareKind = "utilitarian",
    time_limit: float | None = None,
    limits: Limits | None = None,
) -> MediatedEquilibriumResult:
    """A welfare-optimal mediated equilibrium of ``game`` with policies for every coalition
    (module docstring, explicit formulation).

    Args:
        game: a :class:`NormalFormGame` or its payoff array.
        observes_outsiders: whether a coalition's policy sees the outsiders' actions (default
            ``False``: seed 004's mediator; ``True``: seed 000's).
        ic: impose Incentive Compatibility for every coalition.
        e: impose Encouragement (the authors' code's range, ``1 < |C| < N``).
        welfare: ``"utilitarian"`` (weights, disagreement point) or ``"egalitarian"``, of the
            payoffs at full commitment.
        time_limit: seconds for the whole call (``None``: no limit).
        limits: the columns (``(2^n - 1) prod_i k_i`` observing, ``prod_i (k_i + 1) - 1``
            otherwise) and the member rows' nonzeros (at most ``2^(n-1) prod_i k_i sum_i (k_i +
            1)``) within ``max_candidates``; the players within ``max_players``.
    """
    fn = "mediated_equilibrium"
    watch = Stopwatch()
    lim = resolve(limits)
    g = as_game(fn, game, lim)
    obs = v.flag(fn, "observes_outsiders", observes_outsiders)
    use_ic = v.flag(fn, "ic", ic)
    use_e = v.flag(fn, "e", e)
    w = _welfare(fn, welfare, g.n_players)
    tl = v.time_limit(fn, time_limit)
    n, ks = g.n_players, g.num_actions
    size = g.n_outcomes
    cols = (2**n - 1) * size if obs else math.prod(k + 1 for k in ks) - 1
    lim.check(fn, "game policy columns", cols, "max_candidates")
    entries = 2 ** (n - 1) * size * sum(k + 1 for k in ks)  # the member rows, at most
    lim.check(fn, "game incentive nonzeros", entries, "max_candidates")
    sizes = constrained_sizes(n, use_ic, use_e)
    shift = _midpoints(g.payoffs.reshape(n, -1))
    centered = g.payoffs - shift.reshape(n, *(1,) * n)
    scale = unit_scale(centered)
    floor = (w.d(np.arange(n)) - shift) * scale
    layout = _Layout(ks, obs)
    lp = _explicit_lp(centered * scale, layout, sizes, w, floor, lambda: watch.expired(tl))
    if lp is None:
        x, term = np.empty(0), Termination.no_solution(Limit.TIME, BUILD_TIMEOUT)
    else:
        x, term = lp.solve(tl, watch)
    return _explicit_result(g, layout, lp, x, term, sizes, obs, use_ic, use_e, w, scale, watch)


class _Layout:
    """The policy columns of the explicit LP: coalition ``m`` (bitmask, ``1 .. 2^n - 1``) owns
    ``prod_{i in m} k_i`` columns (``prod_i k_i`` observing) from ``offset[m]``; ``grid(m)``
    gives, per full outcome ``s``, the column of ``pi_m(s_m [| s_O])``."""

    def __init__(self, ks: tuple[int, ...], observes: bool) -> None:
        self.ks = ks
        self.n = len(ks)
        self.observes = observes
        self.full = 2**self.n - 1
        self.coords = np.indices(ks, dtype=np.int64)
        self._keys: dict[int, NDArray[np.int64]] = {}
        self.offset = np.zeros(2**self.n, dtype=np.int64)
        pos = 0
        for m in range(1, 2**self.n):
            self.offset[m] = pos
            pos += math.prod(ks) if observes else math.prod(ks[i] for i in self.members(m))
        self.n_col = pos

    def members(self, m: int) -> list[int]:
        return [i for i in range(self.n) if m >> i & 1]

    def outsiders(self, m: int) -> list[int]:
        return [i for i in range(self.n) if not m >> i & 1]

    def key(self, mask: int) -> NDArray[np.int64]:
        """Per full outcome, the flat index (C order) of its restriction to the players of
        ``mask``; memoized, each one multiply-add from ``mask`` without its highest player
        (all of them together hold at most ``2^n prod_i k_i`` entries, within the nonzeros'
        limit)."""
        got = self._keys.get(mask)
        if got is None:
            if mask == 0:
                got = np.zeros(self.ks, dtype=np.int64)
            else:
                top = mask.bit_length() - 1
                got = self.key(mask & ~(1 << top)) * self.ks[top] + self.coords[top]
            self._keys[mask] = got
        return got

    def outsiders_key(self, m: int) -> NDArray[np.int64]:
        return self.key(self.full & ~m)

    def grid(self, m: int) -> NDArray[np.int64]:
        return self.offset[m] + self.key(self.full if self.observes else m)

    def block(self, m: int) -> NDArray[np.int64]:
        """``(outsiders' profiles, members' joint actions)``: the policy columns of ``m``, one
        distribution per row (a single row without observation)."""
        mem = self.members(m)
        width = math.prod(self.ks[i] for i in mem)
        if not self.observes:
            return self.offset[m] + np.arange(width, dtype=np.int64)[None, :]
        return self.grid(m).transpose(self.outsiders(m) + mem).reshape(-1, width)


def _explicit_lp(
    u: NDArray[np.float64],
    lay: _Layout,
    sizes: NDArray[np.int64],
    w: Welfare,
    floor: NDArray[np.float64],
    expired: Callable[[], bool],
) -> _Lp | None:
    """The explicit LP, or ``None`` when ``expired()`` turns true while it is built (the
    build loops over the ``2^n - 1`` coalitions in Python: seconds for 16 one-action
    players, so the time limit is checked per coalition)."""
    n, ks = lay.n, lay.ks
    full = 2**n - 1
    simplex = _simplex_rows([lay.block(m) for m in range(1, 2**n)], lay.n_col)
    # member rows: V_i(m, a_O) - V_i(m - i, (a_O, a)) >= 0, rows keyed by (a_O, a)
    rr, cc, dd, lows, count = [], [], [], [], 0
    for m in range(1, 2**n):
        if len(lay.members(m)) not in sizes:
            continue
        if expired():
            return None
        key_o = lay.outsiders_key(m).ravel()
        grid = lay.grid(m).ravel()
        for i in lay.members(m):
            k = ks[i]
            ui = u[i].ravel()
            n_rows = (int(key_o.max()) + 1) * k
            for a in range(k):
                rr.append(count + key_o * k + a)
                cc.append(grid)
                dd.append(ui)
            low = np.zeros(n_rows)
            dev_rows = count + key_o * k + lay.coords[i].ravel()
            rest = m & ~(1 << i)
            if rest:
                rr.append(dev_rows)
                cc.append(lay.grid(rest).ravel())
                dd.append(-ui)
            else:
                low[dev_rows - count] = ui
            lows.append(low)
            count += n_rows
    incentive = sp.csr_array(
        (np.concatenate(dd), (np.concatenate(rr), np.concatenate(cc))), shape=(count, lay.n_col)
    )
    incentive_lo = np.concatenate(lows)
    # objective stages
    full_cols = lay.grid(full).ravel()
    values = sp.csr_array(
        (
            u.reshape(n, -1).ravel(),
            (np.repeat(np.arange(n), full_cols.size), np.tile(full_cols, n)),
        ),
        shape=(n, lay.n_col),
    )
    offpath = np.zeros(lay.n_col)
    for m in range(1, full):
        mem, out = lay.members(m), lay.outsiders(m)
        weight = 1.0 / (math.comb(n, len(mem)) * math.prod(ks[j] for j in out))
        gain = u[mem].sum(axis=0).ravel() * weight
        offpath += np.bincount(lay.grid(m).ravel(), weights=gain, minlength=lay.n_col)
    return _assemble(w, floor, simplex, incentive, incentive_lo, values, offpath)


def _pad(a: sp.csr_array, n_col: int) -> sp.csr_array:
    if a.shape[1] == n_col:
        return a
    return sp.hstack([a, sp.csr_array((a.shape[0], n_col - a.shape[1]))], format="csr")


def _explicit_result(
    g: NormalFormGame,
    lay: _Layout,
    lp: _Lp | None,
    x: NDArray[np.float64],
    term: Termination,
    sizes: NDArray[np.int64],
    obs: bool,
    use_ic: bool,
    use_e: bool,
    w: Welfare,
    scale: float,
    watch: Stopwatch,
) -> MediatedEquilibriumResult:
    n, ks = g.n_players, g.num_actions
    kmax = max(ks)
    if lp is None or not term.has_solution or x.size != lay.n_col:
        nan_pol = np.full((2**n, *ks), np.nan)
        info = SolveInfo(term, math.nan, "lp", "highs", watch.elapsed)
        return MediatedEquilibriumResult(
            readonly(nan_pol),
            readonly(np.full(ks, np.nan)),
            readonly(np.full(n, np.nan)),
            math.nan,
            readonly(np.full((2**n, n, kmax), np.nan)),
            readonly(np.full((n + 1, kmax), np.nan)),
            math.nan,
            readonly(sizes),
            obs,
            use_ic,
            use_e,
            w.name,
            info,
        )
    z = np.clip(x, 0.0, None)
    policy = np.ones((2**n, *ks))
    probs = np.full((2**n, n, kmax), np.nan)
    for m in range(1, 2**n):
        mem, out = lay.members(m), lay.outsiders(m)
        p = z[lay.grid(m)]
        p = p / p.sum(axis=tuple(i for i in mem), keepdims=True)
        policy[m] = p
        z[lay.grid(m)] = p
        n_profiles = math.prod(ks[j] for j in out)
        for i in mem:
            marg = p.sum(axis=tuple(j for j in range(n) if j != i)) / n_profiles
            probs[m, i, : ks[i]] = marg
    size_policy = np.full((n + 1, kmax), np.nan)
    for k in range(1, n + 1):
        rows = [probs[m, i] for m in range(1, 2**n) if m.bit_count() == k for i in lay.members(m)]
        size_policy[k] = np.nanmean(np.where(np.isnan(rows), 0.0, rows), axis=0)
    dist = policy[-1]
    utilities = g.payoffs.reshape(n, -1) @ dist.ravel()
    value = float(w.evaluate(utilities, np.arange(n)))
    violation = lp.violation(z, scale)
    term = _termination(term, violation, 1.0 / scale)
    info = SolveInfo(term, value, "lp", "highs", watch.elapsed)
    return MediatedEquilibriumResult(
        readonly(policy),
        readonly(dist.copy()),
        readonly(utilities),
        value,
        readonly(probs),
        readonly(size_policy),
        violation,
        readonly(sizes),
        obs,
        use_ic,
        use_e,
        w.name,
        info,
    )


# -- anonymous -----------------------------------------------------------------------------


def anonymous_mediated_equilibrium(
    game: SymmetricGame | NormalFormGame | Any,
    *,
    observes_outsiders: bool = False,
    ic: bool = False,
    e: bool = False,
    welfare: str | Welfare | WelfareKind = "utilitarian",
    time_limit: float | None = None,
    limits: Limits | None = None,
) -> AnonymousMediatedResult:
    """A welfare-optimal mediated equilibrium of a symmetric game over exchangeable policies
    (module docstring, anonymous formulation).

    Args:
        game: a :class:`SymmetricGame` (compact: any number of players), or a symmetric
            :class:`NormalFormGame` or payoff array (a non-symmetric one is an error naming
            ``game``).
        observes_outsiders, ic, e: as for :func:`mediated_equilibrium`.
        welfare: ``"utilitarian"`` or ``"egalitarian"``, permutation-invariant (equal weights,
            equal disagreement values): every player's payoff is the same, so the LP maximizes
            it.
        time_limit: seconds for the whole call.
        limits: the columns and the incentive rows' nonzeros within ``max_candidates``.
    """
    fn = "anonymous_mediated_equilibrium"
    watch = Stopwatch()
    lim = resolve(limits)
    sg = as_symmetric(fn, game, lim)
    obs = v.flag(fn, "observes_outsiders", observes_outsiders)
    use_ic = v.flag(fn, "ic", ic)
    use_e = v.flag(fn, "e", e)
    n, q = sg.n_players, sg.n_actions
    w = _welfare(fn, welfare, n)
    for name, vals in (("welfare.weights", w.weights), ("welfare.disagreement", w.disagreement)):
        if vals is not None and len(set(vals)) > 1:
            raise MechsolveInputError(
                fn, name, f"must be equal for every player (exchangeable policies); got {vals}"
            )
    tl = v.time_limit(fn, time_limit)
    n_col, nnz = anonymous_lp_size(n, q, obs)
    lim.check(fn, "game policy columns", n_col, "max_candidates")
    lim.check(fn, "game incentive nonzeros", nnz, "max_candidates")
    sizes = constrained_sizes(n, use_ic, use_e)
    shift = float(_midpoints(sg.payoffs[read_mask(n, q)][None, :])[0])
    scale = unit_scale(sg.payoffs - shift)
    floor = (w.d(np.arange(n)) - shift) * scale
    states = _States(n, q, obs)
    lp = _anonymous_lp((sg.payoffs - shift) * scale, states, sizes, w, floor)
    x, term = lp.solve(tl, watch)
    return _anonymous_result(sg, states, lp, x, term, sizes, obs, use_ic, use_e, w, scale, watch)


def anonymous_lp_size(n: int, q: int, observes: bool) -> tuple[int, int]:
    """The anonymous LP's policy columns and (at most) incentive nonzeros, in closed form (no
    loop over the ``N`` sizes: a limit check must take microseconds even at ``N = 10^9``).

    Columns: ``sum_{k=1}^N C(k+q-1, q-1) = C(N+q, q) - 1``, observing ``sum_{k=1}^N
    C(k+q-1, q-1) C(N-k+q-1, q-1) = C(N+2q-1, 2q-1) - C(N+q-1, q-1)`` (Vandermonde).
    Nonzeros: a row per size, outsiders' counts and action, with the member's and the
    deviator's policy entries: ``q sum_k C(N-k+q-1, q-1) (C(k+q-1, q-1) + C(k+q-2, q-1)) = q
    (C(N+2q-1, 2q-1) - C(N+q-1, q-1) + C(N+2q-2, 2q-1))``."""
    pairs = math.comb(n + 2 * q - 1, 2 * q - 1) - math.comb(n + q - 1, q - 1)
    n_col = pairs if observes else math.comb(n + q, q) - 1
    return n_col, q * (pairs + math.comb(n + 2 * q - 2, 2 * q - 1))


class _States:
    """The anonymous LP's columns: coalition size ``k`` (``1 .. N``), observing also the
    outsiders' counts ``o`` (index into ``comps[N - k]``), then the members' counts ``c``
    (index into ``comps[k]``)."""

    def __init__(self, n: int, q: int, observes: bool) -> None:
        self.n, self.q, self.observes = n, q, observes
        self.comps = [compositions(t, q) for t in range(n + 1)]
        self.base = (n + 1) ** np.arange(q, dtype=np.int64)
        self.keys = [c @ self.base for c in self.comps]
        self.order = [np.argsort(k) for k in self.keys]
        self.offset = np.zeros(n + 1, dtype=np.int64)
        pos = 0
        for k in range(1, n + 1):
            self.offset[k] = pos
            pos += len(self.comps[k]) * (len(self.comps[n - k]) if observes else 1)
        self.n_col = pos

    def rank(self, total: int, counts: NDArray[np.int64]) -> NDArray[np.int64]:
        """The index in ``comps[total]`` of each count vector (rows of ``counts``)."""
        keys = counts @ self.base
        order = self.order[total]
        at = np.searchsorted(self.keys[total][order], keys)
        return order[at]

    def cols(self, k: int, o_idx: NDArray[np.int64]) -> NDArray[np.int64]:
        """``(len(o_idx), |comps[k]|)`` the columns of size ``k`` at the outsiders' counts."""
        width = len(self.comps[k])
        c = np.arange(width, dtype=np.int64)
        if self.observes:
            return self.offset[k] + o_idx[:, None] * width + c[None, :]
        return np.broadcast_to(self.offset[k] + c[None, :], (len(o_idx), width))

    def block(self, k: int) -> NDArray[np.int64]:
        """``(outsiders' count vectors, members' count vectors)``: the policy columns of size
        ``k``, one distribution per row (a single row without observation)."""
        n_o = len(self.comps[self.n - k]) if self.observes else 1
        return self.cols(k, np.arange(n_o, dtype=np.int64))

    def weights(self, k: int) -> NDArray[np.float64]:
        """The probability of each outsiders' count vector of size ``k`` when every outsider
        plays a uniformly random action (each profile equally likely)."""
        o = self.comps[self.n - k]
        m = self.n - k
        logs = np.array(
            [math.lgamma(m + 1) - sum(math.lgamma(int(x) + 1) for x in row) for row in o]
        )
        return np.exp(logs - m * math.log(self.q))


def _member_payoffs(
    u: NDArray[np.float64], c: NDArray[np.int64], o: NDArray[np.int64]
) -> NDArray[np.float64]:
    """``(P, Q)``: ``w(k, o, c) = sum_a (c_a / k) U(a, c - e_a + o)`` for outsiders' counts
    ``o`` ``(P, q)`` and members' counts ``c`` ``(Q, q)``, ``k = sum c``."""
    q = u.shape[0]
    k = int(c[0].sum())
    out = np.zeros((len(o), len(c)))
    for a in range(q):
        has = c[:, a] > 0
        if not has.any():
            continue
        others = c[None, has, :] - np.eye(q, dtype=np.int64)[a] + o[:, None, :]
        out[:, has] += (c[has, a] / k)[None, :] * lookup(u, a, others)
    return out


def _anonymous_lp(
    u: NDArray[np.float64],
    st: _States,
    sizes: NDArray[np.int64],
    w: Welfare,
    floor: NDArray[np.float64],
) -> _Lp:
    n, q = st.n, st.q
    eye = np.eye(q, dtype=np.int64)
    simplex = _simplex_rows([st.block(k) for k in range(1, n + 1)], st.n_col)
    # member rows, keyed by (o, a): w(k, o, .) . x[k, o] - U(a, . + o) . x[k - 1, o + e_a] >= 0
    rr, cc, dd, lows, count = [], [], [], [], 0
    for k in sizes.tolist():
        o = st.comps[n - k]
        o_idx = np.arange(len(o))
        wk = _member_payoffs(u, st.comps[k], o)  # (P, Q)
        mine = st.cols(k, o_idx)
        low = np.zeros(len(o) * q)
        for a in range(q):
            r = count + o_idx * q + a
            rr.append(np.repeat(r, mine.shape[1]))
            cc.append(mine.ravel())
            dd.append(wk.ravel())
            if k == 1:
                low[o_idx * q + a] = lookup(u, a, o)
                continue
            c2 = st.comps[k - 1]
            o2 = o + eye[a]
            o2_idx = st.rank(n - k + 1, o2) if st.observes else np.zeros(len(o), dtype=np.int64)
            theirs = st.cols(k - 1, o2_idx)
            dev = lookup(u, a, c2[None, :, :] + o[:, None, :])  # (P, Q2)
            rr.append(np.repeat(r, theirs.shape[1]))
            cc.append(theirs.ravel())
            dd.append(-dev.ravel())
        lows.append(low)
        count += len(o) * q
    incentive = sp.csr_array(
        (np.concatenate(dd), (np.concatenate(rr), np.concatenate(cc))), shape=(count, st.n_col)
    )
    incentive_lo = np.concatenate(lows)
    # objective: every player's payoff at full commitment is w(N, 0, .) . x[N]
    full = st.cols(n, np.zeros(1, dtype=np.int64)).ravel()
    wn = _member_payoffs(u, st.comps[n], np.zeros((1, q), dtype=np.int64)).ravel()
    values = sp.csr_array(
        (np.tile(wn, n), (np.repeat(np.arange(n), len(full)), np.tile(full, n))),
        shape=(n, st.n_col),
    )
    offpath = np.zeros(st.n_col)
    for k in range(1, n):
        o = st.comps[n - k]
        gain = k * _member_payoffs(u, st.comps[k], o) * st.weights(k)[:, None]  # (P, Q)
        if not st.observes:
            gain = gain.sum(axis=0, keepdims=True)
        offpath[st.block(k).ravel()] += gain.ravel()
    return _assemble(w, floor, simplex, incentive, incentive_lo, values, offpath)


def _anonymous_result(
    sg: SymmetricGame,
    st: _States,
    lp: _Lp,
    x: NDArray[np.float64],
    term: Termination,
    sizes: NDArray[np.int64],
    obs: bool,
    use_ic: bool,
    use_e: bool,
    w: Welfare,
    scale: float,
    watch: Stopwatch,
) -> AnonymousMediatedResult:
    n, q = st.n, st.q
    full_counts = st.comps[n]
    empty_i = np.zeros(0, dtype=np.int64)
    if not term.has_solution or x.size != st.n_col:
        info = SolveInfo(term, math.nan, "lp", "highs", watch.elapsed)
        return AnonymousMediatedResult(
            n,
            readonly(np.full((n + 1, q), np.nan)),
            readonly(empty_i),
            readonly(np.zeros((0, q), dtype=np.int64)),
            readonly(np.zeros((0, q))),
            readonly(full_counts.copy()),
            readonly(np.full(len(full_counts), np.nan)),
            math.nan,
            readonly(np.full(n, np.nan)),
            math.nan,
            math.nan,
            readonly(sizes),
            obs,
            use_ic,
            use_e,
            w.name,
            info,
        )
    z = np.clip(x, 0.0, None)
    size_policy = np.full((n + 1, q), np.nan)
    s_sizes, s_counts, s_policy = [], [], []
    for k in range(1, n + 1):
        block = st.block(k)
        n_o = block.shape[0]
        p = z[block]
        p = p / p.sum(axis=1, keepdims=True)
        z[block] = p
        act = p @ (st.comps[k] / k)  # (n_o, q)
        if obs:
            size_policy[k] = st.weights(k) @ act
            s_sizes.append(np.full(n_o, k))
            s_counts.append(st.comps[n - k])
            s_policy.append(act)
        else:
            size_policy[k] = act[0]
    dist = z[st.cols(n, np.zeros(1, dtype=np.int64)).ravel()]
    wn = _member_payoffs(sg.payoffs, full_counts, np.zeros((1, q), dtype=np.int64)).ravel()
    payoff = float(wn @ dist)
    utilities = np.full(n, payoff)
    value = float(w.evaluate(utilities, np.arange(n)))
    violation = lp.violation(z, scale)
    term = _termination(term, violation, 1.0 / scale)
    info = SolveInfo(term, value, "lp", "highs", watch.elapsed)
    if obs:
        sizes_arr = np.concatenate(s_sizes).astype(np.int64)
        counts_arr = np.vstack(s_counts).astype(np.int64)
        pol_arr = np.vstack(s_policy)
    else:
        sizes_arr, counts_arr, pol_arr = empty_i, np.zeros((0, q), dtype=np.int64), np.zeros((0, q))
    return AnonymousMediatedResult(
        n,
        readonly(size_policy),
        readonly(sizes_arr),
        readonly(counts_arr),
        readonly(pol_arr),
        readonly(full_counts.copy()),
        readonly(dist.copy()),
        payoff,
        readonly(utilities),
        value,
        violation,
        readonly(sizes),
        obs,
        use_ic,
        use_e,
        w.name,
        info,
    )
