"""Continuous-prior evaluation of menus, rounded bids, Richardson extrapolation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mechsolve.solver.auctions import (
    Menu,
    continuous_menu_revenue,
    optimal_dsic_auction,
    richardson,
    rounded_evaluation,
    sampled_menu_revenue,
    uniform_grid,
)
from mechsolve.solver.auctions.audit import bidder_menus


def _menu(alloc: list[list[float]], price: list[float]) -> Menu:
    return Menu(np.array(alloc, float), np.array(price, float), np.zeros(len(price)))


@settings(max_examples=12)
@given(p1=st.floats(0.05, 0.95), p2=st.floats(0.05, 0.95), pb=st.floats(0.1, 1.9))
def test_separate_and_bundle_prices_closed_form(p1: float, p2: float, pb: float) -> None:
    """Selling items separately (entries: each item, and both at p1 + p2) gives
    p1(1-p1) + p2(1-p2); a pure bundle at pb gives pb Pr[v1 + v2 >= pb]. Each lies within the
    returned error bound (tol 1e-5) of the closed form."""
    menu = _menu([[1, 0], [0, 1], [1, 1]], [p1, p2, p1 + p2])
    exact = p1 * (1 - p1) + p2 * (1 - p2)
    est = continuous_menu_revenue(menu, lo=0.0, hi=1.0)
    assert est.error <= 2e-5
    assert abs(est.revenue - exact) <= est.error + 1e-12
    bundle = _menu([[1, 1]], [pb])
    area = 1 - (pb**2 / 2 if pb <= 1 else 1 - (2 - pb) ** 2 / 2)
    est = continuous_menu_revenue(bundle, lo=0.0, hi=1.0)
    assert abs(est.revenue - pb * area) <= est.error + 1e-12


def test_manelli_vincent_mechanism_exact() -> None:
    """The Manelli-Vincent menu itself evaluates to 4/9 + 2 sqrt(2)/27 within its error bound
    (tol 1e-5, bound <= 2e-5)."""
    menu = _menu([[1, 0], [0, 1], [1, 1]], [2 / 3, 2 / 3, (4 - math.sqrt(2)) / 3])
    est = continuous_menu_revenue(menu, lo=0.0, hi=1.0)
    assert est.error <= 2e-5
    assert abs(est.revenue - (4 / 9 + 2 * math.sqrt(2) / 27)) <= est.error


def test_monte_carlo_agrees() -> None:
    """Monte Carlo (200k samples) agrees with the integrator within 4 standard errors; on a box
    [1, 3] the integrator rescales."""
    menu = _menu([[1, 0], [0, 1], [1, 1], [0.5, 0.5]], [1.6, 1.7, 3.1, 0.9])
    x = 1.0 + 2.0 * np.random.default_rng(0).random((200_000, 2))
    mc = sampled_menu_revenue(menu, x)
    est = continuous_menu_revenue(menu, lo=1.0, hi=3.0)
    assert abs(mc.revenue - est.revenue) <= 4 * mc.error + est.error


def test_rounded_evaluation_matches_direct_computation() -> None:
    """The rounded-bid regret of one sampled profile equals a direct max over grid reports."""
    prior = uniform_grid(1, 6)
    res = optimal_dsic_auction(prior, 2)
    ev = rounded_evaluation(res.allocation, res.payment, prior, n_samples=2, seed=7)
    gen = np.random.default_rng(7)
    vals = np.stack([gen.random((2, 1)) for _ in range(2)], axis=1)  # same draws as the code
    cells = np.stack([prior.cell_index(vals[:, i]) for i in range(2)], axis=1)
    regrets = []
    for s in range(2):
        per = []
        for i in range(2):
            a_i, p_i = bidder_menus(res.allocation, res.payment, i)
            r = cells[s, 1 - i]
            util = a_i[r] @ vals[s, i] - p_i[r]
            per.append(util.max() - util[cells[s, i]])
        regrets.append(np.mean(per))
    assert ev.regret_mean == pytest.approx(np.mean(regrets), abs=1e-12)


def test_richardson_is_exact_for_c_over_k() -> None:
    """1x1 midpoint grids have revenue 1/4 + 1/(4K) exactly: extrapolation returns 1/4."""
    assert richardson(10, 0.25 + 1 / 40, 30, 0.25 + 1 / 120) == pytest.approx(0.25, abs=1e-15)
