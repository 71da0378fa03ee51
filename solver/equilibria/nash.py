"""Welfare-optimal Nash equilibria of bimatrix games (MILP) and minimax strategies (LP).

**Nash equilibria by mixed-integer programming.** Formulation 1 of T. Sandholm, A. Gilpin and
V. Conitzer, "Mixed-integer programming methods for finding Nash equilibria", AAAI 2005. For a
two-player game with payoff matrices ``U_0`` and ``U_1`` (both ``k_0 x k_1``, player 0 picks the
row ``a``, player 1 the column ``b``), per player ``i`` and own action ``a``::

    opt   sum_i w_i v_i                                  (the objective, below)
    s.t.  sum_a x_a = 1                                  mixed strategy of player i
          u_a = sum_b U_i(a, b) x_b                      value of pure action a against the
                                                         opponent's mixed strategy x_b
          v_i >= u_a                                     v_i: player i's equilibrium value
          r_a = v_i - u_a                                regret of action a
          x_a <= 1 - s_a                                 s_a = 1: a is not in the support
          r_a <= U_max_i s_a                             an action in the support has no regret
          x_a >= 0,  r_a >= 0,  s_a in {0, 1}

with ``U_max_i = max U_i - min U_i`` (a valid big-M: ``v_i`` equals ``u`` of a support action,
so no regret exceeds the payoff range). Every feasible point is a Nash equilibrium (a support
action has zero regret, so each player only plays best responses) and ``v_i`` is then player
i's expected utility. The objective is linear in ``v``: ``utilitarian`` (``w = (1, 1)``) or one
player's utility (``w = e_player``), maximized (the best equilibrium) or minimized (the worst);
:func:`nash_equilibrium_with_value` solves the feasibility problem with ``v_player >= at_least``
added. Each player's payoffs are scaled to ``[0, 1]`` for the solve (a positive affine map per
player keeps the equilibria; the objective keeps its weights in the original units) so that
HiGHS' tolerances are relative to each player's payoff range.

**Numerical honesty.** HiGHS solves to tolerances (``1e-9``). The supports are read from the
binaries (an action with ``s_a = 1`` or a vanishing ``x_a`` is dropped) and, when both supports
have the same size, the equilibrium on them is re-solved exactly as the square linear systems of
the indifference conditions (player 1's mix on ``S_1`` makes player 0 indifferent on ``S_0``,
and vice versa); the exact profile replaces the cleaned MILP profile (clipped, renormalized) when
its regret is no larger and its utilities agree with the MILP's. The returned utilities, welfare
and regret are always recomputed from the returned strategies. A profile whose recomputed
regret for some player exceeds :data:`REGRET_RTOL` times that player's payoff range (plus a
rounding floor, :func:`_regret_tolerances`) is an epsilon-equilibrium, not an exact one: an
``OPTIMAL`` solve becomes ``IMPRECISE`` (a limit-stopped one stays ``FEASIBLE``) with the regret
in the detail.

**Minimax.** J. von Neumann, "Zur Theorie der Gesellschaftsspiele", Math. Annalen 100 (1928):
for the zero-sum game of player 0's payoffs ``A = U_0``::

    max  v    s.t.  sum_a x_a A(a, b) >= v  for every b,   sum_a x_a = 1,  x >= 0
    min  w    s.t.  sum_b A(a, b) y_b <= w  for every a,   sum_b y_b = 1,  y >= 0

both with optimum ``v* = w*`` (the game value), ``x`` the maximin and ``y`` the minimax
strategy. See :func:`minimax` for what this means when the game is not zero-sum.
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
from ..core.errors import MechsolveInputError, ProblemTooLargeError
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
from ..games.normal_form import NormalFormGame, as_game
from ..games.welfare import Welfare, WelfareKind, make_welfare

REGRET_RTOL = 1e-7
"""A returned profile is an equilibrium when each player's recomputed regret is at most this
times the player's payoff range (plus a rounding floor)."""

ROUNDING_RTOL = 1e-12
"""The rounding floor of the regret and value checks, relative to the largest absolute payoff
of the player (what summing a few products of payoffs and probabilities may lose)."""

SUPPORT_TOL = 1e-9
"""MILP probabilities at or below this are solver noise and dropped from the support."""

POLISH_DRIFT = 1e-6
"""The exact re-solve on the supports replaces the MILP profile only when no player's utility
(in units of the player's payoff range) moves by more than this."""

SINGULAR_RTOL = 1e-12
"""An indifference system whose smallest singular value is below this times its largest is
treated as singular (no exact re-solve)."""

