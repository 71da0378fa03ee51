"""Welfare optima and the normalized score, against brute force over pure outcomes in plain
Python and closed forms (the asymmetric battle of the sexes of seed 003)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mechsolve.solver.core.errors import MechsolveInputError
from mechsolve.solver.core.results import TerminationReason
from mechsolve.solver.equilibria.bargaining import normalized_score, welfare_optimum
from mechsolve.solver.games.normal_form import NormalFormGame, random_game
from mechsolve.solver.games.welfare import WELFARE_NAMES, Welfare, WelfareKind

from ..brute_force import welfare_value

ASYM_BOS = NormalFormGame(np.array([[[4.0, 0.0], [0.0, 2.0]], [[1.0, 0.0], [0.0, 2.0]]]))
"""Seed 003's IAsymBoS: (B,B) = (4,1), (S,S) = (2,2), miscoordination (0,0)."""


def _outcomes(g: NormalFormGame) -> list[tuple[tuple[int, ...], list[float]]]:
    out = []
    for s in itertools.product(*(range(k) for k in g.num_actions)):
        out.append((s, [float(g.payoffs[(i, *s)]) for i in range(g.n_players)]))
    return out


def _brute_best(g: NormalFormGame, kind: str) -> float:
    outcomes = _outcomes(g)
    players = list(range(g.n_players))
    ideal = [max(u[i] for _, u in outcomes) for i in players]
    return max(welfare_value(kind, u, players, ideal=ideal) for _, u in outcomes)


@settings(max_examples=60)
@given(
    n=st.integers(2, 3),
    k=st.integers(2, 4),
    seed=st.integers(0, 10_000),
    kind=st.sampled_from(WELFARE_NAMES),
    integer=st.booleans(),
)
def test_the_pure_optimum_is_the_brute_force_best_and_the_lottery_is_no_worse(
    n: int, k: int, seed: int, kind: str, integer: bool
) -> None:
    g = random_game([k] * n, seed=seed)
    if integer:  # ties
        g = NormalFormGame(np.floor(g.payoffs * 4))
    pure = welfare_optimum(g, welfare=kind)
    expected = _brute_best(g, kind)
    assert pure.termination.is_optimal
    assert pure.welfare == pytest.approx(expected, rel=1e-12, abs=1e-12) or (
        math.isinf(expected) and pure.welfare == expected
    )
    s = tuple(pure.support[0])
    assert pure.utilities.tolist() == [g.payoffs[(i, *s)] for i in range(n)]
    lot = welfare_optimum(g, welfare=kind, lottery=True)
    assert lot.termination.has_solution
    assert lot.probabilities.sum() == pytest.approx(1.0) and (lot.probabilities > 0).all()
    expected_u = sum(
        p * np.array([g.payoffs[(i, *row)] for i in range(n)])
        for p, row in zip(lot.probabilities, lot.support, strict=True)
    )
    np.testing.assert_allclose(lot.utilities, expected_u, atol=1e-12)
    if math.isfinite(pure.welfare):
        assert lot.welfare >= pure.welfare - 1e-7 * max(1.0, abs(pure.welfare))
    if kind == "utilitarian":  # linear: a lottery cannot beat the best outcome
        assert lot.welfare == pytest.approx(pure.welfare, rel=1e-9, abs=1e-9)


def test_asymmetric_bos_closed_forms() -> None:
    # egalitarian: (S,S) = (2,2); no lottery of (B,B) and (S,S) has both above 2
    egal = welfare_optimum(ASYM_BOS, welfare="egalitarian", lottery=True)
    assert egal.welfare == pytest.approx(2.0)
    # Nash: p (4,1) + (1-p) (2,2) = (2+2p, 2-p), maximal at p = 1/2: (3, 1.5), 4.5 > 4
    nash = welfare_optimum(ASYM_BOS, welfare="nash", lottery=True)
    assert nash.welfare == pytest.approx(4.5, rel=1e-9)
    np.testing.assert_allclose(nash.utilities, [3.0, 1.5], rtol=1e-8)
    assert welfare_optimum(ASYM_BOS, welfare="nash").welfare == pytest.approx(4.0)
    util = welfare_optimum(ASYM_BOS)
    assert util.support.tolist() == [[0, 0]] and util.welfare == 5.0


def test_normalized_score_of_seed_003() -> None:
    functions = ["utilitarian", Welfare(WelfareKind.INEQUITY_AVERSE, beta=1.0)]
    d = [0.0, 0.0]

    def score(u: list[float]) -> float:
        return normalized_score(ASYM_BOS, u, d, welfare_functions=functions).score

    assert score([4.0, 1.0]) == pytest.approx(1.0)  # (B,B): utilitarian optimum 5
    assert score([2.0, 2.0]) == pytest.approx(1.0)  # (S,S): inequity-averse optimum 4
    assert score([0.0, 0.0]) == pytest.approx(0.0)
    res = normalized_score(ASYM_BOS, [2.0, 1.0], d, welfare_functions=functions)
    # utilitarian 3/5 = 0.6; inequity-averse (3 - 1)/4 = 0.5
    np.testing.assert_allclose(res.scores, [0.6, 0.5])
    assert res.best_function == "utilitarian" and res.score == pytest.approx(0.6)
    np.testing.assert_allclose(res.optima, [5.0, 4.0])
    nash = normalized_score(ASYM_BOS, [3.0, 1.5], d, welfare_functions=["nash"])
    assert nash.score == pytest.approx(1.0, rel=1e-7)
    below = normalized_score(ASYM_BOS, [-1.0, 3.0], d, welfare_functions=["nash"])
    assert below.score == 0.0  # outside the bargaining set: the positive part is 0


def test_a_pure_feasible_set_scores_against_pure_outcomes() -> None:
    res = normalized_score(ASYM_BOS, [3.0, 1.5], [0, 0], welfare_functions=["nash"], lottery=False)
    assert res.optima[0] == pytest.approx(4.0) and res.score == pytest.approx(4.5 / 4.0)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"welfare": "benevolent"}, "welfare"),
        ({"lottery": 1}, "lottery"),
        ({"time_limit": -1.0}, "time_limit"),
    ],
)
def test_welfare_optimum_bad_input_names_the_argument(kwargs: dict, argument: str) -> None:
    with pytest.raises(MechsolveInputError) as err:
        welfare_optimum(ASYM_BOS, **kwargs)
    assert err.value.argument == argument


@pytest.mark.parametrize(
    ("args", "kwargs", "argument"),
    [
        (([1.0], [0.0, 0.0]), {}, "utilities"),
        (([1.0, 1.0], [0.0, math.nan]), {}, "disagreement_utilities"),
        (([1.0, 1.0], [0.0, 0.0]), {"welfare_functions": []}, "welfare_functions"),
        (([1.0, 1.0], [0.0, 0.0]), {"welfare_functions": "nash"}, "welfare_functions"),
    ],
)
def test_normalized_score_bad_input_names_the_argument(
    args: tuple, kwargs: dict, argument: str
) -> None:
    with pytest.raises(MechsolveInputError) as err:
        normalized_score(ASYM_BOS, *args, **kwargs)
    assert err.value.argument.split("[")[0] == argument


def test_no_outcome_above_the_disagreement_point_is_said() -> None:
    g = NormalFormGame(-np.ones((2, 2, 2)))
    res = welfare_optimum(g, welfare="nash", lottery=True)
    assert res.welfare == -math.inf
    assert res.termination.reason is TerminationReason.OPTIMAL  # the tie-break decided
