"""Restaurant game mediators (seed 000 section 4.3) against independent references: the paper's
seat-expanded assignment built here table by table (scipy ``linear_sum_assignment``), a brute
force over every reassignment of the delegators, and hand-checked examples. The guarantee that
no delegator is worse off (congested payoff, the utilities the mediator used) is asserted on
every instance."""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from mechsolve.solver.core.errors import MechsolveInputError, ProblemTooLargeError
from mechsolve.solver.core.limits import Limits
from mechsolve.solver.core.results import Limit, Termination, TerminationReason
from mechsolve.solver.structured.restaurant import (
    PARETO_METHODS,
    congested_payoffs,
    random_restaurant_instance,
    random_restaurant_profile,
    restaurant_central_planner,
    restaurant_pareto,
    restaurant_pareto_exact,
    restaurant_punishing,
)

TOL = 1e-9


# ---------------------------------------------------------------------------------------------
# Independent references (plain Python over tables / outcomes)
# ---------------------------------------------------------------------------------------------
def payoffs_ref(u, caps, choices):
    out = []
    for i, r in enumerate(choices):
        n_r = sum(1 for c in choices if c == r)
        out.append(u[i][r] * min(1.0, caps[r] / n_r))
    return np.array(out)


def seat_expanded_ref(u, caps, choices, delegate):
    """The paper's eq. 4 built table by table: (seated welfare, feasible?)."""
    n, n_rest = u.shape
    dels = [i for i in range(n) if delegate[i]]
    if len(dels) < 2:
        return 0.0
    m = [sum(1 for i in range(n) if not delegate[i] and choices[i] == r) for r in range(n_rest)]
    total = [sum(1 for i in range(n) if choices[i] == r) for r in range(n_rest)]
    tables = [r for r in range(n_rest) for _ in range(max(0, caps[r] - m[r]))]
    stayers = [i for i in dels if total[choices[i]] > caps[choices[i]]]
    mat = np.full((len(dels), len(tables) + len(stayers)), -np.inf)
    for a, i in enumerate(dels):
        own = choices[i]
        for t, r in enumerate(tables):
            open_to_i = total[r] <= caps[r] or r == own
            if u[i][r] >= u[i][own] and open_to_i:
                mat[a, t] = u[i][r]
        if i in stayers:
            mat[a, len(tables) + stayers.index(i)] = 0.0
    rows, cols = linear_sum_assignment(mat, maximize=True)
    return float(mat[rows, cols].sum())


def planner_ref(u, caps):
    n, n_rest = u.shape
    tables = [r for r in range(n_rest) for _ in range(caps[r])]
    mat = np.zeros((n, len(tables) + n))
    for t, r in enumerate(tables):
        mat[:, t] = u[:, r]
    rows, cols = linear_sum_assignment(mat, maximize=True)
    return float(mat[rows, cols].sum())


def exact_ref(u, caps, choices, delegate):
    """Max delegator congested welfare over all reassignments, nobody in D worse off."""
    dels = [i for i in range(len(choices)) if delegate[i]]
    p0 = payoffs_ref(u, caps, choices)
    if len(dels) < 2:
        return float(sum(p0[i] for i in dels))
    best = -np.inf
    for combo in itertools.product(range(u.shape[1]), repeat=len(dels)):
        new = list(choices)
        for i, r in zip(dels, combo, strict=True):
            new[i] = r
        p = payoffs_ref(u, caps, new)
        if all(p[i] >= p0[i] - 1e-12 for i in dels):
            best = max(best, sum(p[i] for i in dels))
    return best


