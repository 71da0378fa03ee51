"""Welfare-optimal Nash equilibria (MILP) and minimax (LP) against independent checks written from
the definitions: a support-enumeration solver for small bimatrix games, regrets recomputed here,
a grid search over row strategies for minimax, and closed-form answers for named games.

Random games have continuous U[0, 1) payoffs: nondegenerate with probability 1, so support
enumeration over equal-size supports finds every equilibrium (each is isolated).
"""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mechsolve.solver.core.errors import MechsolveInputError, ProblemTooLargeError
from mechsolve.solver.core.highs_backend import HighsSolution
from mechsolve.solver.core.limits import Limits
from mechsolve.solver.core.results import Limit, Termination, TerminationReason
from mechsolve.solver.equilibria import nash
from mechsolve.solver.equilibria.nash import (
    MinimaxResult,
    NashResult,
    minimax,
    nash_equilibrium_with_value,
    optimal_nash_equilibrium,
)
from mechsolve.solver.games.normal_form import (
    NormalFormGame,
    battle_of_the_sexes,
    prisoners_dilemma,
    random_game,
)

Profile = tuple[np.ndarray, np.ndarray]

# -- independent reference: support enumeration ---------------------------------------------


def regret_of(a: np.ndarray, b: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Each player's largest gain from a pure deviation from ``(x, y)``."""
    u0 = float(x @ a @ y)
    u1 = float(x @ b @ y)
    return float(np.max(a @ y)) - u0, float(np.max(x @ b)) - u1


def mix_equalizing(m: np.ndarray) -> np.ndarray | None:
    """The distribution ``q`` over the columns of the square ``m`` with ``(m q)_i`` equal for
    every row ``i`` (rows minus the first row times ``q`` = 0, and ``sum q = 1``), or ``None``."""
    n = m.shape[0]
    system = np.vstack([m[1:] - m[0], np.ones((1, n))])
    rhs = np.zeros(n)
    rhs[-1] = 1.0
    try:
        q = np.linalg.solve(system, rhs)
    except np.linalg.LinAlgError:
        return None
    if not np.all(np.isfinite(q)) or q.min() < -1e-12:
        return None
    q = np.clip(q, 0.0, None)
    return q / q.sum()


def support_enumeration(a: np.ndarray, b: np.ndarray) -> list[Profile]:
    """Every equilibrium of a nondegenerate bimatrix game: for each pair of equal-size supports,
    the mixes that make the opponent indifferent on its support, kept when they leave no
    profitable pure deviation."""
    k0, k1 = a.shape
    found: list[Profile] = []
    for size in range(1, min(k0, k1) + 1):
        for rows in combinations(range(k0), size):
            for cols in combinations(range(k1), size):
                q = mix_equalizing(a[np.ix_(rows, cols)])  # player 1's mix over cols
                p = mix_equalizing(b[np.ix_(rows, cols)].T)  # player 0's mix over rows
                if p is None or q is None:
                    continue
                x, y = np.zeros(k0), np.zeros(k1)
                x[list(rows)], y[list(cols)] = p, q
                if max(regret_of(a, b, x, y)) <= 1e-9:
                    found.append((x, y))
    return found


def utilities_of(a: np.ndarray, b: np.ndarray, eq: Profile) -> tuple[float, float]:
    x, y = eq
    return float(x @ a @ y), float(x @ b @ y)


def equilibrium_values(game: NormalFormGame) -> np.ndarray:
    """``(m, 2)`` utilities of the enumerated equilibria."""
    a, b = game.payoffs
    eqs = support_enumeration(a, b)
    assert eqs, "every finite game has an equilibrium"
    return np.array([utilities_of(a, b, eq) for eq in eqs])


# -- checks on a result ---------------------------------------------------------------------


def assert_equilibrium(game: NormalFormGame, r: NashResult, rtol: float = 1e-7) -> None:
    """``r`` is a Nash equilibrium (regret recomputed here) and its fields agree with it."""
    a, b = game.payoffs
    k0, k1 = game.num_actions
    assert r.exists
    x, y = r.row_strategy, r.column_strategy
    assert x.shape == (k0,) and y.shape == (k1,)
    for s in (x, y):
        assert (s >= 0).all()
        assert s.sum() == pytest.approx(1.0, abs=1e-12)
    r0, r1 = regret_of(a, b, x, y)
    assert r0 <= rtol * max(float(np.ptp(a)), 1.0)
    assert r1 <= rtol * max(float(np.ptp(b)), 1.0)
    assert r.regret == pytest.approx(max(r0, r1, 0.0), abs=1e-12)
    np.testing.assert_allclose(r.utilities, utilities_of(a, b, (x, y)), rtol=1e-12, atol=1e-12)
    assert r.row_support.tolist() == [i for i in range(k0) if x[i] > 0]
    assert r.column_support.tolist() == [j for j in range(k1) if y[j] > 0]
    assert r.objective == r.welfare
    assert r.method == "milp" and r.backend == "highs"
    for arr in (x, y, r.utilities, r.row_support, r.column_support):
        assert not arr.flags.writeable


def assert_optimal(r: NashResult) -> None:
    assert r.termination.reason is TerminationReason.OPTIMAL, r.termination


# -- strategies -----------------------------------------------------------------------------

sizes = st.integers(min_value=2, max_value=4)
seeds = st.integers(min_value=0, max_value=2**32 - 1)


@st.composite
def random_games(draw: st.DrawFn) -> NormalFormGame:
    return random_game([draw(sizes), draw(sizes)], seed=draw(seeds))


# -- the reference itself -------------------------------------------------------------------


def test_support_enumeration_finds_the_three_equilibria_of_battle_of_the_sexes() -> None:
    a, b = battle_of_the_sexes().payoffs
    eqs = support_enumeration(a, b)
    values = sorted(utilities_of(a, b, eq) for eq in eqs)
    assert len(values) == 3
    np.testing.assert_allclose(values, [(1.2, 1.2), (2.0, 3.0), (3.0, 2.0)], atol=1e-12)


# -- random games against support enumeration -------------------------------------------------


@settings(max_examples=250)
@given(random_games())
def test_utilitarian_best_and_worst_match_enumeration(game: NormalFormGame) -> None:
    welfare = equilibrium_values(game).sum(axis=1)
    best = optimal_nash_equilibrium(game)
    worst = optimal_nash_equilibrium(game, sense="min")
    for r in (best, worst):
        assert_optimal(r)
        assert_equilibrium(game, r)
        assert r.objective_name == "utilitarian"
        assert r.welfare == pytest.approx(float(r.utilities.sum()), abs=1e-12)
    assert best.welfare == pytest.approx(welfare.max(), abs=1e-6)
    assert worst.welfare == pytest.approx(welfare.min(), abs=1e-6)
    # nondegenerate: the equilibrium is re-solved exactly on its supports
    assert max(best.regret, worst.regret) <= 1e-12
    assert best.info.bound >= best.welfare - 1e-6
    assert worst.info.bound <= worst.welfare + 1e-6


@settings(max_examples=150)
@given(random_games(), st.sampled_from([0, 1]))
def test_player_objective_matches_enumeration(game: NormalFormGame, player: int) -> None:
    values = equilibrium_values(game)[:, player]
    best = optimal_nash_equilibrium(game, objective="player", player=player)
    worst = optimal_nash_equilibrium(game, objective="player", player=player, sense="min")
    for r in (best, worst):
        assert_optimal(r)
        assert_equilibrium(game, r)
        assert r.objective_name == f"player {player}"
        assert r.welfare == r.utilities[player]
    assert best.welfare == pytest.approx(values.max(), abs=1e-6)
    assert worst.welfare == pytest.approx(values.min(), abs=1e-6)


@settings(max_examples=150)
@given(random_games(), st.sampled_from([0, 1]))
def test_with_value_just_below_and_above_the_best(game: NormalFormGame, player: int) -> None:
    best = float(equilibrium_values(game)[:, player].max())
    below = nash_equilibrium_with_value(game, player, best - 1e-6)
    assert_optimal(below)
    assert_equilibrium(game, below)
    assert below.utilities[player] >= best - 1e-6 - 1e-9
    assert below.welfare == below.utilities[player]
    above = nash_equilibrium_with_value(game, player, best + 1e-6)
    assert not above.exists
    assert above.termination.reason is TerminationReason.INFEASIBLE
    assert above.row_strategy.size == 0 and above.column_strategy.size == 0
    assert np.isnan(above.utilities).all() and math.isnan(above.welfare)


@settings(max_examples=200)
@given(random_games(), st.sampled_from([0, 1]), st.floats(min_value=-0.2, max_value=1.2))
def test_with_value_exists_exactly_when_some_equilibrium_reaches_it(
    game: NormalFormGame, player: int, at_least: float
) -> None:
    values = equilibrium_values(game)[:, player]
    assume(np.abs(values - at_least).min() > 1e-6)  # away from ties
    r = nash_equilibrium_with_value(game, player, at_least)
    expected = bool((values >= at_least).any())
    assert r.exists is expected
    if expected:
        assert_optimal(r)
        assert_equilibrium(game, r)
        assert r.utilities[player] >= at_least - 1e-9
    else:
        assert r.termination.reason is TerminationReason.INFEASIBLE


@settings(max_examples=100)
@given(
    random_games(),
    st.sampled_from([1e-4, 1.0, 1e4]),
    st.sampled_from([1e-3, 1.0, 1e6]),
    st.floats(min_value=-1e3, max_value=1e3),
)
def test_per_player_affine_payoffs(game: NormalFormGame, s0: float, s1: float, c: float) -> None:
    """Positive affine maps per player keep the equilibria; the welfare is in the new units."""
    a, b = game.payoffs
    eqs = support_enumeration(a, b)
    scaled = NormalFormGame(np.stack([s0 * a + c, s1 * b - c]))
    sa, sb = scaled.payoffs
    welfare = np.array([sum(utilities_of(sa, sb, eq)) for eq in eqs])
    best = optimal_nash_equilibrium(scaled)
    assert_optimal(best)
    assert_equilibrium(scaled, best)
    span = max(s0, s1)
    assert best.welfare == pytest.approx(welfare.max(), abs=1e-6 * span)
    values1 = np.array([utilities_of(sa, sb, eq)[1] for eq in eqs])
    worst1 = optimal_nash_equilibrium(scaled, objective="player", player=1, sense="min")
    assert_optimal(worst1)
    assert_equilibrium(scaled, worst1)
    assert worst1.welfare == pytest.approx(values1.min(), abs=1e-6 * s1)


def test_deterministic() -> None:
    game = random_game([4, 4], seed=11)
    first = optimal_nash_equilibrium(game, sense="min")
    again = optimal_nash_equilibrium(game, sense="min")
    np.testing.assert_array_equal(first.row_strategy, again.row_strategy)
    np.testing.assert_array_equal(first.column_strategy, again.column_strategy)


def test_payoff_array_accepted() -> None:
    game = random_game([3, 2], seed=5)
    r = optimal_nash_equilibrium(np.array(game.payoffs).tolist())
    assert_equilibrium(game, r)
    assert r.welfare == pytest.approx(equilibrium_values(game).sum(axis=1).max(), abs=1e-6)


# -- named games ----------------------------------------------------------------------------


def matching_pennies() -> NormalFormGame:
    a = np.array([[1.0, -1.0], [-1.0, 1.0]])
    return NormalFormGame(np.stack([a, -a]))


def rock_paper_scissors() -> NormalFormGame:
    a = np.array([[0.0, -1.0, 1.0], [1.0, 0.0, -1.0], [-1.0, 1.0, 0.0]])
    return NormalFormGame(np.stack([a, -a]))


@pytest.mark.parametrize("sense", ["max", "min"])
def test_matching_pennies_unique_uniform(sense: str) -> None:
    game = matching_pennies()
    r = optimal_nash_equilibrium(game, sense=sense)
    assert_optimal(r)
    assert_equilibrium(game, r)
    np.testing.assert_allclose(r.row_strategy, [0.5, 0.5], atol=1e-12)
    np.testing.assert_allclose(r.column_strategy, [0.5, 0.5], atol=1e-12)
    np.testing.assert_allclose(r.utilities, [0.0, 0.0], atol=1e-12)
    m = minimax(game)
    assert m.zero_sum
    assert m.value == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(m.row_strategy, [0.5, 0.5], atol=1e-12)
    np.testing.assert_allclose(m.column_strategy, [0.5, 0.5], atol=1e-12)


def test_rock_paper_scissors() -> None:
    game = rock_paper_scissors()
    m = minimax(game)
    assert isinstance(m, MinimaxResult)
    assert m.termination.reason is TerminationReason.OPTIMAL
    assert m.zero_sum
    assert m.value == pytest.approx(0.0, abs=1e-12)
    assert m.objective == m.value
    assert m.method == "lp" and m.backend == "highs"
    np.testing.assert_allclose(m.row_strategy, np.full(3, 1 / 3), atol=1e-12)
    np.testing.assert_allclose(m.column_strategy, np.full(3, 1 / 3), atol=1e-12)
    assert not m.row_strategy.flags.writeable and not m.column_strategy.flags.writeable
    r = optimal_nash_equilibrium(game)
    assert_equilibrium(game, r)
    np.testing.assert_allclose(r.row_strategy, np.full(3, 1 / 3), atol=1e-12)
    np.testing.assert_allclose(r.column_strategy, np.full(3, 1 / 3), atol=1e-12)


def test_battle_of_the_sexes() -> None:
    game = battle_of_the_sexes()  # (A,A) = (3,2), (B,B) = (2,3), else 0
    best = optimal_nash_equilibrium(game)
    assert_optimal(best)
    assert_equilibrium(game, best)
    assert best.welfare == pytest.approx(5.0, abs=1e-12)
    assert len(best.row_support) == 1 and len(best.column_support) == 1
    assert best.row_support.tolist() == best.column_support.tolist()  # (A,A) or (B,B)

    worst = optimal_nash_equilibrium(game, sense="min")  # the mixed one
    assert_optimal(worst)
    np.testing.assert_allclose(worst.row_strategy, [0.6, 0.4], atol=1e-12)
    np.testing.assert_allclose(worst.column_strategy, [0.4, 0.6], atol=1e-12)
    assert worst.welfare == pytest.approx(2.4, abs=1e-12)

    p0 = optimal_nash_equilibrium(game, objective="player", player=0)
    np.testing.assert_allclose(p0.utilities, [3.0, 2.0], atol=1e-12)
    p1 = optimal_nash_equilibrium(game, objective="player", player=1)
    np.testing.assert_allclose(p1.utilities, [2.0, 3.0], atol=1e-12)
    assert p1.objective_name == "player 1"

    assert nash_equilibrium_with_value(game, 0, 2.5).exists
    assert nash_equilibrium_with_value(game, 0, 3.0).utilities[0] == pytest.approx(3.0)
    none = nash_equilibrium_with_value(game, 0, 3.0 + 1e-6)
    assert not none.exists
    assert none.termination.reason is TerminationReason.INFEASIBLE
    assert nash_equilibrium_with_value(game, 1, -5.0).exists


@pytest.mark.parametrize(
    ("objective", "player", "sense"),
    [("welfare", None, "max"), ("welfare", None, "min"), ("player", 0, "max"), ("player", 1, "min")],
)  # fmt: skip
def test_prisoners_dilemma_unique_defection(objective: str, player: int | None, sense: str) -> None:
    game = prisoners_dilemma()
    r = optimal_nash_equilibrium(game, objective=objective, player=player, sense=sense)
    assert_optimal(r)
    assert_equilibrium(game, r)
    np.testing.assert_array_equal(r.row_strategy, [0.0, 1.0])
    np.testing.assert_array_equal(r.column_strategy, [0.0, 1.0])
    np.testing.assert_array_equal(r.utilities, [1.0, 1.0])
    assert r.regret == 0.0


def test_degenerate_games() -> None:
    zeros = NormalFormGame(np.zeros((2, 3, 4)))
    r = optimal_nash_equilibrium(zeros)
    assert_optimal(r)
    assert_equilibrium(zeros, r)
    assert r.welfare == 0.0
    one_row = random_game([1, 4], seed=3)
    r = optimal_nash_equilibrium(one_row)
    assert_equilibrium(one_row, r)
    assert r.utilities[1] == one_row.payoffs[1, 0].max()
    p = random_game([3, 3], seed=4).payoffs.copy()
    p[1] = 7.0  # player 1 is indifferent everywhere: player 0 gets its best payoff
    constant = NormalFormGame(p)
    r = optimal_nash_equilibrium(constant, objective="player", player=0)
    assert_equilibrium(constant, r)
    assert r.welfare == pytest.approx(p[0].max(), abs=1e-9)
    assert nash_equilibrium_with_value(constant, 1, 7.0).exists
    assert not nash_equilibrium_with_value(constant, 1, 7.0 + 1e-6).exists


def test_time_limit_result_is_consistent() -> None:
    """Whatever a tiny time limit leaves, the result says so consistently (no timing)."""
    game = random_game([25, 25], seed=1)
    r = optimal_nash_equilibrium(game, time_limit=1e-3)
    reason = r.termination.reason
    if reason is TerminationReason.OPTIMAL:
        assert_equilibrium(game, r)
    elif reason is TerminationReason.FEASIBLE:
        assert r.termination.limit is Limit.TIME
        assert_equilibrium(game, r)
    else:
        assert reason is TerminationReason.NO_SOLUTION_FOUND
        assert r.termination.limit is Limit.TIME
        assert not r.exists and r.row_strategy.size == 0 and math.isnan(r.welfare)


# -- statuses, forced through the internals -----------------------------------------------------


def _stopped_milp(*args: object, **kwargs: object) -> tuple[HighsSolution, float]:
    """A MILP solve that a time limit stopped before any solution."""
    term = Termination.no_solution(Limit.TIME, "forced")
    return HighsSolution(np.empty(0), math.nan, term, np.empty(0)), math.nan


def test_limit_without_solution_falls_back_to_the_best_pure_equilibrium(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(nash, "_solve_milp", _stopped_milp)
    game = battle_of_the_sexes()
    r = optimal_nash_equilibrium(game, objective="player", player=1)
    assert r.termination.reason is TerminationReason.FEASIBLE
    assert r.termination.limit is Limit.TIME
    assert_equilibrium(game, r)
    np.testing.assert_array_equal(r.utilities, [2.0, 3.0])  # (B,B): player 1's best pure one
    worst = optimal_nash_equilibrium(game, sense="min")  # the worst pure one (a tie: first)
    np.testing.assert_array_equal(worst.utilities, [3.0, 2.0])
    floor = nash_equilibrium_with_value(game, 0, 2.5)
    np.testing.assert_array_equal(floor.utilities, [3.0, 2.0])
    assert not nash_equilibrium_with_value(game, 0, 3.5).exists
    none = optimal_nash_equilibrium(matching_pennies())  # no pure equilibrium
    assert not none.exists
    assert none.termination.reason is TerminationReason.NO_SOLUTION_FOUND
    assert none.termination.limit is Limit.TIME
    assert none.row_strategy.size == 0 and math.isnan(none.regret)


def test_infeasible_unconstrained_milp_is_a_numerical_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def infeasible(*args: object, **kwargs: object) -> tuple[HighsSolution, float]:
        term = Termination.failed(TerminationReason.INFEASIBLE, "forced")
        return HighsSolution(np.empty(0), math.nan, term, np.empty(0)), math.nan

    monkeypatch.setattr(nash, "_solve_milp", infeasible)
    r = optimal_nash_equilibrium(prisoners_dilemma())
    assert not r.exists
    assert r.termination.reason is TerminationReason.NUMERICAL_ERROR
    assert nash_equilibrium_with_value(prisoners_dilemma(), 0, 0.0).termination.reason is (
        TerminationReason.INFEASIBLE
    )


def test_a_profile_that_is_not_an_equilibrium_is_reported_imprecise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def pure_heads(scaled: object, z: object) -> Profile:
        return np.array([1.0, 0.0]), np.array([1.0, 0.0])

    monkeypatch.setattr(nash, "_equilibrium", pure_heads)
    r = optimal_nash_equilibrium(matching_pennies())
    assert r.termination.reason is TerminationReason.IMPRECISE
    assert "regret" in r.termination.detail
    assert r.regret == pytest.approx(2.0)  # player 1 gains 2 by switching
    np.testing.assert_array_equal(r.utilities, [1.0, -1.0])


# -- minimax --------------------------------------------------------------------------------


def grid_maximin(a: np.ndarray, points: int = 20001) -> float:
    """``max_p min_b (p a[0, b] + (1 - p) a[1, b])`` over a grid of ``p`` (2-row games)."""
    p = np.linspace(0.0, 1.0, points)[:, None]
    return float((p * a[0] + (1 - p) * a[1]).min(axis=1).max())


@settings(max_examples=100)
@given(st.integers(min_value=2, max_value=3), seeds, st.floats(min_value=-5, max_value=5))
def test_minimax_value_matches_grid(k1: int, seed: int, total: float) -> None:
    a = np.random.default_rng(seed).random((2, k1))
    game = NormalFormGame(np.stack([a, total - a]))
    m = minimax(game)
    assert m.termination.reason is TerminationReason.OPTIMAL
    assert m.zero_sum
    grid = grid_maximin(a)
    resolution = float(np.ptp(a)) / 20000
    assert grid - 1e-12 <= m.value <= grid + resolution + 1e-12
    # the strategies guarantee and concede the value
    assert float((m.row_strategy @ a).min()) == pytest.approx(m.value, abs=1e-9)
    assert float((a @ m.column_strategy).max()) == pytest.approx(m.value, abs=1e-9)


@settings(max_examples=100)
@given(random_games(), st.floats(min_value=-5, max_value=5))
def test_minimax_value_is_the_nash_utility_of_zero_sum_games(
    game: NormalFormGame, total: float
) -> None:
    a = game.payoffs[0]
    zero_sum = NormalFormGame(np.stack([a, total - a]))
    m = minimax(zero_sum)
    assert m.zero_sum
    for sense in ("max", "min"):
        r = optimal_nash_equilibrium(zero_sum, sense=sense)
        assert_equilibrium(zero_sum, r)
        assert r.utilities[0] == pytest.approx(m.value, abs=1e-7)
        assert r.utilities[1] == pytest.approx(total - m.value, abs=1e-7)
    # (row, column) of minimax is itself an equilibrium of the zero-sum game
    r0, r1 = regret_of(a, total - a, m.row_strategy, m.column_strategy)
    assert max(r0, r1) <= 1e-9


def test_minimax_of_a_general_sum_game_is_player_0s_security_level() -> None:
    game = random_game([2, 3], seed=8)
    a = game.payoffs[0]
    m = minimax(game)
    assert not m.zero_sum
    assert m.termination.reason is TerminationReason.OPTIMAL
    grid = grid_maximin(a)
    assert grid - 1e-12 <= m.value <= grid + float(np.ptp(a)) / 20000 + 1e-12
    assert float((a @ m.column_strategy).max()) == pytest.approx(m.value, abs=1e-9)


# -- bad inputs -----------------------------------------------------------------------------


def _raises(argument: str, call: object, *args: object, **kwargs: object) -> None:
    with pytest.raises(MechsolveInputError) as err:
        call(*args, **kwargs)  # type: ignore[operator]
    assert err.value.argument == argument, err.value


def test_bad_inputs() -> None:
    three = random_game([2, 2, 2], seed=0)
    game = random_game([2, 3], seed=0)
    _raises("game", optimal_nash_equilibrium, three)
    _raises("game", nash_equilibrium_with_value, three, 0, 0.5)
    _raises("game", minimax, three)
    _raises("objective", optimal_nash_equilibrium, game, objective="egalitarian")
    _raises("sense", optimal_nash_equilibrium, game, sense="maximize")
    _raises("player", optimal_nash_equilibrium, game, objective="player")
    _raises("player", optimal_nash_equilibrium, game, objective="player", player=2)
    _raises("player", optimal_nash_equilibrium, game, objective="player", player=-1)
    _raises("player", optimal_nash_equilibrium, game, objective="player", player=True)
    _raises("player", optimal_nash_equilibrium, game, player=0)  # the welfare takes none
    _raises("welfare", optimal_nash_equilibrium, game, welfare="egalitarian")
    _raises("player", nash_equilibrium_with_value, game, 2, 0.5)
    _raises("player", nash_equilibrium_with_value, game, 0.5, 0.5)
    for bad in (math.nan, math.inf, -math.inf, "1"):
        _raises("at_least", nash_equilibrium_with_value, game, 0, bad)
    for bad_limit in (0.0, -1.0, math.nan):
        _raises("time_limit", optimal_nash_equilibrium, game, time_limit=bad_limit)
        _raises("time_limit", minimax, game, time_limit=bad_limit)
    huge = np.array(game.payoffs)
    huge[0, 0, 0], huge[0, 1, 0] = 1e308, -1e308  # max - min overflows
    _raises("game", optimal_nash_equilibrium, huge)
    _raises("game", minimax, huge)
    bad_payoffs = np.array(game.payoffs)
    bad_payoffs[1, 0, 0] = math.nan
    with pytest.raises(MechsolveInputError) as err:
        optimal_nash_equilibrium(bad_payoffs)
    assert err.value.argument.startswith("game")


def test_size_limits() -> None:
    game = random_game([3, 3], seed=0)
    for call in (optimal_nash_equilibrium, minimax):
        with pytest.raises(ProblemTooLargeError) as err:
            call(game, limits=Limits(max_outcomes=8))
        assert err.value.argument.startswith("game")
    wide = NormalFormGame(np.zeros((2, 1, 2000)))  # 2001 binaries
    with pytest.raises(ProblemTooLargeError) as err:
        optimal_nash_equilibrium(wide)
    assert err.value.argument == "game"
    assert minimax(wide).value == 0.0  # the LP has no binaries


def test_weighted_welfare_with_a_disagreement_point_matches_enumeration() -> None:
    """The welfare objective with weights (2, 1) and d = (0.5, 0.25): the MILP optimum equals
    the best of the enumerated equilibria under 2 (u_0 - 0.5) + (u_1 - 0.25)."""
    from mechsolve.solver.games.welfare import Welfare, WelfareKind

    w = Welfare(WelfareKind.UTILITARIAN, weights=(2.0, 1.0), disagreement=(0.5, 0.25))
    for seed in range(6):
        game = random_game([3, 3], seed=seed)
        eqs = support_enumeration(game.payoffs[0], game.payoffs[1])
        a, b = game.payoffs
        best = max(2 * (float(x @ a @ y) - 0.5) + (float(x @ b @ y) - 0.25) for x, y in eqs)
        r = optimal_nash_equilibrium(game, welfare=w)
        assert r.welfare == pytest.approx(best, abs=1e-7)
        assert r.objective == pytest.approx(best, abs=1e-7)
