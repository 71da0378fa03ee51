"""Stackelberg commitments, sequential leaders and leader selection
(mechsolve.solver.equilibria.stackelberg) against checks written from the math: brute force
over a grid of commitments, Nash equilibria enumerated by hand, a recursive backward
induction, welfare formulas and scipy LPs (no code shared with the module)."""

from __future__ import annotations

import itertools
import math
from dataclasses import FrozenInstanceError
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from mechsolve.solver.core import highs_backend as hb
from mechsolve.solver.core.errors import MechsolveInputError, ProblemTooLargeError
from mechsolve.solver.core.limits import Limits
from mechsolve.solver.core.results import Limit, Termination, TerminationReason
from mechsolve.solver.equilibria import stackelberg
from mechsolve.solver.equilibria.stackelberg import (
    select_leader,
    sequential_stackelberg,
    strong_stackelberg,
)
from mechsolve.solver.games.normal_form import (
    NormalFormGame,
    chicken,
    prisoners_dilemma,
    random_game,
)
from mechsolve.solver.games.welfare import Welfare, WelfareKind

WELFARES = ("utilitarian", "egalitarian", "nash", "kalai_smorodinsky", "inequity_averse")


def bimatrix(cells: list[list[tuple[float, float]]]) -> NormalFormGame:
    """A two-player game from a table of (row payoff, column payoff) cells."""
    return NormalFormGame(np.moveaxis(np.array(cells, dtype=np.float64), -1, 0))


def classic_chicken() -> NormalFormGame:
    """(C,C)=(6,6), (C,D)=(2,7), (D,C)=(7,2), (D,D)=(0,0)."""
    return bimatrix([[(6, 6), (2, 7)], [(7, 2), (0, 0)]])


def close(a: float, b: float, tol: float = 1e-9) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


# -- references --------------------------------------------------------------------------------


def role_matrices(payoffs: np.ndarray, leader: int) -> tuple[np.ndarray, np.ndarray]:
    """(leader's, follower's) payoffs with the leader's actions as rows."""
    a, b = np.asarray(payoffs[0]), np.asarray(payoffs[1])
    return (a, b) if leader == 0 else (b.T, a.T)


def simplex_grid(k: int, steps: int) -> np.ndarray:
    """Every point of the k-simplex with coordinates in multiples of 1/steps."""
    if k == 1:
        return np.ones((1, 1))
    if k == 2:
        q = np.arange(steps + 1) / steps
        return np.stack([q, 1 - q], axis=1)
    assert k == 3
    pts = [(i, j, steps - i - j) for i in range(steps + 1) for j in range(steps + 1 - i)]
    return np.array(pts, dtype=np.float64) / steps


def grid_stackelberg(payoffs: np.ndarray, leader: int, steps: int) -> float:
    """The leader's best value over a grid of commitments, the follower best-responding with
    ties in the leader's favour."""
    ul, uf = role_matrices(payoffs, leader)
    x = simplex_grid(ul.shape[0], steps)  # (G, k_L)
    fol = x @ uf  # (G, k_F) the follower's payoff of each response
    lead = x @ ul
    is_br = fol >= fol.max(axis=1, keepdims=True) - 1e-12
    return float(np.where(is_br, lead, -np.inf).max(axis=1).max())


def pure_nash(payoffs: np.ndarray) -> list[tuple[int, int]]:
    a, b = payoffs[0], payoffs[1]
    rows, cols = a.shape
    return [
        (i, j)
        for i in range(rows)
        for j in range(cols)
        if a[i, j] >= max(a[r, j] for r in range(rows))
        and b[i, j] >= max(b[i, c] for c in range(cols))
    ]