def assert_pareto(res, u, caps, choices, delegate):
    before = payoffs_ref(u, caps, choices)
    after = payoffs_ref(u, caps, res.actions_after)
    np.testing.assert_array_equal(res.actions_before, choices)
    np.testing.assert_allclose(res.utilities_before, before, atol=1e-12)
    np.testing.assert_allclose(res.utilities_after, after, atol=1e-12)
    d = np.asarray(delegate, dtype=bool)
    assert np.all(after[d] >= before[d] - TOL), (after[d], before[d])
    np.testing.assert_array_equal(res.actions_after[~d], np.asarray(choices)[~d])
    # the welfare the mediator reports is the delegators' total; the totals are everyone's
    np.testing.assert_array_equal(res.beneficiaries, d)
    assert res.welfare_function == "utilitarian"
    assert res.welfare_before == pytest.approx(before[d].sum(), abs=1e-12)
    assert res.welfare_after == pytest.approx(after[d].sum(), abs=1e-12)
    assert res.total_utility_before == pytest.approx(before.sum(), abs=1e-12)
    assert res.total_utility_after == pytest.approx(after.sum(), abs=1e-12)


# ---------------------------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------------------------
@st.composite
def instances(draw, max_agents=9, max_restaurants=4, max_capacity=3):
    n = draw(st.integers(2, max_agents))
    n_rest = draw(st.integers(1, max_restaurants))
    grid = draw(st.booleans())  # utilities on a coarse grid produce many ties
    if grid:
        u = np.array(draw(st.lists(st.integers(0, 4), min_size=n * n_rest, max_size=n * n_rest)))
        u = u.reshape(n, n_rest) / 4.0
    else:
        seed = draw(st.integers(0, 2**32 - 1))
        u = np.random.default_rng(seed).random((n, n_rest))
    caps = np.array(draw(st.lists(st.integers(1, max_capacity), min_size=n_rest, max_size=n_rest)))
    choices = np.array(draw(st.lists(st.integers(0, n_rest - 1), min_size=n, max_size=n)))
    delegate = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    return u, caps, choices, delegate


# ---------------------------------------------------------------------------------------------
# Pareto Mediator, the paper's method
# ---------------------------------------------------------------------------------------------
@settings(max_examples=1500)
@given(instances())
def test_pareto_methods_match_seat_expanded_reference(inst):
    u, caps, choices, delegate = inst
    ref = seat_expanded_ref(u, caps, choices, delegate)
    for method in PARETO_METHODS:
        res = restaurant_pareto(u, caps, choices, delegate, method=method)
        assert res.termination.reason is TerminationReason.OPTIMAL
        assert res.mediator == "pareto"
        assert res.objective == pytest.approx(ref, abs=1e-9)
        assert_pareto(res, u, caps, choices, delegate)
        # the seated delegators' known utility is the objective (eq. 4)
        assert u[res.seated, res.actions_after[res.seated]].sum() == pytest.approx(ref, abs=1e-9)


def test_pareto_many_seeded_instances_with_true_utilities():
    """Thousands of instances; the mediator told to use the true utility keeps its guarantee
    under the true utility, and the known-utility mediator under the known one."""
    rng = np.random.default_rng(2024)
    for _ in range(1500):
        n, n_rest = int(rng.integers(2, 30)), int(rng.integers(1, 8))
        inst = random_restaurant_instance(n, n_rest, max_capacity=4, alpha=2.0, seed=rng)
        choices, delegate = random_restaurant_profile(n, n_rest, popularity=1.0, seed=rng)
        for view, u in (("known", inst.known), ("true", inst.true_utilities)):
            res = restaurant_pareto(
                inst.known,
                inst.capacities,
                choices,
                delegate,
                private=inst.private,
                alpha=inst.alpha,
                mediator_utility=view,
            )
            assert_pareto(res, u, inst.capacities, choices, delegate)
            np.testing.assert_allclose(
                res.true_utilities_after,
                payoffs_ref(inst.true_utilities, inst.capacities, res.actions_after),
                atol=1e-12,
            )
            np.testing.assert_allclose(
                res.true_utilities_before,
                payoffs_ref(inst.true_utilities, inst.capacities, choices),
                atol=1e-12,
            )
            assert res.true_total_utility_after == pytest.approx(
                res.true_utilities_after.sum(), abs=1e-12
            )