ZERO_SUM_TOL = 1e-9
"""A game is zero-sum (constant-sum) when ``u_0 + u_1`` varies by at most this times
``max(1, max |payoff|)`` over the outcomes."""

MAX_NASH_ACTIONS = 2_000
"""Cap on ``k_0 + k_1`` (the MILP's binaries) for the Nash MILPs (its matrix holds two dense
``k_0 x k_1`` blocks; MILPs of this size are far beyond proving optimality anyway)."""

OBJECTIVES = ("welfare", "player")
SENSES = ("max", "min")


# -- results ------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class NashResult(HasSolveInfo):
    """A Nash equilibrium of a bimatrix game chosen by a MILP (module docstring).

    Attributes:
        exists: an equilibrium meeting the request was found (``False``: proven none, or none
            found before a limit: the termination says which). ``True`` with an ``IMPRECISE``
            termination means the returned profile is only an epsilon-equilibrium (``regret``).
        row_strategy: ``(k_0,)`` player 0's mixed strategy (empty when none).
        column_strategy: ``(k_1,)`` player 1's mixed strategy (empty when none).
        utilities: ``(2,)`` expected utilities, recomputed from the strategies (``nan`` when
            none).
        row_support: actions of player 0 played with positive probability.
        column_support: actions of player 1 played with positive probability.
        objective_name: what was optimized: ``"utilitarian"``, ``"player 0"``, ``"player 1"``,
            or for :func:`nash_equilibrium_with_value` ``"player i >= at_least"`` (nothing is
            optimized there).
        welfare: the objective's value at the returned equilibrium (``u_0 + u_1`` or
            ``u_player``), recomputed (``nan`` when none); ``info.objective`` is the same.
        regret: the returned profile's largest gain from a pure deviation over both players,
            recomputed (a measurement; ``nan`` when none).
        info: termination, objective, method ``"milp"``, backend ``"highs"``, time; ``bound``
            is HiGHS' proven bound on the optimal objective (``nan`` for the feasibility MILP).
    """

    exists: bool
    row_strategy: NDArray[np.float64]
    column_strategy: NDArray[np.float64]
    utilities: NDArray[np.float64]
    row_support: NDArray[np.int64]
    column_support: NDArray[np.int64]
    objective_name: str
    welfare: float
    regret: float
    info: SolveInfo


@dataclass(frozen=True, eq=False)
class MinimaxResult(HasSolveInfo):
    """Maximin and minimax strategies of the zero-sum game of player 0's payoffs.

    Attributes:
        value: the game value for player 0 (row player): the midpoint of what ``row_strategy``
            guarantees (``min_b (x A)_b``) and what ``column_strategy`` concedes
            (``max_a (A y)_a``), both recomputed; the two differ by at most the tolerance of
            the check, else the termination is ``IMPRECISE`` (``nan`` without both strategies).
        row_strategy: player 0's maximin strategy (empty when the LP ended without one).
        column_strategy: player 1's minimax strategy against player 0's payoffs ``A``
            (empty when the LP ended without one).
        zero_sum: whether ``u_0 + u_1`` is constant over the outcomes (:data:`ZERO_SUM_TOL`).
            When it is not, ``value`` is player 0's security level, ``row_strategy`` its
            security (maximin) strategy, and ``column_strategy`` the strategy of player 1 that
            holds player 0 down to it (the minimax punishment, not player 1's own security
            strategy: that is ``minimax`` of the game with the players swapped).
        info: termination, objective (= ``value``), method ``"lp"``, backend ``"highs"``, time.
    """

    value: float
    row_strategy: NDArray[np.float64]
    column_strategy: NDArray[np.float64]
    zero_sum: bool
    info: SolveInfo


# -- public functions -------------------------------------------------------------------------