def mixed_nash_2x2(payoffs: np.ndarray) -> tuple[float, float] | None:
    """The completely mixed equilibrium's values (row, column) of a 2x2 game, if any."""
    a, b = payoffs[0], payoffs[1]
    den_p = b[0, 0] - b[1, 0] - b[0, 1] + b[1, 1]
    den_q = a[0, 0] - a[0, 1] - a[1, 0] + a[1, 1]
    if den_p == 0 or den_q == 0:
        return None
    p = (b[1, 1] - b[1, 0]) / den_p  # P(row 0): the column player is indifferent
    q = (a[1, 1] - a[0, 1]) / den_q  # P(column 0): the row player is indifferent
    if not (0 < p < 1 and 0 < q < 1):
        return None
    return q * a[0, 0] + (1 - q) * a[0, 1], p * b[0, 0] + (1 - p) * b[1, 0]


def plain_backward_induction(
    payoffs: np.ndarray, order: list[int]
) -> tuple[list[int], list[float]]:
    """Recursive backward induction; a mover indifferent (within 1e-9 relative) picks the
    action best for the first mover, then for the second, ..., then the lowest index."""
    n = len(order)

    def tied(x: float, best: float) -> bool:
        return x >= best - 1e-9 * max(1.0, abs(best))

    def solve(history: dict[int, int], j: int) -> tuple[dict[int, int], list[float]]:
        if j == n:
            idx = tuple(history[i] for i in range(n))
            return dict(history), [float(payoffs[(i, *idx)]) for i in range(n)]
        mover = order[j]
        results = []
        for a in range(payoffs.shape[1 + mover]):
            results.append((a, *solve({**history, mover: a}, j + 1)))
        best = max(r[2][mover] for r in results)
        alive = [r for r in results if tied(r[2][mover], best)]
        for e in order[:j]:
            top = max(r[2][e] for r in alive)
            alive = [r for r in alive if tied(r[2][e], top)]
        _, outcome, utils = min(alive, key=lambda r: r[0])
        return outcome, utils

    outcome, utils = solve({}, 0)
    return [outcome[i] for i in range(n)], utils


def plain_welfare(
    kind: str,
    u: list[float],
    d: list[float],
    ideal: list[float],
    beta: float = 1.0,
) -> float:
    x = [ui - di for ui, di in zip(u, d, strict=True)]
    n = len(x)
    if kind == "utilitarian":
        return sum(x)
    if kind == "egalitarian":
        return min(x)
    if kind == "nash":
        return math.prod(x) if all(xi > 0 for xi in x) else -math.inf
    if kind == "kalai_smorodinsky":
        ratios = [xi / (hi - di) for xi, hi, di in zip(x, ideal, d, strict=True) if hi > di]
        return min(ratios) if ratios else 0.0
    assert kind == "inequity_averse"
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    if not pairs:
        return sum(x)
    return sum(x) - beta * sum(abs(x[i] - x[j]) for i, j in pairs) / len(pairs)


def brute_force_orders(payoffs: np.ndarray) -> tuple[list[list[int]], list[list[float]]]:
    n = payoffs.shape[0]
    orders = [list(p) for p in itertools.permutations(range(n))]
    return orders, [plain_backward_induction(payoffs, o)[1] for o in orders]


def best_single_order(
    kind: str, values: list[list[float]], d: list[float], beta: float = 1.0
) -> tuple[int, float]:
    """Highest W, then the highest total, then the lowest index."""
    ideal = [max(v[i] for v in values) for i in range(len(d))]
    ws = [plain_welfare(kind, v, d, ideal, beta) for v in values]
    top = max(ws)
    tied = [k for k, w in enumerate(ws) if w == top or (math.isfinite(top) and close(w, top))]
    total = max(sum(values[k]) for k in tied)
    return next(k for k in tied if close(sum(values[k]), total)), top