@pytest.mark.parametrize("scale", [1e-6, 1.0, 1e6])
@pytest.mark.parametrize("seed", range(3))
def test_min_cost_flow_equals_lp_and_seat_assignment_on_medium_instances(scale, seed):
    """Crowded popular restaurants, few free seats elsewhere: the flow and the LP prune arcs
    (fewer free seats than delegators who may go without one) that the paper's seat-expanded
    assignment keeps, and all three reach the same welfare at every utility scale."""
    n, n_rest = 800, 40
    inst = random_restaurant_instance(n, n_rest, max_capacity=3, seed=seed)
    choices, delegate = random_restaurant_profile(n, n_rest, popularity=2.0, seed=seed + 10)
    u = inst.known * scale
    results = {
        m: restaurant_pareto(u, inst.capacities, choices, delegate, method=m)
        for m in PARETO_METHODS
    }
    objectives = [r.objective for r in results.values()]
    assert max(objectives) - min(objectives) <= 1e-9 * scale * n
    free = np.maximum(inst.capacities - np.bincount(choices[~delegate], minlength=n_rest), 0).sum()
    crowded = np.bincount(choices, minlength=n_rest) > inst.capacities
    assert 0 < free < (delegate & crowded[choices]).sum()
    for r in results.values():
        assert_pareto(r, u, inst.capacities, choices, delegate)


def test_pruned_arcs_keep_every_agent_an_optimum_needs():
    """Every free restaurant ranks the delegators the same way, so each restaurant's kept arcs
    must reach as deep down the ranking as there are free seats."""
    n_free, n_del = 6, 12
    u = np.zeros((n_del + 1, n_free + 1))
    u[1:, 1:] = (1.0 + 0.01 * np.arange(n_del))[:, None]
    caps = np.ones(n_free + 1, dtype=int)
    choices, delegate = np.zeros(n_del + 1, dtype=int), np.arange(n_del + 1) > 0
    expected = seat_expanded_ref(u, caps, choices, delegate)
    assert expected == pytest.approx(sum(1.0 + 0.01 * i for i in range(n_del - n_free, n_del)))
    for method in PARETO_METHODS:
        res = restaurant_pareto(u, caps, choices, delegate, method=method)
        assert res.objective == pytest.approx(expected)
        assert res.seated.sum() == n_free
    planner = restaurant_central_planner(u, caps, choices)
    assert planner.objective == pytest.approx(planner_ref(u, caps))


def test_figure_1_example():
    """Seed 000 Figure 1 in miniature: restaurant 0 (1 seat) is overbooked by a non-delegator
    and two delegators; the Pareto Mediator moves a delegator to the free restaurant 1."""
    u = np.array([[1.0, 0.2], [0.6, 0.8], [0.5, 0.9]])
    caps = np.array([1, 1])
    res = restaurant_pareto(u, caps, [0, 0, 0], [False, True, True])
    np.testing.assert_allclose(res.utilities_before, [1 / 3, 0.2, 1 / 6])
    assert res.actions_after[0] == 0 and sorted(res.actions_after[1:]) == [0, 1]
    assert res.welfare_after > res.welfare_before  # the delegators' total
    assert res.total_utility_after > res.total_utility_before  # everyone's
    assert math.isnan(res.true_total_utility_after)  # no private utilities given
    punish = restaurant_punishing(u, caps, [0, 0, 1], [False, True, True])
    np.testing.assert_array_equal(punish.actions_after, [0, 0, 0])


def test_fewer_than_two_delegators_leave_the_profile_unchanged():
    u = np.array([[0.1, 0.9], [0.5, 0.5]])
    res = restaurant_pareto(u, [1, 1], [0, 0], [True, False])
    np.testing.assert_array_equal(res.actions_after, [0, 0])
    assert res.termination.reason is TerminationReason.OPTIMAL


# ---------------------------------------------------------------------------------------------
# Pareto Mediator, exact MILP
# ---------------------------------------------------------------------------------------------
@settings(max_examples=500)
@given(instances(max_agents=6, max_restaurants=3))
def test_exact_equals_brute_force_and_beats_paper(inst):
    u, caps, choices, delegate = inst
    delegate = delegate & (np.cumsum(delegate) <= 4)  # brute force stays small
    if delegate.sum() < 2:
        delegate[:2] = True
    res = restaurant_pareto_exact(u, caps, choices, delegate)
    paper = restaurant_pareto(u, caps, choices, delegate)
    assert res.termination.reason is TerminationReason.OPTIMAL
    assert res.mediator == "pareto_exact"
    assert_pareto(res, u, caps, choices, delegate)
    assert res.welfare_after == pytest.approx(exact_ref(u, caps, choices, delegate), abs=1e-7)
    assert res.welfare_after >= paper.welfare_after - 1e-9
    assert res.gain_over_paper == pytest.approx(res.welfare_after - paper.welfare_after, abs=1e-12)


