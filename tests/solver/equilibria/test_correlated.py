"""Correlated and coarse correlated equilibria, checked independently of the module: every
constraint, expected utility, welfare and gap is recomputed from the math in plain Python loops
over outcomes (no numpy vectorization, no code shared with the module), and the optima are
compared with equilibria enumerated here (pure Nash equilibria of any game, mixed equilibria of
2x2 and 2x3 games by support enumeration): every Nash equilibrium is a CE, every CE a CCE."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mechsolve.solver.core.errors import MechsolveInputError, ProblemTooLargeError
from mechsolve.solver.core.limits import Limits
from mechsolve.solver.core.results import Limit, TerminationReason
from mechsolve.solver.equilibria.correlated import (
    CorrelatedResult,
    correlated_equilibrium,
    equilibrium_gap,
)
from mechsolve.solver.games.normal_form import NormalFormGame, random_game
from mechsolve.solver.games.welfare import Welfare, WelfareKind

TOL = 1e-7  # the LP's feasibility tolerance, with room for rounding

# -- the plain-Python reference ------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    """A game as plain Python: ``ks``, every outcome, and ``pay[s]`` = every player's utility."""

    ks: tuple[int, ...]
    outcomes: list[tuple[int, ...]]
    pay: dict[tuple[int, ...], list[float]]

    @property
    def n(self) -> int:
        return len(self.ks)


def table(game: NormalFormGame) -> Table:
    ks = tuple(game.num_actions)
    outcomes = list(itertools.product(*(range(k) for k in ks)))
    pay = {s: [float(game.payoffs[(i, *s)]) for i in range(len(ks))] for s in outcomes}
    return Table(ks, outcomes, pay)


def probabilities(t: Table, distribution: np.ndarray) -> dict[tuple[int, ...], float]:
    return {s: float(distribution[s]) for s in t.outcomes}


def replaced(s: tuple[int, ...], i: int, action: int) -> tuple[int, ...]:
    return (*s[:i], action, *s[i + 1 :])


def deviation_gains(
    t: Table, prob: dict[tuple[int, ...], float], kind: str
) -> Iterator[tuple[int, tuple[int, ...], float]]:
    """Every incentive constraint's left-hand side, as ``(player, deviation, gain)``.

    CE: ``sum_{s_-i} p(a, s_-i) [u_i(b, s_-i) - u_i(a, s_-i)]`` for ``a != b``;
    CCE: ``sum_s p(s) [u_i(b, s_-i) - u_i(s)]``. In order of player, then deviation.
    """
    for i in range(t.n):
        if kind == "ce":
            for a in range(t.ks[i]):
                for b in range(t.ks[i]):
                    if a == b:
                        continue
                    total = 0.0
                    for s in t.outcomes:
                        if s[i] == a:
                            total += prob[s] * (t.pay[replaced(s, i, b)][i] - t.pay[s][i])
                    yield i, (a, b), total
        else:
            for b in range(t.ks[i]):
                total = 0.0
                for s in t.outcomes:
                    total += prob[s] * (t.pay[replaced(s, i, b)][i] - t.pay[s][i])
                yield i, (b,), total


def expected_utilities(t: Table, prob: dict[tuple[int, ...], float]) -> list[float]:
    out = []
    for i in range(t.n):
        total = 0.0
        for s in t.outcomes:
            total += prob[s] * t.pay[s][i]
        out.append(total)
    return out


def pure_nash_equilibria(t: Table) -> list[tuple[int, ...]]:
    found = []
    for s in t.outcomes:
        stable = True
        for i in range(t.n):
            for b in range(t.ks[i]):
                if t.pay[replaced(s, i, b)][i] > t.pay[s][i]:
                    stable = False
        if stable:
            found.append(s)
    return found


def mixed_equilibria_2xk(t: Table) -> list[tuple[list[float], list[float]]]:
    """Nash equilibria of a ``2 x k`` bimatrix game (k = 2, 3) with supports of size 2 for both
    players (support enumeration): the row mix makes the column player indifferent between two
    columns, the column mix makes the row player indifferent between the rows; each candidate
    is verified as an equilibrium before it is returned. ``(row mix, column mix)``."""
    assert t.n == 2 and t.ks[0] == 2
    k = t.ks[1]

    def a(r: int, c: int) -> float:
        return t.pay[(r, c)][0]

    def b(r: int, c: int) -> float:
        return t.pay[(r, c)][1]

    found = []
    for c1 in range(k):
        for c2 in range(c1 + 1, k):
            den_q = a(0, c1) - a(0, c2) - a(1, c1) + a(1, c2)
            den_p = b(0, c1) - b(1, c1) - b(0, c2) + b(1, c2)
            if den_q == 0 or den_p == 0:
                continue
            q = (a(1, c2) - a(0, c2)) / den_q  # weight of c1
            p = (b(1, c2) - b(1, c1)) / den_p  # weight of row 0
            if not (0 < q < 1 and 0 < p < 1):
                continue
            rows = [p, 1 - p]
            cols = [0.0] * k
            cols[c1], cols[c2] = q, 1 - q
            if is_mixed_equilibrium(t, rows, cols):
                found.append((rows, cols))
    return found


