"""Adversarial review of the incentive family (issue 13's exact side): independent second
formulations written here from the math (scipy ``linprog`` over dense matrices built by plain
loops with dictionaries of variables, not the module's sparse builders), the returned objects
re-checked by plain loops, and one regression test per defect the review found."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from mechsolve.solver.core.errors import MechsolveInputError, ProblemTooLargeError
from mechsolve.solver.core.limits import Limits
from mechsolve.solver.core.results import TerminationReason
from mechsolve.solver.games.normal_form import prisoners_dilemma
from mechsolve.solver.games.welfare import Welfare, WelfareKind
from mechsolve.solver.incentives import (
    SymmetricGame,
    anonymous_mediated_equilibrium,
    cheapest_incentives,
    mediated_equilibrium,
    symmetric_public_goods_game,
)

Profile = tuple[int, ...]


def profiles(ks: tuple[int, ...]) -> list[Profile]:
    return list(itertools.product(*(range(k) for k in ks)))


def swap(s: Profile, i: int, a: int) -> Profile:
    return (*s[:i], a, *s[i + 1 :])


# -- an independent k-implementation LP -----------------------------------------------------


def reference_incentives(
    u: np.ndarray,
    target: Profile,
    kind: str,
    bound: float,
    sign: str,
    neutral: bool,
    margin: float,
    objective: str,
) -> tuple[str, float, float]:
    """``(status, first optimum, second optimum)`` by linprog: variables ``x_i(s)`` (bounded
    directly, any sign), ``t_i(s) >= |x_i(s)|`` and ``W >= sum_i t_i(s)``; the first stage
    minimizes ``T = sum_i t_i(target)`` or ``W``, the second the other one with the first kept
    (within 1e-9)."""
    n, ks = u.shape[0], u.shape[1:]
    outs = profiles(ks)
    var: dict[tuple[str, int, Profile], int] = {}
    for i in range(n):
        for s in outs:
            var["x", i, s] = len(var)
            var["t", i, s] = len(var)
    w_col = len(var)
    n_var = w_col + 1
    a_ub: list[np.ndarray] = []
    b_ub: list[float] = []
    a_eq: list[np.ndarray] = []
    b_eq: list[float] = []

    def row() -> np.ndarray:
        return np.zeros(n_var)

    for i in range(n):
        for s in outs if kind == "dominant" else [target]:
            base = swap(s, i, target[i])
            for a in range(ks[i]):
                if a == target[i]:
                    continue
                dev = swap(s, i, a)
                # u_i(base) + x_i(base) >= u_i(dev) + x_i(dev) + m
                r = row()
                r[var["x", i, base]] -= 1.0
                r[var["x", i, dev]] += 1.0
                a_ub.append(r)
                b_ub.append(float(u[(i, *base)] - u[(i, *dev)]) - margin)
        for s in outs:
            for sgn in (1.0, -1.0):  # sgn x - t <= 0
                r = row()
                r[var["x", i, s]] = sgn
                r[var["t", i, s]] = -1.0
                a_ub.append(r)
                b_ub.append(0.0)
    for s in outs:
        r = row()
        for i in range(n):
            r[var["t", i, s]] = 1.0
        r[w_col] = -1.0
        a_ub.append(r)
        b_ub.append(0.0)
        if neutral:
            r = row()
            for i in range(n):
                r[var["x", i, s]] = 1.0
            a_eq.append(r)
            b_eq.append(0.0)
    bounds: list[tuple[float | None, float | None]] = [(None, None)] * n_var
    hi = None if math.isinf(bound) else bound
    for (name, _, _), j in var.items():
        if name == "x":
            bounds[j] = (0.0 if sign == "nonnegative" else (None if hi is None else -hi), hi)
        else:
            bounds[j] = (0.0, None)
    bounds[w_col] = (0.0, None)
    cost_t = row()
    for i in range(n):
        cost_t[var["t", i, target]] = 1.0
    cost_w = row()
    cost_w[w_col] = 1.0
    first, second = (cost_t, cost_w) if objective == "target" else (cost_w, cost_t)
    eq = {"A_eq": np.array(a_eq), "b_eq": np.array(b_eq)} if a_eq else {}
    r1 = linprog(first, A_ub=np.array(a_ub), b_ub=np.array(b_ub), bounds=bounds, **eq)
    if r1.status == 2:
        return "infeasible", math.nan, math.nan
    assert r1.status == 0, r1.message
    r2 = linprog(
        second,
        A_ub=np.array([*a_ub, first]),
        b_ub=np.array([*b_ub, r1.fun + 1e-9]),
        bounds=bounds,
        **eq,
    )
    assert r2.status == 0, r2.message
    return "optimal", float(r1.fun), float(r2.fun)


def check_implements(
    u: np.ndarray,
    x: np.ndarray,
    target: Profile,
    kind: str,
    bound: float,
    sign: str,
    neutral: bool,
    margin: float,
    tol: float,
) -> None:
    """Every promise of the returned payments, by loops."""
    n, ks = u.shape[0], u.shape[1:]
    for s in profiles(ks):
        for i in range(n):
            assert abs(x[(i, *s)]) <= bound * (1 + 1e-12)
            assert sign == "any" or x[(i, *s)] >= 0.0
        if neutral:
            assert abs(sum(x[(i, *s)] for i in range(n))) <= tol
    for i in range(n):
        for s in profiles(ks) if kind == "dominant" else [target]:
            base = swap(s, i, target[i])
            for a in range(ks[i]):
                if a != target[i]:
                    dev = swap(s, i, a)
                    gap = u[(i, *base)] + x[(i, *base)] - u[(i, *dev)] - x[(i, *dev)]
                    assert gap >= margin - tol, (i, s, a, gap)


incentive_cases = st.fixed_dictionaries(
    {
        "shape": st.sampled_from([(1,), (3,), (2, 2), (2, 3), (3, 1), (2, 2, 2)]),
        "kind": st.sampled_from(["nash", "dominant"]),
        "sign": st.sampled_from(["any", "nonnegative"]),
        "neutral": st.booleans(),
        "bound": st.sampled_from([0.0, 0.5, 1.0, 3.0, math.inf]),
        "margin": st.sampled_from([0.0, 0.1, 1.0]),
        "objective": st.sampled_from(["target", "worst_case"]),
        "seed": st.integers(0, 2**31),
    }
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(incentive_cases)
def test_incentives_match_an_independent_lp(case: dict) -> None:
    """Both lexicographic stages' optima and the status agree with the second formulation; the
    returned payments keep every promise."""
    rng = np.random.default_rng(case["seed"])
    ks = case["shape"]
    u = rng.integers(-3, 4, size=(len(ks), *ks)).astype(float)
    target = tuple(int(rng.integers(k)) for k in ks)
    args = (case["kind"], case["bound"], case["sign"], case["neutral"], case["margin"])
    status, first, second = reference_incentives(u, target, *args, case["objective"])
    r = cheapest_incentives(
        u,
        target,
        kind=case["kind"],
        bound=case["bound"],
        payments=case["sign"],
        revenue_neutral=case["neutral"],
        margin=case["margin"],
        objective=case["objective"],
    )
    if status == "infeasible":
        assert r.termination.reason is TerminationReason.INFEASIBLE
        return
    assert r.termination.is_optimal, r.termination
    check_implements(u, np.asarray(r.payments), target, *args, tol=1e-7)
    t_pay, w_pay = r.target_payment, r.worst_case_payment
    got = (t_pay, w_pay) if case["objective"] == "target" else (w_pay, t_pay)
    assert got[0] == pytest.approx(first, abs=1e-6)
    assert got[1] == pytest.approx(second, abs=1e-6)
    assert r.info.objective == pytest.approx(got[0], abs=1e-12)


# -- an independent mediated-equilibrium LP -------------------------------------------------


def members(mask: int, n: int) -> list[int]:
    return [i for i in range(n) if mask >> i & 1]


def reference_mediated(
    u: np.ndarray,
    observes: bool,
    sizes: set[int],
    weights: tuple[float, ...] | None = None,
    egalitarian_d: tuple[float, ...] | None = None,
) -> tuple[str, float]:
    """``(status, best welfare)``: variables ``pi[C, a_O, b_C]`` in a dictionary (``a_O = ()``
    without observation), every row ``V_i(C, a_O) >= V_i(C - i, (a_O, a))`` for the members of
    the coalitions whose size is in ``sizes``, maximize ``sum_i w_i V_i(N)`` (or, given
    ``egalitarian_d``, ``min_i V_i(N) - d_i`` through a free last variable)."""
    n, ks = u.shape[0], u.shape[1:]
    var: dict[tuple[int, Profile, Profile], int] = {}
    for mask in range(1, 2**n):
        mem = members(mask, n)
        out = [j for j in range(n) if j not in mem]
        for a_o in itertools.product(*(range(ks[j]) for j in out)) if observes else [()]:
            for b in itertools.product(*(range(ks[i]) for i in mem)):
                var[mask, a_o, b] = len(var)

    def outcome(mask: int, a_o: Profile, b: Profile) -> Profile:
        s = [0] * n
        mem = members(mask, n)
        out = [j for j in range(n) if j not in mem]
        for j, a in zip(out, a_o, strict=True):
            s[j] = a
        for i, a in zip(mem, b, strict=True):
            s[i] = a
        return tuple(s)

    def value_row(i: int, mask: int, a_o: Profile) -> tuple[np.ndarray, float]:
        """``V_i(mask, a_o)`` as (coefficients, constant)."""
        r = np.zeros(len(var))
        if mask == 0:
            return r, float(u[(i, *a_o)])
        mem = members(mask, n)
        for b in itertools.product(*(range(ks[j]) for j in mem)):
            key = a_o if observes else ()
            r[var[mask, key, b]] += float(u[(i, *outcome(mask, a_o, b))])
        return r, 0.0

    a_ub, b_ub, a_eq, b_eq = [], [], [], []
    for mask in range(1, 2**n):
        mem = members(mask, n)
        out = [j for j in range(n) if j not in mem]
        for a_o in itertools.product(*(range(ks[j]) for j in out)) if observes else [()]:
            r = np.zeros(len(var))
            for b in itertools.product(*(range(ks[i]) for i in mem)):
                r[var[mask, a_o, b]] = 1.0
            a_eq.append(r)
            b_eq.append(1.0)
        if len(mem) not in sizes:
            continue
        for a_o in itertools.product(*(range(ks[j]) for j in out)):
            for i in mem:
                here, _ = value_row(i, mask, a_o)
                rest = mask & ~(1 << i)
                rest_out = [j for j in range(n) if not rest >> j & 1]
                for a in range(ks[i]):
                    full_o = dict(zip(out, a_o, strict=True))
                    full_o[i] = a
                    there, const = value_row(i, rest, tuple(full_o[j] for j in rest_out))
                    a_ub.append(there - here)  # V_i(rest) - V_i(C) <= 0
                    b_ub.append(-const)
    w = weights or (1.0,) * n
    cost = np.zeros(len(var) + 1)
    for i in range(n):
        v_i = value_row(i, 2**n - 1, ())[0]
        if egalitarian_d is None:
            cost[:-1] -= w[i] * v_i
        else:  # t - V_i <= -d_i
            a_ub.append(-v_i)
            b_ub.append(-egalitarian_d[i])
            a_ub[-1] = np.append(a_ub[-1], 1.0)
    if egalitarian_d is not None:
        cost[-1] = -1.0
    pad = lambda rows: np.array([r if len(r) > len(var) else np.append(r, 0.0) for r in rows])  # noqa: E731
    res = linprog(
        cost,
        A_ub=pad(a_ub),
        b_ub=np.array(b_ub),
        A_eq=pad(a_eq),
        b_eq=np.array(b_eq),
        bounds=[(0, None)] * len(var) + [(None, None)],
    )
    if res.status == 2:
        return "infeasible", math.nan
    assert res.status == 0, res.message
    return "optimal", -float(res.fun)


mediated_cases = st.fixed_dictionaries(
    {
        "shape": st.sampled_from([(2,), (2, 2), (2, 3), (1, 3), (3, 3), (2, 2, 2)]),
        "observes": st.booleans(),
        "ic": st.booleans(),
        "e": st.booleans(),
        "seed": st.integers(0, 2**31),
    }
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mediated_cases)
def test_explicit_mediated_matches_an_independent_lp(case: dict) -> None:
    rng = np.random.default_rng(case["seed"])
    ks = case["shape"]
    n = len(ks)
    u = rng.integers(0, 5, size=(n, *ks)).astype(float)
    sizes = {n}
    if case["ic"]:
        sizes |= set(range(1, n))
    if case["e"]:
        sizes |= set(range(3, n))
    status, best = reference_mediated(u, case["observes"], sizes)
    r = mediated_equilibrium(u, observes_outsiders=case["observes"], ic=case["ic"], e=case["e"])
    if status == "infeasible":
        assert r.termination.reason is TerminationReason.INFEASIBLE
        return
    assert r.termination.is_optimal, r.termination
    assert r.welfare == pytest.approx(best, abs=1e-6)
    assert sorted(r.constrained_sizes.tolist()) == sorted(sizes)


def random_symmetric(rng: np.random.Generator, n: int, q: int) -> SymmetricGame:
    shape = (q,) + (n,) * (q - 1)
    return SymmetricGame(n, rng.integers(0, 5, size=shape).astype(float))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from([(1, 2), (2, 2), (2, 3), (3, 2), (4, 2), (3, 3)]),
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.integers(0, 2**31),
)
def test_anonymous_matches_the_independent_lp_on_symmetric_games(
    nq: tuple[int, int], observes: bool, ic: bool, e: bool, seed: int
) -> None:
    """The exchangeable formulation's optimum equals the independent explicit LP's (on the
    explicit form of the same symmetric game)."""
    n, q = nq
    sg = random_symmetric(np.random.default_rng(seed), n, q)
    u = np.asarray(sg.to_normal_form().payoffs)
    sizes = {n} | (set(range(1, n)) if ic else set()) | (set(range(3, n)) if e else set())
    status, best = reference_mediated(u, observes, sizes)
    r = anonymous_mediated_equilibrium(sg, observes_outsiders=observes, ic=ic, e=e)
    if status == "infeasible":
        assert r.termination.reason is TerminationReason.INFEASIBLE
        return
    assert r.termination.is_optimal, r.termination
    assert r.welfare == pytest.approx(best, abs=1e-6)
    dist = np.asarray(r.full_commitment_distribution)
    assert dist.min() >= 0.0 and dist.sum() == pytest.approx(1.0, abs=1e-12)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from([(2, 2), (2, 3), (2, 2, 2)]),
    st.booleans(),
    st.booleans(),
    st.sampled_from(["weighted", "egalitarian"]),
    st.integers(0, 2**31),
)
def test_weighted_and_egalitarian_match_the_independent_lp(
    ks: tuple[int, ...], observes: bool, ic: bool, kind: str, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    n = len(ks)
    u = rng.integers(0, 5, size=(n, *ks)).astype(float)
    sizes = {n} | (set(range(1, n)) if ic else set())
    if kind == "weighted":
        weights = tuple(float(x) for x in rng.integers(1, 4, size=n))
        welfare = Welfare(WelfareKind.UTILITARIAN, weights=weights)
        status, best = reference_mediated(u, observes, sizes, weights=weights)
    else:
        d = tuple(float(x) for x in rng.integers(0, 3, size=n))
        welfare = Welfare(WelfareKind.EGALITARIAN, disagreement=d)
        status, best = reference_mediated(u, observes, sizes, egalitarian_d=d)
    r = mediated_equilibrium(u, observes_outsiders=observes, ic=ic, welfare=welfare)
    if status == "infeasible":
        assert r.termination.reason is TerminationReason.INFEASIBLE
        return
    assert r.termination.is_optimal, r.termination
    assert r.welfare == pytest.approx(best, abs=1e-6)


# -- regressions ----------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [1e-9, 1e-6])
@pytest.mark.parametrize("kind", ["nash", "dominant"])
def test_tiny_payoffs_with_the_default_bound_are_implemented(scale: float, kind: str) -> None:
    """The PD scaled by 1e-9 with the default bound 3 (rewards only) needs ``2e-9`` at the
    target. The LP used to be scaled by the bound (3), so the gains fell below HiGHS'
    tolerance and the payments were zeroed: ``OPTIMAL`` with ``T = 0`` and a target that is
    not an equilibrium."""
    u = np.asarray(prisoners_dilemma().payoffs) * scale
    r = cheapest_incentives(u, (0, 0), kind=kind, payments="nonnegative")
    assert r.termination.is_optimal
    assert r.target_payment == pytest.approx(2 * scale, rel=1e-9)
    assert r.deviation_loss >= -1e-12 * scale
    check_implements(u, np.asarray(r.payments), (0, 0), kind, 3.0, "nonnegative", False, 0.0, 0.0)


def test_a_huge_finite_bound_is_not_a_scale() -> None:
    """``bound=1e308`` (finite, far above the payoffs) used to scale the PD to ``4e-308``:
    ``OPTIMAL`` with no payment and deviation loss ``-1`` (the target not an equilibrium)."""
    u = np.asarray(prisoners_dilemma().payoffs)
    r = cheapest_incentives(u, (0, 0), bound=1e308, payments="nonnegative", margin=0.5)
    assert r.termination.is_optimal
    assert r.target_payment == pytest.approx(3.0, rel=1e-9)  # 2 (1 + 0.5)
    assert r.deviation_loss >= 0.5 - 1e-9


def test_a_large_payoff_offset_keeps_the_small_gains() -> None:
    """Payoffs ``1e9 + PD``: only the differences matter; the gains of 1 must survive."""
    u = np.asarray(prisoners_dilemma().payoffs) + 1e9
    r = cheapest_incentives(u, (0, 0), payments="nonnegative")
    assert r.termination.is_optimal
    assert r.target_payment == pytest.approx(2.0, rel=1e-9)
    assert r.deviation_loss >= -1e-6


def loop_sizes(n: int, q: int, observes: bool) -> tuple[int, int]:
    """The anonymous LP's policy columns and incentive nonzeros (at most) by summing over the
    sizes: ``C(k+q-1, q-1)`` members' count vectors, ``C(N-k+q-1, q-1)`` outsiders' ones."""
    comp = lambda total: math.comb(total + q - 1, q - 1)  # noqa: E731
    cols = sum(comp(k) * (comp(n - k) if observes else 1) for k in range(1, n + 1))
    nnz = sum(comp(n - k) * q * (comp(k) + comp(k - 1)) for k in range(1, n + 1))
    return cols, nnz


@pytest.mark.parametrize("observes", [False, True])
@pytest.mark.parametrize(("n", "q"), [(1, 1), (1, 3), (4, 1), (5, 2), (7, 3), (4, 4)])
def test_anonymous_size_check_is_exact(n: int, q: int, observes: bool) -> None:
    """The closed-form sizes (which replaced a Python loop over the ``N`` sizes) are exactly
    the ones the LP is held to: it fits at that many and is refused at one column fewer."""
    cols, nnz = loop_sizes(n, q, observes)
    sg = SymmetricGame(n, np.zeros((q,) + (n,) * (q - 1)))
    r = anonymous_mediated_equilibrium(
        sg, observes_outsiders=observes, limits=Limits(max_candidates=max(cols, nnz))
    )
    assert r.termination.is_optimal
    if cols > 1:
        with pytest.raises(ProblemTooLargeError, match="policy columns"):
            anonymous_mediated_equilibrium(
                sg, observes_outsiders=observes, limits=Limits(max_candidates=cols - 1)
            )
    if nnz - 1 >= cols:
        with pytest.raises(ProblemTooLargeError, match="incentive nonzeros"):
            anonymous_mediated_equilibrium(
                sg, observes_outsiders=observes, limits=Limits(max_candidates=nnz - 1)
            )


@pytest.mark.parametrize("observes", [False, True])
def test_a_billion_players_is_refused_before_any_loop(observes: bool) -> None:
    """A one-action symmetric game with ``N = 10^9`` is tiny as input; the size check used to
    loop over the ``10^9`` coalition sizes in Python (minutes) before refusing it."""
    sg = SymmetricGame(10**9, np.array([1.0]))
    with pytest.raises(ProblemTooLargeError, match="game policy columns"):
        anonymous_mediated_equilibrium(sg, observes_outsiders=observes)


def test_compact_table_of_a_wide_two_player_game_is_refused() -> None:
    """A symmetric 2-player game with 30 actions (1,800 payoffs) has a compact table of
    ``30 * 2^29`` entries: it used to be allocated (``MemoryError``, an unnamed exception)."""
    u = np.zeros((2, 30, 30))
    with pytest.raises(ProblemTooLargeError, match="game compact table") as exc:
        anonymous_mediated_equilibrium(u)
    assert exc.value.argument == "game compact table"


def test_public_goods_game_size_is_checked() -> None:
    """``symmetric_public_goods_game(10**9)`` used to allocate two 8 GB rows."""
    with pytest.raises(ProblemTooLargeError, match="n_players"):
        symmetric_public_goods_game(10**9)
    assert symmetric_public_goods_game(4, limits=Limits(max_outcomes=8)).n_players == 4
    with pytest.raises(ProblemTooLargeError):
        symmetric_public_goods_game(5, limits=Limits(max_outcomes=8))


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"actions": None}, None),
        ({"actions": np.array([])}, None),
        ({"actions": "ab"}, "actions"),
        ({"actions": 3}, "actions"),
        ({"actions": ("a",)}, "actions"),
        ({"title": 3}, "title"),
    ],
)
def test_symmetric_game_labels(kwargs: dict, argument: str | None) -> None:
    """``actions=None`` (or an empty array) used to raise a bare ``TypeError`` (``ValueError``)
    (now the default labels, as for
    :class:`NormalFormGame`); a bare string was split into characters; a non-string title was
    accepted."""
    if argument is None:
        assert SymmetricGame(2, np.zeros((2, 2)), **kwargs).actions == ("1", "2")
        return
    with pytest.raises(MechsolveInputError) as exc:
        SymmetricGame(2, np.zeros((2, 2)), **kwargs)
    assert exc.value.argument == argument


def test_time_limit_stops_the_explicit_build() -> None:
    """Fourteen one-action players pass every size limit (16,383 columns) but the explicit
    LP's build loops over the 16,383 coalitions in Python (seconds); the time limit used to be
    handed to HiGHS only after the build. Now the build stops at the limit and says so."""
    r = mediated_equilibrium(np.zeros((14,) + (1,) * 14), ic=True, time_limit=0.05)
    assert r.termination.reason is TerminationReason.NO_SOLUTION_FOUND
    assert r.termination.limit is not None and r.termination.limit.value == "time"
    assert "building" in r.termination.detail
    assert math.isnan(r.welfare) and np.isnan(r.policy).all()


@pytest.mark.parametrize("offset", [1e12, -1e12])
def test_mediated_payoff_offset_keeps_the_equilibrium(offset: float) -> None:
    """``1e12 + PD``: the payoffs were scaled by ``1 / 1e12`` as they were, so the PD's
    differences fell below HiGHS' tolerances; the returned mediator let a member gain 1 by
    leaving (``violation`` 1.0) and was still reported ``OPTIMAL``. Centering each player's
    payoffs first changes no constraint and keeps the differences."""
    u = np.asarray(prisoners_dilemma().payoffs) + offset
    r = mediated_equilibrium(u, ic=True, observes_outsiders=True)
    assert r.termination.is_optimal
    assert r.violation <= 1e-6
    assert r.welfare - 2 * offset == pytest.approx(6.0, abs=1e-3)
    egal = mediated_equilibrium(u, welfare="egalitarian")
    assert egal.termination.is_optimal and egal.violation <= 1e-6
    assert egal.welfare - offset == pytest.approx(3.0, abs=1e-3)


ODD = [
    None,
    True,
    0,
    -1,
    1.5,
    math.nan,
    math.inf,
    "x",
    b"x",
    [],
    [[]],
    {},
    object(),
    [0, 0],
    np.array([[1, 2], [3, 4]]),
    10**30,
    complex(1, 1),
    [None, None],
    ["a", "b"],
    [0.5, 1],
]


def accepted_or_named(call: Callable[[], object], *arguments: str) -> None:
    """The call either succeeds or raises a MechsolveInputError naming one of ``arguments``."""
    try:
        call()
    except MechsolveInputError as exc:
        assert exc.argument.split("[")[0].split(".")[0] in arguments, exc
    except ProblemTooLargeError:
        pass


@pytest.mark.filterwarnings("ignore::numpy.exceptions.ComplexWarning")
@pytest.mark.parametrize(
    "odd", ODD, ids=lambda odd: type(odd).__name__ if type(odd) is object else repr(odd)
)
def test_every_bad_argument_is_named(odd: Any) -> None:
    """Odd values for every argument (but ``limits``, see the report) of every public function
    of the family: accepted, or a MechsolveInputError naming that argument."""
    pd = prisoners_dilemma()
    accepted_or_named(lambda: cheapest_incentives(pd, odd), "target")
    accepted_or_named(lambda: cheapest_incentives(odd, (0, 0)), "game")
    for kw in ("kind", "bound", "payments", "revenue_neutral", "margin", "objective", "time_limit"):
        accepted_or_named(partial(cheapest_incentives, pd, (0, 0), **{kw: odd}), kw)
    for f in (mediated_equilibrium, anonymous_mediated_equilibrium):
        accepted_or_named(partial(f, odd), "game")
        for kw in ("observes_outsiders", "ic", "e", "welfare", "time_limit"):
            accepted_or_named(partial(f, pd, **{kw: odd}), kw)
    # a valid huge N, then the payoffs do not have its shape
    accepted_or_named(lambda: SymmetricGame(odd, np.zeros((2, 2))), "n_players", "payoffs")
    accepted_or_named(lambda: SymmetricGame(2, odd), "payoffs")
    accepted_or_named(lambda: SymmetricGame(2, np.zeros((2, 2)), odd), "actions")
    accepted_or_named(lambda: SymmetricGame(2, np.zeros((2, 2)), title=odd), "title")
    accepted_or_named(lambda: symmetric_public_goods_game(odd), "n_players")
    accepted_or_named(lambda: symmetric_public_goods_game(3, odd), "multiplier")


@pytest.mark.parametrize("inf", [math.inf, np.float64(np.inf), np.float32(np.inf), None])
def test_every_float_infinity_means_unbounded(inf: Any) -> None:
    """``bound=np.float32(inf)`` used to be refused ("must be finite") while ``math.inf`` and
    ``np.float64(inf)`` meant unbounded."""
    u = np.asarray(prisoners_dilemma().payoffs)
    r = cheapest_incentives(u, (0, 0), bound=inf, payments="nonnegative", margin=10.0)
    assert r.termination.is_optimal and r.bound == math.inf
    assert r.target_payment == pytest.approx(22.0, rel=1e-9)  # 2 (1 + 10)


def test_payoffs_near_the_float_limit() -> None:
    """A one-player game ``(1e308, -1e308)`` with target 1 and no bound needs a payment of
    ``2e308``, beyond float64: it used to come back ``OPTIMAL`` with ``T = 0`` and a deviation
    loss of ``inf`` (the payments overflowed after unscaling); now a numerical error. Nearby
    representable cases stay exact (the gains are formed after an exact power-of-two
    prescale, and the recomputed loss in halves)."""
    r = cheapest_incentives(np.array([[1e308, -1e308]]), (1,), bound=None)
    assert r.termination.reason is TerminationReason.NUMERICAL_ERROR
    assert math.isnan(r.target_payment)
    flat = cheapest_incentives(
        np.array([[1.7e308, 1.7e308]]), (1,), bound=None, payments="nonnegative", margin=1e308
    )
    assert flat.termination.is_optimal
    assert flat.target_payment == pytest.approx(1e308, rel=1e-9)
    assert flat.deviation_loss == pytest.approx(1e308, rel=1e-9)
    big = cheapest_incentives(np.array([[1e300, -1e300]]), (1,), bound=None, payments="nonnegative")
    assert big.termination.is_optimal
    assert big.target_payment == pytest.approx(2e300, rel=1e-9)
