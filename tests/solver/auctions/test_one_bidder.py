"""One-bidder optimal menus: closed forms, grid brackets, constraint generation vs the full LP."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mechsolve.solver.auctions import (
    continuous_menu_revenue,
    empirical_prior,
    extrapolate_optimum,
    optimal_menu,
    uniform_grid,
)
from mechsolve.solver.core.limits import Limits
from mechsolve.solver.core.results import Limit, TerminationReason

from .brute import naive_dsic_revenue
from .strategies import small_priors

MANELLI_VINCENT = 4 / 9 + 2 * math.sqrt(2) / 27  # 0.549201
UNIT_DEMAND = 2 * math.sqrt(3) / 9  # 0.384900


@pytest.mark.parametrize("k", [2, 3, 8, 11, 20])
def test_one_item_posted_price(k: int) -> None:
    """1 bidder, 1 item, U[0,1]: optimum 1/4 (price 1/2). Exact grid optima: midpoint
    1/4 + 1/(4K), corner 1/4 - (K mod 2)/(4K^2); tolerance 1e-9."""
    mid = optimal_menu(uniform_grid(1, k))
    cor = optimal_menu(uniform_grid(1, k, points="corner"))
    assert mid.termination.reason is TerminationReason.OPTIMAL and mid.verification.passed
    assert mid.revenue == pytest.approx(0.25 + 1 / (4 * k), abs=1e-9)
    assert cor.revenue == pytest.approx(0.25 - (k % 2) / (4 * k * k), abs=1e-9)
    cont = continuous_menu_revenue(mid.menu())
    price = mid.menu().price
    assert len(price) == 1
    assert cont.revenue == pytest.approx(price[0] * (1 - price[0]), abs=cont.error + 1e-12)


def test_manelli_vincent_menu() -> None:
    """1 bidder, 2 items, U[0,1]^2, midpoint grid K=30: the menu's revenue on the continuous
    prior is within 0.2% of 4/9 + 2 sqrt(2)/27 (and below it: the menu is IC there); its item
    prices are within 1/K of 2/3 and its bundle price within 1/K of (4 - sqrt 2)/3."""
    res = optimal_menu(uniform_grid(2, 30))
    assert res.termination.reason is TerminationReason.OPTIMAL and res.verification.passed
    cont = continuous_menu_revenue(res.menu())
    assert cont.error < 1e-4
    assert cont.revenue - cont.error <= MANELLI_VINCENT
    assert abs(cont.revenue - MANELLI_VINCENT) / MANELLI_VINCENT < 0.002
    menu = res.menu()
    for q, price in zip(menu.allocation, menu.price, strict=True):
        if np.allclose(q, [1, 0]) or np.allclose(q, [0, 1]):
            assert abs(price - 2 / 3) <= 1 / 30
        if np.allclose(q, [1, 1]):
            assert abs(price - (4 - math.sqrt(2)) / 3) <= 1 / 30
    shapes = {tuple(q) for q in np.round(menu.allocation, 6)}
    assert {(1.0, 0.0), (0.0, 1.0), (1.0, 1.0)} <= shapes


def test_manelli_vincent_extrapolation() -> None:
    """Richardson extrapolation of the midpoint grids K=20, 40 lands within 2e-4 of 0.549201."""
    ex = extrapolate_optimum(2, 1, (20, 40))
    assert ex.revenues[0] > ex.revenues[1] > MANELLI_VINCENT
    assert abs(ex.estimate - MANELLI_VINCENT) < 2e-4


def test_unit_demand() -> None:
    """Unit demand, 2 items, U[0,1]^2: optimum 2 sqrt(3)/9 (both items at 1/sqrt 3). Midpoint
    grid K=20: the menu's continuous revenue is within 0.05% of it; corner grid K=40 is below
    it and within 1e-4."""
    res = optimal_menu(uniform_grid(2, 20), unit_demand=True)
    assert res.verification.passed
    assert res.allocation.sum(axis=1).max() <= 1 + 1e-9
    cont = continuous_menu_revenue(res.menu())
    assert abs(cont.revenue - UNIT_DEMAND) / UNIT_DEMAND < 5e-4
    cor = optimal_menu(uniform_grid(2, 40, points="corner"), unit_demand=True)
    assert UNIT_DEMAND - 1e-4 < cor.revenue <= UNIT_DEMAND


@pytest.mark.parametrize("k", [3, 4, 7, 10])
def test_grids_bracket_the_continuous_optimum(k: int) -> None:
    """corner-grid optimum <= continuous optimum <= midpoint-grid optimum (1x2 additive and
    unit-demand; closed forms above), exact up to 1e-9."""
    for unit, opt in ((False, MANELLI_VINCENT), (True, UNIT_DEMAND)):
        lo = optimal_menu(uniform_grid(2, k, points="corner"), unit_demand=unit).revenue
        hi = optimal_menu(uniform_grid(2, k), unit_demand=unit).revenue
        assert lo <= opt + 1e-9 <= hi + 2e-9


@settings(max_examples=15)
@given(prior=small_priors(2), unit=st.booleans(), sym=st.booleans())
def test_generation_matches_naive_lp(prior, unit, sym) -> None:  # type: ignore[no-untyped-def]
    """Constraint generation, the full Rochet LP and a naive payment-variable LP (scipy) agree
    on random discrete priors; every returned menu passes verification."""
    gen = optimal_menu(prior, unit_demand=unit, symmetry=sym)
    full = optimal_menu(prior, unit_demand=unit, symmetry=sym, constraints="full")
    naive = naive_dsic_revenue([prior], unit_demand=unit)
    assert gen.termination.reason is TerminationReason.OPTIMAL
    assert gen.verification.passed and full.verification.passed
    assert gen.revenue == pytest.approx(naive, abs=1e-7)
    assert full.revenue == pytest.approx(naive, abs=1e-7)


def test_separation_adds_rows_on_scattered_samples() -> None:
    """On an empirical prior (nearest-neighbour seeds), separation must add IC rows; the result
    still equals the full LP and passes verification."""
    x = np.random.default_rng(3).random((60, 2)) * [1.0, 2.0]
    prior = empirical_prior(x)
    gen = optimal_menu(prior)
    full = optimal_menu(prior, constraints="full")
    assert gen.stats.rounds > 1
    assert gen.stats.ic_rows < full.stats.ic_rows
    assert gen.revenue == pytest.approx(full.revenue, abs=1e-8)
    assert gen.verification.passed


def test_item_symmetry_is_exact() -> None:
    """Merging identical items (1x3, K=5) changes neither the revenue nor feasibility."""
    prior = uniform_grid(3, 5)
    a = optimal_menu(prior)
    b = optimal_menu(prior, symmetry=False)
    assert a.stats.symmetry_order == 6 and b.stats.symmetry_order == 1
    assert a.revenue == pytest.approx(b.revenue, abs=1e-9)
    assert a.verification.passed


def test_time_limit_is_reported_not_raised() -> None:
    """A time limit too short for any LP solve returns a result that says so."""
    res = optimal_menu(uniform_grid(2, 60, points="corner"), time_limit=1e-9)
    # 1e-9 s runs out before the first LP solve, however fast the machine: no menu at all
    assert res.termination.reason is TerminationReason.NO_SOLUTION_FOUND
    assert res.termination.limit is Limit.TIME
    assert res.termination.detail
    assert res.payment.size == 0 and math.isnan(res.revenue)


def test_row_limit_returns_a_repaired_ic_menu() -> None:
    """When constraint generation must stop (LP row limit) before converging, every type gets
    its best entry of the last LP's menu: FEASIBLE, verified IC and IR, revenue at most the
    optimum."""
    prior = empirical_prior(np.random.default_rng(3).random((60, 2)) * [1.0, 2.0])
    best = optimal_menu(prior)
    seeds = len(prior.neighbour_pairs()[0])
    cut = optimal_menu(prior, limits=Limits(max_lp_rows=seeds + 1))
    assert cut.termination.reason is TerminationReason.FEASIBLE, cut.termination.detail
    assert cut.termination.limit is Limit.ROWS
    assert "max_lp_rows" in cut.termination.detail
    assert cut.verification.passed
    assert 0 < cut.revenue <= best.revenue + 1e-9