def is_mixed_equilibrium(t: Table, rows: list[float], cols: list[float]) -> bool:
    """No pure deviation gains more than 1e-9 against the other's mix."""
    row_values = [sum(cols[c] * t.pay[(r, c)][0] for c in range(t.ks[1])) for r in range(2)]
    col_values = [sum(rows[r] * t.pay[(r, c)][1] for r in range(2)) for c in range(t.ks[1])]
    v1 = sum(rows[r] * row_values[r] for r in range(2))
    v2 = sum(cols[c] * col_values[c] for c in range(t.ks[1]))
    return max(row_values) <= v1 + 1e-9 and max(col_values) <= v2 + 1e-9


def mixed_utilities(t: Table, rows: list[float], cols: list[float]) -> list[float]:
    return [
        sum(rows[r] * cols[c] * t.pay[(r, c)][i] for r in range(2) for c in range(t.ks[1]))
        for i in range(2)
    ]


def check_result(game: NormalFormGame, res: CorrelatedResult, kind: str, eps: float) -> Table:
    """Everything the result claims about its distribution, recomputed in plain Python."""
    t = table(game)
    dist = res.distribution
    assert dist.shape == t.ks
    prob = probabilities(t, dist)
    assert all(x >= 0.0 for x in prob.values())
    assert abs(sum(prob.values()) - 1.0) <= 1e-9
    largest = 0.0
    for _, _, gain in deviation_gains(t, prob, kind):
        assert gain <= eps + TOL
        largest = max(largest, gain)
    assert res.gap == pytest.approx(largest, abs=1e-9)
    assert res.gap <= eps + TOL
    utilities = expected_utilities(t, prob)
    for i in range(t.n):
        assert res.utilities[i] == pytest.approx(utilities[i], abs=1e-9)
    assert res.kind == kind
    assert res.epsilon == eps
    assert res.objective == res.welfare or (math.isnan(res.objective) and math.isnan(res.welfare))
    return t


# -- strategies ----------------------------------------------------------------------------


@st.composite
def games(draw: st.DrawFn, max_players: int = 4, max_actions: int = 5) -> NormalFormGame:
    """2-4 players, 2-5 actions each (at most 300 outcomes), payoffs integers in [-3, 3]
    (ties and degenerate games), U[0, 1) (``random_game``) or U[-5, 5)."""
    n = draw(st.integers(2, max_players))
    ks = [draw(st.integers(2, max_actions)) for _ in range(n)]
    while math.prod(ks) > 300:  # (5, 5, 5, 5) -> (4, 4, 4, 4)
        ks[ks.index(max(ks))] -= 1
    seed = draw(st.integers(0, 2**32 - 1))
    style = draw(st.sampled_from(["integer", "uniform", "wide"]))
    if style == "uniform":
        return random_game(ks, seed=seed)
    rng = np.random.default_rng(seed)
    if style == "integer":
        return NormalFormGame(rng.integers(-3, 4, size=(n, *ks)).astype(np.float64))
    return NormalFormGame(rng.uniform(-5.0, 5.0, size=(n, *ks)))


kinds = st.sampled_from(["ce", "cce"])


# -- feasibility of every returned distribution --------------------------------------------


@settings(max_examples=100)
@given(games(), kinds, st.sampled_from(["utilitarian", "egalitarian", "player"]), st.data())
def test_linear_objectives_return_an_equilibrium(
    game: NormalFormGame, kind: str, objective: str, data: st.DataObject
) -> None:
    eps = data.draw(st.sampled_from([0.0, 0.0, 0.05]), label="epsilon")
    player = data.draw(st.integers(0, game.n_players - 1)) if objective == "player" else None
    res = correlated_equilibrium(game, kind=kind, objective=objective, player=player, epsilon=eps)
    assert res.termination.reason is TerminationReason.OPTIMAL
    assert res.method == "lp" and res.backend == "highs"
    t = check_result(game, res, kind, eps)
    u = res.utilities
    if objective == "utilitarian":
        assert res.objective_name == "utilitarian"
        assert res.welfare == pytest.approx(sum(u), abs=1e-12)
    elif objective == "egalitarian":
        assert res.welfare == pytest.approx(min(u), abs=1e-12)
    else:
        assert res.objective_name == f"player {player}"
        assert player is not None and res.welfare == pytest.approx(u[player], abs=1e-12)
    assert t.n == game.n_players