def test_exact_gains_by_overbooking():
    """A delegator stuck at a crowded restaurant does better by overbooking a restaurant it
    likes; the paper's method cannot (no free seat), the MILP does."""
    u = np.array([[0.56, 0.22, 0.92], [0.04, 0.88, 0.98], [0.62, 0.21, 0.81],
                  [0.44, 0.71, 0.32], [0.22, 0.95, 0.08], [0.06, 0.78, 0.78]])  # fmt: skip
    caps, choices = np.array([1, 3, 1]), np.array([0, 1, 1, 2, 2, 1])
    delegate = np.array([False, True, False, True, False, True])
    res = restaurant_pareto_exact(u, caps, choices, delegate)
    assert res.welfare_after == pytest.approx(1.88)
    assert res.gain_over_paper == pytest.approx(0.06)
    assert res.actions_after[3] == 0


def test_exact_time_limit_returns_a_pareto_solution():
    """Whether or not the 0.05 s limit is hit (it depends on the machine), the answer is
    Pareto, never worse than the paper's, and labelled with what happened."""
    inst = random_restaurant_instance(120, 12, max_capacity=4, seed=7)
    choices, delegate = random_restaurant_profile(120, 12, popularity=1.0, seed=8)
    res = restaurant_pareto_exact(inst.known, inst.capacities, choices, delegate, time_limit=0.05)
    assert res.termination.reason in (TerminationReason.OPTIMAL, TerminationReason.FEASIBLE)
    if res.termination.reason is TerminationReason.FEASIBLE:
        assert res.termination.limit is Limit.TIME, res.termination
    assert_pareto(res, inst.known, inst.capacities, choices, delegate)
    assert res.gain_over_paper >= -1e-9


# ---------------------------------------------------------------------------------------------
# Central planner and Punishing Mediator
# ---------------------------------------------------------------------------------------------
@settings(max_examples=400)
@given(instances(max_agents=12, max_restaurants=4))
def test_planner_matches_reference_and_punishing(inst):
    u, caps, choices, delegate = inst
    ref = planner_ref(u, caps)
    for method in PARETO_METHODS:
        res = restaurant_central_planner(u, caps, choices, method=method)
        assert res.objective == pytest.approx(ref, abs=1e-9)
        assert res.mediator == "central_planner" and res.beneficiaries.all()
        counts = np.bincount(res.actions_after[res.seated], minlength=len(caps))
        assert np.all(counts <= caps)
        np.testing.assert_array_equal(res.actions_after[~res.seated], choices[~res.seated])
    everyone = restaurant_punishing(u, caps, choices, np.ones(len(choices), bool))
    assert everyone.objective == pytest.approx(ref, abs=1e-9)
    punish = restaurant_punishing(u, caps, choices, delegate)
    if delegate.any() and not delegate.all():
        nd = ~delegate
        best = min(
            payoffs_ref(u, caps, np.where(delegate, r, choices))[nd].sum()
            for r in set(choices[nd].tolist())
        )
        assert punish.objective == pytest.approx(best, abs=1e-12)
        assert punish.method == "punishing_one_restaurant"
        assert len(set(punish.actions_after[delegate].tolist())) == 1
        assert punish.actions_after[delegate][0] in set(choices[nd].tolist())


def test_planner_prunes_arcs_exactly_when_agents_outnumber_seats():
    inst = random_restaurant_instance(300, 6, max_capacity=5, seed=3)
    choices, _ = random_restaurant_profile(300, 6, seed=4)
    res = restaurant_central_planner(inst.known, inst.capacities, choices)
    assert res.objective == pytest.approx(planner_ref(inst.known, inst.capacities), abs=1e-9)
    assert res.seated.sum() == inst.capacities.sum()


