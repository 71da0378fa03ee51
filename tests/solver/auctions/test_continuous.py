"""Issue 12: row limits, menus without LP noise, priors on any box, rounded-bid regret.

Every check is against an independent computation written from the math: exact polygon areas
(half-plane clipping) for a menu's revenue on a box, loops over types and entries for merged
menus, loops over every misreport for the rounded-bid regret.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mechsolve.solver.auctions import (
    Menu,
    continuous_menu_revenue,
    discrete_marginals,
    empirical_prior,
    extrapolate_optimum,
    optimal_bic_auction,
    optimal_dsic_auction,
    optimal_menu,
    regret_budget_auction,
    rounded_evaluation,
    uniform_grid,
)
from mechsolve.solver.auctions.evaluation import rounded_regrets
from mechsolve.solver.core.errors import MechsolveInputError
from mechsolve.solver.core.limits import Limits
from mechsolve.solver.core.results import Limit, TerminationReason

# ---------------------------------------------------------------- independent integration


def _clip(poly: list[tuple[float, float]], a: np.ndarray, b: float) -> list[tuple[float, float]]:
    """Sutherland-Hodgman: the part of a convex polygon where ``a . x >= b``."""
    out: list[tuple[float, float]] = []
    for k, p in enumerate(poly):
        q = poly[(k + 1) % len(poly)]
        fp, fq = float(a @ p) - b, float(a @ q) - b
        if fp >= 0:
            out.append(p)
        if (fp >= 0) != (fq >= 0):
            t = fp / (fp - fq)
            out.append((p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])))
    return out


def _area(poly: list[tuple[float, float]]) -> float:
    if len(poly) < 3:
        return 0.0
    x = np.array(poly)
    return 0.5 * abs(float(x[:, 0] @ np.roll(x[:, 1], -1) - x[:, 1] @ np.roll(x[:, 0], -1)))


def polygon_revenue(alloc: np.ndarray, price: np.ndarray, lo: list, hi: list) -> float:
    """Exact expected price on ``U[lo_0, hi_0] x U[lo_1, hi_1]``: entry ``e`` is bought on the
    convex polygon where ``q_e . v - p_e >= q_l . v - p_l`` for every other entry ``l`` and
    ``>= 0`` (the null entry); ties have measure zero for generic menus."""
    box = [(lo[0], lo[1]), (hi[0], lo[1]), (hi[0], hi[1]), (lo[0], hi[1])]
    q = np.vstack([alloc, np.zeros((1, 2))])
    p = np.concatenate([price, [0.0]])
    total = 0.0
    for e in range(len(price)):
        poly = box
        for other in range(len(p)):
            if other != e and poly:
                poly = _clip(poly, q[e] - q[other], float(p[e] - p[other]))
        total += p[e] * _area(poly)
    return total / ((hi[0] - lo[0]) * (hi[1] - lo[1]))


# ---------------------------------------------------------------- row limits


@pytest.fixture(scope="module")
def scattered() -> object:
    return empirical_prior(np.random.default_rng(3).random((12, 2)) * [1.0, 2.0])


@pytest.mark.parametrize("kind", ["dsic", "regret_budget", "bic"])
def test_row_limit_reports_no_revenue_and_the_relaxation_as_a_bound(kind: str, scattered) -> None:
    """An n-bidder LP stopped by max_lp_rows has no verified mechanism: no tables, revenue and
    objective nan, the relaxation's value (at least the true optimum) in info.bound, the
    limit named."""
    solve = {
        "dsic": lambda lim: optimal_dsic_auction(scattered, 2, limits=lim),
        "regret_budget": lambda lim: regret_budget_auction(scattered, 2, epsilon=1e-3, limits=lim),
        "bic": lambda lim: optimal_bic_auction(scattered, 2, limits=lim),
    }[kind]
    best = solve(None)
    assert best.termination.is_optimal and best.stats.rounds > 1
    cut = solve(Limits(max_lp_rows=best.stats.lp_rows - 1))
    assert cut.termination.reason is TerminationReason.NO_SOLUTION_FOUND
    assert cut.termination.limit is Limit.ROWS
    assert "max_lp_rows" in cut.termination.detail
    assert math.isnan(cut.revenue) and math.isnan(cut.objective)
    assert cut.info.bound >= best.revenue - 1e-9
    tables = cut.payment if isinstance(cut.payment, tuple) else (cut.payment,)
    assert all(np.size(t) == 0 for t in tables)


# ---------------------------------------------------------------- merged menus


def _brute_choice(values: np.ndarray, alloc: np.ndarray, price: np.ndarray) -> tuple:
    """Per type: best utility over the entries and nothing, and the price paid (ties to the
    higher price within 1e-9)."""
    utils, paid = [], []
    for v in values:
        best_u, best_p = 0.0, 0.0
        for q, p in zip(alloc, price, strict=True):
            u = float(q @ v - p)
            if u > best_u + 1e-9 or (abs(u - best_u) <= 1e-9 and p > best_p):
                best_u, best_p = max(u, best_u), p
        utils.append(best_u)
        paid.append(best_p)
    return np.array(utils), np.array(paid)


def test_unit_demand_menu_merges_to_its_three_entries() -> None:
    """Unit demand on U[2, 3]^2, K = 40: the LP's rows are 3 entries up to LP noise (0.5 of
    each item at 2.125, either item at 2.2875); the merged menu earns the LP revenue and every
    type's utility (checked by brute force), and its continuous evaluation is quick."""
    res = optimal_menu(uniform_grid(2, 40, lo=2.0, hi=3.0), unit_demand=True)
    menu = res.menu()
    assert len(menu.price) == 3
    order = np.argsort(menu.allocation[:, 0])
    want = np.array([[0.0, 1.0], [0.5, 0.5], [1.0, 0.0]])
    np.testing.assert_allclose(menu.allocation[order], want, atol=1e-7)
    np.testing.assert_allclose(menu.price[order], [2.2875, 2.125, 2.2875], atol=1e-7)
    utils, paid = _brute_choice(res.prior.values, menu.allocation, menu.price)
    assert float(res.prior.probs @ paid) == pytest.approx(res.revenue, abs=1e-6)
    np.testing.assert_allclose(utils, res.utility, atol=1e-6)
    assert menu.mass.sum() == pytest.approx(float(res.prior.probs[paid > 0].sum()))
    cont = continuous_menu_revenue(menu, max_cells=200_000)
    assert cont.error <= 1e-4


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), unit=st.booleans())
def test_merged_menus_verify(seed: int, unit: bool) -> None:
    """On random priors the merged menu is IC and IR by construction; brute force checks that
    every type gets its LP utility (within the LP tolerance) and the seller the LP revenue."""
    rng = np.random.default_rng(seed)
    prior = empirical_prior(rng.random((15, 2)) * rng.uniform(0.5, 3.0, 2))
    res = optimal_menu(prior, unit_demand=unit)
    menu = res.menu()
    utils, paid = _brute_choice(prior.values, menu.allocation, menu.price)
    np.testing.assert_allclose(utils, res.utility, atol=1e-6)
    assert float(prior.probs @ paid) == pytest.approx(res.revenue, abs=1e-6)
    assert menu.lo is None and menu.hi is None