@settings(max_examples=60)
@given(games(), kinds)
def test_nash_objective_returns_an_equilibrium_or_proves_the_domain_empty(
    game: NormalFormGame, kind: str
) -> None:
    res = correlated_equilibrium(game, kind=kind, objective="nash")
    t = table(game)
    inside = [s for s in pure_nash_equilibria(t) if all(x > 0 for x in t.pay[s])]
    if res.termination.reason is TerminationReason.INFEASIBLE:
        assert not inside  # a pure NE with every u_i > 0 would be a CE in the Nash domain
        assert np.isnan(res.distribution).all() and res.distribution.shape == t.ks
        assert math.isnan(res.welfare) and math.isnan(res.gap)
        assert "disagreement" in res.termination.detail
        return
    assert res.termination.reason is TerminationReason.OPTIMAL, res.termination
    check_result(game, res, kind, 0.0)
    product = 1.0
    for x in res.utilities:
        assert x > 0
        product *= x
    assert res.welfare == pytest.approx(product, rel=1e-12)
    assert res.info.bound >= res.welfare
    assert res.info.bound <= res.welfare * (1 + 1e-5)
    for s in inside:
        assert res.welfare >= math.prod(t.pay[s]) * (1 - 1e-6)


# -- optimality against equilibria enumerated here ------------------------------------------


@settings(max_examples=60)
@given(games())
def test_welfare_optima_beat_every_pure_nash_equilibrium(game: NormalFormGame) -> None:
    """A pure NE is a CE and a CCE: no objective can do worse; CCE >= CE."""
    t = table(game)
    pure = pure_nash_equilibria(t)
    ce = correlated_equilibrium(game, kind="ce")
    cce = correlated_equilibrium(game, kind="cce")
    assert cce.welfare >= ce.welfare - TOL
    egal = correlated_equilibrium(game, objective="egalitarian")
    best_for = [correlated_equilibrium(game, objective="player", player=i) for i in range(t.n)]
    for s in pure:
        assert ce.welfare >= sum(t.pay[s]) - TOL
        assert egal.welfare >= min(t.pay[s]) - TOL
        for i in range(t.n):
            assert best_for[i].welfare >= t.pay[s][i] - TOL
    # the player optimum is no worse for the player than any other CE found
    for i in range(t.n):
        for other in (ce, egal, *best_for):
            assert best_for[i].welfare >= other.utilities[i] - TOL


@settings(max_examples=40)
@given(games(max_players=3, max_actions=4), kinds, st.data())
def test_egalitarian_and_nash_beat_pure_equilibria_under_a_disagreement_point(
    game: NormalFormGame, kind: str, data: st.DataObject
) -> None:
    """``min_i (u_i - d_i)`` and ``prod_i (u_i - d_i)`` (when every factor is positive) of every
    pure NE are reached; the reported welfare is that function of the reported utilities."""
    t = table(game)
    d = [data.draw(st.sampled_from([-2.0, -0.5, 0.0, 0.25])) for _ in range(t.n)]
    spec = tuple(d)
    egal = correlated_equilibrium(
        game, kind=kind, welfare=Welfare(WelfareKind.EGALITARIAN, disagreement=spec)
    )
    nash = correlated_equilibrium(game, kind=kind, welfare=Welfare(WelfareKind.NASH, None, spec))
    check_result(game, egal, kind, 0.0)
    assert egal.welfare == pytest.approx(
        min(x - y for x, y in zip(egal.utilities, d, strict=True)), abs=1e-12
    )
    inside = False
    for s in pure_nash_equilibria(t):
        gains = [t.pay[s][i] - d[i] for i in range(t.n)]
        assert egal.welfare >= min(gains) - TOL
        if min(gains) > 0:
            inside = True
            assert nash.termination.reason is TerminationReason.OPTIMAL
            assert nash.welfare >= math.prod(gains) * (1 - 1e-6)
    if nash.termination.reason is TerminationReason.INFEASIBLE:
        assert not inside and egal.welfare <= TOL  # the max-min gain says the domain is empty
    else:
        assert nash.termination.reason is TerminationReason.OPTIMAL
        check_result(game, nash, kind, 0.0)
        gains = [x - y for x, y in zip(nash.utilities, d, strict=True)]
        assert min(gains) > 0 and nash.welfare == pytest.approx(math.prod(gains), rel=1e-12)
        assert egal.welfare > 0  # a distribution inside the domain exists


