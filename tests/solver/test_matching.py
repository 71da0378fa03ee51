"""Matching game mediators (seed 000 section 4.2) against brute force (every matching, every
pointing of the delegators) on small n and networkx's ``max_weight_matching`` on larger graphs.
Every result is checked to be a valid matching and to leave no delegator worse off."""

from __future__ import annotations

import dataclasses
import itertools
import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mechsolve.solver.core.errors import MechsolveInputError, ProblemTooLargeError
from mechsolve.solver.core.limits import Limits
from mechsolve.solver.core.results import Limit, Termination, TerminationReason
from mechsolve.solver.structured import matching
from mechsolve.solver.structured.matching import (
    matching_central_planner,
    matching_pareto,
    matching_pareto_exact,
    matching_payoffs,
    matching_punishing,
    max_weight_matching,
    mutual_mates,
    random_matching_instance,
    random_matching_profile,
)

TOL = 1e-9


# ---------------------------------------------------------------------------------------------
# Independent references
# ---------------------------------------------------------------------------------------------
def payoffs_ref(r, partners):
    n = len(partners)
    return np.array(
        [
            r[i, partners[i]] if partners[i] >= 0 and partners[partners[i]] == i else 0.0
            for i in range(n)
        ]
    )


def matchings(nodes):
    """Every matching (list of pairs) of ``nodes``."""
    if len(nodes) < 2:
        yield []
        return
    first, rest = nodes[0], nodes[1:]
    yield from matchings(rest)
    for k, other in enumerate(rest):
        for m in matchings(rest[:k] + rest[k + 1 :]):
            yield [(first, other), *m]


def best_matching_weight(w, nodes):
    return max(sum(w[a, b] for a, b in m) for m in matchings(list(nodes)))


def networkx_weight(w):
    g = nx.Graph()
    n = w.shape[0]
    g.add_weighted_edges_from(
        (i, j, w[i, j]) for i in range(n) for j in range(i + 1, n) if w[i, j] > 0
    )
    return sum(w[a, b] for a, b in nx.max_weight_matching(g))


def exact_ref(r, partners, delegate):
    """Eq. 3 by brute force: every pointing of every delegator (or nobody)."""
    n = len(partners)
    dels = [i for i in range(n) if delegate[i]]
    p0 = payoffs_ref(r, partners)
    if len(dels) < 2:
        return sum(p0[i] for i in dels)
    options = [[-1, *(j for j in range(n) if j != i)] for i in dels]
    best = -np.inf
    for combo in itertools.product(*options):
        q = np.array(partners)
        q[dels] = combo
        p = payoffs_ref(r, q)
        if all(p[i] >= p0[i] - 1e-12 for i in dels):
            best = max(best, sum(p[i] for i in dels))
    return best


def assert_matching(res, r, partners, delegate):
    """A valid matching, payoffs as recomputed here, non-delegators' pointers untouched."""
    mates = res.mates
    matched = np.flatnonzero(mates >= 0)
    assert np.all(mates[mates[matched]] == matched)  # symmetric
    assert np.all(mates[matched] != matched)
    np.testing.assert_array_equal(mates, mutual_mates(res.actions_after))
    np.testing.assert_array_equal(res.actions_before, partners)
    before, after = payoffs_ref(r, partners), payoffs_ref(r, res.actions_after)
    np.testing.assert_allclose(res.utilities_before, before, atol=1e-12)
    np.testing.assert_allclose(res.utilities_after, after, atol=1e-12)
    d = np.asarray(delegate, dtype=bool)
    np.testing.assert_array_equal(res.actions_after[~d], np.asarray(partners)[~d])
    # welfare: the beneficiaries' total (the delegators; everyone for the planner)
    ben = res.beneficiaries
    assert res.welfare_function == "utilitarian"
    assert res.welfare_before == pytest.approx(before[ben].sum(), abs=1e-12)
    assert res.welfare_after == pytest.approx(after[ben].sum(), abs=1e-12)
    assert res.total_utility_before == pytest.approx(before.sum(), abs=1e-12)
    assert res.total_utility_after == pytest.approx(after.sum(), abs=1e-12)


def assert_valid(res, r, partners, delegate):
    """:func:`assert_matching` and no delegator worse off."""
    assert_matching(res, r, partners, delegate)
    d = np.asarray(delegate, dtype=bool)
    assert np.all(res.utilities_after[d] >= res.utilities_before[d] - TOL)