# ---------------------------------------------------------------------------------------------
# Model helpers and generators
# ---------------------------------------------------------------------------------------------
def test_congested_payoffs():
    u = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    np.testing.assert_allclose(congested_payoffs(u, [2, 1], [1, 1, 0]), [1.0, 2.0, 5.0])
    np.testing.assert_allclose(congested_payoffs(u, [1, 1], [0, 0, 0]), [1 / 3, 1.0, 5 / 3])


def test_random_instance_shapes_and_reproducibility():
    a = random_restaurant_instance(50, 300, alpha=2.0, seed=1)
    b = random_restaurant_instance(50, 300, alpha=2.0, seed=1)
    assert a.known.shape == a.private.shape == (50, 300)
    assert a.capacities.min() >= 1 and a.capacities.max() <= 10
    assert set(np.unique(a.capacities)) == set(range(1, 11))
    np.testing.assert_array_equal(a.known, b.known)
    np.testing.assert_allclose(a.true_utilities, a.known + 2.0 * a.private)
    choices, delegate = random_restaurant_profile(1000, 300, delegate_share=0.5, seed=2)
    assert choices.min() >= 0 and choices.max() < 300
    assert 400 < delegate.sum() < 600


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------
U3 = np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])
GOOD = {"known": U3, "capacities": [1, 2, 1], "choices": [0, 2], "delegate": [True, True]}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"capacities": [1, 0, 1]},
            r"restaurant_pareto\(\): `capacities\[1\]` must be >= 1; got 0",
        ),
        ({"capacities": [1, 2, -3]}, r"`capacities\[2\]` must be >= 1; got -3"),
        ({"capacities": [1.5, 2, 1]}, r"`capacities\[0\]` must be an integer; got 1.5"),
        ({"capacities": [1, 2]}, r"`capacities` must have shape \(3,\); got \(2,\)"),
        (
            {"known": [[0.1, np.nan, 0.3], [0.4, 0.5, 0.6]]},
            r"`known\[0\]\[1\]` must be finite; got nan",
        ),
        (
            {"known": [[0.1, -0.2, 0.3], [0.4, 0.5, 0.6]]},
            r"`known\[0\]\[1\]` must be >= 0.0; got -0.2",
        ),
        ({"known": [0.1, 0.2]}, r"`known` must have 2 dimension\(s\)"),
        ({"choices": [0, 3]}, r"`choices\[1\]` must be in \[0, 3\); got 3"),
        ({"choices": [-1, 0]}, r"`choices\[0\]` must be in \[0, 3\); got -1"),
        ({"choices": [0, 1, 2]}, r"`choices` must have shape \(2,\); got \(3,\)"),
        ({"delegate": [True]}, r"`delegate` must have shape \(2,\); got \(1,\)"),
        ({"delegate": [2, 0]}, r"`delegate\[0\]` must be a boolean \(0 or 1\); got 2"),
        ({"private": np.zeros((2, 2))}, r"`private` must have shape \(2, 3\); got \(2, 2\)"),
        ({"private": np.full((2, 3), np.inf)}, r"`private\[0\]\[0\]` must be finite; got inf"),
        ({"alpha": -1.0}, r"`alpha` must be >= 0.0; got -1.0"),
        ({"mediator_utility": "true"}, r"`private` must be given when mediator_utility='true'"),
        ({"mediator_utility": "guess"}, r"`mediator_utility` must be one of 'known', 'true'"),
        ({"method": "hungarian"}, r"`method` must be one of 'min_cost_flow'"),
        ({"time_limit": 0}, r"`time_limit` must be > 0.0; got 0.0"),
    ],
)
def test_bad_input_names_the_argument(change, message):
    with pytest.raises(MechsolveInputError, match=message):
        restaurant_pareto(**{**GOOD, **change})


