"""Exact incentive audits against brute-force loops."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

from mechsolve.solver.auctions import (
    audit_callable,
    audit_mechanism,
    audit_result,
    first_price_tables,
    optimal_menu,
    second_price_tables,
    uniform_grid,
)

from .brute import regret_by_loops
from .strategies import small_priors


def test_first_price_regret_matches_loops() -> None:
    """First price, 2 bidders, 1 item, K=10: positive regret equal to the loop count; the
    witness is a real misreport with the reported gain."""
    prior = uniform_grid(1, 10)
    alloc, pay = first_price_tables(prior, 2)
    rep = audit_mechanism(alloc, pay, prior)
    mean, worst = regret_by_loops(alloc, pay, [prior, prior])
    assert rep.regret_mean > 0.05
    np.testing.assert_allclose(rep.regret_per_bidder, mean, atol=1e-12)
    np.testing.assert_allclose(rep.regret_max_per_bidder, worst, atol=1e-12)
    assert rep.regret_mean == pytest.approx(mean.mean(), abs=1e-12)
    i, t, s = rep.witness_bidder, tuple(rep.witness_profile), rep.witness_report
    v = prior.values[t[i]]
    t2 = (*t[:i], s, *t[i + 1 :])
    gain = (alloc[t2][i] @ v - pay[t2][i]) - (alloc[t][i] @ v - pay[t][i])
    assert gain == pytest.approx(rep.regret_max, abs=1e-12)
    assert rep.ir_violation_max == 0.0 and rep.supply_violation_max == 0.0


@settings(max_examples=15)
@given(p0=small_priors(2, 3), p1=small_priors(2, 3))
def test_first_price_random_priors(p0, p1) -> None:  # type: ignore[no-untyped-def]
    """First price per item on random asymmetric 2-item priors: vectorized audit == loops."""
    alloc, pay = first_price_tables([p0, p1])
    rep = audit_mechanism(alloc, pay, [p0, p1])
    mean, worst = regret_by_loops(alloc, pay, [p0, p1])
    np.testing.assert_allclose(rep.regret_per_bidder, mean, atol=1e-12)
    np.testing.assert_allclose(rep.regret_max_per_bidder, worst, atol=1e-12)


def test_second_price_is_dsic() -> None:
    """Second price with reserve (2x2, K=6) has zero regret on the grid."""
    prior = uniform_grid(2, 6)
    alloc, pay = second_price_tables(prior, 2, reserve=0.5)
    rep = audit_mechanism(alloc, pay, prior)
    assert rep.regret_max == 0.0 and rep.witness_bidder == -1
    assert rep.revenue > 0


def test_violations_are_reported() -> None:
    """Over-allocation and negative utilities are measured exactly."""
    prior = uniform_grid(1, 4)
    alloc, pay = second_price_tables(prior, 2)
    alloc = alloc.copy()
    pay = pay.copy()
    alloc[3, 3] = 1.0  # both bidders get the item at the top profile: excess 1
    alloc[0, 0] = 0.0
    pay[0, 0, 0] = 0.5  # bidder 0 pays 0.5 for nothing at the lowest profile
    rep = audit_mechanism(alloc, pay, prior)
    assert rep.supply_violation_max == pytest.approx(1.0)
    assert rep.ir_violation_max == pytest.approx(0.5)
    assert rep.ir_violation_mass == pytest.approx(1 / 16)


def test_lp_menu_has_zero_regret_and_callable_agrees() -> None:
    """The LP menu audits to zero regret; auditing the same mechanism as a callable gives the
    same report as the tables."""
    prior = uniform_grid(2, 8)
    res = optimal_menu(prior)
    rep = audit_result(res)
    assert rep.regret_max == 0.0 and rep.ir_violation_max == 0.0
    assert rep.revenue == pytest.approx(res.revenue, abs=1e-12)

    alloc, pay = first_price_tables(prior, 2)

    def first_price(bids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        top = bids.max(axis=1, keepdims=True)
        win = (bids == top) / (bids == top).sum(axis=1, keepdims=True)
        return win, (win * bids).sum(axis=2)

    a = audit_callable(first_price, prior, 2, batch_size=7)
    b = audit_mechanism(alloc, pay, prior)
    np.testing.assert_allclose(a.regret_per_bidder, b.regret_per_bidder, atol=1e-12)
    assert a.revenue == pytest.approx(b.revenue, abs=1e-12)