def optimal_nash_equilibrium(
    game: NormalFormGame | Any,
    *,
    objective: str = "welfare",
    welfare: str | Welfare | WelfareKind = "utilitarian",
    player: int | None = None,
    sense: str = "max",
    time_limit: float | None = None,
    limits: Limits | None = None,
) -> NashResult:
    """The best (``sense="max"``) or worst (``"min"``) Nash equilibrium of a 2-player game.

    ``objective="welfare"`` optimizes the utilitarian ``welfare`` ``sum_i w_i (u_i - d_i)``
    (weights and disagreement point from a :class:`Welfare`; the MILP's objective must be
    linear, so the other welfare functions are refused); ``objective="player"`` optimizes
    ``u_player`` (``player`` required, 0 or 1; ``None`` otherwise). The MILP of the module
    docstring (Sandholm, Gilpin & Conitzer 2005, Formulation 1) is solved with HiGHS; ties among
    optimal equilibria are broken by HiGHS' (deterministic, single-threaded) search. Every finite
    game has an equilibrium (Nash 1951), so ``exists=False`` means a limit or a solver failure.
    When a limit stops the MILP before it finds any equilibrium, the best pure equilibrium (if
    any) is returned as ``FEASIBLE`` with that limit.
    """
    fn = "optimal_nash_equilibrium"
    watch = Stopwatch()
    g = _bimatrix(fn, game, limits)
    obj = v.choice(fn, "objective", objective, OBJECTIVES)
    who = _objective_player(fn, obj, player)
    w = _linear_welfare(fn, welfare)
    maximize = v.choice(fn, "sense", sense, SENSES) == "max"
    tl = v.time_limit(fn, time_limit)
    if who is None:
        weights = np.ones(2) if w.weights is None else np.asarray(w.weights, dtype=np.float64)
        shift = float(weights @ w.d(np.arange(2)))
    else:
        weights, shift = np.eye(2)[who], 0.0
    name = w.name if who is None else f"player {who}"
    scaled = _Scaled.of(g)
    res = _solve_nash(scaled, weights, name, None, maximize, watch, tl)
    if shift == 0.0:
        return res
    info = replace(res.info, objective=res.info.objective - shift)
    return replace(res, welfare=res.welfare - shift, info=info)


def nash_equilibrium_with_value(
    game: NormalFormGame | Any,
    player: int,
    at_least: float,
    *,
    time_limit: float | None = None,
    limits: Limits | None = None,
) -> NashResult:
    """Is there a Nash equilibrium giving ``player`` at least ``at_least``?

    The feasibility MILP of the module docstring with ``v_player >= at_least`` added (no
    objective: HiGHS stops at the first equilibrium it finds). ``exists=False`` with termination
    ``INFEASIBLE`` when the MILP proves there is none (up to HiGHS' feasibility tolerance,
    relative to the player's payoff range); an equilibrium returned gives ``utilities[player]``
    at least ``at_least`` up to the same tolerance (``IMPRECISE`` when the recomputed utility
    falls short by more than :data:`REGRET_RTOL` times the range). ``welfare`` is
    ``utilities[player]``.
    """
    fn = "nash_equilibrium_with_value"
    watch = Stopwatch()
    g = _bimatrix(fn, game, limits)
    who = _player_index(fn, player)
    floor = v.real(fn, "at_least", at_least)
    tl = v.time_limit(fn, time_limit)
    scaled = _Scaled.of(g)
    name = f"player {who} >= {floor!r}"
    return _solve_nash(scaled, np.zeros(2), name, (who, floor), True, watch, tl)


def minimax(
    game: NormalFormGame | Any,
    *,
    time_limit: float | None = None,
    limits: Limits | None = None,
) -> MinimaxResult:
    """Maximin and minimax strategies and the value of a 2-player game for player 0.

    Two LPs over player 0's payoffs ``A`` (module docstring; von Neumann 1928): the row LP
    gives player 0's maximin strategy, the column LP player 1's minimax strategy. For a
    zero-sum (constant-sum) game they form a Nash equilibrium and ``value`` is the game value;
    otherwise see :class:`MinimaxResult` (player 1's payoffs only decide ``zero_sum``).
    """
    fn = "minimax"
    watch = Stopwatch()
    g = _bimatrix(fn, game, limits)
    tl = v.time_limit(fn, time_limit)
    a = np.asarray(g.payoffs[0], dtype=np.float64)
    zero_sum = _is_zero_sum(g.payoffs)
    lo, span = float(a.min()), _span(a)
    norm = (a - lo) / span
    row = hb.solve(*_maximin_lp(norm), maximize=True, time_limit=watch.remaining(tl))
    col = hb.solve(*_maximin_lp(-norm.T), maximize=True, time_limit=watch.remaining(tl))
    x = _simplex_point(row.x[:-1]) if row.termination.has_solution else np.empty(0)
    y = _simplex_point(col.x[:-1]) if col.termination.has_solution else np.empty(0)
    value, term = _minimax_value(a, x, y, row.termination, col.termination)
    info = SolveInfo(term, value, "lp", "highs", watch.elapsed)
    return MinimaxResult(value, readonly(x), readonly(y), zero_sum, info)


# -- validation ---------------------------------------------------------------------------------