def inequity_averse(u: list[float], d: list[float], beta: float) -> float:
    """``sum_i g_i - beta * mean_{i<j} |g_i - g_j|``, ``g = u - d``."""
    g = [x - y for x, y in zip(u, d, strict=True)]
    pairs = [(i, j) for i in range(len(g)) for j in range(i + 1, len(g))]
    if not pairs:
        return sum(g)
    return sum(g) - beta * sum(abs(g[i] - g[j]) for i, j in pairs) / len(pairs)


def kalai_smorodinsky(u: list[float], d: list[float], ideal: list[float]) -> float:
    """``min_i (u_i - d_i) / (ideal_i - d_i)`` over the players with ``ideal_i > d_i`` (0 when
    there is none)."""
    ratios = [(u[i] - d[i]) / (ideal[i] - d[i]) for i in range(len(u)) if ideal[i] > d[i]]
    return min(ratios) if ratios else 0.0


@settings(max_examples=40)
@given(games(max_players=3, max_actions=4), kinds, st.data())
def test_kalai_smorodinsky_and_inequity_averse_beat_pure_equilibria(
    game: NormalFormGame, kind: str, data: st.DataObject
) -> None:
    """The ideal point is every player's best expected utility over the same polytope (the
    player objective's values); both welfare functions are recomputed here from the returned
    utilities and compared with every pure NE's."""
    t = table(game)
    d = [data.draw(st.sampled_from([-1.0, 0.0, 0.5])) for _ in range(t.n)]
    beta = data.draw(st.sampled_from([0.0, 0.5, 2.0]))
    ideal = [
        correlated_equilibrium(game, kind=kind, objective="player", player=i).welfare
        for i in range(t.n)
    ]
    ks = correlated_equilibrium(
        game, kind=kind, welfare=Welfare(WelfareKind.KALAI_SMORODINSKY, disagreement=tuple(d))
    )
    ia = correlated_equilibrium(
        game, kind=kind, welfare=Welfare(WelfareKind.INEQUITY_AVERSE, None, tuple(d), beta)
    )
    for res in (ks, ia):
        assert res.termination.reason is TerminationReason.OPTIMAL
        check_result(game, res, kind, 0.0)
    assert ks.objective_name == "kalai_smorodinsky" and ia.objective_name == "inequity_averse"
    u_ks, u_ia = list(ks.utilities), list(ia.utilities)
    assert ks.welfare == pytest.approx(kalai_smorodinsky(u_ks, d, ideal), abs=1e-6)
    assert ia.welfare == pytest.approx(inequity_averse(u_ia, d, beta), abs=1e-9)
    for s in pure_nash_equilibria(t):
        assert all(t.pay[s][i] <= ideal[i] + TOL for i in range(t.n))
        assert ks.welfare >= kalai_smorodinsky(t.pay[s], d, ideal) - 1e-6
        assert ia.welfare >= inequity_averse(t.pay[s], d, beta) - TOL
    if beta == 0.0:  # the utilitarian welfare, shifted by d
        plain = correlated_equilibrium(game, kind=kind)
        assert ia.welfare == pytest.approx(plain.welfare - sum(d), abs=TOL)


def test_objective_names_are_short_for_the_welfare_objective() -> None:
    game = random_game([3, 3, 2], seed=11)
    for name in ("utilitarian", "egalitarian", "nash", "kalai_smorodinsky", "inequity_averse"):
        short = correlated_equilibrium(game, objective=name)
        long = correlated_equilibrium(game, objective="welfare", welfare=name)
        kind = correlated_equilibrium(game, objective=name, welfare=WelfareKind(name))
        assert short.objective_name == long.objective_name == kind.objective_name == name
        assert short.welfare == pytest.approx(long.welfare, rel=1e-9)
        assert kind.welfare == pytest.approx(long.welfare, rel=1e-9)


@st.composite
def small_bimatrix(draw: st.DrawFn) -> NormalFormGame:
    k = draw(st.sampled_from([2, 3]))
    seed = draw(st.integers(0, 2**32 - 1))
    if draw(st.booleans()):
        return random_game([2, k], seed=seed)
    rng = np.random.default_rng(seed)
    return NormalFormGame(rng.integers(-4, 5, size=(2, 2, k)).astype(np.float64))