# ---------------------------------------------------------------- priors on any box


def test_uniform_grid_per_item_box() -> None:
    prior = uniform_grid(2, 4, lo=[4.0, 4.0], hi=[16.0, 7.0])
    grid = prior.values.reshape(4, 4, 2)
    np.testing.assert_allclose(grid[:, 0, 0], [5.5, 8.5, 11.5, 14.5])
    np.testing.assert_allclose(grid[0, :, 1], [4.375, 5.125, 5.875, 6.625])
    assert prior.lo == 4.0 and prior.hi == (16.0, 7.0)
    _, hi = prior.box()
    np.testing.assert_array_equal(hi, [16.0, 7.0])
    np.testing.assert_array_equal(prior.cell_index(np.array([[15.9, 4.1], [4.0, 6.99]])), [12, 3])
    assert uniform_grid(2, 3, lo=[0.0, 0.0], hi=[1.0, 1.0]).hi == 1.0  # a cube stays scalar
    with pytest.raises(MechsolveInputError, match=r"`hi\[1\]`.*must be > lo=4.0"):
        uniform_grid(2, 3, lo=4.0, hi=[5.0, 3.0])
    with pytest.raises(MechsolveInputError, match=r"`lo`"):
        uniform_grid(2, 3, lo=[0.0, 0.0, 0.0], hi=1.0)


