"""The bounded set enumeration for budgets of policies (``policy_enumeration``) against a
plain-Python brute force over every ``k``-set, the Lagrangian bound it prunes with against the
same brute force, and its bound when a deadline stops it."""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mechsolve.solver.structured import policy_enumeration as enumeration
from mechsolve.solver.structured import policy_kernels as kernels


def f(w: np.ndarray, subset: tuple[int, ...]) -> float:
    return sum(max(float(row[p]) for p in subset) for row in w)


def brute_force(w: np.ndarray, k: int) -> float:
    return max(f(w, s) for s in itertools.combinations(range(w.shape[1]), k))


instances = st.tuples(
    st.integers(1, 7), st.integers(2, 8), st.integers(0, 5), st.integers(0, 10**6)
).map(lambda t: (t[0], t[1], t[1] + t[2], t[3]))


def lagrangian(w_rest: np.ndarray, lam: np.ndarray, r: int) -> tuple[float, np.ndarray, np.ndarray]:
    """The kernel's ``_lagrangian`` over every row of ``w_rest``: (value, grad, rho)."""
    cnt = w_rest.shape[0]
    rho, grad = np.empty(cnt), np.empty(len(lam))
    value = kernels._lagrangian(w_rest, np.arange(cnt), cnt, lam, r, rho, grad, False)
    return value, grad, rho


def suffix_top_sums(x: np.ndarray, q: int) -> np.ndarray:
    out = np.empty(len(x))
    kernels._suffix_top_sums(x, len(x), q, out)
    return out


def make(n: int, m: int, seed: int, ties: bool) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 4, size=(n, m)) / 3.0 if ties else rng.random((n, m))


@settings(max_examples=150, deadline=None)
@given(inst=instances, ties=st.booleans(), threads=st.sampled_from([1, 2, 4]))
def test_the_enumeration_finds_the_best_set(
    inst: tuple[int, int, int, int], ties: bool, threads: int
) -> None:
    n, k, m, seed = inst
    w = make(n, m, seed, ties)
    start = np.random.default_rng(seed + 1).choice(m, size=k, replace=False)
    found = enumeration.best_set(w, k, start.astype(np.int64), threads=threads)
    want = brute_force(w, k)
    assert found.complete
    assert len(found.chosen) == k == len(set(found.chosen.tolist()))
    assert found.value == pytest.approx(f(w, tuple(found.chosen)), abs=1e-12)
    assert found.value == pytest.approx(want, abs=1e-9)
    assert found.bound == found.value