def _bimatrix(fn: str, game: Any, limits: Limits | None) -> NormalFormGame:
    """``game`` as a validated 2-player NormalFormGame within the limits."""
    lim = resolve(limits)
    g = as_game(fn, game, lim)
    if g.n_players != 2:
        raise MechsolveInputError(
            fn, "game", f"must be a 2-player (bimatrix) game; got {g.n_players} players"
        )
    with np.errstate(over="ignore", invalid="ignore"):
        widths = np.ptp(g.payoffs.reshape(2, -1), axis=1)
    if not np.isfinite(widths).all():
        raise MechsolveInputError(
            fn, "game", f"must have a finite payoff range per player; got max - min = {widths}"
        )
    k0, k1 = g.num_actions
    lim.check(fn, "game", k0 * k1, "max_outcomes")
    if fn != "minimax" and k0 + k1 > MAX_NASH_ACTIONS:
        raise ProblemTooLargeError(
            fn,
            "game",
            f"has {k0 + k1} actions in all (one binary each), over the cap "
            f"MAX_NASH_ACTIONS={MAX_NASH_ACTIONS} of the Nash MILP",
        )
    return g


def _player_index(fn: str, player: Any) -> int:
    """``player`` as 0 or 1 (bools rejected)."""
    if isinstance(player, bool) or not isinstance(player, int | np.integer):
        raise MechsolveInputError(fn, "player", f"must be 0 or 1; got {player!r}")
    if player not in (0, 1):
        raise MechsolveInputError(fn, "player", f"must be 0 or 1; got {player}")
    return int(player)


def _linear_welfare(fn: str, welfare: Any) -> Welfare:
    """``welfare`` validated for 2 players; the utilitarian kind only (a linear objective)."""
    w = make_welfare(fn, welfare, 2)
    if w.kind is not WelfareKind.UTILITARIAN:
        raise MechsolveInputError(
            fn,
            "welfare",
            "must be utilitarian (weighted, with a disagreement point): the MILP optimizes a "
            f"linear objective; got {w.kind.value!r} (correlated_equilibrium takes any)",
        )
    return w


def _objective_player(fn: str, objective: str, player: Any) -> int | None:
    """The player whose utility is optimized, ``None`` for the welfare objective."""
    if objective == "welfare":
        if player is not None:
            raise MechsolveInputError(
                fn, "player", f"must be None unless objective='player'; got {player!r}"
            )
        return None
    if player is None:
        raise MechsolveInputError(fn, "player", "is required with objective='player'; got None")
    return _player_index(fn, player)


# -- scaling ------------------------------------------------------------------------------------


def _span(u: NDArray[np.float64]) -> float:
    """The payoff range of ``u`` (``max - min``), 1 when it is 0 (a constant player)."""
    width = float(u.max() - u.min())
    return width if width > 0 else 1.0


@dataclass(frozen=True, eq=False)
class _Scaled:
    """The game's payoffs and their per-player scaling ``N_i = (U_i - lo_i) / span_i``.

    Attributes:
        payoffs: ``(2, k_0, k_1)`` original payoffs.
        lo: ``(2,)`` each player's smallest payoff.
        span: ``(2,)`` each player's payoff range (1 for a constant player).
        norm: ``(2, k_0, k_1)`` the scaled payoffs, in ``[0, 1]``.
        tolerance: ``(2,)`` the largest regret each player may keep in an equilibrium.
    """

    payoffs: NDArray[np.float64]
    lo: NDArray[np.float64]
    span: NDArray[np.float64]
    norm: NDArray[np.float64]
    tolerance: NDArray[np.float64]

    @classmethod
    def of(cls, g: NormalFormGame) -> _Scaled:
        p = np.asarray(g.payoffs, dtype=np.float64)
        lo = p.reshape(2, -1).min(axis=1)
        span = np.array([_span(p[0]), _span(p[1])])
        norm = (p - lo[:, None, None]) / span[:, None, None]
        return cls(p, lo, span, norm, _regret_tolerances(p))

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.payoffs.shape[1]), int(self.payoffs.shape[2])


def _regret_tolerances(p: NDArray[np.float64]) -> NDArray[np.float64]:
    """Per player ``REGRET_RTOL * (max U_i - min U_i) + ROUNDING_RTOL * max |U_i|``."""
    flat = p.reshape(p.shape[0], -1)
    width = flat.max(axis=1) - flat.min(axis=1)
    return REGRET_RTOL * width + ROUNDING_RTOL * np.abs(flat).max(axis=1)


def _is_zero_sum(p: NDArray[np.float64]) -> bool:
    """``u_0 + u_1`` constant within ``ZERO_SUM_TOL * max(1, max |payoff|)``."""
    with np.errstate(over="ignore", invalid="ignore"):
        total = p[0] + p[1]
        return bool(total.max() - total.min() <= ZERO_SUM_TOL * float(np.abs(p).max()))