@settings(max_examples=80)
@given(small_bimatrix())
def test_optima_beat_the_mixed_equilibria_of_2x2_and_2x3_games(game: NormalFormGame) -> None:
    t = table(game)
    mixed = mixed_equilibria_2xk(t)
    ce = correlated_equilibrium(game)
    egal = correlated_equilibrium(game, objective="egalitarian")
    nash = correlated_equilibrium(game, objective="nash")
    players = [correlated_equilibrium(game, objective="player", player=i) for i in range(2)]
    for rows, cols in mixed:
        u = mixed_utilities(t, rows, cols)
        assert ce.welfare >= sum(u) - TOL
        assert egal.welfare >= min(u) - TOL
        for i in range(2):
            assert players[i].welfare >= u[i] - TOL
        if min(u) > 0:
            assert nash.termination.reason is TerminationReason.OPTIMAL
            assert nash.welfare >= u[0] * u[1] * (1 - 1e-6)


def test_mixed_equilibrium_enumeration_finds_the_textbook_one() -> None:
    """Matching pennies: the only equilibrium is (1/2, 1/2) for both (the helper itself)."""
    p = np.zeros((2, 2, 2))
    for r, c in itertools.product(range(2), range(2)):
        p[0, r, c] = 1.0 if r == c else -1.0
        p[1, r, c] = -p[0, r, c]
    found = mixed_equilibria_2xk(table(NormalFormGame(p)))
    assert found == [([0.5, 0.5], [0.5, 0.5])]


@settings(max_examples=40)
@given(games(max_players=3, max_actions=4), kinds, st.sampled_from([0.01, 0.1, 0.5]))
def test_epsilon_equilibria_relax_the_constraints(
    game: NormalFormGame, kind: str, eps: float
) -> None:
    exact = correlated_equilibrium(game, kind=kind)
    loose = correlated_equilibrium(game, kind=kind, epsilon=eps)
    assert loose.termination.reason is TerminationReason.OPTIMAL
    check_result(game, loose, kind, eps)
    assert loose.welfare >= exact.welfare - TOL


@settings(max_examples=20)
@given(games(max_players=3, max_actions=4), st.data())
def test_weights_pick_a_player(game: NormalFormGame, data: st.DataObject) -> None:
    """Utilitarian weights ``e_i`` maximize player i's expected utility, as objective="player"."""
    i = data.draw(st.integers(0, game.n_players - 1))
    weights = tuple(1.0 if j == i else 0.0 for j in range(game.n_players))
    weighted = correlated_equilibrium(game, welfare=Welfare(weights=weights))
    direct = correlated_equilibrium(game, objective="player", player=i)
    assert weighted.welfare == pytest.approx(direct.welfare, abs=TOL)
    assert weighted.utilities[i] == pytest.approx(direct.welfare, abs=TOL)
    check_result(game, weighted, "ce", 0.0)


def test_a_disagreement_point_shifts_the_utilitarian_welfare() -> None:
    game = random_game([3, 2, 2], seed=4)
    plain = correlated_equilibrium(game)
    shifted = correlated_equilibrium(game, welfare=Welfare(disagreement=(1.0, -2.0, 0.5)))
    np.testing.assert_allclose(shifted.distribution, plain.distribution, atol=1e-12)
    assert shifted.welfare == pytest.approx(plain.welfare + 0.5, abs=1e-12)
    weighted = correlated_equilibrium(
        game, welfare=Welfare(WelfareKind.UTILITARIAN, (2.0, 1.0, 0.0), (1.0, 1.0, 1.0))
    )
    u = weighted.utilities
    assert weighted.welfare == pytest.approx(2 * (u[0] - 1) + (u[1] - 1), abs=1e-12)


# -- Aumann's game of Chicken --------------------------------------------------------------


def chicken_6_7() -> NormalFormGame:
    """Aumann's (1974) Chicken, actions (C = yield, D = dare): (C,C) = (6,6), (C,D) = (2,7),
    (D,C) = (7,2), (D,D) = (0,0)."""
    p = np.zeros((2, 2, 2))
    cells = {(0, 0): (6, 6), (0, 1): (2, 7), (1, 0): (7, 2), (1, 1): (0, 0)}
    for (r, c), (x, y) in cells.items():
        p[0, r, c], p[1, r, c] = x, y
    return NormalFormGame(p, actions=(("C", "D"), ("C", "D")), title="Chicken (Aumann)")


