"""Defects an independent review found, pinned: LPs at payoff magnitudes far from 1 (the
solvers' tolerances are absolute), statuses under exhausted time budgets, error paths."""

from __future__ import annotations

import numpy as np
import pytest

from mechsolve.solver.core.errors import MechsolveInputError
from mechsolve.solver.core.results import Limit, TerminationReason
from mechsolve.solver.equilibria import (
    correlated_equilibrium,
    normalized_score,
    strong_stackelberg,
    welfare_optimum,
)
from mechsolve.solver.games.welfare import Welfare, WelfareKind

PD = np.array([[[3, 0], [5, 1]], [[3, 5], [0, 1]]], dtype=float)


@pytest.mark.parametrize("scale", [1e-9, 1.0, 1e15])
def test_correlated_equilibria_at_any_magnitude(scale: float) -> None:
    """The prisoner's dilemma's only CE is (D,D): welfare 2 x scale, gap 0."""
    r = correlated_equilibrium(PD * scale)
    assert r.termination.is_optimal
    assert r.distribution[1, 1] == pytest.approx(1.0)
    assert r.welfare == pytest.approx(2 * scale, rel=1e-9)
    assert r.gap <= 1e-9 * scale
    egal = correlated_equilibrium(PD * scale, kind="cce", welfare="egalitarian")
    assert egal.welfare == pytest.approx(1 * scale, rel=1e-9)


def test_players_paid_in_different_units() -> None:
    p = PD.copy()
    p[1] *= 1e-9
    r = correlated_equilibrium(p, objective="player", player=0)
    assert r.distribution[1, 1] == pytest.approx(1.0) and r.gap <= 1e-12


def test_stackelberg_and_lotteries_at_small_magnitudes() -> None:
    s = strong_stackelberg(np.array([[[1.0], [2.0], [3.0]], [[0.0], [0.0], [0.0]]]) * 1e-9)
    assert s.commitment.tolist() == pytest.approx([0.0, 0.0, 1.0])
    assert s.utilities[0] == pytest.approx(3e-9)
    w = np.array([[[1.0, 2.0], [0.0, 3.0]], [[1.0, 2.0], [3.0, 0.0]]]) * 1e-10
    pure = welfare_optimum(w)
    lot = welfare_optimum(w, lottery=True)
    assert lot.welfare >= pure.welfare * (1 - 1e-9)
    ks = welfare_optimum(w, welfare="kalai_smorodinsky", lottery=True)
    assert ks.termination.has_solution and ks.welfare == pytest.approx(2 / 3, rel=1e-6)


def test_a_lottery_stopped_by_its_limit_is_feasible_not_no_solution() -> None:
    g = np.random.default_rng(0).normal(size=(3, 20, 20, 20))
    r = welfare_optimum(g, welfare="egalitarian", lottery=True, time_limit=1e-3)
    if r.termination.reason is not TerminationReason.OPTIMAL:  # (a fast machine may finish)
        assert r.termination.reason is TerminationReason.FEASIBLE
        assert r.termination.limit is Limit.TIME and r.support.shape[0] >= 1


def test_normalized_score_with_an_exhausted_budget_and_bad_functions() -> None:
    g = np.random.default_rng(0).normal(size=(3, 20, 20, 20))
    res = normalized_score(
        g, [0, 0, 0], [-1, -1, -1], welfare_functions=["egalitarian", "utilitarian"],
        time_limit=1e-3,
    )  # fmt: skip
    assert len(res.scores) == 2
    for bad in (None, iter(["utilitarian"])):
        with pytest.raises(MechsolveInputError) as err:
            normalized_score(PD, [0, 0], [0, 0], welfare_functions=bad)  # type: ignore[arg-type]
        assert err.value.argument == "welfare_functions"
    with pytest.raises(MechsolveInputError) as err:
        normalized_score(
            PD, [0, 0], [0, 0],
            welfare_functions=["utilitarian", Welfare(WelfareKind.INEQUITY_AVERSE, beta=-1.0)],
        )  # fmt: skip
    assert err.value.argument == "welfare_functions[1].beta"


def test_nash_milp_with_a_constant_player_at_small_magnitudes() -> None:
    """Player 0 gets 2e-9 whatever happens: the best welfare is 4e-9 (player 1's best row),
    and no equilibrium gives player 0 2.5e-9 (checked by hand; pygambit agrees)."""
    from mechsolve.solver.equilibria import nash_equilibrium_with_value, optimal_nash_equilibrium

    p2 = 1e-9 * np.array([[[2.0], [2.0], [2.0]], [[1.0], [2.0], [2.0]]])
    assert optimal_nash_equilibrium(p2).welfare == pytest.approx(4e-9, rel=1e-9)
    none = nash_equilibrium_with_value(p2, 0, 2.5e-9)
    assert not none.exists and none.termination.reason is TerminationReason.INFEASIBLE
    assert nash_equilibrium_with_value(p2, 0, 2e-9).exists


def test_zero_sum_is_relative_and_one_player_nash_leaders_are_infeasible() -> None:
    from mechsolve.solver.equilibria import minimax, select_leader

    coordination = np.array([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]])
    assert not minimax(coordination * 1e-10).zero_sum
    assert minimax(np.zeros((2, 2, 2))).zero_sum
    lone = select_leader(np.array([[-1.0, -2.0]]), welfare="nash")
    assert lone.termination.reason is TerminationReason.INFEASIBLE


def test_pure_choices_at_small_magnitudes() -> None:
    """Payoff differences of 1e-10 are not ties when the whole game is that small."""
    from mechsolve.solver.equilibria import select_leader, sequential_stackelberg

    assert sequential_stackelberg(np.array([[1.0, 2.0]]) * 1e-10).actions.tolist() == [1]
    g = np.array([[[1.0, 0.0]], [[1.0, 5.0]]]) * 1e-10
    best = welfare_optimum(g, welfare="egalitarian")
    assert best.support.tolist() == [[0, 0]] and best.welfare == pytest.approx(1e-10)
    leaders = select_leader(g, welfare="egalitarian", lottery=False)
    np.testing.assert_allclose(leaders.values, [[0.0, 5e-10], [0.0, 5e-10]])
    s = strong_stackelberg(np.array([[[1.0, 0.0], [0.0, 2.0]], [[1.0, 0.0], [0.0, 1.0]]]) * 1e-10)
    assert s.utilities.tolist() == pytest.approx([2e-10, 1e-10])
