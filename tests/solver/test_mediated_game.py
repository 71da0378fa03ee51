"""Mediated games: seed 000 Table 1, Propositions 1 and 2 on thousands of random 2-player
games, equilibrium enumeration and strong Nash against brute force."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mechsolve.solver.games.normal_form import (
    NormalFormGame,
    random_game,
    seed000_prisoners_dilemma,
)
from mechsolve.solver.mediators.deterministic import mediate
from mechsolve.solver.mediators.mediated_games import (
    delegation_dominance,
    equilibrium_welfare,
    mediated_game,
    pure_nash_equilibria,
    strong_nash,
    summarize_mediation,
)

from . import brute_force as bf


def test_table1_pd_pareto_mediated_game() -> None:
    """(C,C)=(2,2), (C,D)=(0,3), (D,C)=(3,0), (D,D)=(1,1): (D+, D+) is a strong NE paying
    (2,2) and delegating weakly dominates for both players (Proposition 1)."""
    mg = mediated_game(seed000_prisoners_dilemma(), "pareto")
    g = mg.game
    assert g.payoffs.shape == (2, 4, 4)
    assert g.actions[0] == ("C", "D", "C+", "D+")
    d_plus = 3
    assert g.payoffs[:, d_plus, d_plus].tolist() == [2.0, 2.0]
    assert strong_nash(g, [d_plus, d_plus]).is_strong
    ne = {tuple(x) for x in pure_nash_equilibria(g).tolist()}
    assert (d_plus, d_plus) in ne
    for i in range(2):
        dom = delegation_dominance(mg, i)
        assert dom.weakly_dominates and dom.strict_somewhere and dom.witness is None
    # the top-left quadrant is the original game
    np.testing.assert_array_equal(g.payoffs[:, :2, :2], seed000_prisoners_dilemma().payoffs)


def test_dd_is_not_strong_in_the_original_pd() -> None:
    res = strong_nash(seed000_prisoners_dilemma(), [1, 1])
    assert not res.is_strong
    assert res.coalition == (0, 1) and res.deviation.tolist() == [0, 0]


def test_punishing_mediated_coordination_game_delegation_is_not_dominant() -> None:
    """Coordination (A,A)=(2,2), (B,B)=(1,1), else 0: if the other does not delegate and plays
    A, the Punishing Mediator makes a delegator play B, costing the delegator 2."""
    p = np.zeros((2, 2, 2))
    p[:, 0, 0] = [2, 2]
    p[:, 1, 1] = [1, 1]
    mg = mediated_game(p, "punishing")
    dom = delegation_dominance(mg, 0)
    assert not dom.weakly_dominates
    # the witness is a profile where delegating is strictly worse for player 1
    w = dom.witness
    plain = w.copy()
    plain[0] -= 2
    assert mg.game.payoffs[(0, *w)] < mg.game.payoffs[(0, *plain)]


@settings(max_examples=2000)
@given(st.integers(2, 6), st.integers(2, 6), st.integers(0, 2**32 - 1), st.booleans())
def test_propositions_1_and_2_on_random_two_player_games(
    k1: int, k2: int, seed: int, ints: bool
) -> None:
    """Prop. 1: delegating to the Pareto Mediator weakly dominates in 2-player games.
    Prop. 2: every pure NE of the mediated game in which both delegate has total utility
    >= every pure NE of the original game; and the worst mediated NE is no worse than the
    worst original NE."""
    rng = np.random.default_rng(seed)
    p = rng.integers(0, 4, (2, k1, k2)).astype(float) if ints else rng.random((2, k1, k2))
    summary = summarize_mediation(p, "pareto")
    assert summary.delegation_weakly_dominant == (True, True)
    if summary.original.n_equilibria and summary.all_delegate.n_equilibria:
        assert summary.all_delegate.worst >= summary.original.best - 1e-12
    if summary.original.n_equilibria and summary.mediated.n_equilibria:
        assert summary.mediated.worst >= summary.original.worst - 1e-12


def test_prop2_is_about_equilibria_where_both_delegate() -> None:
    """The issue's stronger reading ("every pure NE of the mediated game") is false: in a
    coordination game the bad original equilibrium survives, undelegated, in the mediated game.
    """
    p = np.zeros((2, 2, 2))
    p[:, 0, 0] = [1, 1]
    p[:, 1, 1] = [2, 2]
    s = summarize_mediation(p, "pareto")
    assert s.original.best == 4.0 and s.original.worst == 2.0
    assert s.mediated.worst == 2.0  # (A, A) without delegation is still an equilibrium
    assert s.all_delegate.worst >= s.original.best


@settings(max_examples=300)
@given(st.lists(st.integers(2, 4), min_size=2, max_size=4), st.integers(0, 2**32 - 1))
def test_pure_nash_matches_brute_force(ks: list[int], seed: int) -> None:
    g = NormalFormGame(np.random.default_rng(seed).integers(0, 3, (len(ks), *ks)).astype(float))
    got = sorted(map(tuple, pure_nash_equilibria(g).tolist()))
    assert got == sorted(bf.pure_nash(g.payoffs.tolist(), ks))


@settings(max_examples=150)
@given(st.lists(st.integers(2, 3), min_size=2, max_size=3), st.integers(0, 2**32 - 1))
def test_strong_nash_matches_brute_force(ks: list[int], seed: int) -> None:
    g = NormalFormGame(np.random.default_rng(seed).integers(0, 3, (len(ks), *ks)).astype(float))
    n = len(ks)
    for prof in itertools.product(*[range(k) for k in ks]):
        base = g.payoffs[(slice(None), *prof)]
        expected = True
        for size in range(1, n + 1):
            for coal in itertools.combinations(range(n), size):
                for dev in itertools.product(*[range(ks[i]) for i in coal]):
                    alt = list(prof)
                    for i, a in zip(coal, dev, strict=True):
                        alt[i] = a
                    if all(g.payoffs[(i, *alt)] > base[i] for i in coal):
                        expected = False
        assert strong_nash(g, prof).is_strong == expected


@pytest.mark.parametrize("mediator", ["pareto", "punishing", "central_planner"])
def test_mediated_tensor_matches_per_profile_mediation(mediator: str) -> None:
    g = random_game([3, 2, 3], seed=5)
    mg = mediated_game(g, mediator, welfare="egalitarian")
    assert mg.welfare_function == "egalitarian"
    ks = np.array(g.num_actions)
    for idx in itertools.product(*[range(2 * k) for k in ks]):
        idx_a = np.array(idx)
        res = mediate(g, idx_a % ks, idx_a >= ks, mediator=mediator, welfare="egalitarian")
        np.testing.assert_array_equal(mg.game.payoffs[(slice(None), *idx)], res.utilities_after)
        np.testing.assert_array_equal(mg.outcomes[idx], res.actions_after)


def test_equilibrium_welfare_without_pure_equilibria() -> None:
    mp = np.zeros((2, 2, 2))  # matching pennies
    mp[0] = [[1, -1], [-1, 1]]
    mp[1] = -mp[0]
    ew = equilibrium_welfare(mp)
    assert ew.n_equilibria == 0 and np.isnan(ew.best)


def _pareto_brute_force(p: np.ndarray, a: tuple[int, ...], d: tuple[bool, ...]) -> tuple[int, ...]:
    """Seed 000 eq. 3, utilitarian, from the definition: among the joint actions that change
    only the delegators' actions and leave no delegator worse off, the highest delegators' sum;
    ties (exact: integer payoffs) go to the submitted profile, then the first in C order."""
    dele = [i for i in range(len(a)) if d[i]]
    if len(dele) < 2:
        return a
    best, best_w = a, sum(p[(i, *a)] for i in dele)
    for choice in itertools.product(*[range(p.shape[1 + i]) for i in dele]):
        prof = list(a)
        for i, x in zip(dele, choice, strict=True):
            prof[i] = x
        if all(p[(i, *prof)] >= p[(i, *a)] for i in dele):
            w = sum(p[(i, *prof)] for i in dele)
            if w > best_w:
                best, best_w = tuple(prof), w
    return best


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(1, 4), min_size=2, max_size=4),
    st.integers(0, 2**32 - 1),
    st.booleans(),
)
def test_mediated_game_pareto_matches_definition(ks: list[int], seed: int, ties: bool) -> None:
    """The per-mask scan of ``mediated_game`` against eq. 3 written out, on games with many
    exact ties (integer payoffs) and without (continuous payoffs)."""
    rng = np.random.default_rng(seed)
    shape = (len(ks), *ks)
    p = rng.integers(0, 3, shape).astype(float) if ties else rng.random(shape)
    mg = mediated_game(NormalFormGame(p))
    k = np.array(ks)
    for idx in itertools.product(*[range(2 * x) for x in ks]):
        i = np.array(idx)
        a = tuple(int(x) for x in i % k)
        expected = _pareto_brute_force(p, a, tuple(bool(x) for x in i >= k))
        assert tuple(mg.outcomes[idx].tolist()) == expected
        key: tuple[Any, ...] = (slice(None), *expected)
        np.testing.assert_array_equal(mg.game.payoffs[(slice(None), *idx)], p[key])


@pytest.mark.parametrize("welfare", ["utilitarian", "egalitarian", "kalai_smorodinsky"])
@pytest.mark.parametrize("mediator", ["pareto", "punishing", "central_planner"])
def test_mediated_game_ties_match_per_profile_mediation(mediator: str, welfare: str) -> None:
    """Integer payoffs (ties everywhere): the whole-game build breaks ties as the per-profile
    mediator does."""
    g = NormalFormGame(np.random.default_rng(7).integers(0, 2, (3, 2, 3, 2)).astype(float))
    mg = mediated_game(g, mediator, welfare=welfare)
    ks = np.array(g.num_actions)
    for idx in itertools.product(*[range(2 * k) for k in ks]):
        i = np.array(idx)
        res = mediate(g, i % ks, i >= ks, mediator=mediator, welfare=welfare)
        np.testing.assert_array_equal(mg.outcomes[idx], res.actions_after)