def test_chicken_utilitarian_ce_is_ten_and_a_half() -> None:
    """With p = (a, b, c, d) on (CC, CD, DC, DD), the CE rows are a - 2b <= 0, 2d - c <= 0 for
    the row player and a - 2c <= 0, 2d - b <= 0 for the column player. The welfare is
    12a + 9b + 9c = 9 + 3a - 9d, and a <= 2b, a <= 2c give 2a <= b + c = 1 - a - d, so
    a <= (1 - d) / 2 and the welfare is <= 9 + 1.5 (1 - d) - 9d <= 10.5, with equality only at
    d = 0, a = 1/2, b = c = 1/4 (expected utilities 5.25 each). Both pure equilibria give 9,
    the mixed one (2/3 C each) 28/3."""
    game = chicken_6_7()
    t = table(game)
    # the claimed optimum is a CE (plain check) with welfare 10.5
    claimed: dict[tuple[int, ...], float] = {(0, 0): 0.5, (0, 1): 0.25, (1, 0): 0.25, (1, 1): 0.0}
    assert all(g <= 0.0 for _, _, g in deviation_gains(t, claimed, "ce"))
    assert sum(expected_utilities(t, claimed)) == 10.5
    assert sorted(sum(t.pay[s]) for s in pure_nash_equilibria(t)) == [9.0, 9.0]
    (rows, cols), *rest = mixed_equilibria_2xk(t)
    assert not rest and rows == pytest.approx([2 / 3, 1 / 3]) and cols == rows
    assert sum(mixed_utilities(t, rows, cols)) == pytest.approx(28 / 3)
    for kind in ("ce", "cce"):  # with two actions each, every CCE row is one CE row
        res = correlated_equilibrium(game, kind=kind)
        assert res.termination.reason is TerminationReason.OPTIMAL
        assert res.welfare == pytest.approx(10.5, abs=1e-9)
        np.testing.assert_allclose(res.distribution, [[0.5, 0.25], [0.25, 0.0]], atol=1e-9)
        np.testing.assert_allclose(res.utilities, [5.25, 5.25], atol=1e-9)
        check_result(game, res, kind, 0.0)
    egal = correlated_equilibrium(game, objective="egalitarian")
    assert egal.welfare == pytest.approx(5.25, abs=1e-9)
    nash = correlated_equilibrium(game, objective="nash")
    assert nash.termination.reason is TerminationReason.OPTIMAL
    assert nash.welfare == pytest.approx(5.25**2, rel=1e-6)
    # the row player's best CE: 7 is its largest payoff, reached at the pure equilibrium (D, C)
    row_best = correlated_equilibrium(game, objective="player", player=0)
    assert row_best.welfare == pytest.approx(7.0, abs=TOL)  # (ties within 1e-9 relative)
    assert row_best.objective_name == "player 0"


def test_nash_without_a_distribution_above_the_disagreement_point_is_infeasible() -> None:
    game = chicken_6_7()
    res = correlated_equilibrium(game, welfare=Welfare(WelfareKind.NASH, None, (7.5, 0.0)))
    assert res.termination.reason is TerminationReason.INFEASIBLE
    assert not res.termination.has_solution
    assert np.isnan(res.distribution).all() and res.distribution.shape == (2, 2)
    assert np.isnan(res.utilities).all()
    assert math.isnan(res.welfare) and math.isnan(res.gap) and math.isnan(res.objective)
    negative = NormalFormGame(-1.0 - random_game([3, 3], seed=3).payoffs)
    assert (
        correlated_equilibrium(negative, kind="cce", objective="nash").termination.reason
        is TerminationReason.INFEASIBLE
    )
    # a disagreement point below the payoffs moves the domain, not the feasibility
    shifted = correlated_equilibrium(
        negative, objective="nash", welfare=Welfare(WelfareKind.NASH, None, (-3.0, -3.0))
    )
    assert shifted.termination.reason is TerminationReason.OPTIMAL
    u = shifted.utilities
    assert shifted.welfare == pytest.approx((u[0] + 3.0) * (u[1] + 3.0), rel=1e-12)


# -- equilibrium_gap -------------------------------------------------------------------------


def test_gap_of_a_point_mass_in_the_prisoners_dilemma() -> None:
    """(C,C) = (2,2), (C,D) = (0,3), (D,C) = (3,0), (D,D) = (1,1): at (C,C) either player gains
    3 - 2 = 1 by defecting; the tie goes to player 0, C -> D. (D,D) is an equilibrium."""
    p = np.zeros((2, 2, 2))
    cells = {(0, 0): (2, 2), (0, 1): (0, 3), (1, 0): (3, 0), (1, 1): (1, 1)}
    for (r, c), (x, y) in cells.items():
        p[0, r, c], p[1, r, c] = x, y
    mass = np.zeros((2, 2))
    mass[0, 0] = 1.0
    ce = equilibrium_gap(p, mass)
    assert (ce.kind, ce.gap, ce.player, ce.deviation.tolist()) == ("ce", 1.0, 0, [0, 1])
    assert ce.player_gaps.tolist() == [1.0, 1.0]
    cce = equilibrium_gap(p, mass, kind="cce")
    assert (cce.gap, cce.player, cce.deviation.tolist()) == (1.0, 0, [1])
    nash = np.zeros((2, 2))
    nash[1, 1] = 1.0
    for kind, width in (("ce", 2), ("cce", 1)):
        r = equilibrium_gap(p, nash, kind=kind)
        assert (r.gap, r.player, r.deviation.tolist()) == (0.0, -1, [-1] * width)
        assert r.player_gaps.tolist() == [0.0, 0.0]


