"""Evaluation of grid mechanisms on the continuous prior, and grid extrapolation.

- One bidder: a menu is exactly IC for continuous types (the buyer picks the entry maximizing
  ``q . v - p``; ties favour the seller), so its revenue on ``U[lo, hi]^m`` is a true lower
  bound on the continuous optimum. :func:`continuous_menu_revenue` integrates it with a
  guaranteed error bound by adaptive cell refinement; :func:`sampled_menu_revenue` averages it
  over samples (Monte Carlo, standard error).
- n bidders: :func:`rounded_evaluation` runs the grid mechanism on continuous values with bids
  rounded to their grid cell: the revenue equals the grid revenue exactly, the ex-post regret
  (best gain over every possible bid, i.e. every grid report) is estimated by Monte Carlo.
- :func:`richardson` / :func:`extrapolate_optimum`: grid optima behave like ``R* + c/K``
  (midpoint grids from above, corner grids from below), so two grids give
  ``R* ~ (K2 R(K2) - K1 R(K1)) / (K2 - K1)``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..core import validation as v
from ..core.errors import MechsolveInputError, ProblemTooLargeError
from ..core.limits import Limits, power_size, resolve
from ..core.results import Stopwatch
from .arguments import MAX_BIDDERS, bidder_priors, check_profiles
from .audit import bidder_menus
from .priors import (
    GRID_POINTS,
    MAX_VALUE,
    TypePrior,
    box_bounds,
    profile_probs,
    uniform_grid,
)
from .results import (
    ContinuousRevenue,
    Extrapolation,
    Menu,
    RoundedEvaluation,
)
from .separation import best_deviation, seller_favoured_choice

START_CELLS = 8
"""Cells per axis of the first level of :func:`continuous_menu_revenue`."""


def _menu_arrays(
    function: str, menu: Any, lo: Any, hi: Any, limits: Limits
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Menu entries (with the null entry appended) and the box ``prod_j [lo_j, hi_j]`` as
    ``(m,)`` arrays (the menu's own by default)."""
    if not isinstance(menu, Menu):
        raise MechsolveInputError(
            function, "menu", f"must be a Menu (MenuResult.menu()); got {type(menu).__name__}"
        )
    alloc, price = _entries(function, menu, limits)
    lo = menu.lo if lo is None else lo
    hi = menu.hi if hi is None else hi
    if lo is None or hi is None:
        raise MechsolveInputError(
            function, "lo", "and `hi` are required unless the menu comes from a uniform grid"
        )
    lo_a, hi_a = box_bounds(function, lo, hi, alloc.shape[1], min_lo=-MAX_VALUE)
    return alloc, price, lo_a, hi_a