def test_example_additive_bidder_on_u4_16_by_u4_7() -> None:
    """One additive bidder, v1 ~ U[4, 16], v2 ~ U[4, 7]: the menu solved on the box grid,
    integrated on the box (bound checked against exact polygon areas), between the corner and
    midpoint grid optima; the extrapolation runs on the same box."""
    lo, hi = [4.0, 4.0], [16.0, 7.0]
    mid = optimal_menu(uniform_grid(2, 20, lo=lo, hi=hi))
    corner = optimal_menu(uniform_grid(2, 20, lo=lo, hi=hi, points="corner"))
    menu = mid.menu()
    assert menu.hi == (16.0, 7.0)
    cont = continuous_menu_revenue(menu, tol=1e-4)
    exact = polygon_revenue(menu.allocation, menu.price, lo, hi)
    assert abs(cont.revenue - exact) <= cont.error + 1e-9
    assert corner.revenue - 1e-9 <= cont.revenue <= mid.revenue + 1e-9
    ext = extrapolate_optimum(2, grids=(6, 12), lo=lo, hi=hi)
    assert ext.message == "" and math.isfinite(ext.estimate)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n_entries=st.integers(1, 6))
def test_box_menu_revenue_matches_exact_polygon_areas(seed: int, n_entries: int) -> None:
    """Random menus (lotteries at random prices) on random boxes: the adaptive-cell revenue is
    within its guaranteed error of the exact polygon-area revenue."""
    rng = np.random.default_rng(seed)
    lo = rng.uniform(0.0, 5.0, 2)
    hi = lo + rng.uniform(0.5, 10.0, 2)
    alloc = rng.random((n_entries, 2))
    price = alloc @ rng.uniform(lo, hi) * rng.uniform(0.5, 1.2)
    cont = continuous_menu_revenue(Menu(alloc, price), lo=list(lo), hi=list(hi), tol=1e-3)
    exact = polygon_revenue(alloc, price, list(lo), list(hi))
    assert cont.error_kind == "bound"
    assert abs(cont.revenue - exact) <= cont.error + 1e-9 * max(1.0, exact)


def test_menu_from_discrete_marginals_on_a_box() -> None:
    """A menu solved on discrete marginals has no box of its own; given one, it is integrated
    exactly (checked against polygon areas)."""
    prior = discrete_marginals([[1.0, 2.0, 4.0], [3.0, 5.0]], [[0.2, 0.5, 0.3], [0.6, 0.4]])
    menu = optimal_menu(prior).menu()
    with pytest.raises(MechsolveInputError, match="`lo`"):
        continuous_menu_revenue(menu)
    cont = continuous_menu_revenue(menu, lo=[1.0, 3.0], hi=[4.0, 5.0], tol=1e-4)
    exact = polygon_revenue(menu.allocation, menu.price, [1.0, 3.0], [4.0, 5.0])
    assert abs(cont.revenue - exact) <= cont.error + 1e-9


# ---------------------------------------------------------------- rounded-bid regret


