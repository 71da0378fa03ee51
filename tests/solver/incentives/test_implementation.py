"""The cheapest incentive payments (k-implementation), checked independently of the module:
the equilibrium, dominance, bounds and revenue neutrality of every returned payment tensor are
re-checked in plain Python loops over outcomes, and the optimal costs are compared with closed
forms written from the math and with a second LP formulation built here (an epigraph
``t >= |x|`` in dense matrices, solved by scipy's ``linprog``; the module splits ``x = p - q``
in sparse HiGHS models)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from mechsolve.solver.core.errors import MechsolveInputError, ProblemTooLargeError
from mechsolve.solver.core.limits import Limits
from mechsolve.solver.core.results import TerminationReason
from mechsolve.solver.games.normal_form import (
    NormalFormGame,
    chicken,
    prisoners_dilemma,
    stag_hunt,
)
from mechsolve.solver.incentives import IncentiveResult, cheapest_incentives

TOL = 1e-6


# -- plain-Python references ----------------------------------------------------------------


def outcomes(ks: tuple[int, ...]) -> list[tuple[int, ...]]:
    return list(itertools.product(*(range(k) for k in ks)))


def with_action(s: tuple[int, ...], i: int, a: int) -> tuple[int, ...]:
    return (*s[:i], a, *s[i + 1 :])


def check_payments(
    game: NormalFormGame,
    target: tuple[int, ...],
    r: IncentiveResult,
    kind: str,
    bound: float,
    sign: str,
    neutral: bool,
    margin: float,
) -> None:
    """Every guarantee of a returned payment tensor, recomputed by loops."""
    ks = game.num_actions
    n = game.n_players
    u = game.payoffs
    x = r.payments
    total = lambda i, s: float(u[(i, *s)]) + float(x[(i, *s)])  # noqa: E731
    for s in outcomes(ks):
        for i in range(n):
            assert abs(x[(i, *s)]) <= bound + 1e-9
            if sign == "nonnegative":
                assert x[(i, *s)] >= 0.0
        if neutral:
            assert abs(sum(float(x[(i, *s)]) for i in range(n))) <= TOL
    least = math.inf
    for i in range(n):
        profiles = [target] if kind == "nash" else outcomes(ks)
        for s in profiles:
            base = with_action(s, i, target[i])
            for a in range(ks[i]):
                if a != target[i]:
                    loss = total(i, base) - total(i, with_action(s, i, a))
                    assert loss >= margin - TOL, (i, s, a, loss)
                    least = min(least, loss)
    if least < math.inf:
        assert r.deviation_loss == pytest.approx(least, abs=1e-9)
    at_t = [float(x[(i, *target)]) for i in range(n)]
    assert r.target_payments.tolist() == pytest.approx(at_t, abs=1e-12)
    assert r.target_payment == pytest.approx(sum(abs(v) for v in at_t), abs=1e-12)
    worst = max(sum(abs(float(x[(i, *s)])) for i in range(n)) for s in outcomes(ks))
    assert r.worst_case_payment == pytest.approx(worst, abs=1e-12)


def reference_lp(
    game: NormalFormGame,
    target: tuple[int, ...],
    kind: str,
    bound: float,
    sign: str,
    neutral: bool,
    margin: float,
    objective: str,
) -> float | None:
    """The first stage's optimum from a second formulation: columns ``[x (n*S), t (n*S), W]``,
    ``t >= x``, ``t >= -x``, ``W >= sum_i t_i(s)``; ``None`` when infeasible."""
    ks = game.num_actions
    n = game.n_players
    outs = outcomes(ks)
    size = len(outs)
    pos = {s: j for j, s in enumerate(outs)}
    nx = n * size
    ncol = 2 * nx + 1
    a_ub, b_ub, a_eq, b_eq = [], [], [], []

    def xcol(i: int, s: tuple[int, ...]) -> int:
        return i * size + pos[s]

    for i in range(n):  # incentive rows, as <=: x_i(dev) - x_i(base) <= u_i(base) - u_i(dev) - m
        profiles = [target] if kind == "nash" else outs
        for s in profiles:
            base = with_action(s, i, target[i])
            for a in range(ks[i]):
                if a == target[i]:
                    continue
                dev = with_action(s, i, a)
                row = [0.0] * ncol
                row[xcol(i, dev)] += 1.0
                row[xcol(i, base)] -= 1.0
                a_ub.append(row)
                b_ub.append(float(game.payoffs[(i, *base)] - game.payoffs[(i, *dev)]) - margin)
    for i in range(n):
        for s in outs:
            for sgn in (1.0, -1.0):  # sgn * x - t <= 0
                row = [0.0] * ncol
                row[xcol(i, s)] = sgn
                row[nx + xcol(i, s)] = -1.0
                a_ub.append(row)
                b_ub.append(0.0)
    for s in outs:  # sum_i t_i(s) - W <= 0
        row = [0.0] * ncol
        for i in range(n):
            row[nx + xcol(i, s)] = 1.0
        row[-1] = -1.0
        a_ub.append(row)
        b_ub.append(0.0)
        if neutral:
            eq = [0.0] * ncol
            for i in range(n):
                eq[xcol(i, s)] = 1.0
            a_eq.append(eq)
            b_eq.append(0.0)
    lo = 0.0 if sign == "nonnegative" else -bound
    bounds = [(lo, bound)] * nx + [(0.0, None)] * (nx + 1)
    c = [0.0] * ncol
    if objective == "target":
        for i in range(n):
            c[nx + xcol(i, target)] = 1.0
    else:
        c[-1] = 1.0
    res = linprog(
        c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq or None, b_eq=b_eq or None, bounds=bounds, method="highs"
    )
    if res.status == 2:
        return None
    assert res.status == 0, res.message
    return float(res.fun)


# -- hypothesis: random small games ---------------------------------------------------------

shapes = st.sampled_from([(2, 2), (2, 3), (3, 2), (3, 3), (2, 2, 2)])


@st.composite
def instances(draw: st.DrawFn) -> tuple[NormalFormGame, tuple[int, ...], dict[str, object]]:
    ks = draw(shapes)
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    payoffs = np.round(rng.uniform(-2, 2, size=(len(ks), *ks)), 2)
    target = tuple(draw(st.integers(0, k - 1)) for k in ks)
    opts = {
        "kind": draw(st.sampled_from(["nash", "dominant"])),
        "bound": draw(st.sampled_from([0.5, 1.0, 3.0])),
        "payments": draw(st.sampled_from(["any", "nonnegative"])),
        "revenue_neutral": draw(st.booleans()),
        "margin": draw(st.sampled_from([0.0, 0.1])),
        "objective": draw(st.sampled_from(["target", "worst_case"])),
    }
    return NormalFormGame(payoffs), target, opts


@settings(max_examples=150)
@given(instances())
def test_payments_implement_the_target_at_the_reference_optimum(inst) -> None:
    game, target, o = inst
    r = cheapest_incentives(game, target, **o)
    ref = reference_lp(
        game,
        target,
        str(o["kind"]),
        float(o["bound"]),
        str(o["payments"]),
        bool(o["revenue_neutral"]),
        float(o["margin"]),
        str(o["objective"]),
    )
    if ref is None:
        assert r.termination.reason is TerminationReason.INFEASIBLE
        assert np.isnan(r.payments).all()
        return
    assert r.termination.is_optimal, r.termination
    check_payments(
        game,
        target,
        r,
        str(o["kind"]),
        float(o["bound"]),
        str(o["payments"]),
        bool(o["revenue_neutral"]),
        float(o["margin"]),
    )
    first = r.target_payment if o["objective"] == "target" else r.worst_case_payment
    assert first == pytest.approx(ref, abs=1e-6)
    assert r.objective == first


@settings(max_examples=100)
@given(instances())
def test_nash_target_cost_matches_the_closed_form(inst) -> None:
    """Nash, no revenue neutrality, objective target: per player, nonnegative pays
    ``max(0, max_a g)``, any pays ``max(0, max_a g - B)`` (g: deviation gain plus margin)."""
    game, target, o = inst
    bound, sign, margin = float(o["bound"]), str(o["payments"]), float(o["margin"])
    r = cheapest_incentives(
        game, target, kind="nash", bound=bound, payments=sign, margin=margin, objective="target"
    )
    cost, feasible = 0.0, True
    for i in range(game.n_players):
        gains = [
            float(game.payoffs[(i, *with_action(target, i, a))] - game.payoffs[(i, *target)])
            + margin
            for a in range(game.num_actions[i])
            if a != target[i]
        ]
        top = max(gains, default=-math.inf)
        if sign == "nonnegative":
            need = max(0.0, top)
            feasible &= need <= bound + 1e-12
        else:
            need = max(0.0, top - bound)
            feasible &= top <= 2 * bound + 1e-12
        cost += need
    if not feasible:
        assert r.termination.reason is TerminationReason.INFEASIBLE
        return
    assert r.termination.is_optimal
    assert r.target_payment == pytest.approx(cost, abs=1e-7)


def test_cheaper_payments_do_not_exist_by_perturbation() -> None:
    """Lowering the optimum's cost by delta makes the reference LP infeasible: with the bound
    as a lever, the PD's nonnegative cheapest payment (1 per player) is exactly the threshold."""
    pd = prisoners_dilemma()
    r = cheapest_incentives(pd, (0, 0), payments="nonnegative")
    assert r.target_payment == pytest.approx(2.0)
    assert reference_lp(pd, (0, 0), "nash", 1.0 - 1e-3, "nonnegative", False, 0.0, "target") is None
    assert reference_lp(
        pd, (0, 0), "nash", 1.0, "nonnegative", False, 0.0, "target"
    ) == pytest.approx(2.0)