@settings(max_examples=60)
@given(games(), st.data())
def test_gap_of_a_point_mass_is_the_best_unilateral_deviation(
    game: NormalFormGame, data: st.DataObject
) -> None:
    """At a point mass on ``s`` both kinds' gains are ``u_i(b, s_-i) - u_i(s)`` (the CE from
    ``s_i``); the largest, else 0; ties to the smallest player, then action."""
    t = table(game)
    s = tuple(data.draw(st.integers(0, k - 1)) for k in t.ks)
    mass = np.zeros(t.ks)
    mass[s] = 1.0
    best, who, to = 0.0, -1, -1
    per_player = []
    for i in range(t.n):
        mine = 0.0
        for b in range(t.ks[i]):
            gain = t.pay[replaced(s, i, b)][i] - t.pay[s][i]
            mine = max(mine, gain)
            if gain > best:
                best, who, to = gain, i, b
        per_player.append(mine)
    for kind in ("ce", "cce"):
        r = equilibrium_gap(game, mass, kind=kind)
        assert r.gap == best and r.player == who
        assert r.player_gaps.tolist() == per_player
        if who == -1:
            assert s in pure_nash_equilibria(t)
            assert r.deviation.tolist() == ([-1, -1] if kind == "ce" else [-1])
        else:
            assert r.deviation.tolist() == ([s[who], to] if kind == "ce" else [to])


@settings(max_examples=40)
@given(games(max_players=3, max_actions=4), kinds, st.integers(0, 2**32 - 1))
def test_gap_of_any_distribution_matches_the_plain_constraints(
    game: NormalFormGame, kind: str, seed: int
) -> None:
    t = table(game)
    rng = np.random.default_rng(seed)
    dist = rng.random(t.ks) ** 4  # uneven, with near-zeros
    dist /= dist.sum()
    r = equilibrium_gap(game, dist, kind=kind)
    gains = list(deviation_gains(t, probabilities(t, dist), kind))
    assert r.gap == pytest.approx(max(0.0, *(g for _, _, g in gains)), abs=1e-12)
    for i in range(t.n):
        mine = max([0.0, *(g for j, _, g in gains if j == i)])
        assert r.player_gaps[i] == pytest.approx(mine, abs=1e-12)
    if r.player >= 0:
        dev = tuple(r.deviation.tolist())
        match = [g for j, d, g in gains if j == r.player and d == dev]
        assert match and match[0] == pytest.approx(r.gap, abs=1e-12)


# -- scale, limits and honesty ---------------------------------------------------------------


def test_four_players_ten_actions_solve() -> None:
    """10^4 outcomes: 360 CE rows of 1000 nonzeros each (40 dense CCE rows)."""
    game = random_game([10, 10, 10, 10], seed=7)
    for kind in ("ce", "cce"):
        res = correlated_equilibrium(game, kind=kind)
        assert res.termination.reason is TerminationReason.OPTIMAL
        assert res.distribution.shape == (10, 10, 10, 10)
        check_result(game, res, kind, 0.0)
    for objective in ("egalitarian", "nash"):
        res = correlated_equilibrium(game, objective=objective)
        assert res.termination.reason is TerminationReason.OPTIMAL, res.termination
        assert res.gap <= TOL


def test_a_time_limit_is_reported_honestly() -> None:
    game = random_game([10, 10, 10, 10], seed=8)
    for objective in ("utilitarian", "egalitarian", "nash"):
        res = correlated_equilibrium(game, objective=objective, time_limit=1e-3)
        term = res.termination
        if term.reason is not TerminationReason.OPTIMAL:
            assert term.limit is Limit.TIME, term
            assert term.reason in (
                TerminationReason.FEASIBLE,
                TerminationReason.NO_SOLUTION_FOUND,
            )
        if not term.has_solution:
            assert np.isnan(res.distribution).all() and math.isnan(res.welfare)


def test_results_are_read_only() -> None:
    res = correlated_equilibrium(random_game([3, 3], seed=1), objective="player", player=1)
    for arr in (res.distribution, res.utilities):
        assert not arr.flags.writeable
    gap = equilibrium_gap(random_game([3, 3], seed=1), res.distribution)
    assert not gap.deviation.flags.writeable and not gap.player_gaps.flags.writeable
    assert res.objective_name == "player 1" and res.epsilon == 0.0