@pytest.mark.parametrize(
    "solve", [restaurant_pareto, restaurant_pareto_exact, restaurant_punishing]
)
def test_every_mediator_validates(solve):
    with pytest.raises(MechsolveInputError, match=rf"{solve.__name__}\(\): `capacities\[1\]`"):
        solve(**{**GOOD, "capacities": [1, 0, 1]})
    with pytest.raises(MechsolveInputError, match=rf"{solve.__name__}\(\): `choices\[1\]`"):
        solve(**{**GOOD, "choices": [0, 5]})


def test_planner_validates():
    with pytest.raises(MechsolveInputError, match=r"restaurant_central_planner\(\): `known`"):
        restaurant_central_planner([[0.1, 0.2], [0.3]], [1, 1], [0, 1])


def test_size_limits():
    small = Limits().with_(max_agents=1)
    with pytest.raises(
        ProblemTooLargeError, match=r"`known` has size 2, over the limit max_agents=1"
    ):
        restaurant_pareto(**GOOD, limits=small)
    few = Limits().with_(max_exact_agents=1)
    with pytest.raises(ProblemTooLargeError, match=r"max_exact_agents=1"):
        restaurant_pareto_exact(**GOOD, limits=few)
    tiny = Limits().with_(max_candidates=2)
    with pytest.raises(
        ProblemTooLargeError,
        match=r"restaurant_pareto\(\): `method` has size 6, over the limit max_candidates=2",
    ):
        restaurant_pareto(**GOOD, method="seat_assignment", limits=tiny)


def test_exact_milp_time_limit_is_a_hard_deadline() -> None:
    """A large model whose HiGHS root phases do not check the time limit (in-process, a 1 s
    limit returns after about 6 s) runs in a child process that is stopped at the limit: the
    answer comes back on time, FEASIBLE with limit TIME, never worse than the paper's.

    A hard-deadline property, so the one timing assertion in this module: generous (the limit
    and 3.5 s for the paper's solution and starting the child on a loaded machine; an idle
    machine needs about 1.5 s), and still far below the in-process 6 s."""
    import time

    inst = random_restaurant_instance(600, 60, seed=600)
    choices, delegate = random_restaurant_profile(600, 60, popularity=1.0, seed=601)
    t0 = time.perf_counter()
    res = restaurant_pareto_exact(inst.known, inst.capacities, choices, delegate, time_limit=1.0)
    elapsed = time.perf_counter() - t0
    assert elapsed < 1.0 + 0.5 + 3.0, elapsed
    assert res.termination.reason is TerminationReason.FEASIBLE
    assert res.termination.limit is Limit.TIME, res.termination
    assert res.gain_over_paper >= 0.0
    if "no MILP solution" in res.termination.detail:  # the usual case: the paper's solution
        paper = restaurant_pareto(inst.known, inst.capacities, choices, delegate)
        assert res.gain_over_paper == 0.0
        np.testing.assert_array_equal(res.actions_after, paper.actions_after)
    assert (res.utilities_after[delegate] >= res.utilities_before[delegate] - 1e-9).all()


# ---------------------------------------------------------------------------------------------
# Regressions
# ---------------------------------------------------------------------------------------------
# The overbooking instance of test_exact_gains_by_overbooking: the exact optimum is 1.88.
OVERBOOK = dict(
    known=np.array([[0.56, 0.22, 0.92], [0.04, 0.88, 0.98], [0.62, 0.21, 0.81],
                    [0.44, 0.71, 0.32], [0.22, 0.95, 0.08], [0.06, 0.78, 0.78]]),
    capacities=np.array([1, 3, 1]),
    choices=np.array([0, 1, 1, 2, 2, 1]),
    delegate=np.array([False, True, False, True, False, True]),
)  # fmt: skip


def _paper_that_ended(monkeypatch, termination: Termination, garbage: bool) -> None:
    """Make the exact variant's call of the paper's method end with ``termination``; with
    ``garbage`` its assignment crowds every delegator into restaurant 0 (a delegator loses)
    and claims a huge welfare, as a failed solve's leftovers might."""
    from mechsolve.solver.structured import restaurant

    real = restaurant._pareto

    def ended(*args, **kwargs):
        res = real(*args, **kwargs)
        changes = {"info": dataclasses.replace(res.info, termination=termination)}
        if garbage:
            crowd = np.where(res.delegate, 0, res.actions_before)
            changes |= {"actions_after": crowd, "welfare_after": 1e9}
        return dataclasses.replace(res, **changes)

    monkeypatch.setattr(restaurant, "_pareto", ended)