def test_chapter4_games() -> None:
    """Seed 001 Table 4.1 games, (C, C), c = 3: the exact optima of docs/incentives.md."""
    cases = {  # game: (any target, any worst, nonneg target, neutral worst, dominant nonneg target)
        "pd": (prisoners_dilemma(), 0.0, 2 / 3, 2.0, 2.0, 2.0),
        "chicken": (chicken(), 0.0, 1 / 3, 1.0, 1.0, 1.0),
        "stag": (stag_hunt(), 0.0, 0.0, 0.0, 0.0, 0.0),
    }
    for game, any_t, any_w, nn_t, rn_w, dom in cases.values():
        assert cheapest_incentives(game, (0, 0)).target_payment == pytest.approx(any_t, abs=1e-9)
        w = cheapest_incentives(game, (0, 0), objective="worst_case")
        assert w.worst_case_payment == pytest.approx(any_w, abs=1e-9)
        n = cheapest_incentives(game, (0, 0), payments="nonnegative")
        assert n.target_payment == pytest.approx(nn_t, abs=1e-9)
        rn = cheapest_incentives(game, (0, 0), revenue_neutral=True, objective="worst_case")
        assert rn.worst_case_payment == pytest.approx(rn_w, abs=1e-9)
        assert np.abs(rn.payments.sum(axis=0)).max() <= 1e-9
        d = cheapest_incentives(game, (0, 0), kind="dominant", payments="nonnegative")
        assert d.target_payment == pytest.approx(dom, abs=1e-9)
        # nonnegative and revenue neutral: no payment at all; only an equilibrium survives
        z = cheapest_incentives(game, (0, 0), payments="nonnegative", revenue_neutral=True)
        if game.title == "Stag Hunt":
            assert z.termination.is_optimal and z.worst_case_payment == 0.0
        else:
            assert z.termination.reason is TerminationReason.INFEASIBLE