# -- the Nash MILP ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Columns:
    """Column layout: per player ``i`` the blocks ``x_i, u_i, r_i, s_i`` (``k_i`` each), player 0
    first, then ``v_0, v_1``."""

    k0: int
    k1: int

    def block(self, i: int, name: str) -> slice:
        k = self.k0 if i == 0 else self.k1
        start = (0 if i == 0 else 4 * self.k0) + "xurs".index(name) * k
        return slice(start, start + k)

    def v(self, i: int) -> int:
        return 4 * (self.k0 + self.k1) + i

    @property
    def n(self) -> int:
        return 4 * (self.k0 + self.k1) + 2


@dataclass(frozen=True, eq=False)
class _Milp:
    """``opt c.z s.t. row_lo <= A z <= row_hi, col_lo <= z <= col_hi`` (``integrality`` 1 for
    the binaries); ``c.z * scale + offset`` is the objective in the game's units."""

    c: NDArray[np.float64]
    a: sp.csc_array
    row_lo: NDArray[np.float64]
    row_hi: NDArray[np.float64]
    col_lo: NDArray[np.float64]
    col_hi: NDArray[np.float64]
    integrality: NDArray[np.int32]
    scale: float
    offset: float


def _nash_matrix(n0: NDArray[np.float64], n1: NDArray[np.float64]) -> sp.csc_array:
    """The constraint matrix of the module docstring on scaled payoffs (``U_max_i = 1``).

    Rows, per player: ``sum x = 1``; ``u_i - P_i x_{-i} = 0`` with ``P_0 = N_0``,
    ``P_1 = N_1^T``; ``r_i + u_i - v_i = 0``; ``x_i + s_i <= 1``; ``r_i - s_i <= 0``.
    """
    k0, k1 = n0.shape
    i0, i1 = sp.identity(k0, format="csc"), sp.identity(k1, format="csc")
    one0, one1 = np.ones((1, k0)), np.ones((1, k1))
    minus0, minus1 = -np.ones((k0, 1)), -np.ones((k1, 1))
    z = None
    blocks = [
        # x0     u0    r0    s0    x1     u1    r1    s1    v0      v1
        [one0,   z,    z,    z,    z,     z,    z,    z,    z,      z],       # sum x0 = 1
        [z,      z,    z,    z,    one1,  z,    z,    z,    z,      z],       # sum x1 = 1
        [z,      i0,   z,    z,    -n0,   z,    z,    z,    z,      z],       # u0 = N0 x1
        [-n1.T,  z,    z,    z,    z,     i1,   z,    z,    z,      z],       # u1 = N1^T x0
        [z,      i0,   i0,   z,    z,     z,    z,    z,    minus0, z],       # r0 = v0 - u0
        [z,      z,    z,    z,    z,     i1,   i1,   z,    z,      minus1],  # r1 = v1 - u1
        [i0,     z,    z,    i0,   z,     z,    z,    z,    z,      z],       # x0 <= 1 - s0
        [z,      z,    z,    z,    i1,    z,    z,    i1,   z,      z],       # x1 <= 1 - s1
        [z,      z,    i0,   -i0,  z,     z,    z,    z,    z,      z],       # r0 <= s0
        [z,      z,    z,    z,    z,     z,    i1,   -i1,  z,      z],       # r1 <= s1
    ]  # fmt: skip
    return sp.csc_array(sp.bmat(blocks, format="csc"))


def _nash_milp(
    scaled: _Scaled, weights: NDArray[np.float64], floor: tuple[int, float] | None
) -> _Milp:
    """The MILP with objective ``sum_i weights_i v_i`` (in the game's units) and, with ``floor =
    (player, at_least)``, the bound ``v_player >= at_least``."""
    k0, k1 = scaled.shape
    cols = _Columns(k0, k1)
    a = _nash_matrix(scaled.norm[0], scaled.norm[1])
    k = k0 + k1
    row_lo = np.concatenate([[1.0, 1.0], np.zeros(2 * k), np.full(2 * k, -hb.INF)])
    row_hi = np.concatenate([[1.0, 1.0], np.zeros(2 * k), np.ones(k), np.zeros(k)])
    col_lo, col_hi = np.zeros(cols.n), np.ones(cols.n)  # scaled payoffs, values, regrets in [0, 1]
    integrality = np.zeros(cols.n, dtype=np.int32)
    for i in (0, 1):
        integrality[cols.block(i, "s")] = 1
    if floor is not None:
        who, at_least = floor
        floor_scaled = (at_least - scaled.lo[who]) / scaled.span[who]
        if np.ptp(scaled.payoffs[who]) == 0 and at_least > scaled.lo[who]:
            floor_scaled = 2.0  # a constant player never reaches more: infeasible (below)
        col_lo[cols.v(who)] = max(0.0, floor_scaled)
    # v_i = span_i * v'_i + lo_i; a constant player's v_i is lo_i whatever happens (its span
    # is a placeholder 1 that must not weigh in the objective)
    constant = np.array([np.ptp(scaled.payoffs[i]) == 0 for i in range(2)])
    gains = np.where(constant, 0.0, weights * scaled.span)
    scale = float(gains.max()) if gains.max() > 0 else 1.0
    c = np.zeros(cols.n)
    c[[cols.v(0), cols.v(1)]] = gains / scale
    offset = float(weights @ scaled.lo)
    return _Milp(c, a, row_lo, row_hi, col_lo, col_hi, integrality, scale, offset)