# ---------------------------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------------------------
@st.composite
def profiles(draw, max_agents=7):
    n = draw(st.integers(2, max_agents))
    if draw(st.booleans()):  # coarse rewards: ties and zero rewards
        vals = draw(st.lists(st.integers(0, 3), min_size=n * n, max_size=n * n))
        r = np.array(vals, dtype=float).reshape(n, n) / 3.0
    else:
        r = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).random((n, n))
    np.fill_diagonal(r, 0.0)
    partners = []
    for i in range(n):
        j = draw(st.integers(-1, n - 2))
        partners.append(-1 if j < 0 and draw(st.booleans()) else (max(j, 0) + (max(j, 0) >= i)))
    partners = np.array(partners)
    for _ in range(draw(st.integers(0, n // 2))):  # force some mutual pairs
        a, b = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
        if a != b:
            partners[a], partners[b] = b, a
    delegate = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    return r, partners, delegate


# ---------------------------------------------------------------------------------------------
# Mediators
# ---------------------------------------------------------------------------------------------
@settings(max_examples=800)
@given(profiles())
def test_pareto_paper_matches_brute_force(prof):
    r, partners, delegate = prof
    res = matching_pareto(r, partners, delegate)
    assert res.termination.reason is TerminationReason.OPTIMAL
    assert res.mediator == "pareto"
    np.testing.assert_array_equal(res.beneficiaries, delegate)
    assert_valid(res, r, partners, delegate)
    mates0 = mutual_mates(partners)
    pool = [i for i in range(len(partners)) if delegate[i] and mates0[i] < 0]
    expected = best_matching_weight(r + r.T, pool) if delegate.sum() >= 2 else 0.0
    assert res.objective == pytest.approx(expected, abs=1e-9)
    kept = mates0 >= 0
    np.testing.assert_array_equal(res.mates[kept], mates0[kept])  # matched agents keep partners


@settings(max_examples=400)
@given(profiles(max_agents=6))
def test_pareto_exact_matches_brute_force(prof):
    r, partners, delegate = prof
    delegate = delegate & (np.cumsum(delegate) <= 4)  # keeps the brute force small
    if delegate.sum() < 2:
        delegate[:2] = True
    res = matching_pareto_exact(r, partners, delegate)
    paper = matching_pareto(r, partners, delegate)
    assert res.termination.reason is TerminationReason.OPTIMAL
    assert res.mediator == "pareto_exact"
    np.testing.assert_array_equal(res.beneficiaries, delegate)
    assert_valid(res, r, partners, delegate)
    assert res.welfare_after == pytest.approx(exact_ref(r, partners, delegate), abs=1e-9)
    assert res.welfare_after >= paper.welfare_after - 1e-12
    assert res.gain_over_paper == pytest.approx(res.welfare_after - paper.welfare_after, abs=1e-12)


def test_pareto_many_seeded_instances():
    rng = np.random.default_rng(11)
    for _ in range(500):
        n = int(rng.integers(2, 25))
        r = random_matching_instance(n, seed=rng)
        partners, delegate = random_matching_profile(n, delegate_share=0.7, seed=rng)
        for solve in (matching_pareto, matching_pareto_exact):
            res = solve(r, partners, delegate)
            assert res.termination.reason is TerminationReason.OPTIMAL
            assert_valid(res, r, partners, delegate)


def test_exact_rematches_delegators_and_points_back():
    """0 and 1 are matched (0 gets 0.1, 1 gets 0.2); 2 is unmatched; 3 (non-delegator) points
    at 2. Re-matching 0 with 2 and 1 with 3 is better for everybody in D = {0, 1, 2}."""
    r = np.zeros((4, 4))
    r[0, 1], r[1, 0] = 0.1, 0.2
    r[0, 2], r[2, 0] = 0.5, 0.5
    r[1, 3] = 0.3
    res = matching_pareto_exact(r, [1, 0, 3, 1], [True, True, True, False])
    np.testing.assert_array_equal(res.mates, [2, 3, 0, 1])
    assert res.welfare_after == pytest.approx(1.3)
    assert res.gain_over_paper == pytest.approx(1.3 - 0.3)


def test_punishing_and_planner():
    rng = np.random.default_rng(5)
    for _ in range(300):
        n = int(rng.integers(2, 12))
        r = random_matching_instance(n, seed=rng)
        partners, delegate = random_matching_profile(n, delegate_share=0.5, seed=rng)
        for a in range(0, n - 1, 2):  # many mutual pairs
            partners[a], partners[a + 1] = a + 1, a
        res = matching_punishing(r, partners, delegate)
        assert_matching(res, r, partners, delegate)
        assert res.mediator == "punishing"
        planner = matching_central_planner(r, partners)
        assert planner.mediator == "central_planner" and planner.beneficiaries.all()
        assert planner.objective == pytest.approx(networkx_weight(r + r.T), abs=1e-9)
        assert planner.welfare_after == pytest.approx(planner.objective, abs=1e-9)
        assert planner.total_utility_after == pytest.approx(planner.objective, abs=1e-9)
        if delegate.all():
            assert res.objective == pytest.approx(planner.objective, abs=1e-9)
            continue
        mates0 = mutual_mates(partners)
        for i in range(n):
            if delegate[i] and mates0[i] >= 0 and not delegate[mates0[i]]:
                assert res.actions_after[i] == -1 and res.mates[i] == -1
            else:
                assert res.actions_after[i] == partners[i]


# ---------------------------------------------------------------------------------------------
# The matching solver
# ---------------------------------------------------------------------------------------------
@settings(max_examples=300)
@given(st.integers(3, 30), st.integers(0, 2**32 - 1), st.sampled_from(["uniform", "coarse"]))
def test_max_weight_matching_equals_networkx(n, seed, kind):
    rng = np.random.default_rng(seed)
    if kind == "coarse":  # integer weights on sparse graphs: fractional LP points are common
        w = rng.integers(0, 4, (n, n)) * (rng.random((n, n)) < rng.random())
    else:
        w = rng.random((n, n))
    w = np.triu(w, 1).astype(float)
    w = w + w.T
    s = max_weight_matching(w)
    assert s.termination.reason is TerminationReason.OPTIMAL
    assert s.objective == pytest.approx(networkx_weight(w), abs=1e-9)
    matched = np.flatnonzero(s.mates >= 0)
    assert np.all(s.mates[s.mates[matched]] == matched)
    assert s.objective == pytest.approx(w[matched, s.mates[matched]].sum() / 2, abs=1e-12)


def test_odd_cycles_need_cuts_and_stay_exact():
    """Five disjoint triangles of equal weight: the matching LP's optimum is fractional (1/2
    on every edge); odd-set cuts make it integral."""
    w = np.zeros((15, 15))
    for t in range(5):
        a, b, c = 3 * t, 3 * t + 1, 3 * t + 2
        w[a, b] = w[b, c] = w[a, c] = 1.0
    w = w + w.T
    s = max_weight_matching(w)
    assert s.cuts >= 5
    assert s.objective == pytest.approx(5.0)


def test_blossom_finish_is_exact():
    """Sparse graphs with small integer weights where cuts on fractional components are not
    enough: the solve ends with the blossom algorithm on the reduced-cost-filtered edges."""
    finishes = []
    for seed in (100, 1384, 1764, 2336, 2946):
        rng = np.random.default_rng(seed)
        n = int(rng.integers(5, 25))
        w = rng.integers(0, 4, (n, n)) * (rng.random((n, n)) < rng.random())
        w = np.triu(w, 1).astype(float)
        w = w + w.T
        s = max_weight_matching(w)
        assert s.termination.reason is TerminationReason.OPTIMAL
        assert s.objective == pytest.approx(networkx_weight(w))
        finishes.append(s.termination.detail.startswith("blossom"))
    assert any(finishes)


def test_pareto_instances_whose_lp_stays_fractional_finish_exactly() -> None:
    """Random pools where 50 rounds of odd-set cuts leave a fractional point (a case that used
    to run for minutes in branch-and-bound): the blossom finish is exact and fast."""
    for seed in (1, 4, 7):
        r = random_matching_instance(80, seed=seed)
        p, d = random_matching_profile(80, seed=100 + seed)
        res = matching_pareto(r, p, d, time_limit=60)
        assert res.termination.reason is TerminationReason.OPTIMAL
        assert res.termination.detail.startswith("blossom")
        pool = np.flatnonzero(d & (matching.mutual_mates(p) < 0))
        sub = r[np.ix_(pool, pool)]
        gain = res.welfare_after - res.welfare_before
        assert gain == pytest.approx(networkx_weight(sub + sub.T), abs=1e-9)


def test_blossom_alone_is_exact_from_a_minimal_working_set(monkeypatch):
    """With one starting edge per node and no cuts, the LP is fractional and the working set
    small: the finish must add every edge whose reduced cost leaves room for improvement."""
    monkeypatch.setattr(matching, "_TOP_EDGES", 1)
    monkeypatch.setattr(matching._MatchingLp, "odd_cuts", lambda self, x: 0)
    for seed in range(150):
        rng = np.random.default_rng(seed)
        n = int(rng.integers(5, 25))
        w = rng.integers(0, 4, (n, n)) * (rng.random((n, n)) < rng.random())
        w = np.triu(w, 1).astype(float)
        w = w + w.T
        assert max_weight_matching(w).objective == pytest.approx(networkx_weight(w)), seed


def test_pricing_finds_edges_outside_every_nodes_top_list():
    """Eight hubs are every node's favourite partners; the other 32 nodes must be matched
    among themselves through edges that no node ranks in its top eight."""
    rng = np.random.default_rng(4)
    w = rng.random((40, 40))
    w[:8, :] += 10.0
    w[:, :8] += 10.0
    w = np.triu(w, 1)
    w = w + w.T
    s = max_weight_matching(w)
    assert s.objective == pytest.approx(networkx_weight(w), abs=1e-9)
    assert (s.mates[8:] >= 8).sum() >= 24


def test_large_pool_against_networkx():
    w = random_matching_instance(150, seed=9)
    w = w + w.T
    s = max_weight_matching(w)
    assert s.columns < 150 * 149 // 2  # column generation: not every pair was needed
    assert s.objective == pytest.approx(networkx_weight(w), abs=1e-9)


# ---------------------------------------------------------------------------------------------
# Model helpers and generators
# ---------------------------------------------------------------------------------------------
def test_payoffs_and_mutual_mates():
    r = np.array([[0, 1.0, 2.0], [3.0, 0, 4.0], [5.0, 6.0, 0]])
    np.testing.assert_array_equal(mutual_mates(np.array([1, 0, 0])), [1, 0, -1])
    np.testing.assert_allclose(matching_payoffs(r, [1, 0, 0]), [1.0, 3.0, 0.0])
    np.testing.assert_allclose(matching_payoffs(r, [2, -1, 0]), [2.0, 0.0, 5.0])


def test_generators():
    r = random_matching_instance(50, seed=1)
    assert r.shape == (50, 50) and np.all(np.diag(r) == 0) and r.min() >= 0 and r.max() < 1
    partners, delegate = random_matching_profile(2000, seed=2)
    assert np.all(partners != np.arange(2000)) and partners.min() >= 0 and partners.max() < 2000
    assert 900 < delegate.sum() < 1100


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------
R3 = np.full((3, 3), 0.5)
GOOD = {"rewards": R3, "partners": [1, 0, 0], "delegate": [True, False, True]}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"partners": [1, 0, 2]},
            r"matching_pareto\(\): `partners\[2\]` must not be 2 \(an agent cannot point at itself\); got 2",
        ),
        ({"partners": [1, 0, 3]}, r"`partners\[2\]` must be in \[-1, 3\); got 3"),
        ({"partners": [1, -2, 0]}, r"`partners\[1\]` must be in \[-1, 3\); got -2"),
        ({"partners": [1, 0]}, r"`partners` must have shape \(3,\); got \(2,\)"),
        (
            {"rewards": np.full((3, 2), 0.5)},
            r"`rewards` must be square \(n, n\); got shape \(3, 2\)",
        ),
        (
            {"rewards": [[0, np.nan, 0], [0, 0, 0], [0, 0, 0]]},
            r"`rewards\[0\]\[1\]` must be finite; got nan",
        ),
        (
            {"rewards": [[0, -1, 0], [0, 0, 0], [0, 0, 0]]},
            r"`rewards\[0\]\[1\]` must be >= 0.0; got -1.0",
        ),
        ({"delegate": [True, False]}, r"`delegate` must have shape \(3,\); got \(2,\)"),
        ({"time_limit": -1}, r"`time_limit` must be > 0.0; got -1.0"),
    ],
)
def test_bad_input_names_the_argument(change, message):
    with pytest.raises(MechsolveInputError, match=message):
        matching_pareto(**{**GOOD, **change})


