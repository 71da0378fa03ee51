"""The bounded set enumeration for small budgets of policies (``policy_enumeration``) against a
plain-Python brute force over every ``k``-set, the Lagrangian bound it prunes with against the
same brute force, and its bound when a deadline stops it."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mechsolve.solver.structured import policy_enumeration as enumeration


def f(w: np.ndarray, subset: tuple[int, ...]) -> float:
    return sum(max(float(row[p]) for p in subset) for row in w)


def brute_force(w: np.ndarray, k: int) -> float:
    return max(f(w, s) for s in itertools.combinations(range(w.shape[1]), k))


instances = st.tuples(
    st.integers(1, 7), st.integers(2, 4), st.integers(0, 5), st.integers(0, 10**6)
).map(lambda t: (t[0], t[1], t[1] + t[2], t[3]))


def make(n: int, m: int, seed: int, ties: bool) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 4, size=(n, m)) / 3.0 if ties else rng.random((n, m))


@settings(max_examples=150, deadline=None)
@given(inst=instances, ties=st.booleans())
def test_the_enumeration_finds_the_best_set(inst: tuple[int, int, int, int], ties: bool) -> None:
    n, k, m, seed = inst
    w = make(n, m, seed, ties)
    start = np.random.default_rng(seed + 1).choice(m, size=k, replace=False)
    found = enumeration.best_small_set(w, k, start.astype(np.int64))
    want = brute_force(w, k)
    assert found.complete
    assert len(found.chosen) == k == len(set(found.chosen.tolist()))
    assert found.value == pytest.approx(f(w, tuple(found.chosen)), abs=1e-12)
    assert found.value == pytest.approx(want, abs=1e-9)
    assert found.bound == found.value


@settings(max_examples=100, deadline=None)
@given(inst=instances, shift=st.floats(-1.0, 2.0), spread=st.floats(0.0, 1.0))
def test_the_lagrangian_value_bounds_every_set(
    inst: tuple[int, int, int, int], shift: float, spread: float
) -> None:
    # sum lambda + the k largest rho_p(lambda) >= f(S) for every k-set S, at any lambda
    n, k, m, seed = inst
    w = make(n, m, seed, ties=False)
    lam = shift + spread * np.random.default_rng(seed + 2).standard_normal(n)
    value, grad, rho, base = enumeration._lagrangian(w, 0, lam, k)
    rho_loop = [sum(max(float(w[u, p]) - lam[u], 0.0) for u in range(n)) for p in range(m)]
    assert rho == pytest.approx(rho_loop, abs=1e-12)
    assert base == pytest.approx(float(lam.sum()), abs=1e-12)
    assert value == pytest.approx(lam.sum() + sum(sorted(rho_loop)[-k:]), abs=1e-9)
    assert value >= brute_force(w, k) - 1e-9
    assert grad.shape == (n,) and np.all(grad <= 1.0)


@settings(max_examples=100, deadline=None)
@given(x=st.lists(st.floats(0, 10), max_size=12), q=st.integers(1, 4))
def test_suffix_top_sums_are_the_sums_of_the_largest_later_entries(x: list[float], q: int) -> None:
    got = enumeration._suffix_top_sums(np.array(x), q)
    for j in range(len(x)):
        assert got[j] == pytest.approx(sum(sorted(x[j + 1 :])[-q:]), abs=1e-9)


@pytest.mark.parametrize("calls", [1, 3, 10, 40, 200])
def test_a_deadline_gives_a_valid_bound(calls: int) -> None:
    w = np.random.default_rng(calls).random((14, 16))
    count = iter(range(calls))

    def expired() -> bool:
        return next(count, None) is None

    start = np.arange(4, dtype=np.int64)
    found = enumeration.best_small_set(w, 4, start, expired=expired)
    want = brute_force(w, 4)
    assert found.value <= want + 1e-9
    assert found.value >= f(w, (0, 1, 2, 3)) - 1e-12  # never below the start
    assert found.value == pytest.approx(f(w, tuple(found.chosen)), abs=1e-12)
    assert found.bound >= want - 1e-9  # finished or not, the bound holds
    if found.complete:
        assert found.value == pytest.approx(want, abs=1e-9)
