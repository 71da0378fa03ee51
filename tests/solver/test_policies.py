"""select_policies (seed 004, r-MDP: a budget of policies) against a plain-Python brute force
over every set of at most k candidates."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mechsolve.solver.core.errors import MechsolveInputError, ProblemTooLargeError
from mechsolve.solver.core.limits import Limits
from mechsolve.solver.core.results import TerminationReason
from mechsolve.solver.structured.policies import (
    PolicySelection,
    select_policies,
    undominated_candidates,
)


def brute_force(values: list[list[float]], k: int) -> float:
    """max over sets S of at most k columns of sum_u max_{p in S} V[u][p] (loops only)."""
    m = len(values[0])
    best = -math.inf
    for size in range(1, min(k, m) + 1):
        for subset in itertools.combinations(range(m), size):
            total = 0.0
            for row in values:
                total += max(row[p] for p in subset)
            best = max(best, total)
    return best


def tol(x: float) -> float:
    return 1e-6 * max(1.0, abs(x))


def check_consistent(v: np.ndarray, r: PolicySelection, k: int) -> None:
    """Every guarantee of a result on the instance ``v``."""
    n = v.shape[0]
    assert 1 <= len(r.chosen) <= k
    assert len(set(r.chosen.tolist())) == len(r.chosen)
    assert set(r.assignment.tolist()) == set(r.chosen.tolist())  # every chosen one is used
    for u in range(n):
        best = max(v[u, p] for p in r.chosen)
        assert v[u, r.assignment[u]] == best  # each user gets its best chosen policy
        assert r.utilities[u] == v[u, r.assignment[u]]
    assert r.welfare == pytest.approx(float(sum(r.utilities)), abs=1e-9)
    assert r.objective == r.welfare
    if not math.isnan(r.bound):
        assert r.bound >= r.welfare - tol(r.welfare)
        assert r.gap == pytest.approx(r.bound - r.welfare)


matrices = st.integers(1, 8).flatmap(
    lambda n: st.integers(1, 8).flatmap(
        lambda m: st.lists(
            st.lists(
                st.one_of(
                    st.integers(-5, 5).map(float),  # ties and duplicate columns
                    st.floats(-100, 100, allow_nan=False, allow_infinity=False),
                ),
                min_size=m,
                max_size=m,
            ),
            min_size=n,
            max_size=n,
        )
    )
)


@settings(max_examples=120, deadline=None)
@given(values=matrices, k=st.integers(1, 8), seed=st.integers(0, 10))
def test_exact_equals_brute_force_and_heuristic_is_below(
    values: list[list[float]], k: int, seed: int
) -> None:
    v = np.array(values)
    want = brute_force(values, k)
    exact = select_policies(v, k, seed=seed)
    assert exact.termination.reason is TerminationReason.OPTIMAL
    assert exact.welfare == pytest.approx(want, abs=tol(want))
    assert exact.bound == pytest.approx(want, abs=tol(want))
    assert exact.heuristic_welfare <= exact.welfare + tol(want)
    assert exact.heuristic_gap >= -tol(want)
    check_consistent(v, exact, k)
    heur = select_policies(v, k, method="alternating", seed=seed, restarts=3)
    assert heur.welfare <= want + tol(want)
    check_consistent(v, heur, k)
    if heur.termination.reason is TerminationReason.OPTIMAL:  # only the closed forms
        assert heur.welfare == pytest.approx(want, abs=tol(want))
    milp = select_policies(v, k, method="milp", seed=seed)  # the MILP at every budget
    assert milp.termination.reason is TerminationReason.OPTIMAL
    assert milp.method in ("closed_form", "benders_milp")
    assert milp.welfare == pytest.approx(want, abs=tol(want))
    check_consistent(v, milp, k)


@pytest.mark.parametrize("seed", range(4))
def test_exact_on_larger_instances_beats_every_heuristic_and_matches_brute_force(
    seed: int,
) -> None:
    rng = np.random.default_rng(seed)
    v = rng.normal(size=(40, 10))
    for k in (2, 3, 4, 5, 6, 7):
        want = brute_force(v.tolist(), k)
        exact = select_policies(v, k, seed=seed)
        assert exact.method == "set_enumeration"
        assert exact.termination.is_optimal
        assert exact.welfare == pytest.approx(want, abs=tol(want))
        check_consistent(v, exact, k)
        heur = select_policies(v, k, method="alternating", seed=seed)
        assert heur.welfare <= exact.welfare + tol(want)
        assert not heur.termination.is_optimal
        assert math.isnan(heur.bound)
        milp = select_policies(v, k, method="milp", seed=seed)  # the other exact formulation
        assert milp.method == "benders_milp"
        assert milp.termination.is_optimal
        assert milp.welfare == pytest.approx(want, abs=tol(want))


def test_structured_instance_exact_optimum_is_checked_by_brute_force() -> None:
    # users' targets and policies' targets on a line: value -(target - policy)^2
    rng = np.random.default_rng(7)
    targets, policies = rng.uniform(size=30), rng.uniform(size=14)
    v = -((targets[:, None] - policies[None, :]) ** 2)
    for k in (2, 3, 5):
        exact = select_policies(v, k)
        want = brute_force(v.tolist(), k)
        assert exact.termination.is_optimal
        assert exact.welfare == pytest.approx(want, abs=1e-9)


@pytest.mark.parametrize("method", ["exact", "alternating"])
def test_budget_at_least_the_candidates_gives_every_user_its_best(method: str) -> None:
    rng = np.random.default_rng(3)
    v = rng.normal(size=(9, 5))
    for k in (5, 6, 50):
        r = select_policies(v, k, method=method)
        assert r.welfare == pytest.approx(float(v.max(axis=1).sum()))
        assert r.termination.is_optimal
        assert r.gap == pytest.approx(0.0)
        check_consistent(v, r, k)


def test_budget_one_is_the_best_single_policy() -> None:
    rng = np.random.default_rng(4)
    v = rng.normal(size=(8, 6))
    r = select_policies(v, 1)
    assert r.chosen.tolist() == [int(np.argmax(v.sum(axis=0)))]
    assert r.termination.is_optimal


def test_dominated_candidates_are_dropped_and_never_needed() -> None:
    v = np.array([[1.0, 2.0, 2.0, 0.0], [3.0, 3.0, 3.0, 5.0], [0.0, 1.0, 1.0, 0.0]])
    # column 0 is dominated by 1; column 2 equals 1 (the lower index is kept)
    assert undominated_candidates(v).tolist() == [1, 3]
    assert select_policies(v, 1).welfare == pytest.approx(brute_force(v.tolist(), 1))


def test_time_limited_run_reports_a_bound_and_no_unproved_optimum() -> None:
    rng = np.random.default_rng(0)
    v = rng.random((60, 300))
    r = select_policies(v, 8, time_limit=0.3)
    check_consistent(v, r, 8)
    assert r.bound >= r.welfare - tol(r.welfare)
    assert r.termination.reason in (TerminationReason.OPTIMAL, TerminationReason.FEASIBLE)
    if r.termination.reason is TerminationReason.FEASIBLE:
        assert r.termination.limit is not None
        assert r.gap >= 0
    else:  # proved: the bound meets the value
        assert r.gap <= tol(r.welfare)
    assert r.heuristic_welfare <= r.bound + tol(r.bound)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"values": [1.0, 2.0], "budget": 1}, "values"),
        ({"values": [[1.0, float("nan")]], "budget": 1}, "values[0][1]"),
        ({"values": [[1.0, float("inf")]], "budget": 1}, "values[0][1]"),
        ({"values": np.zeros((0, 3)), "budget": 1}, "values"),
        ({"values": [["a", "b"]], "budget": 1}, "values"),
        ({"values": [[1.0, 2.0]], "budget": 0}, "budget"),
        ({"values": [[1.0, 2.0]], "budget": 1.5}, "budget"),
        ({"values": [[1.0, 2.0]], "budget": True}, "budget"),
        ({"values": [[1.0, 2.0]], "budget": 2**63}, "budget"),  # local = remote (int64)
        ({"values": [[1.0, 2.0]], "budget": 1, "method": "em"}, "method"),
        ({"values": [[1.0, 2.0]], "budget": 1, "time_limit": -1.0}, "time_limit"),
        ({"values": [[1.0, 2.0]], "budget": 1, "seed": -3}, "seed"),
        ({"values": [[1.0, 2.0]], "budget": 1, "restarts": 0}, "restarts"),
        ({"values": [[1.0, 2.0]], "budget": 1, "max_iterations": 0}, "max_iterations"),
        # review: a complex array was accepted with its imaginary part silently dropped
        ({"values": np.array([[1.0 + 2.0j, 2.0]]), "budget": 1}, "values"),
        # review: None read as NaN, strings parsed as numbers, masks ignored
        ({"values": np.array([[1, None]], dtype=object), "budget": 1}, "values[0][1]"),
        ({"values": [["1", "2"]], "budget": 1}, "values"),
        ({"values": np.ma.masked_array([[1.0, 2.0]], mask=[[0, 1]]), "budget": 1}, "values"),
    ],
)
def test_bad_input_names_the_argument(kwargs: dict[str, object], argument: str) -> None:
    with pytest.raises(MechsolveInputError) as err:
        select_policies(**kwargs)
    assert err.value.argument == argument
    assert f"`{argument}`" in str(err.value)


def test_sizes_are_checked_against_the_limits() -> None:
    v = np.zeros((5, 4))
    with pytest.raises(ProblemTooLargeError) as err:
        select_policies(v, 2, limits=Limits(max_exact_agents=4))
    assert err.value.argument == "values users"
    with pytest.raises(ProblemTooLargeError) as err:
        select_policies(v, 2, method="alternating", limits=Limits(max_candidates=3))
    assert err.value.argument == "values candidates"
    with pytest.raises(ProblemTooLargeError) as err:
        select_policies(v.tolist(), 2, limits=Limits(max_candidates=19))
    assert err.value.argument == "values cells"
    # the alternating heuristic takes up to max_agents users
    r = select_policies(v, 2, method="alternating", limits=Limits(max_exact_agents=4))
    assert r.welfare == 0.0


def test_result_arrays_are_read_only_and_seeded_runs_repeat() -> None:
    rng = np.random.default_rng(5)
    v = rng.normal(size=(20, 15))
    a = select_policies(v, 3, method="alternating", seed=11)
    b = select_policies(v, 3, method="alternating", seed=11)
    assert a.chosen.tolist() == b.chosen.tolist()
    for arr in (a.chosen, a.assignment, a.utilities):
        assert not arr.flags.writeable


# --------------------------------------------------------------------------------------------
# Adversarial review (issue 15): regressions
# --------------------------------------------------------------------------------------------
def structured_matrices(draw: st.DrawFn) -> np.ndarray:
    """Small matrices with the awkward structure of real inputs: integer ties, negative values,
    duplicate columns, dominated columns, constant rows, one user or one candidate."""
    n = draw(st.integers(1, 7))
    m = draw(st.integers(1, 7))
    row = st.lists(st.integers(-4, 4), min_size=m, max_size=m)
    v = np.array(draw(st.lists(row, min_size=n, max_size=n)), dtype=float)
    v *= draw(st.sampled_from([1.0, 0.5, 1e-3, 1e4]))
    if draw(st.booleans()):  # a duplicate column
        v = np.concatenate([v, v[:, [draw(st.integers(0, m - 1))]]], axis=1)
    if draw(st.booleans()):  # a dominated column
        v = np.concatenate([v, v[:, [draw(st.integers(0, m - 1))]] - 1.0], axis=1)
    if draw(st.booleans()):  # a constant row
        v[draw(st.integers(0, n - 1))] = draw(st.integers(-3, 3))
    return v


@settings(max_examples=150, deadline=None)
@given(v=st.composite(structured_matrices)(), k=st.integers(1, 6), seed=st.integers(0, 3))
def test_review_structured_instances_match_brute_force_with_honest_status(
    v: np.ndarray, k: int, seed: int
) -> None:
    want = brute_force(v.tolist(), k)
    exact = select_policies(v, k, seed=seed, restarts=2)
    assert exact.termination.is_optimal
    assert exact.welfare == pytest.approx(want, abs=tol(want))
    assert exact.bound >= exact.welfare - tol(want)
    assert exact.bound <= float(v.max(axis=1).sum()) + tol(want)  # never above the trivial bound
    assert exact.heuristic_welfare <= want + tol(want)
    assert exact.heuristic_gap == pytest.approx(exact.bound - exact.heuristic_welfare)
    check_consistent(v, exact, k)
    heur = select_policies(v, k, method="alternating", seed=seed, restarts=2)
    assert heur.welfare <= want + tol(want)
    if heur.termination.is_optimal:
        assert heur.welfare == pytest.approx(want, abs=tol(want))
    check_consistent(v, heur, k)


@pytest.mark.parametrize("method", ["exact", "alternating"])
@pytest.mark.parametrize("top", [1.7e308, 1e308])
def test_review_values_whose_sums_overflow_are_refused(method: str, top: float) -> None:
    # before: a numpy overflow made the scaled values NaN and a ValueError ("zero-size array")
    # escaped, not a MechsolveInputError
    v = np.random.default_rng(0).uniform(-1, 1, size=(8, 7)) * top
    v[0, 0] = top
    with pytest.raises(MechsolveInputError) as err:
        select_policies(v, 3, method=method)
    assert err.value.argument == "values"


def test_review_tiny_and_large_but_finite_values_are_solved_exactly() -> None:
    rng = np.random.default_rng(1)
    base = rng.uniform(size=(9, 8))
    for scale in (1e-300, 1e-310, 1e290, 1e305):  # (9 users x 1e305: under the 1e306 cap)
        v = base * scale
        exact = select_policies(v, 3)
        want = brute_force(v.tolist(), 3)
        assert exact.termination.is_optimal
        assert exact.welfare == pytest.approx(want, rel=1e-9)


@pytest.mark.parametrize(("argument", "value"), [("restarts", 10**12), ("max_iterations", 10**12)])
def test_review_restarts_and_iterations_are_capped(argument: str, value: int) -> None:
    # before: accepted; without a deadline 10**12 restarts ran (practically) forever
    v = np.random.default_rng(2).uniform(size=(10, 12))
    with pytest.raises(MechsolveInputError) as err:
        select_policies(v, 3, method="alternating", **{argument: value})
    assert err.value.argument == argument


def test_review_budget_at_least_the_users_best_candidates_is_closed_form() -> None:
    # before: few users and many candidates went to the MILP (one user, 4M candidates: 1.5 GB
    # and 10 s against a 3 s deadline); every user's best candidate fits the budget
    rng = np.random.default_rng(3)
    v = rng.uniform(size=(3, 40_000))
    for method in ("exact", "alternating"):
        r = select_policies(v, 3, method=method)
        assert r.method == "closed_form"
        assert r.termination.is_optimal
        assert r.welfare == pytest.approx(float(v.max(axis=1).sum()))
        check_consistent(v, r, 3)
    one = select_policies(rng.uniform(size=(1, 50)), 7)
    assert one.method == "closed_form"
    assert len(one.chosen) == 1


def test_review_time_limit_before_the_root_lp_ends_gives_a_finite_bound() -> None:
    # before: bound = inf (the root LP had not finished), so gap and heuristic_gap were inf
    v = np.random.default_rng(0).uniform(size=(100, 1000))
    r = select_policies(v, 5, time_limit=1e-3)
    assert r.termination.reason is TerminationReason.FEASIBLE
    assert r.termination.limit is not None
    assert math.isfinite(r.bound)
    assert r.welfare - tol(r.welfare) <= r.bound <= float(v.max(axis=1).sum()) + tol(r.bound)
    assert math.isfinite(r.gap) and math.isfinite(r.heuristic_gap)
    check_consistent(v, r, 5)


@pytest.mark.parametrize("k", [2, 3, 4])
def test_review_set_enumeration_stops_at_the_time_limit(k: int) -> None:
    # before: the pair enumeration (budget 2, replaced by the set enumeration) ignored the time
    # limit and reported OPTIMAL after the deadline
    v = np.random.default_rng(0).uniform(size=(100, 1000))
    r = select_policies(v, k, time_limit=1e-3)
    assert r.termination.reason is TerminationReason.FEASIBLE
    assert r.termination.limit is not None
    assert math.isfinite(r.bound)
    assert r.bound >= r.welfare
    assert r.welfare >= r.heuristic_welfare - tol(r.welfare)
    check_consistent(v, r, k)


def test_review_cut_memory_cap_stops_with_an_honest_status(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # before: no cap; without a deadline the master's cuts could grow without end on a large
    # instance (up to 500 root rounds of n cuts with m coefficients each)
    from mechsolve.solver.structured import policies

    monkeypatch.setattr(policies, "_MAX_CUT_NONZEROS", 30)
    limited = 0
    for seed in range(6):
        v = np.random.default_rng(seed).uniform(size=(14, 13))
        want = brute_force(v.tolist(), 5)
        r = select_policies(v, 5, method="milp", restarts=1)  # the MILP (not the enumeration)
        check_consistent(v, r, 5)
        assert r.welfare <= want + tol(want)
        assert r.bound >= want - tol(want)  # a valid bound on the true optimum
        if r.termination.is_optimal:
            assert r.welfare == pytest.approx(want, abs=tol(want))
        else:
            assert r.termination.limit is not None
            limited += 1
    assert limited > 0  # the cap was reached on some instance


@pytest.mark.parametrize(("k", "method"), [(3, "set_enumeration"), (65, "benders_milp")])
def test_review_a_deadline_before_the_search_names_the_method_that_would_have_run(
    k: int, method: str
) -> None:
    # before: budgets 2-4 stopped before the search reported method "benders_milp"
    v = np.random.default_rng(3).uniform(size=(300, 3000))
    r = select_policies(v, k, time_limit=1e-6)
    assert r.termination.limit is not None
    assert r.method == method
    assert r.bound >= r.welfare
    check_consistent(v, r, k)


def test_the_enumeration_runs_on_at_most_max_threads() -> None:
    """``limits.max_threads`` caps the set enumeration's threads (the server lowers it to its
    share of the CPUs); the default is every CPU this process may use, at most 8. The
    termination message says how many searched; the answer does not depend on it."""
    from mechsolve.solver.structured.policy_enumeration import default_threads

    v = np.random.default_rng(3).random((40, 60))
    answers = []
    for limits, threads in ((None, min(default_threads(), 8)), (Limits(max_threads=1), 1)):
        r = select_policies(v, 4, limits=limits)
        assert r.info.method == "set_enumeration"
        assert r.info.termination.reason == TerminationReason.OPTIMAL
        assert r.info.termination.detail.endswith(f" {threads} thread{'s' * (threads > 1)}")
        answers.append(r.welfare)
    assert answers[0] == pytest.approx(answers[1], abs=1e-9)
    with pytest.raises(MechsolveInputError, match="max_threads"):
        Limits(max_threads=0)