@pytest.mark.parametrize("solve", [matching_pareto_exact, matching_punishing])
def test_every_mediator_validates(solve):
    with pytest.raises(
        MechsolveInputError, match=rf"{solve.__name__}\(\): `partners\[0\]` must not be 0"
    ):
        solve(**{**GOOD, "partners": [0, 0, 0]})


def test_solver_and_planner_validate():
    with pytest.raises(
        MechsolveInputError,
        match=r"max_weight_matching\(\): `weights\[0\]\[1\]` must equal weights\[1\]\[0\]",
    ):
        max_weight_matching([[0, 1.0], [2.0, 0]])
    with pytest.raises(
        MechsolveInputError, match=r"matching_central_planner\(\): `partners\[1\]` must not be 1"
    ):
        matching_central_planner(R3, [1, 1, 0])


def test_size_limits():
    with pytest.raises(
        ProblemTooLargeError, match=r"`rewards` has size 3, over the limit max_agents=2"
    ):
        matching_pareto(**GOOD, limits=Limits().with_(max_agents=2))
    with pytest.raises(ProblemTooLargeError, match=r"max_exact_agents=1"):
        matching_pareto_exact(**GOOD, limits=Limits().with_(max_exact_agents=1))


# ---------------------------------------------------------------------------------------------
# Regressions
# ---------------------------------------------------------------------------------------------
# test_exact_rematches_delegators_and_points_back: the exact optimum is 1.3, the paper's 0.3.
REMATCH_R = np.zeros((4, 4))
REMATCH_R[0, 1], REMATCH_R[1, 0] = 0.1, 0.2
REMATCH_R[0, 2], REMATCH_R[2, 0] = 0.5, 0.5
REMATCH_R[1, 3] = 0.3
REMATCH = {"rewards": REMATCH_R, "partners": [1, 0, 3, 1], "delegate": [True, True, True, False]}