@pytest.mark.parametrize("seed", range(3))
def test_deeper_budgets_find_the_best_set(seed: int) -> None:
    # budgets 6 and 7 (the nodes' floors, raised children's bounds and fixing at every depth)
    # against every set, in numpy
    rng = np.random.default_rng(seed)
    w = rng.random((20, 22))
    for k in (6, 7):
        start = rng.choice(22, size=k, replace=False).astype(np.int64)
        found = enumeration.best_set(w, k, start)
        assert found.complete
        cols = np.array(list(itertools.combinations(range(22), k)))
        want = max(w[:, chunk].max(axis=2).sum(axis=0).max() for chunk in np.array_split(cols, 20))
        assert found.value == pytest.approx(float(want), abs=1e-9)
        assert found.value == pytest.approx(f(w, tuple(found.chosen)), abs=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_candidates_fixed_out_by_their_bound_never_hold_the_best_set(seed: int) -> None:
    """Larger instances (30 x 30), where the nodes fix candidates out of their subtrees
    (``base + rho_q + the r - 1 largest other rho <= best``): the optimum is still found,
    checked against every 4-set (27,405)."""
    rng = np.random.default_rng(seed)
    w = rng.random((30, 30))
    start = rng.choice(30, size=4, replace=False).astype(np.int64)
    found = enumeration.best_set(w, 4, start)
    assert found.complete
    assert found.fixed_out > 0  # the elimination ran
    cols = np.array(list(itertools.combinations(range(30), 4)))
    want = w[:, cols].max(axis=2).sum(axis=0).max()  # (30, sets, 4) -> every set's value
    assert found.value == pytest.approx(float(want), abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(inst=instances, shift=st.floats(-1.0, 2.0), spread=st.floats(0.0, 1.0))
def test_the_lagrangian_value_bounds_every_set(
    inst: tuple[int, int, int, int], shift: float, spread: float
) -> None:
    # sum lambda + the k largest rho_p(lambda) >= f(S) for every k-set S, at any lambda
    n, k, m, seed = inst
    w = make(n, m, seed, ties=False)
    lam = shift + spread * np.random.default_rng(seed + 2).standard_normal(n)
    value, grad, rho = lagrangian(np.ascontiguousarray(w.T), lam, k)
    rho_loop = [sum(max(float(w[u, p]) - lam[u], 0.0) for u in range(n)) for p in range(m)]
    assert rho == pytest.approx(rho_loop, abs=1e-12)
    assert value == pytest.approx(lam.sum() + sum(sorted(rho_loop)[-k:]), abs=1e-9)
    assert value >= brute_force(w, k) - 1e-9
    assert grad.shape == (n,) and np.all(grad <= 1.0)


@settings(max_examples=100, deadline=None)
@given(x=st.lists(st.floats(0, 10), max_size=12), q=st.integers(1, 4))
def test_suffix_top_sums_are_the_sums_of_the_largest_later_entries(x: list[float], q: int) -> None:
    got = suffix_top_sums(np.array(x), q)
    for j in range(len(x)):
        assert got[j] == pytest.approx(sum(sorted(x[j + 1 :])[-q:]), abs=1e-9)


@pytest.mark.parametrize("limit", [0, 1, 3, 10, 40, 200])
def test_a_node_limit_gives_a_valid_bound(limit: int) -> None:
    w = np.random.default_rng(limit).random((14, 16))
    start = np.arange(4, dtype=np.int64)
    found = enumeration.best_set(w, 4, start, node_limit=limit, threads=1)
    want = brute_force(w, 4)
    assert found.nodes <= max(limit, 1)
    assert found.value <= want + 1e-9
    assert found.value >= f(w, (0, 1, 2, 3)) - 1e-12  # never below the start
    assert found.value == pytest.approx(f(w, tuple(found.chosen)), abs=1e-12)
    assert found.bound >= want - 1e-9  # finished or not, the bound holds
    if found.complete:
        assert found.value == pytest.approx(want, abs=1e-9)
    else:
        assert found.bound > found.value


@pytest.mark.parametrize("late", [-1.0, 0.0, 0.02])
def test_a_deadline_stops_the_search_with_a_valid_bound(late: float) -> None:
    # a deadline already past, now, and soon (perf_counter instants) on a search of seconds
    w = np.random.default_rng(3).random((60, 400))
    start = np.arange(8, dtype=np.int64)
    begin = time.perf_counter()
    found = enumeration.best_set(w, 8, start, deadline=begin + late)
    assert time.perf_counter() - begin < 5.0  # (the unbounded search takes minutes)
    assert not found.complete
    assert found.bound > found.value >= f(w, tuple(range(8))) - 1e-9
    assert found.value == pytest.approx(f(w, tuple(found.chosen)), abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(inst=instances)
def test_without_pruning_every_k_set_is_met_once(inst: tuple[int, int, int, int]) -> None:
    # the docstring's claim: children (T + R_j, R_{j+1:}) meet every k-set once; with the
    # incumbent kept out of the bounds nothing is pruned, and exactly C(m, k) sets are
    # evaluated (none twice, so every one once), the best of them the brute force's
    n, k, m, seed = inst
    w = make(n, m, seed, ties=seed % 2 == 0)
    found = enumeration.best_set(w, k, np.arange(k, dtype=np.int64), threads=1, prune=False)
    assert found.complete
    assert found.fixed_out == 0
    assert found.sets == math.comb(m, k)
    assert found.value == pytest.approx(brute_force(w, k), abs=1e-12)
    assert found.value == pytest.approx(f(w, tuple(found.chosen)), abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(inst=instances, chosen=st.integers(0, 2), shift=st.floats(-1.0, 2.0), spread=st.floats(0, 1))
def test_the_node_and_childrens_bounds_hold(
    inst: tuple[int, int, int, int], chosen: int, shift: float, spread: float
) -> None:
    # node (T, R) with r slots and floor a_u = max_{p in T} w[u,p]: at any lambda >= a, every
    # set T + Q (Q an r-set of R) has f <= sum lambda + the r largest rho over R; child j =
    # (T + R_j, R_{j+1:}) is bounded by sum lambda + rho_{R_j} + the r - 1 largest rho over
    # R_{j+1:}, and more tightly with rho at mu = max(lambda, w[:, R_j]) (``_raised``)
    n, k, m, seed = inst
    t = min(chosen, k - 2)  # at least two slots left (one slot: completions are exact)
    r = k - t
    w = make(n, m, seed, ties=seed % 3 == 0)
    perm = np.random.default_rng(seed + 3).permutation(m)
    lam = shift + spread * np.random.default_rng(seed + 4).standard_normal(n)
    tee, rest = perm[:t].tolist(), perm[t:].tolist()
    if t:
        lam = np.maximum(lam, w[:, tee].max(axis=1))
    w_rest = np.ascontiguousarray(w[:, rest].T)  # (candidate-major, as the search holds it)
    value, _, rho = lagrangian(w_rest, lam, r)
    assert value >= max(f(w, (*tee, *q)) for q in itertools.combinations(rest, r)) - 1e-9
    child = lam.sum() + rho + suffix_top_sums(rho, r - 1)
    for j in range(len(rest) - (r - 1)):
        below = [f(w, (*tee, rest[j], *q)) for q in itertools.combinations(rest[j + 1 :], r - 1)]
        assert child[j] >= max(below) - 1e-9
        assert child[j] <= value + 1e-9  # never above the node's own bound
        raised = np.empty(len(rest))
        kernels._raised(w_rest, np.arange(len(rest)), j, len(rest), lam, rho, raised)
        raised = raised[: len(rest) - j - 1]
        mu = np.maximum(lam, w_rest[j])
        loop = [sum(max(float(w[u, q]) - mu[u], 0.0) for u in range(n)) for q in rest[j + 1 :]]
        assert raised == pytest.approx(loop, abs=1e-9)
        tight = lam.sum() + rho[j] + sum(sorted(loop)[-(r - 1) :])
        assert max(below) - 1e-9 <= tight <= child[j] + 1e-9


@settings(max_examples=100, deadline=None)
@given(
    shape=st.tuples(st.integers(1, 30), st.integers(1, 30)),
    level=st.sampled_from([1, 2, 3, 4, 7, 10, 1024]),
    seed=st.integers(0, 10**6),
)
def test_the_lattice_step_divides_every_value(
    shape: tuple[int, int], level: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    w = rng.integers(0, level + 1, size=shape) / level
    step = enumeration.lattice_step(w)
    assert step > 0
    assert float(level * step) == pytest.approx(round(level * step), abs=1e-12)  # 1/step | L
    assert np.allclose(w / step, np.round(w / step), rtol=0, atol=1e-12)
    assert enumeration.lattice_step(w + 1e-3 * (1 + rng.random(shape))) == 0.0  # off it
    assert enumeration.lattice_step(rng.random((40, 40))) == 0.0


@settings(max_examples=100, deadline=None)
@given(inst=instances, level=st.sampled_from([1, 2, 3, 1024]), noise=st.sampled_from([0, 1e-13]))
def test_the_lattice_pruning_keeps_the_best_set(
    inst: tuple[int, int, int, int], level: int, noise: float
) -> None:
    # a node bounded below best + delta is pruned; on (or within rounding of) a lattice of
    # step delta no set lies strictly between best and best + delta
    n, k, m, seed = inst
    rng = np.random.default_rng(seed)
    w = rng.integers(0, level + 1, size=(n, m)) / level + noise * rng.random((n, m))
    found = enumeration.best_set(w, k, rng.choice(m, size=k, replace=False))
    want = brute_force(w, k)
    assert found.complete
    assert found.value == pytest.approx(want, abs=1e-9)
    assert found.bound >= want - 1e-9


@pytest.mark.parametrize("seed", [0, 1])
def test_lattice_ties_with_the_bound_are_pruned(seed: int) -> None:
    # values in {0, 1/2, 1}: every user can get 1 with k = 4 (the trivial bound n is met), a
    # tie the subgradient steps approach only to about 1e-5; with PRUNE_TOL alone the search
    # visited 71,390 and 84,632 nodes, the lattice step settles it at the first nodes
    w = np.random.default_rng(seed).integers(0, 3, size=(25, 100)) / 2
    found = enumeration.best_set(w, 4, np.arange(4, dtype=np.int64))
    assert found.complete
    assert found.value == found.bound == 25.0  # sum_u max_p w[u, p] = 25: optimal
    assert found.nodes <= 50


def test_a_lowered_shared_value_never_replaces_a_better_set_of_the_thread() -> None:
    # a thread holds {0, 1} worth 2.0; another thread's late write has lowered the shared
    # value to 1.8 (a test-then-write race): completions worth 1.9 beat the shared value but
    # not the thread's own, so its set stays and the shared value only rises
    wt = np.array([[1.9], [0.0], [0.0]])  # one user; {0, q} is worth 1.9
    best, own, cutoff = np.array([0, 1]), np.array([2.0]), np.array([1.8])
    stats = np.zeros(16, dtype=np.int64)
    floor, chosen, rows = np.full(1, -np.inf), np.empty(2, dtype=np.int64), np.arange(3)
    kernels._complete(wt, rows, 0, 3, floor, chosen, 0, best, own, cutoff, stats, True)
    assert best.tolist() == [0, 1] and own[0] == 2.0
    assert cutoff[0] == pytest.approx(1.9)
    assert stats[kernels.SETS] == 2


def test_expiry_is_sticky() -> None:
    # once the clock says the deadline has passed, every later check says so (without more
    # work the clock is not read again): the callers up the stack all stop
    stats = np.zeros(16, dtype=np.int64)
    stats[kernels.LIMIT] = -1
    past = time.perf_counter() - 1.0
    assert kernels.expired(past, stats)
    assert kernels.expired(past, stats)
    fresh = np.zeros(16, dtype=np.int64)
    fresh[kernels.LIMIT] = -1
    assert not kernels.expired(time.perf_counter() + 60.0, fresh)


@pytest.mark.parametrize(
    ("start", "threads"), [([0, 0], None), ([-1, 2], None), ([0, 9], None), ([0, 1], 0)]
)
def test_bad_starts_and_thread_counts_are_refused(start: list[int], threads: int | None) -> None:
    w = np.random.default_rng(0).random((3, 5))
    with pytest.raises(ValueError):
        enumeration.best_set(w, 2, np.array(start), threads=threads)