def _solve_milp(
    milp: _Milp, maximize: bool, time_limit: float | None
) -> tuple[hb.HighsSolution, float]:
    """Solve with HiGHS; the solution and HiGHS' proven bound on the objective (scaled units)."""
    if milp.col_lo.max(initial=0.0) > 1.0:  # a floor above the player's largest payoff
        term = Termination.failed(
            TerminationReason.INFEASIBLE, "at_least is above the player's largest payoff"
        )
        return hb.HighsSolution(np.empty(0), math.nan, term, np.empty(0)), math.nan
    h = hb.new_highs(time_limit)
    hb.pass_model(
        h,
        milp.c,
        milp.a,
        milp.row_lo,
        milp.row_hi,
        milp.col_lo,
        milp.col_hi,
        integrality=milp.integrality,
        maximize=maximize,
    )
    sol = hb.run(h)
    return sol, float(h.getInfo().mip_dual_bound)


def _solve_nash(
    scaled: _Scaled,
    weights: NDArray[np.float64],
    name: str,
    floor: tuple[int, float] | None,
    maximize: bool,
    watch: Stopwatch,
    time_limit: float | None,
) -> NashResult:
    """Build and solve the MILP, extract and verify the equilibrium, assemble the result.

    When a limit stops the MILP before it finds any equilibrium, the best pure equilibrium
    meeting the request (exact enumeration of the ``k_0 k_1`` outcomes) comes back as
    ``FEASIBLE`` with that limit, if the game has one.
    """
    milp = _nash_milp(scaled, weights, floor)
    sol, bound = _solve_milp(milp, maximize, watch.remaining(time_limit))
    has_objective = bool(weights.any())
    bound = bound * milp.scale + milp.offset if has_objective and math.isfinite(bound) else math.nan
    term = sol.termination
    if term.has_solution:
        x, y = _equilibrium(scaled, sol.x)
    else:
        pure = _best_pure(scaled.payoffs, weights, floor, maximize)
        if pure is None or term.reason is not TerminationReason.NO_SOLUTION_FOUND:
            return _no_equilibrium(name, _failure(term, floor), bound, watch)
        x, y = pure
        term = Termination.feasible(
            term.limit or Limit.OTHER,
            term.with_detail("the MILP found none: best pure equilibrium by enumeration").detail,
        )
    utilities, regrets = _measure(scaled.payoffs, x, y)
    term = _verified(term, scaled, utilities, regrets, floor)
    welfare = _welfare(weights, utilities, floor)
    info = SolveInfo(term, welfare, "milp", "highs", watch.elapsed, bound=bound)
    return NashResult(
        True,
        readonly(x),
        readonly(y),
        readonly(utilities),
        readonly(np.flatnonzero(x > 0).astype(np.int64)),
        readonly(np.flatnonzero(y > 0).astype(np.int64)),
        name,
        welfare,
        float(regrets.max()),
        info,
    )


def _best_pure(
    p: NDArray[np.float64],
    weights: NDArray[np.float64],
    floor: tuple[int, float] | None,
    maximize: bool,
) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
    """The pure equilibrium (each action a best response to the other, compared exactly) with
    the best ``weights . u`` (first in row-major order among ties) giving ``u_player >=
    at_least`` with a ``floor``; ``None`` when there is none."""
    ok = (p[0] == p[0].max(axis=0, keepdims=True)) & (p[1] == p[1].max(axis=1, keepdims=True))
    if floor is not None:
        ok &= p[floor[0]] >= floor[1]
    if not ok.any():
        return None
    score = np.tensordot(weights, p, axes=1) * (1.0 if maximize else -1.0)
    a, b = np.unravel_index(int(np.argmax(np.where(ok, score, -np.inf))), ok.shape)
    x, y = np.zeros(p.shape[1]), np.zeros(p.shape[2])
    x[a], y[b] = 1.0, 1.0
    return x, y


def _welfare(
    weights: NDArray[np.float64], utilities: NDArray[np.float64], floor: tuple[int, float] | None
) -> float:
    """``weights . u``, or ``u_player`` for the feasibility MILP."""
    return float(weights @ utilities) if floor is None else float(utilities[floor[0]])