def test_rounded_bid_regret_equals_brute_force_over_misreports() -> None:
    """2 bidders, 2 items, boxes differing per bidder and item, a DSIC grid mechanism (K=3)
    and a regret-budget one: at random continuous profiles, bids rounded to the grid, the
    regret equals a loop over every misreport of every bidder."""
    priors = [
        uniform_grid(2, 3, lo=[0.0, 1.0], hi=[1.0, 3.0]),
        uniform_grid(2, 3, lo=[0.5, 0.0], hi=[2.0, 1.0], points="corner"),
    ]
    rng = np.random.default_rng(11)
    for res in (
        optimal_dsic_auction(priors),
        regret_budget_auction(priors, epsilon=0.02),
    ):
        alloc, pay = res.allocation, res.payment
        vals = np.stack(
            [lo + (hi - lo) * rng.random((40, 2)) for lo, hi in (p.box() for p in priors)], 1
        )
        regret, paid = rounded_regrets(alloc, pay, priors, vals)
        for s in range(len(vals)):
            cells = []
            for i, p in enumerate(priors):  # round each bid down to its cell, by hand
                lo, hi = p.box()
                c = np.minimum(((vals[s, i] - lo) / ((hi - lo) / 3)).astype(int), 2)
                cells.append(int(c[0] * 3 + c[1]))
            for i in range(2):
                utils = []
                for report in range(9):  # every misreport of bidder i
                    prof = list(cells)
                    prof[i] = report
                    utils.append(float(alloc[tuple(prof)][i] @ vals[s, i] - pay[tuple(prof)][i]))
                gain = max(max(utils) - utils[cells[i]], 0.0)
                assert regret[s, i] == pytest.approx(gain, abs=1e-12)
                assert paid[s, i] == pay[tuple(cells)][i]
        ev = rounded_evaluation(alloc, pay, priors, n_samples=500, seed=1)
        assert ev.revenue == pytest.approx(float((pay.sum(-1) / 81).sum()))


def test_rounded_regret_of_a_menu_is_its_grid_gap() -> None:
    """One bidder: with bids rounded, the regret at ``v`` is the best entry's utility minus
    the rounded cell's entry's utility (every entry is a report)."""
    prior = uniform_grid(2, 4, lo=[4.0, 4.0], hi=[16.0, 7.0])
    res = optimal_dsic_auction(prior)
    vals = np.random.default_rng(2).uniform([4.0, 4.0], [16.0, 7.0], (50, 1, 2))
    regret, _ = rounded_regrets(res.allocation, res.payment, [prior], vals)
    u = np.einsum("km,tm->kt", vals[:, 0], res.allocation[:, 0]) - res.payment[:, 0][None]
    own = u[np.arange(50), prior.cell_index(vals[:, 0])]
    np.testing.assert_allclose(regret[:, 0], u.max(axis=1) - own, atol=1e-12)


# ---------------------------------------------------------------- the learned-auction table


def test_learned_auction_comparison_rows() -> None:
    """A row measures the LP mechanism as the papers do: its sample revenue estimates the grid
    revenue (the exact expectation with rounded bids), its grid regret is the budget, and a
    bigger budget buys grid revenue."""
    from mechsolve.solver.auctions.comparison import learned_auction_comparison

    dsic = learned_auction_comparison(2, 2, 3, n_samples=4000, seed=3)
    loose = learned_auction_comparison(2, 2, 3, epsilon=1e-2, n_samples=4000, seed=3)
    for row in (dsic, loose):
        assert row.status == "optimal" and row.n_samples == 4000
        assert abs(row.revenue - row.grid_revenue) <= 5 * row.revenue_se
        assert row.regret > 0 and row.regret_se > 0
    assert dsic.grid_regret == 0.0
    assert loose.grid_regret == pytest.approx(1e-2, rel=1e-6)
    assert loose.grid_revenue > dsic.grid_revenue
    with pytest.raises(MechsolveInputError, match="`grid`"):
        learned_auction_comparison(1, 2, 1)
    with pytest.raises(MechsolveInputError, match="`epsilon`"):
        learned_auction_comparison(1, 2, 3, epsilon=-1.0)


def test_cli_compare_table(capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    from mechsolve.cli import auction

    parser = argparse.ArgumentParser()
    auction.register(parser.add_subparsers())
    args = parser.parse_args(
        ["auction", "--compare-table", "--items", "2", "--grid", "4", "--eval-samples", "500"]
    )
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "1x2, grid K=4" in out and "0.572 / 0.00070" in out and "DSIC" in out