def _assert_no_delegator_worse_off(res) -> None:
    u, caps, choices, d = (OVERBOOK[k] for k in ("known", "capacities", "choices", "delegate"))
    assert_pareto(res, u, caps, choices, d)


@pytest.mark.parametrize(
    "paper_term",
    [
        Termination.failed(TerminationReason.NUMERICAL_ERROR, "min-cost flow failed (test)"),
        Termination.no_solution(Limit.TIME, "time limit (test)"),
    ],
    ids=["numerical-error", "no-solution"],
)
def test_exact_ignores_a_failed_paper_solution(monkeypatch, paper_term: Termination) -> None:
    """The paper's method ended without a solution: its leftovers are neither the exact MILP's
    baseline nor its fallback (they used to be both: the MILP's optimum was rejected as
    "worse than the paper" and the crowded assignment returned). The MILP optimum comes back,
    Pareto, and no gain over the paper is measured (NaN)."""
    _paper_that_ended(monkeypatch, paper_term, garbage=True)
    res = restaurant_pareto_exact(**OVERBOOK)
    assert res.termination.reason is TerminationReason.OPTIMAL
    _assert_no_delegator_worse_off(res)
    assert res.welfare_after == pytest.approx(1.88)
    assert math.isnan(res.gain_over_paper)


def test_exact_falls_back_to_the_submitted_profile_when_both_fail(monkeypatch) -> None:
    """Neither the paper's method nor the MILP has a solution: the submitted profile (always
    Pareto), FEASIBLE, saying why, no gain measured."""
    from mechsolve.solver.core import highs_backend as hb

    failed = Termination.failed(TerminationReason.NUMERICAL_ERROR, "test")
    _paper_that_ended(monkeypatch, failed, garbage=True)
    none = hb.HighsSolution(np.empty(0), math.nan, failed, np.empty(0))
    monkeypatch.setattr(hb, "solve", lambda *a, **k: none)
    res = restaurant_pareto_exact(**OVERBOOK)
    assert res.termination.reason is TerminationReason.FEASIBLE
    assert "submitted profile kept" in res.termination.detail
    np.testing.assert_array_equal(res.actions_after, OVERBOOK["choices"])
    _assert_no_delegator_worse_off(res)
    assert math.isnan(res.gain_over_paper)


def test_exact_keeps_a_feasible_paper_solution_but_measures_no_gain(monkeypatch) -> None:
    """The paper's method stopped by a limit with a (feasible) solution: still the fallback when
    the MILP has none, but not a baseline for ``gain_over_paper`` (NaN)."""
    from mechsolve.solver.core import highs_backend as hb

    paper = restaurant_pareto(**OVERBOOK)
    _paper_that_ended(monkeypatch, Termination.feasible(Limit.TIME, "test"), garbage=False)
    res = restaurant_pareto_exact(**OVERBOOK)
    assert res.termination.reason is TerminationReason.OPTIMAL
    assert res.welfare_after == pytest.approx(1.88) and math.isnan(res.gain_over_paper)
    failed = Termination.failed(TerminationReason.NUMERICAL_ERROR, "test")
    none = hb.HighsSolution(np.empty(0), math.nan, failed, np.empty(0))
    monkeypatch.setattr(hb, "solve", lambda *a, **k: none)
    res = restaurant_pareto_exact(**OVERBOOK)
    assert res.termination.reason is TerminationReason.FEASIBLE
    assert "paper's solution kept" in res.termination.detail
    np.testing.assert_array_equal(res.actions_after, paper.actions_after)
    _assert_no_delegator_worse_off(res)
    assert math.isnan(res.gain_over_paper)