def _failure(term: Termination, floor: tuple[int, float] | None) -> Termination:
    """The termination of a solve without a solution: an infeasible unconstrained MILP
    contradicts Nash's theorem, so it is a numerical failure, not a proof."""
    if floor is None and term.reason in (
        TerminationReason.INFEASIBLE,
        TerminationReason.INFEASIBLE_OR_UNBOUNDED,
    ):
        detail = f"HiGHS reported {term.reason.value}, but every finite game has an equilibrium"
        return Termination.failed(TerminationReason.NUMERICAL_ERROR, detail)
    return term


def _no_equilibrium(name: str, term: Termination, bound: float, watch: Stopwatch) -> NashResult:
    """The result when no equilibrium is returned."""
    empty_f = readonly(np.empty(0))
    empty_i = readonly(np.empty(0, dtype=np.int64))
    info = SolveInfo(term, math.nan, "milp", "highs", watch.elapsed, bound=bound)
    nan2 = readonly(np.full(2, math.nan))
    return NashResult(False, empty_f, empty_f, nan2, empty_i, empty_i, name, math.nan, math.nan, info)  # fmt: skip


def _verified(
    term: Termination,
    scaled: _Scaled,
    utilities: NDArray[np.float64],
    regrets: NDArray[np.float64],
    floor: tuple[int, float] | None,
) -> Termination:
    """``term``, or ``IMPRECISE`` (limit-stopped: ``FEASIBLE`` with a detail) when the
    recomputed profile is not an equilibrium within tolerance or misses the floor."""
    problems = [
        f"player {i}'s recomputed regret {regrets[i]:.3g} exceeds {scaled.tolerance[i]:.3g}"
        for i in (0, 1)
        if regrets[i] > scaled.tolerance[i]
    ]
    if floor is not None:
        who, at_least = floor
        if utilities[who] < at_least - scaled.tolerance[who]:
            problems.append(f"player {who}'s recomputed utility {utilities[who]!r} < at_least")
    if not problems:
        return term
    detail = "epsilon-equilibrium only: " + "; ".join(problems)
    if term.is_optimal:
        return Termination(TerminationReason.IMPRECISE, None, detail)
    return term.with_detail(detail)


# -- extracting and polishing the equilibrium ---------------------------------------------------