def _entries(
    function: str, menu: Menu, limits: Limits
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The menu's entries with the null entry appended, validated (``max_types`` entries)."""
    alloc = v.float_array(function, "menu.allocation", menu.allocation, ndim=2, allow_empty=True)
    n_entries, m = alloc.shape
    if m == 0:
        raise MechsolveInputError(
            function, "menu.allocation", f"must have at least one item column; got {alloc.shape}"
        )
    limits.check(function, "menu.allocation", n_entries, "max_types")
    price = v.float_array(
        function, "menu.price", menu.price, shape=(n_entries,), allow_empty=True,
        min_value=-MAX_VALUE, max_value=MAX_VALUE,
    )  # fmt: skip
    return np.vstack([alloc, np.zeros((1, m))]), np.concatenate([price, [0.0]])


def continuous_menu_revenue(
    menu: Menu,
    *,
    lo: float | Sequence[float] | None = None,
    hi: float | Sequence[float] | None = None,
    tol: float = 1e-5,
    max_cells: int | None = None,
    limits: Limits | None = None,
) -> ContinuousRevenue:
    """Expected price paid when a buyer with values ``prod_j U[lo_j, hi_j]`` picks from
    ``menu`` (ties favour the seller): any menu (from a uniform grid, discrete marginals or
    samples) on any box (``lo``/``hi``: one number for every item or one per item).

    Adaptive cells: within a box of half-widths ``h_j`` around ``c`` an entry ``l`` can beat
    the best entry ``b`` at ``c`` only if ``U_b(c) - U_l(c) < sum_j h_j |q_bj - q_lj|`` (with
    equality it ties ``b`` at a corner at most, a null set). A cell whose
    candidates' prices lie within ``tol`` of each other is settled at the middle of that range;
    the others are split in ``2^m`` (keeping only their candidates) until their uncertainty
    ``sum vol (p_max - p_min) / 2`` is at most ``tol`` or a level would exceed ``max_cells``
    cells. The returned ``error`` (settled plus open uncertainty) bounds ``|revenue - exact|``.
    ``lo``/``hi`` default to the menu's box (a menu from a uniform grid has one).
    ``max_cells`` (``None``: ``limits.max_candidates``) and the first level's cells x entries
    are bounded by ``limits.max_candidates``.
    """
    fn = "continuous_menu_revenue"
    lim = resolve(limits)
    alloc, price, lo_a, hi_a = _menu_arrays(fn, menu, lo, hi, lim)
    tol_f = v.real(fn, "tol", tol, min_value=0.0, min_exclusive=True)
    cap = lim.max_candidates if max_cells is None else v.positive_int(fn, "max_cells", max_cells)
    lim.check(fn, "max_cells", cap, "max_candidates")
    m = alloc.shape[1]
    if m > 32 or START_CELLS**m > cap:
        raise ProblemTooLargeError(
            fn, "menu.allocation",
            f"has {m} items: the first level of {START_CELLS}^{m} cells is over max_cells={cap}",
        )  # fmt: skip
    lim.check(fn, "menu.allocation", START_CELLS**m * len(price), "max_candidates")
    n0 = START_CELLS
    grid = (np.arange(n0) + 0.5) / n0
    centres = np.stack([g.ravel() for g in np.meshgrid(*[grid] * m, indexing="ij")], axis=1)
    centres = lo_a + (hi_a - lo_a) * centres
    half = (hi_a - lo_a) / (2 * n0)
    vol = 1.0 / n0**m
    cand = np.broadcast_to(np.arange(len(price)), (len(centres), len(price)))
    total, error, evaluated = 0.0, 0.0, 0
    offsets = np.stack([g.ravel() for g in np.meshgrid(*[[-0.5, 0.5]] * m, indexing="ij")], axis=1)
    while True:
        evaluated += len(centres)
        alive, p_lo, p_hi = _cell_candidates(centres, half, cand, alloc, price)
        spread = p_hi - p_lo
        settled = spread <= tol_f  # price known to within tol: at most vol * tol / 2 error
        total += vol * float((p_lo[settled] + p_hi[settled]).sum()) / 2.0
        error += vol * float(spread[settled].sum()) / 2.0
        open_ = ~settled
        pending = vol * float(spread[open_].sum()) / 2.0
        n_children = int(open_.sum()) * 2**m
        if pending <= tol_f or n_children > cap or n_children == 0:
            total += vol * float((p_lo[open_] + p_hi[open_]).sum()) / 2.0
            return ContinuousRevenue(total, error + pending, "bound", "adaptive_cells", evaluated)
        centres = (centres[open_][:, None, :] + half * offsets[None]).reshape(-1, m)
        cand = np.repeat(alive[open_], 2**m, axis=0)
        half /= 2.0
        vol /= 2**m


def _cell_candidates(
    centres: NDArray[np.float64],
    half: NDArray[np.float64],
    cand: NDArray[np.int64],
    alloc: NDArray[np.float64],
    price: NDArray[np.float64],
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """Entries that can be chosen somewhere in each cell (``-1``-padded, compacted) and the
    range of their prices."""
    valid = cand >= 0
    c = np.where(valid, cand, 0)
    util = np.einsum("cm,ckm->ck", centres, alloc[c]) - price[c]
    util = np.where(valid, util, -np.inf)
    b = util.argmax(axis=1)
    best = np.take_along_axis(util, b[:, None], axis=1)
    qb = alloc[np.take_along_axis(c, b[:, None], axis=1)[:, 0]]
    reach = (np.abs(alloc[c] - qb[:, None, :]) * half).sum(axis=2)
    # an entry with slack >= reach at most ties the best one on the cell's boundary (measure 0)
    is_best = np.arange(cand.shape[1])[None, :] == b[:, None]
    ok = valid & ((best - util < reach) | is_best)
    width = int(ok.sum(axis=1).max())
    order = np.argsort(~ok, axis=1, kind="stable")[:, :width]
    kept = np.where(
        np.take_along_axis(ok, order, axis=1), np.take_along_axis(cand, order, axis=1), -1
    )
    prices = np.where(ok, price[c], np.nan)
    return kept, np.nanmin(prices, axis=1), np.nanmax(prices, axis=1)


def sampled_menu_revenue(
    menu: Menu, samples: Any, *, limits: Limits | None = None
) -> ContinuousRevenue:
    """Mean price paid by buyers with valuations ``samples`` (``(N, m)``) picking from
    ``menu``, with its Monte Carlo standard error (at most ``limits.max_types`` samples)."""
    fn = "sampled_menu_revenue"
    lim = resolve(limits)
    if not isinstance(menu, Menu):
        raise MechsolveInputError(
            fn, "menu", f"must be a Menu (MenuResult.menu()); got {type(menu).__name__}"
        )
    alloc, price = _entries(fn, menu, lim)
    m = alloc.shape[1]
    x = v.float_array(fn, "samples", samples, shape=(None, m), min_value=0.0, max_value=MAX_VALUE)
    lim.check(fn, "samples", x.shape[0], "max_types")
    paid = price[seller_favoured_choice(x, alloc, price)]
    se = float(paid.std(ddof=1) / math.sqrt(len(paid))) if len(paid) > 1 else math.inf
    return ContinuousRevenue(float(paid.mean()), se, "standard_error", "monte_carlo", len(paid))


def rounded_evaluation(
    allocation: Any,
    payment: Any,
    priors: Any,
    *,
    n_samples: int = 100_000,
    seed: int | None = None,
    limits: Limits | None = None,
) -> RoundedEvaluation:
    """Run a grid mechanism, tables ``allocation (T_1, ..., T_n, n, m)`` and ``payment
    (T_1, ..., T_n, n)`` on uniform-grid ``priors`` (one shared or one per bidder), on
    continuous values ``prod_j U[lo_j, hi_j]`` (each prior's box) with every bid rounded to
    its grid cell: the revenue is
    exact (``sum_t f(t) sum_i payment[t, i]``), the ex-post regret Monte Carlo with an exact
    inner maximum over every possible bid. ``seed`` (``None``: fresh entropy, recorded)."""
    fn = "rounded_evaluation"
    lim = resolve(limits)
    pay = v.float_array(fn, "payment", payment, min_value=-MAX_VALUE, max_value=MAX_VALUE)
    n = pay.shape[-1] if pay.ndim >= 2 else 0
    ps = bidder_priors(fn, priors, n if isinstance(priors, TypePrior) and n else None)
    check_profiles(fn, ps, lim, interim=False)
    shape = tuple(p.n_types for p in ps)
    n, m = len(ps), ps[0].n_items
    alloc = v.float_array(fn, "allocation", allocation, shape=(*shape, n, m))
    pay = v.float_array(fn, "payment", pay, shape=(*shape, n))
    for i, p in enumerate(ps):
        if not p.is_uniform_grid:
            raise MechsolveInputError(
                fn, f"priors[{i}]", f"must be a uniform grid; got kind={p.kind.value!r}"
            )
    n_s = v.positive_int(fn, "n_samples", n_samples, minimum=2)
    lim.check(fn, "n_samples", n_s, "max_types")
    seed_used = v.seed(fn, seed)
    gen = np.random.default_rng(seed_used)
    menus = [bidder_menus(alloc, pay, i) for i in range(n)]
    boxes = [p.box() for p in ps]
    regret = np.empty((n_s, n))
    for s0 in range(0, n_s, EVAL_BATCH):
        k = min(EVAL_BATCH, n_s - s0)
        vals = np.stack([lo + (hi - lo) * gen.random((k, m)) for lo, hi in boxes], axis=1)
        regret[s0 : s0 + k] = _rounded_regrets(menus, ps, vals)
    per_sample = regret.mean(axis=1)
    return RoundedEvaluation(
        revenue=float((pay.sum(axis=-1) * profile_probs(ps)).sum()),
        regret_mean=float(per_sample.mean()),
        regret_mean_se=float(per_sample.std(ddof=1) / math.sqrt(n_s)),
        regret_per_bidder=regret.mean(axis=0),
        regret_max_observed=float(regret.max()),
        n_samples=n_s,
        seed=seed_used,
    )


EVAL_BATCH = 8192
"""Continuous profiles evaluated per vectorized step of :func:`rounded_evaluation`."""


def rounded_regrets(
    allocation: NDArray[np.float64],
    payment: NDArray[np.float64],
    priors: Sequence[TypePrior],
    values: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Ex-post regret and payment of every bidder at continuous profiles ``values (k, n, m)``
    of the grid mechanism ``allocation (T_1, ..., T_n, n, m)``, ``payment (T_1, ..., T_n,
    n)`` on uniform grids ``priors`` (one per bidder), bids rounded to their grid cells:
    ``regret[s, i] = max_b (v_i . q_i(b, c_-i) - p_i(b, c_-i)) - (v_i . q_i(c) - p_i(c))``
    over every grid report ``b`` of bidder ``i`` (every possible bid), ``c`` the profile of
    cells; ``paid[s, i] = p_i(c)``. Both ``(k, n)``. Trusted input (see
    :func:`rounded_evaluation` for the validated call)."""
    n = len(priors)
    menus = [bidder_menus(allocation, payment, i) for i in range(n)]
    cells = np.stack([p.cell_index(values[:, i]) for i, p in enumerate(priors)], axis=1)
    return _rounded_regrets(menus, priors, values), payment[tuple(cells.T)]


def _rounded_regrets(
    menus: Sequence[tuple[NDArray[np.float64], NDArray[np.float64]]],
    priors: Sequence[TypePrior],
    vals: NDArray[np.float64],
) -> NDArray[np.float64]:
    """:func:`rounded_regrets`' regrets, from every bidder's menus (:func:`.audit.bidder_menus`)."""
    n = len(priors)
    k = vals.shape[0]
    shape = tuple(p.n_types for p in priors)
    cells = np.stack([p.cell_index(vals[:, i]) for i, p in enumerate(priors)], axis=1)
    regret = np.empty((k, n))
    for i, (a_i, p_i) in enumerate(menus):
        others = cells[:, [j for j in range(n) if j != i]]
        r = (
            np.ravel_multi_index(tuple(others.T), shape[:i] + shape[i + 1 :])
            if n > 1
            else np.zeros(k, np.int64)
        )
        best, _ = best_deviation(vals[:, i][:, None, :], a_i[r], p_i[r])
        own = cells[:, i]
        truthful = np.einsum("km,km->k", a_i[r, own], vals[:, i]) - p_i[r, own]
        regret[:, i] = np.maximum(best[:, 0] - truthful, 0.0)
    return regret


def richardson(k1: int, r1: float, k2: int, r2: float) -> float:
    """``(K2 R2 - K1 R1) / (K2 - K1)``: removes the ``c / K`` term of ``R(K) = R* + c/K``."""
    fn = "richardson"
    a = v.positive_int(fn, "k1", k1)
    b = v.positive_int(fn, "k2", k2)
    if a == b:
        raise MechsolveInputError(fn, "k2", f"must differ from k1={a}; got {b}")
    return (b * v.real(fn, "r2", r2) - a * v.real(fn, "r1", r1)) / (b - a)


def extrapolate_optimum(
    n_items: int,
    n_bidders: int = 1,
    grids: tuple[int, int] = (20, 40),
    *,
    points: str = "midpoint",
    lo: float | Sequence[float] = 0.0,
    hi: float | Sequence[float] = 1.0,
    unit_demand: bool = False,
    limits: Limits | None = None,
    time_limit: float | None = None,
) -> Extrapolation:
    """Estimate the continuous optimum on ``prod_j U[lo_j, hi_j]`` (``lo``/``hi``: one number
    for every item or one per item; i.i.d. bidders; DSIC for
    ``n_bidders > 1``) by Richardson extrapolation of the grid optima at ``K1, K2``."""
    from .multi_bidder import optimal_dsic_auction
    from .one_bidder import optimal_menu

    fn = "extrapolate_optimum"
    watch = Stopwatch()
    pts = v.choice(fn, "points", points, GRID_POINTS)
    if not isinstance(grids, tuple | list) or len(grids) != 2:
        raise MechsolveInputError(fn, "grids", f"must be two grid sizes (K1, K2); got {grids!r}")
    ks = (
        v.positive_int(fn, "grids[0]", grids[0], minimum=2),
        v.positive_int(fn, "grids[1]", grids[1], minimum=2),
    )
    if ks[0] == ks[1]:
        raise MechsolveInputError(fn, "grids[1]", f"must differ from grids[0]={ks[0]}; got {ks[1]}")
    m = v.positive_int(fn, "n_items", n_items)
    nb = v.positive_int(fn, "n_bidders", n_bidders)
    if nb > MAX_BIDDERS:
        raise MechsolveInputError(fn, "n_bidders", f"must be at most {MAX_BIDDERS}; got {nb}")
    lim = resolve(limits)
    for i, k in enumerate(ks):  # every grid within the limits before solving any
        lim.check(fn, f"grids[{i}]", power_size(k, m * nb), "max_types")
    grid = functools.partial(uniform_grid, m, lo=lo, hi=hi, points=pts, limits=lim)
    try:
        priors = [grid(k) for k in ks]
    except MechsolveInputError as exc:  # lo, hi: name them as this function's arguments
        raise type(exc)(fn, exc.argument, exc.detail) from exc
    revenues: list[float] = []
    message = ""
    for k, prior in zip(ks, priors, strict=True):
        remaining = watch.remaining(time_limit)
        if remaining is not None and remaining <= 0.0:
            message = f"time limit reached before the grid K={k} was solved"
            break
        res = (
            optimal_menu(prior, unit_demand=unit_demand, limits=lim, time_limit=remaining)
            if nb == 1
            else optimal_dsic_auction(
                prior, nb, unit_demand=unit_demand, limits=lim, time_limit=remaining
            )
        )
        if not res.termination.is_optimal:
            message = (
                f"the grid K={k} ended {res.termination.reason.value}: {res.termination.detail}"
            )
            break
        revenues.append(res.revenue)
    if message:
        revenues += [math.nan] * (2 - len(revenues))
        est = math.nan
    else:
        est = richardson(ks[0], revenues[0], ks[1], revenues[1])
    return Extrapolation(est, ks, (revenues[0], revenues[1]), pts, watch.elapsed, message)