def test_punishing_minimizes_over_single_restaurant_assignments_only():
    """Non-delegators A (restaurant 0) and B (restaurant 1), one seat each, utility 1; two
    delegators. Sending both delegators to one restaurant leaves A and B 1/3 + 1 = 4/3 (the
    Punishing Mediator's answer); splitting them, one to each, leaves 1/2 + 1/2 = 1. So the
    minimum over all assignments is lower, and the method's name says what it searches."""
    u = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [0.5, 0.5]])
    caps, choices = np.array([1, 1]), np.array([0, 1, 0, 0])
    delegate = np.array([False, False, True, True])
    res = restaurant_punishing(u, caps, choices, delegate)
    assert res.method == "punishing_one_restaurant"
    assert "single-restaurant" in res.termination.detail
    nd = ~delegate
    single = min(
        payoffs_ref(u, caps, np.where(delegate, r, choices))[nd].sum()
        for r in set(choices[nd].tolist())
    )
    every = {}  # non-delegators' total for every assignment of the two delegators
    for combo in itertools.product(range(2), repeat=2):
        new = choices.copy()
        new[delegate] = combo
        every[combo] = payoffs_ref(u, caps, new)[nd].sum()
    assert res.objective == pytest.approx(single) == pytest.approx(4 / 3)
    assert min(every.values()) == pytest.approx(1.0) == pytest.approx(every[(0, 1)])
    assert min(every.values()) < res.objective
    assert res.utilities_after[nd].sum() == pytest.approx(res.objective)


def test_punishing_objective_equals_brute_force_over_single_restaurant_assignments():
    """Random instances: the objective is the minimum over sending every delegator to one
    restaurant chosen by a non-delegator (brute force), and never below the minimum over every
    assignment of the delegators (brute force)."""
    rng = np.random.default_rng(99)
    for _ in range(200):
        n, n_rest = int(rng.integers(3, 7)), int(rng.integers(1, 4))
        u = rng.integers(0, 4, (n, n_rest)) / 4.0
        caps = rng.integers(1, 3, n_rest)
        choices = rng.integers(0, n_rest, n)
        delegate = rng.random(n) < 0.5
        delegate[0], delegate[1] = True, False  # 0 < |D| < n
        res = restaurant_punishing(u, caps, choices, delegate)
        assert res.method == "punishing_one_restaurant"
        nd, dels = ~delegate, np.flatnonzero(delegate)
        single = min(
            payoffs_ref(u, caps, np.where(delegate, r, choices))[nd].sum()
            for r in set(choices[nd].tolist())
        )
        assert res.objective == pytest.approx(single, abs=1e-12)
        every = np.inf
        for combo in itertools.product(range(n_rest), repeat=len(dels)):
            new = choices.copy()
            new[dels] = combo
            every = min(every, payoffs_ref(u, caps, new)[nd].sum())
        assert every <= res.objective + 1e-12


def test_pruning_counts_the_seats_required_delegators_take():
    """Delegators whose restaurant had room must be seated, so at most ``free seats - their
    number`` optional delegators can be: the flow and the LP prune to that depth and still
    reach the paper's (unpruned) seat-expanded optimum, on instances mixing both kinds."""
    pruned_somewhere = 0
    for seed in range(150):
        n, n_rest = 24, 6
        inst = random_restaurant_instance(n, n_rest, max_capacity=3, seed=seed)
        choices, delegate = random_restaurant_profile(n, n_rest, popularity=1.5, seed=seed + 1)
        seats = np.maximum(inst.capacities - np.bincount(choices[~delegate], minlength=n_rest), 0)
        had_room = np.bincount(choices, minlength=n_rest) <= inst.capacities
        required = int((delegate & had_room[choices]).sum())
        optional = int((delegate & ~had_room[choices]).sum())
        pruned_somewhere += 0 < int(seats.sum()) - required < optional
        args = (inst.known, inst.capacities, choices, delegate)
        expected = restaurant_pareto(*args, method="seat_assignment").objective
        for method in ("min_cost_flow", "highs_lp"):
            assert restaurant_pareto(*args, method=method).objective == pytest.approx(
                expected, abs=1e-9
            )
    assert pruned_somewhere >= 10