def lp_welfare_optimum(
    kind: str, values: np.ndarray, d: np.ndarray, beta: float = 1.0
) -> float | None:
    """max W(p @ values) over lotteries p with scipy (egalitarian, KS, inequity-averse)."""
    m, n = values.shape
    if kind in ("egalitarian", "kalai_smorodinsky"):
        span = np.ones(n) if kind == "egalitarian" else values.max(axis=0) - d
        valid = span > 0
        if not valid.any():
            return None
        # variables (p, t): max t s.t. t span_i - V_i p <= -d_i
        a_ub = np.hstack([-values.T[valid], span[valid, None]])
        res = linprog(
            np.r_[np.zeros(m), -1.0], A_ub=a_ub, b_ub=-d[valid],
            A_eq=np.r_[np.ones(m), 0.0][None], b_eq=[1.0],
            bounds=[(0, None)] * m + [(None, None)], method="highs",
        )  # fmt: skip
        assert res.status == 0
        return float(-res.fun)
    assert kind == "inequity_averse"
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    npairs = len(pairs)
    rows, rhs = [], []
    for k, (i, j) in enumerate(pairs):
        e = np.zeros(npairs)
        e[k] = 1.0
        diff = values[:, i] - values[:, j]
        rows += [np.r_[diff, -e], np.r_[-diff, -e]]  # +-(y_i - y_j) <= s
        rhs += [d[i] - d[j], d[j] - d[i]]
    cost = np.r_[-values.sum(axis=1), np.full(npairs, beta / npairs)]
    res = linprog(
        cost, A_ub=np.array(rows), b_ub=np.array(rhs),
        A_eq=np.r_[np.ones(m), np.zeros(npairs)][None], b_eq=[1.0],
        bounds=[(0, None)] * (m + npairs), method="highs",
    )  # fmt: skip
    assert res.status == 0
    return float(-res.fun - d.sum())


# -- strong Stackelberg --------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(2, 2), (2, 3), (3, 2)])
@pytest.mark.parametrize("leader", [0, 1])
@pytest.mark.parametrize("seed", range(12))
def test_strong_stackelberg_matches_a_grid_of_commitments(
    shape: tuple[int, int], leader: int, seed: int
) -> None:
    g = random_game(shape, seed=seed)
    res = strong_stackelberg(g, leader=leader)
    assert res.termination.reason is TerminationReason.OPTIMAL
    k_leader = shape[leader]
    steps = 2000 if k_leader == 2 else 300
    grid = grid_stackelberg(g.payoffs, leader, steps)
    value = res.utilities[leader]
    spread = float(g.payoffs[leader].max() - g.payoffs[leader].min())
    assert grid <= value + 1e-9
    assert grid >= value - (1.0 if k_leader == 2 else 3.0) * spread / steps
    assert res.objective == value


@pytest.mark.parametrize("shape", [(2, 2), (2, 3), (3, 3), (4, 2), (1, 3), (3, 1)])
@pytest.mark.parametrize("leader", [0, 1])
@pytest.mark.parametrize("seed", range(10))
def test_commitment_is_a_lottery_answered_by_a_best_response(
    shape: tuple[int, int], leader: int, seed: int
) -> None:
    g = random_game(shape, seed=100 + seed)
    res = strong_stackelberg(g, leader=leader)
    ul, uf = role_matrices(g.payoffs, leader)
    x = res.commitment
    assert res.leader == leader
    assert x.shape == (shape[leader],)
    assert (x >= 0).all() and x.sum() == pytest.approx(1.0, abs=1e-12)
    assert 0 <= res.response < shape[1 - leader]
    follower = x @ uf
    assert follower[res.response] >= follower.max() - 1e-7
    # utilities are by player and recomputed from the commitment and the response
    assert res.utilities[leader] == pytest.approx(x @ ul[:, res.response], abs=1e-12)
    assert res.utilities[1 - leader] == pytest.approx(follower[res.response], abs=1e-12)
    # a mixed commitment is worth at least the best pure one (the pure sequential outcome)
    pure = sequential_stackelberg(g, [leader, 1 - leader])
    assert res.utilities[leader] >= pure.utilities[leader] - 1e-9