def test_dominant_strict_three_players_brute_force() -> None:
    rng = np.random.default_rng(7)
    game = NormalFormGame(rng.uniform(0, 1, size=(3, 2, 3, 2)))
    for sign in ("any", "nonnegative"):
        r = cheapest_incentives(game, (1, 2, 0), kind="dominant", payments=sign, margin=0.05)
        assert r.termination.is_optimal
        check_payments(game, (1, 2, 0), r, "dominant", 3.0, sign, False, 0.05)


def test_unbounded_and_single_action_players() -> None:
    game = NormalFormGame(np.array([[[5.0, 0.0]], [[0.0, 1.0]]]))  # player 0 has one action
    r = cheapest_incentives(game, (0, 0), bound=None, payments="nonnegative")
    assert r.bound == math.inf
    assert r.target_payment == pytest.approx(1.0)  # player 1 needs +1 at (0, 0)


# -- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"target": (2, 0)}, "target[0]"),
        ({"target": (0,)}, "target"),
        ({"bound": -1.0}, "bound"),
        ({"margin": -0.1}, "margin"),
        ({"kind": "strong"}, "kind"),
        ({"payments": "positive"}, "payments"),
        ({"objective": "total"}, "objective"),
        ({"revenue_neutral": 1}, "revenue_neutral"),
        ({"time_limit": 0.0}, "time_limit"),
    ],
)
def test_bad_input_names_the_argument(kwargs: dict[str, object], argument: str) -> None:
    args: dict[str, object] = {"target": (0, 0)}
    args.update(kwargs)
    with pytest.raises(MechsolveInputError) as err:
        cheapest_incentives(prisoners_dilemma(), **args)
    assert err.value.argument == argument


def test_size_limit() -> None:
    with pytest.raises(ProblemTooLargeError) as err:
        cheapest_incentives(prisoners_dilemma(), (0, 0), limits=Limits(max_candidates=10))
    assert err.value.argument == "game"