def _paper_that_ended(monkeypatch, termination: Termination, garbage: bool) -> None:
    """Make the exact variant's call of the paper's method end with ``termination``; with
    ``garbage`` its answer unmatches everybody (delegators 0 and 1 lose their match) and
    claims a huge welfare, as a failed solve's leftovers might."""
    real = matching._pareto

    def ended(*args, **kwargs):
        res = real(*args, **kwargs)
        changes = {"info": dataclasses.replace(res.info, termination=termination)}
        if garbage:
            changes |= {
                "actions_after": np.full_like(res.actions_after, -1),
                "welfare_after": 1e9,
            }
        return dataclasses.replace(res, **changes)

    monkeypatch.setattr(matching, "_pareto", ended)


@pytest.mark.parametrize(
    "paper_term",
    [
        Termination.failed(TerminationReason.NUMERICAL_ERROR, "matching LP failed (test)"),
        Termination.no_solution(Limit.TIME, "time limit (test)"),
    ],
    ids=["numerical-error", "no-solution"],
)
def test_exact_ignores_a_failed_paper_solution(monkeypatch, paper_term: Termination) -> None:
    """The paper's method ended without a solution: its leftovers are neither the exact
    variant's fallback (they used to replace any answer below their claimed welfare) nor the
    baseline of ``gain_over_paper`` (NaN). The exact optimum comes back, Pareto."""
    _paper_that_ended(monkeypatch, paper_term, garbage=True)
    res = matching_pareto_exact(**REMATCH)
    assert res.termination.reason is TerminationReason.OPTIMAL
    assert_valid(res, REMATCH_R, REMATCH["partners"], REMATCH["delegate"])
    np.testing.assert_array_equal(res.mates, [2, 3, 0, 1])
    assert res.welfare_after == pytest.approx(1.3)
    assert math.isnan(res.gain_over_paper)
    assert paper_term.reason.value in res.termination.detail


def test_exact_measures_no_gain_over_a_paper_solution_that_is_not_optimal(monkeypatch) -> None:
    """The paper's method stopped by a limit (FEASIBLE: its starting matching): no gain is
    measured against it (NaN), and the exact optimum is returned."""
    _paper_that_ended(monkeypatch, Termination.feasible(Limit.TIME, "test"), garbage=False)
    res = matching_pareto_exact(**REMATCH)
    assert res.termination.reason is TerminationReason.OPTIMAL
    assert_valid(res, REMATCH_R, REMATCH["partners"], REMATCH["delegate"])
    assert res.welfare_after == pytest.approx(1.3)
    assert math.isnan(res.gain_over_paper)