@pytest.mark.parametrize("shape", [(2, 2), (2, 3), (3, 2), (3, 3)])
@pytest.mark.parametrize("seed", range(25))
def test_leader_does_at_least_as_well_as_in_any_nash_equilibrium(
    shape: tuple[int, int], seed: int
) -> None:
    g = random_game(shape, seed=200 + seed)
    if seed % 2:  # small integer payoffs: ties and several pure equilibria
        rng = np.random.default_rng(seed)
        g = NormalFormGame(rng.integers(0, 3, size=(2, *shape)).astype(float))
    p = g.payoffs
    values = [strong_stackelberg(g, leader=i).utilities[i] for i in (0, 1)]
    for a, b in pure_nash(p):
        assert values[0] >= p[0, a, b] - 1e-9
        assert values[1] >= p[1, a, b] - 1e-9
    if shape == (2, 2) and (mixed := mixed_nash_2x2(p)) is not None:
        assert values[0] >= mixed[0] - 1e-9
        assert values[1] >= mixed[1] - 1e-9


def test_strong_stackelberg_by_hand() -> None:
    # Conitzer & Sandholm's point: committing to a mixed strategy beats every pure one.
    # Leader rows (U, D), follower columns (L, R):
    #   U: (2, 1) (4, 0)     D: (1, 0) (3, 1)
    # Pure: U -> L (2), D -> R (3). Mixed x = P(U) >= 1/2 makes L a best response... the
    # follower plays L iff x >= 1 - x, R iff x <= 1/2; with R the leader gets 4x + 3(1-x),
    # best at x = 1/2 (follower indifferent, tie in the leader's favour): 3.5.
    g = bimatrix([[(2, 1), (4, 0)], [(1, 0), (3, 1)]])
    res = strong_stackelberg(g)
    np.testing.assert_allclose(res.commitment, [0.5, 0.5], atol=1e-9)
    assert res.response == 1
    np.testing.assert_allclose(res.utilities, [3.5, 0.5], atol=1e-9)
    # chicken (project fixture): the leader commits to D, the follower swerves
    res = strong_stackelberg(chicken(), leader=1)
    np.testing.assert_allclose(res.commitment, [0.0, 1.0], atol=1e-12)
    assert res.response == 0
    np.testing.assert_allclose(res.utilities, [2.0, 3.5], atol=1e-12)
    # prisoner's dilemma: defection is dominant for the follower
    res = strong_stackelberg(prisoners_dilemma())
    assert res.response == 1
    np.testing.assert_allclose(res.utilities, [1.0, 1.0], atol=1e-9)


def test_strong_stackelberg_ties_take_the_lowest_response() -> None:
    # every response worth the same to the leader, whatever it commits to
    g = bimatrix([[(1, 0), (1, 0), (1, 0)], [(1, 0), (1, 0), (1, 0)]])
    res = strong_stackelberg(g)
    assert res.response == 0
    assert res.utilities.tolist() == [1.0, 0.0]


