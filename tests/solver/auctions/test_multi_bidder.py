"""n-bidder DSIC and BIC auctions: Myerson, brute-force LPs, symmetry, Border separation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mechsolve.solver.auctions import (
    audit_result,
    extrapolate_optimum,
    optimal_bic_auction,
    optimal_dsic_auction,
    rounded_evaluation,
    uniform_grid,
)
from mechsolve.solver.auctions.separation import border_violations, max_border_violation
from mechsolve.solver.core.results import TerminationReason

from .brute import border_by_subsets, naive_bic_revenue, naive_dsic_revenue
from .strategies import small_priors

MYERSON = 5 / 12


@pytest.mark.parametrize("k", [5, 10, 20])
def test_myerson_two_bidders(k: int) -> None:
    """2 bidders, 1 item, U[0,1]: 5/12 (second price, reserve 1/2). Grid optima bracket it
    (corner <= 5/12 <= midpoint, 1e-9) and the midpoint error is at most 0.4/K."""
    mid = optimal_dsic_auction(uniform_grid(1, k), 2)
    cor = optimal_dsic_auction(uniform_grid(1, k, points="corner"), 2)
    assert mid.termination.reason is TerminationReason.OPTIMAL and mid.verification.passed
    assert cor.revenue <= MYERSON + 1e-9 <= mid.revenue + 2e-9
    assert mid.revenue - MYERSON <= 0.4 / k


def test_myerson_extrapolation_and_rounding() -> None:
    """Midpoint grids K=20, 40 extrapolate to 5/12 within 5e-4; with bids rounded to the grid
    the revenue on the continuous prior is the grid revenue and the regret is small but
    positive (Monte Carlo, 20k samples)."""
    ex = extrapolate_optimum(1, 2, (20, 40))
    assert abs(ex.estimate - MYERSON) < 5e-4
    res = optimal_dsic_auction(uniform_grid(1, 20), 2)
    ev = rounded_evaluation(res.allocation, res.payment, res.priors, n_samples=20_000, seed=1)
    assert ev.revenue == pytest.approx(res.revenue, abs=1e-12)
    assert 0.0 < ev.regret_mean < 1e-3
    assert ev.regret_max_observed <= 1 / 20 + 1e-12  # at most one cell width of value


@settings(max_examples=10)
@given(p0=small_priors(1, 3), p1=small_priors(1, 3), unit=st.booleans())
def test_dsic_matches_naive_lp(p0, p1, unit) -> None:  # type: ignore[no-untyped-def]
    """2 bidders, 1 item, random asymmetric priors: generation == full == naive scipy LP."""
    gen = optimal_dsic_auction([p0, p1], unit_demand=unit)
    full = optimal_dsic_auction([p0, p1], unit_demand=unit, constraints="full")
    naive = naive_dsic_revenue([p0, p1], unit_demand=unit)
    assert gen.verification.passed and full.verification.passed
    assert gen.revenue == pytest.approx(naive, abs=1e-7)
    assert full.revenue == pytest.approx(naive, abs=1e-7)


@settings(max_examples=6)
@given(prior=small_priors(2, 2))
def test_symmetric_dsic_two_items(prior) -> None:  # type: ignore[no-untyped-def]
    """2 identical bidders, 2 items: symmetry on/off and the naive LP agree; audit regret 0."""
    sym = optimal_dsic_auction(prior, 2)
    plain = optimal_dsic_auction(prior, 2, symmetry=False)
    assert sym.stats.symmetry_order >= 2
    assert sym.revenue == pytest.approx(plain.revenue, abs=1e-7)
    assert sym.revenue == pytest.approx(naive_dsic_revenue([prior, prior]), abs=1e-7)
    assert audit_result(sym).regret_max == 0.0


def test_dsic_2x2_symmetric_grid() -> None:
    """2x2 U[0,1], midpoint K=6: item and bidder symmetry (order 4) give the unreduced optimum;
    the returned mechanism is verified and its audit shows zero regret and no violation."""
    prior = uniform_grid(2, 6)
    a = optimal_dsic_auction(prior, 2)
    b = optimal_dsic_auction(prior, 2, symmetry=False)
    assert a.stats.symmetry_order == 4
    assert a.revenue == pytest.approx(b.revenue, abs=1e-8)
    rep = audit_result(a)
    assert rep.regret_max == 0.0 and rep.ir_violation_max == 0.0 and rep.supply_violation_max == 0.0
    assert rep.revenue == pytest.approx(a.revenue, abs=1e-9)


@settings(max_examples=8)
@given(p0=small_priors(1, 3), p1=small_priors(1, 3), sym=st.booleans())
def test_bic_matches_ex_post_lp(p0, p1, sym) -> None:  # type: ignore[no-untyped-def]
    """BIC through reduced forms + Border cuts equals the LP over ex-post allocations (scipy),
    and is at least the DSIC optimum."""
    bic = optimal_bic_auction([p0, p1], symmetry=sym)
    assert bic.termination.reason is TerminationReason.OPTIMAL and bic.verification.passed
    assert bic.revenue == pytest.approx(naive_bic_revenue([p0, p1]), abs=1e-7)
    assert bic.revenue >= optimal_dsic_auction([p0, p1]).revenue - 1e-9


def test_bic_identical_bidders() -> None:
    """2x2 U[0,1] midpoint K=6: BIC with symmetric Border cuts == without symmetry (all
    threshold pairs) and >= DSIC; interim rules satisfy Border exactly."""
    prior = uniform_grid(2, 6)
    a = optimal_bic_auction(prior, 2)
    b = optimal_bic_auction(prior, 2, symmetry=False)
    assert a.revenue == pytest.approx(b.revenue, abs=1e-8)
    assert a.revenue >= optimal_dsic_auction(prior, 2).revenue - 1e-9
    assert a.verification.passed and a.stats.border_rows > 2
    for j in range(2):
        interim = [a.allocation[i][:, j] for i in range(2)]
        assert max_border_violation(interim, [prior.probs] * 2, symmetric=False) <= 1e-9


@settings(max_examples=25)
@given(
    data=st.data(),
    n=st.integers(1, 3),
    sizes=st.lists(st.integers(1, 4), min_size=3, max_size=3),
)
def test_border_separation_is_exact(data, n, sizes) -> None:  # type: ignore[no-untyped-def]
    """The threshold-set separation finds the same maximum violation as every family of
    subsets (asymmetric scan; symmetric scan when the interim rules are identical)."""
    probs, interim = [], []
    for i in range(n):
        w = np.array(
            data.draw(st.lists(st.integers(1, 4), min_size=sizes[i], max_size=sizes[i])), float
        )
        probs.append(w / w.sum())
        interim.append(
            np.array(data.draw(st.lists(st.integers(0, 8), min_size=sizes[i], max_size=sizes[i])))
            / 8
        )
    brute = border_by_subsets(interim, probs)  # >= 0: the empty family gives 0
    assert max_border_violation(interim, probs, symmetric=False) == pytest.approx(brute, abs=1e-12)
    same = border_by_subsets([interim[0]] * n, [probs[0]] * n)
    sym = max_border_violation([interim[0]] * n, [probs[0]] * n, symmetric=True)
    assert sym == pytest.approx(same, abs=1e-12)
    found = border_violations(interim, probs, symmetric=False, max_sets=3)
    for viol, sets in found:  # every returned family really is violated by that much
        lhs = sum(float((probs[i][s] * interim[i][s]).sum()) for i, s in enumerate(sets))
        rhs = 1.0 - np.prod([1.0 - probs[i][s].sum() for i, s in enumerate(sets)])
        assert lhs - rhs == pytest.approx(viol, abs=1e-12) and viol > 0