def test_size_limits_are_checked_before_solving() -> None:
    """64 outcomes; 3 * 3 * 64 = 576 incentive nonzeros (the gap's work), plus (3 + 1) * 64
    for the sum row and the rows over the expected utilities: 832 for a solve."""
    game = random_game([4, 4, 4], seed=0)
    with pytest.raises(ProblemTooLargeError) as err:
        correlated_equilibrium(game, limits=Limits(max_candidates=63))
    assert err.value.argument == "game"
    with pytest.raises(ProblemTooLargeError) as err:
        correlated_equilibrium(game, kind="cce", limits=Limits(max_candidates=831))
    assert err.value.argument == "game constraint nonzeros"
    assert correlated_equilibrium(game, limits=Limits(max_candidates=832)).termination.is_optimal
    uniform = np.full((4, 4, 4), 1 / 64)
    with pytest.raises(ProblemTooLargeError):
        equilibrium_gap(game, uniform, limits=Limits(max_candidates=575))
    assert equilibrium_gap(game, uniform, limits=Limits(max_candidates=576)).gap >= 0.0


GAME = random_game([2, 3], seed=0)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"kind": "nash"}, "kind"),
        ({"kind": None}, "kind"),
        ({"objective": "social"}, "objective"),
        ({"objective": "player"}, "player"),
        ({"objective": "player", "player": 2}, "player"),
        ({"objective": "player", "player": -1}, "player"),
        ({"objective": "player", "player": 1.0}, "player"),
        ({"objective": "player", "player": True}, "player"),
        ({"objective": "player", "player": 0, "welfare": "fairest"}, "welfare"),
        ({"player": 0}, "player"),
        ({"welfare": Welfare(weights=(1, 1, 1))}, "welfare.weights"),
        ({"welfare": Welfare(weights=(1, -1))}, "welfare.weights[1]"),
        ({"welfare": Welfare(weights=(1, math.nan))}, "welfare.weights[1]"),
        ({"welfare": Welfare(WelfareKind.EGALITARIAN, weights=(1, 1))}, "welfare.weights"),
        ({"welfare": Welfare(WelfareKind.NASH, disagreement=(0,))}, "welfare.disagreement"),
        ({"welfare": Welfare(WelfareKind.INEQUITY_AVERSE, beta=-1.0)}, "welfare.beta"),
        ({"objective": "egalitarian", "welfare": "nash"}, "welfare"),
        ({"objective": "nash", "welfare": Welfare(WelfareKind.EGALITARIAN)}, "welfare"),
        ({"epsilon": -0.1}, "epsilon"),
        ({"epsilon": math.inf}, "epsilon"),
        ({"epsilon": "0"}, "epsilon"),
        ({"time_limit": 0}, "time_limit"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs: dict[str, object], argument: str) -> None:
    with pytest.raises(MechsolveInputError) as err:
        correlated_equilibrium(GAME, **kwargs)
    assert err.value.argument.startswith(argument), err.value
    assert err.value.function == "correlated_equilibrium"


@pytest.mark.parametrize(
    ("distribution", "kind", "argument"),
    [
        (np.full((3, 2), 1 / 6), "ce", "distribution"),
        (np.full(6, 1 / 6), "ce", "distribution"),
        (np.full((2, 3), 1 / 5), "ce", "distribution"),
        (np.full((2, 3), 1 / 7), "cce", "distribution"),
        ([[0.5, 0.5, 0.1], [0.0, 0.0, -0.1]], "ce", "distribution[1][2]"),
        ([[0.5, 0.5, math.nan], [0.0, 0.0, 0.0]], "ce", "distribution[0][2]"),
        ("uniform", "ce", "distribution"),
        (np.full((2, 3), 1 / 6), "nash", "kind"),
    ],
)
def test_bad_distributions_name_the_argument(
    distribution: object, kind: str, argument: str
) -> None:
    with pytest.raises(MechsolveInputError) as err:
        equilibrium_gap(GAME, distribution, kind=kind)
    assert err.value.argument == argument, err.value
    assert err.value.function == "equilibrium_gap"


def test_tiny_negative_probabilities_are_accepted_by_the_gap() -> None:
    dist = np.full((2, 3), 1 / 6)
    dist[0, 0] -= 1e-10
    dist[0, 1] += 1e-10
    assert equilibrium_gap(GAME, dist).gap >= 0.0


def test_a_payoff_array_is_a_game() -> None:
    res = correlated_equilibrium(GAME.payoffs.tolist(), kind="cce", objective="egalitarian")
    assert res.termination.is_optimal
    check_result(GAME, res, "cce", 0.0)
    with pytest.raises(MechsolveInputError) as err:
        correlated_equilibrium([1.0, 2.0])
    assert err.value.argument == "game"