def test_strong_stackelberg_falls_back_honestly_when_an_lp_stops(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stopped = hb.HighsSolution(
        np.empty(0), math.nan, Termination.no_solution(Limit.TIME, "stub"), np.empty(0)
    )
    monkeypatch.setattr(stackelberg, "_response_lp", lambda *args: stopped)
    g = bimatrix([[(2, 1), (4, 0)], [(1, 0), (3, 1)]])
    res = strong_stackelberg(g, time_limit=5.0)
    assert res.termination.reason is TerminationReason.FEASIBLE
    assert res.termination.limit is Limit.TIME
    # the best pure commitment (D, answered by R), not claimed optimal
    assert res.commitment.tolist() == [0.0, 1.0]
    assert res.response == 1
    assert res.utilities.tolist() == [3.0, 1.0]


# -- sequential Stackelberg ----------------------------------------------------------------------


@st.composite
def games_and_orders(draw: Any, max_players: int = 4) -> tuple[NormalFormGame, list[int]]:
    n = draw(st.integers(2, max_players))
    ks = [draw(st.integers(1, 3)) for _ in range(n)]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if draw(st.booleans()):  # small integers: plenty of ties
        payoffs = rng.integers(0, 3, size=(n, *ks)).astype(float)
    else:
        payoffs = rng.random((n, *ks))
    order = draw(st.permutations(list(range(n))))
    return NormalFormGame(payoffs), order


@settings(max_examples=300)
@given(games_and_orders())
def test_sequential_matches_recursive_backward_induction(
    case: tuple[NormalFormGame, list[int]],
) -> None:
    g, order = case
    res = sequential_stackelberg(g, order)
    actions, utils = plain_backward_induction(g.payoffs, order)
    assert res.order.tolist() == order
    assert res.actions.tolist() == actions
    assert res.utilities.tolist() == utils
    assert res.termination.reason is TerminationReason.OPTIMAL
    assert res.objective == utils[order[0]]


def test_sequential_default_order_and_tie_rule() -> None:
    # Two players: the follower (1) is indifferent after the leader's action 0 and picks the
    # column best for the leader; after action 1 it prefers column 0.
    g = bimatrix([[(1, 5), (2, 5)], [(3, 1), (0, 0)]])
    res = sequential_stackelberg(g)
    assert res.order.tolist() == [0, 1]
    assert res.actions.tolist() == [1, 0]  # 3 beats the 2 of (0, 1)
    g = bimatrix([[(1, 5), (4, 5)], [(3, 1), (0, 0)]])
    assert sequential_stackelberg(g).actions.tolist() == [0, 1]  # the tie went to 4
    # Three players, order (2, 0, 1); the last mover (1) is indifferent between its actions.
    p = np.zeros((3, 1, 2, 1))
    # the first mover (2) is indifferent too, player 0 (second mover) prefers action 1
    p[1, 0, :, 0] = [7, 7]
    p[0, 0, :, 0] = [0, 1]
    assert sequential_stackelberg(p, [2, 0, 1]).actions.tolist() == [0, 1, 0]
    # the first mover's preference wins over the second mover's
    p[2, 0, :, 0] = [1, 0]
    assert sequential_stackelberg(p, [2, 0, 1]).actions.tolist() == [0, 0, 0]
    # nobody cares: the lowest index
    p = np.zeros((3, 1, 3, 1))
    assert sequential_stackelberg(p, [1, 0, 2]).actions.tolist() == [0, 0, 0]


def test_sequential_chicken_by_hand() -> None:
    g = classic_chicken()
    # the first mover dares, the second swerves
    r01, r10 = sequential_stackelberg(g, [0, 1]), sequential_stackelberg(g, [1, 0])
    assert (r01.actions.tolist(), r01.utilities.tolist()) == ([1, 0], [7.0, 2.0])
    assert (r10.actions.tolist(), r10.utilities.tolist()) == ([0, 1], [2.0, 7.0])


# -- leader selection -----------------------------------------------------------------------------


def test_classic_chicken_lottery_equalizes() -> None:
    g = classic_chicken()
    det = select_leader(g, lottery=False)  # egalitarian by default
    assert det.orders.tolist() == [[0, 1], [1, 0]]
    assert det.values.tolist() == [[7.0, 2.0], [2.0, 7.0]]
    # both orders have W = 2 and total 9: the lowest index
    assert det.probabilities.tolist() == [1.0, 0.0]
    assert det.utilities.tolist() == [7.0, 2.0]
    assert det.welfare == 2.0
    lot = select_leader(g)
    np.testing.assert_allclose(lot.probabilities, [0.5, 0.5], atol=1e-8)
    np.testing.assert_allclose(lot.utilities, [4.5, 4.5], atol=1e-8)
    assert lot.welfare == pytest.approx(4.5, abs=1e-8)
    assert lot.termination.reason is TerminationReason.OPTIMAL
    assert (lot.welfare_function, lot.method, lot.objective) == ("egalitarian", "lp", lot.welfare)
    for kind in ("nash", "kalai_smorodinsky", "inequity_averse"):
        res = select_leader(g, welfare=kind)
        np.testing.assert_allclose(res.utilities, [4.5, 4.5], atol=1e-6)
    # utilitarian welfare is linear: a single order (the lowest of the tied ones)
    res = select_leader(g, welfare="utilitarian")
    assert res.probabilities.tolist() == [1.0, 0.0]
    assert res.method == "enumeration"


def test_fixture_games() -> None:
    # the project's chicken: (C,C)=(3,3), (C,D)=(2,3.5), (D,C)=(3.5,2), (D,D)=(1,1)
    res = select_leader(chicken())
    assert res.values.tolist() == [[3.5, 2.0], [2.0, 3.5]]
    np.testing.assert_allclose(res.utilities, [2.75, 2.75], atol=1e-8)
    # prisoner's dilemma: (D, D) whoever leads, no lottery helps
    res = select_leader(prisoners_dilemma())
    assert res.values.tolist() == [[1.0, 1.0], [1.0, 1.0]]
    assert res.probabilities.tolist() == [1.0, 0.0]
    assert res.welfare == 1.0


@pytest.mark.parametrize("welfare", WELFARES)
@pytest.mark.parametrize("seed", range(8))
def test_single_order_is_the_brute_force_best(welfare: str, seed: int) -> None:
    n = 2 + seed % 3
    rng = np.random.default_rng(seed)
    ks = rng.integers(1, 4, size=n).tolist()
    g = random_game(ks, seed=seed)
    if seed % 2:
        g = NormalFormGame(rng.integers(0, 3, size=(n, *ks)).astype(float))
    res = select_leader(g, welfare=welfare, lottery=False)
    orders, values = brute_force_orders(g.payoffs)
    assert res.orders.tolist() == orders
    np.testing.assert_array_equal(res.values, np.array(values))
    best, top = best_single_order(welfare, values, [0.0] * n)
    expected = np.zeros(len(orders))
    expected[best] = 1.0
    np.testing.assert_array_equal(res.probabilities, expected)
    assert res.utilities.tolist() == values[best]
    assert res.welfare == top or close(res.welfare, top)


@st.composite
def leader_cases(draw: Any) -> dict[str, Any]:
    n = draw(st.integers(2, 3))
    ks = [draw(st.integers(1, 3)) for _ in range(n)]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if draw(st.booleans()):
        payoffs = rng.integers(0, 4, size=(n, *ks)).astype(float)
    else:
        payoffs = rng.random((n, *ks))
    d = None
    if draw(st.booleans()):
        d = (rng.random(n) * payoffs.min(axis=tuple(range(1, n + 1))) - 0.1).tolist()
    return {
        "payoffs": payoffs,
        "welfare": draw(st.sampled_from(WELFARES)),
        "disagreement": d,
        "beta": draw(st.sampled_from([0.5, 1.0, 3.0])),
        "orders": draw(st.sampled_from(["all", "leader"])),
    }


@settings(max_examples=120)
@given(leader_cases())
def test_lottery_is_never_worse_than_the_best_order(case: dict[str, Any]) -> None:
    kind, d, beta = case["welfare"], case["disagreement"], case["beta"]
    spec = Welfare(
        WelfareKind(kind),
        disagreement=None if d is None else tuple(d),
        beta=beta if kind == "inequity_averse" else 1.0,
    )
    kwargs: dict[str, Any] = {"welfare": spec, "orders": case["orders"]}
    det = select_leader(case["payoffs"], lottery=False, **kwargs)
    lot = select_leader(case["payoffs"], **kwargs)
    n = case["payoffs"].shape[0]
    dd = [0.0] * n if d is None else d
    values = det.values
    np.testing.assert_array_equal(lot.values, values)
    ideal = values.max(axis=0).tolist()
    for res in (det, lot):
        p = res.probabilities
        assert (p >= 0).all()
        assert p.sum() == pytest.approx(1.0, abs=1e-12)
        np.testing.assert_allclose(res.utilities, p @ values, atol=1e-12)
        w = plain_welfare(kind, res.utilities.tolist(), dd, ideal, beta)
        assert res.welfare == w or close(res.welfare, w)
        assert res.termination.has_solution
    _, best_w = best_single_order(kind, values.tolist(), dd, beta)
    assert det.welfare == best_w or close(det.welfare, best_w)
    assert lot.welfare >= det.welfare - 1e-9
    # the linear forms are optimal: an independent scipy LP
    if kind in ("egalitarian", "kalai_smorodinsky", "inequity_averse"):
        opt = lp_welfare_optimum(kind, values, np.asarray(dd), beta)
        if opt is not None:
            assert lot.welfare == pytest.approx(opt, abs=1e-7 * max(1.0, abs(opt)))
    if kind == "nash":  # at least every vertex and the uniform lottery
        uniform = values.mean(axis=0).tolist()
        assert lot.welfare >= plain_welfare(kind, uniform, dd, ideal) - 1e-9


def test_nash_infeasible_says_so() -> None:
    g = chicken()  # orders worth (3.5, 2) and (2, 3.5)
    # nobody reaches 5, with or without a lottery
    for lottery in (False, True):
        res = select_leader(
            g, welfare=Welfare(WelfareKind.NASH, disagreement=(5.0, 5.0)), lottery=lottery
        )
        assert res.termination.reason is TerminationReason.INFEASIBLE
        assert not res.termination.has_solution
        assert res.probabilities.tolist() == [1.0, 0.0]  # equal totals: the lowest index
        assert res.welfare == -math.inf
        assert math.isnan(res.objective)
    # above 2.5 for both: no single order, but the 50/50 lottery (2.75, 2.75)
    det = select_leader(
        g, welfare=Welfare(WelfareKind.NASH, disagreement=(2.5, 2.5)), lottery=False
    )
    assert det.termination.reason is TerminationReason.INFEASIBLE
    lot = select_leader(g, welfare=Welfare(WelfareKind.NASH, disagreement=(2.5, 2.5)))
    assert lot.termination.reason is TerminationReason.OPTIMAL
    np.testing.assert_allclose(lot.probabilities, [0.5, 0.5], atol=1e-7)
    assert lot.welfare == pytest.approx(0.0625, abs=1e-9)


def test_lottery_failure_keeps_the_best_order(monkeypatch: pytest.MonkeyPatch) -> None:
    def stopped(*args: Any) -> tuple[np.ndarray, Termination, str]:
        return np.empty(0), Termination.no_solution(Limit.TIME, "stub"), "highs"

    monkeypatch.setattr(stackelberg, "best_lottery", stopped)
    res = select_leader(classic_chicken())
    assert res.termination.reason is TerminationReason.FEASIBLE
    assert res.termination.limit is Limit.TIME
    assert res.probabilities.tolist() == [1.0, 0.0]
    assert res.welfare == 2.0


def test_leader_orders_and_welfare_parameters() -> None:
    g = random_game([2, 2, 2, 2], seed=5)
    res = select_leader(g, orders="leader", lottery=False, welfare="utilitarian")
    assert res.orders.tolist() == [[0, 1, 2, 3], [1, 0, 2, 3], [2, 0, 1, 3], [3, 0, 1, 2]]
    for order, vals in zip(res.orders.tolist(), res.values.tolist(), strict=True):
        assert vals == plain_backward_induction(g.payoffs, order)[1]
    # weights steer the utilitarian choice
    for i in range(4):
        weights = [1.0 if j == i else 0.0 for j in range(4)]
        r = select_leader(
            g, welfare=Welfare(WelfareKind.UTILITARIAN, weights=tuple(weights)), orders="leader"
        )
        assert r.utilities[i] == res.values[:, i].max()
    # many players, one order per leader: cheap
    big = random_game([2] * 8, seed=1)
    assert select_leader(big, orders="leader", lottery=False).orders.shape == (8, 8)


def test_results_are_read_only() -> None:
    g = classic_chicken()
    for res in (strong_stackelberg(g), sequential_stackelberg(g), select_leader(g)):
        for name in (
            "commitment",
            "utilities",
            "actions",
            "order",
            "orders",
            "values",
            "probabilities",
        ):
            arr = getattr(res, name, None)
            if arr is not None:
                assert not arr.flags.writeable
        with pytest.raises(FrozenInstanceError):
            res.info = res.info


# -- bad inputs -----------------------------------------------------------------------------------


def argument_of(call: Any, error: type[Exception] = MechsolveInputError) -> str:
    with pytest.raises(error) as info:
        call()
    return str(info.value.argument)  # type: ignore[attr-defined]


def test_bad_inputs_name_the_argument() -> None:
    g3 = random_game([2, 2, 2], seed=0)
    g = classic_chicken()
    assert argument_of(lambda: strong_stackelberg(g3)) == "game"
    assert argument_of(lambda: strong_stackelberg(g, leader=2)) == "leader"
    assert argument_of(lambda: strong_stackelberg(g, leader=-1)) == "leader"
    assert argument_of(lambda: strong_stackelberg(g, leader=True)) == "leader"
    assert argument_of(lambda: strong_stackelberg(g, time_limit=-1.0)) == "time_limit"
    assert argument_of(lambda: sequential_stackelberg(g3, [0, 0, 1])) == "order"
    assert argument_of(lambda: sequential_stackelberg(g3, [0, 1])) == "order"
    assert argument_of(lambda: sequential_stackelberg(g3, [0, 1, 3])) == "order[2]"
    assert argument_of(lambda: sequential_stackelberg(g3, "012")) == "order"
    assert argument_of(lambda: select_leader(g, welfare="fairest")) == "welfare"
    assert argument_of(lambda: select_leader(g, orders="some")) == "orders"
    assert argument_of(lambda: select_leader(g, lottery="yes")) == "lottery"
    bad_d = Welfare(WelfareKind.EGALITARIAN, disagreement=(0.0,))
    assert argument_of(lambda: select_leader(g, welfare=bad_d)) == "welfare.disagreement"
    bad_w = Welfare(WelfareKind.EGALITARIAN, weights=(1.0, 1.0))
    assert argument_of(lambda: select_leader(g, welfare=bad_w)) == "welfare.weights"
    bad_b = Welfare(WelfareKind.INEQUITY_AVERSE, beta=-1.0)
    assert argument_of(lambda: select_leader(g, welfare=bad_b)) == "welfare.beta"


def test_size_limits() -> None:
    g3 = random_game([2, 2, 2], seed=0)
    arg = argument_of(
        lambda: select_leader(g3, limits=Limits(max_candidates=5)), ProblemTooLargeError
    )
    assert arg == "game leader orders"  # 3! = 6 orders
    # 6 orders of 8 outcomes each are over 30; 3 orders (one per leader) are not
    small = Limits(max_candidates=30)
    arg = argument_of(lambda: select_leader(g3, limits=small), ProblemTooLargeError)
    assert arg == "game order outcomes"
    assert select_leader(g3, limits=small, orders="leader", lottery=False).orders.shape == (3, 3)
    # 16 players: 16! orders are refused before any is built
    huge = NormalFormGame(np.zeros((16, *([2] * 16))))
    assert argument_of(lambda: select_leader(huge), ProblemTooLargeError) == "game leader orders"
    # the LPs' rows
    arg = argument_of(
        lambda: strong_stackelberg(classic_chicken(), limits=Limits(max_lp_rows=3)),
        ProblemTooLargeError,
    )
    assert arg == "game follower actions"
    # the game itself
    arg = argument_of(
        lambda: sequential_stackelberg(g3, limits=Limits(max_players=2)), ProblemTooLargeError
    )
    assert arg == "game players"