def _equilibrium(
    scaled: _Scaled, z: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The profile of a MILP solution: cleaned, then replaced by the exact solution of the
    indifference conditions on its supports when that is at least as good (module docstring)."""
    cols = _Columns(*scaled.shape)
    x = _clean(z[cols.block(0, "x")], z[cols.block(0, "s")])
    y = _clean(z[cols.block(1, "x")], z[cols.block(1, "s")])
    exact = _exact_on_supports(scaled.norm, np.flatnonzero(x > 0), np.flatnonzero(y > 0))
    if exact is not None and _better(scaled, (x, y), exact):
        return exact
    return x, y


def _clean(x: NDArray[np.float64], s: NDArray[np.float64]) -> NDArray[np.float64]:
    """``x`` with the actions outside the support (``s_a = 1`` or ``x_a <= SUPPORT_TOL``) set to
    0, renormalized to sum 1."""
    kept = np.where((s > 0.5) | (x <= SUPPORT_TOL), 0.0, x)
    if kept.sum() <= 0:  # (cannot happen within tolerances: sum x = 1 and x <= 1 - s)
        kept = np.zeros_like(x)
        kept[int(np.argmax(x))] = 1.0
    return kept / kept.sum()


def _simplex_point(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """``x`` clipped at 0 and renormalized (an LP's probability vector)."""
    return _clean(x, np.zeros_like(x))


def _exact_on_supports(
    norm: NDArray[np.float64], s0: NDArray[np.int64], s1: NDArray[np.int64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
    """The equilibrium with supports ``S_0, S_1`` from the indifference conditions, when both
    square systems are nonsingular and give probability vectors; ``None`` otherwise."""
    if len(s0) != len(s1):
        return None
    y = _indifferent_mix(norm[0], s0, s1)  # player 1's mix: player 0 indifferent on S_0
    x = _indifferent_mix(norm[1].T, s1, s0)  # player 0's mix: player 1 indifferent on S_1
    if x is None or y is None:
        return None
    return x, y


def _indifferent_mix(
    p: NDArray[np.float64], own: NDArray[np.int64], other: NDArray[np.int64]
) -> NDArray[np.float64] | None:
    """The opponent's mix ``q`` on ``other`` that makes a player with payoffs ``p`` (own actions
    x opponent's actions) indifferent on ``own``: ``p[own, other] q = v 1``, ``sum q = 1``."""
    m = len(own)
    system = np.zeros((m + 1, m + 1))
    system[:m, :m] = p[np.ix_(own, other)]
    system[:m, m] = -1.0
    system[m, :m] = 1.0
    singular = np.linalg.svd(system, compute_uv=False)
    if not singular[-1] > SINGULAR_RTOL * singular[0]:
        return None
    rhs = np.zeros(m + 1)
    rhs[m] = 1.0
    q = np.linalg.solve(system, rhs)[:m]
    if not np.isfinite(q).all() or q.min() < -SUPPORT_TOL:
        return None
    full = np.zeros(p.shape[1])
    full[other] = np.maximum(q, 0.0)
    return full / full.sum()


def _better(
    scaled: _Scaled,
    milp: tuple[NDArray[np.float64], NDArray[np.float64]],
    exact: tuple[NDArray[np.float64], NDArray[np.float64]],
) -> bool:
    """Whether the exact profile has no larger regret than the MILP's (relative to each
    player's range) and the same utilities within :data:`POLISH_DRIFT` (so the same objective)."""
    u_milp, r_milp = _measure(scaled.norm, *milp)
    u_exact, r_exact = _measure(scaled.norm, *exact)
    return bool(r_exact.max() <= r_milp.max() and np.abs(u_exact - u_milp).max() <= POLISH_DRIFT)


def _measure(
    p: NDArray[np.float64], x: NDArray[np.float64], y: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Expected utilities ``(x U_0 y, x U_1 y)`` and regrets ``max_a (U_0 y)_a - x U_0 y``,
    ``max_b (x U_1)_b - x U_1 y`` (at least 0)."""
    row_values = p[0] @ y  # player 0's pure actions against y
    col_values = x @ p[1]  # player 1's pure actions against x
    utilities = np.array([x @ row_values, col_values @ y])
    best = np.array([row_values.max(), col_values.max()])
    return utilities, np.maximum(best - utilities, 0.0)


# -- minimax ------------------------------------------------------------------------------------


def _maximin_lp(
    a: NDArray[np.float64],
) -> tuple[
    NDArray[np.float64],
    sp.csc_array,
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.float64],
]:
    """``max v s.t. v - sum_a x_a a(a, b) <= 0 for every b, sum x = 1, x >= 0`` over columns
    ``(x, v)``, as ``(c, A, row_lo, row_hi, col_lo, col_hi)``. The column LP is this on
    ``-A^T`` (its value is ``-w``)."""
    k0, k1 = a.shape
    matrix = sp.csc_array(
        sp.bmat([[-a.T, np.ones((k1, 1))], [np.ones((1, k0)), None]], format="csc")
    )
    c = np.zeros(k0 + 1)
    c[k0] = 1.0
    row_lo = np.concatenate([np.full(k1, -hb.INF), [1.0]])
    row_hi = np.concatenate([np.zeros(k1), [1.0]])
    col_lo = np.concatenate([np.zeros(k0), [-hb.INF]])
    col_hi = np.concatenate([np.ones(k0), [hb.INF]])
    return c, matrix, row_lo, row_hi, col_lo, col_hi


def _minimax_value(
    a: NDArray[np.float64],
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    row: Termination,
    col: Termination,
) -> tuple[float, Termination]:
    """The value (midpoint of the recomputed guarantee and concession) and the termination:
    the first LP's that is not optimal, else ``IMPRECISE`` when the gap exceeds tolerance."""
    for which, term in (("row", row), ("column", col)):
        if not term.is_optimal:
            stopped = term.with_detail(f"{which} LP")
            if not (x.size and y.size):
                return math.nan, stopped
            return _midpoint(a, x, y)[0], stopped
    value, gap = _midpoint(a, x, y)
    tolerance = float(_regret_tolerances(a[None])[0])
    if gap > tolerance:
        detail = (
            f"recomputed gap {gap:.3g} between guarantee and concession exceeds {tolerance:.3g}"
        )
        return value, Termination(TerminationReason.IMPRECISE, None, detail)
    return value, row


def _midpoint(
    a: NDArray[np.float64], x: NDArray[np.float64], y: NDArray[np.float64]
) -> tuple[float, float]:
    """``(lower + upper) / 2`` and ``upper - lower`` for ``lower = min_b (x A)_b`` (what ``x``
    guarantees) and ``upper = max_a (A y)_a`` (what ``y`` concedes)."""
    lower = float((x @ a).min())
    upper = float((a @ y).max())
    return 0.5 * (lower + upper), max(upper - lower, 0.0)
