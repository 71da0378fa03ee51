"""LP mechanisms measured the way the learned-auction papers measure theirs (seed 004, first
study, Table 1; RegretNet, Duetting et al. 2019).

A learned auction is a function of continuous bids; its revenue and its mean ex-post regret per
bidder are averaged over valuation profiles drawn from the continuous prior, the regret's inner
maximum over misreports found by gradient ascent. :func:`learned_auction_comparison` does the
same for a grid LP mechanism (exactly DSIC, or at a regret budget on its grid) run on continuous
values with every bid rounded to its grid cell (:func:`.evaluation.rounded_regrets`): the best
misreport is found exactly (every grid report, i.e. every possible bid), and the revenue is the
sample mean of the payments (its expectation is exactly the grid revenue), both with their
standard errors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core import validation as v
from ..core.errors import MechsolveInputError
from ..core.limits import Limits, resolve
from ..core.results import Stopwatch
from .arguments import MAX_BIDDERS
from .audit import audit_result
from .evaluation import EVAL_BATCH, rounded_regrets
from .multi_bidder import optimal_dsic_auction
from .priors import GRID_POINTS, uniform_grid
from .regret_budget import regret_budget_auction

MODELS = ("RegretNet", "EquivariantNet", "RegretFormer")
"""The learned auctions of seed 004, Table 1."""
SEED_TABLE1: dict[tuple[str, str], dict[str, tuple[float, float]]] = {
    ("1e-3", "1x2"): {
        "RegretNet": (0.572, 0.00070),
        "EquivariantNet": (0.586, 0.00065),
        "RegretFormer": (0.571, 0.00075),
    },
    ("1e-3", "2x2"): {
        "RegretNet": (0.889, 0.00055),
        "EquivariantNet": (0.878, 0.00080),
        "RegretFormer": (0.908, 0.00054),
    },
    ("1e-3", "2x3"): {
        "RegretNet": (1.317, 0.00102),
        "EquivariantNet": (1.365, 0.00084),
        "RegretFormer": (1.416, 0.00089),
    },
    ("1e-3", "2x5"): {
        "RegretNet": (2.339, 0.00142),
        "EquivariantNet": (2.437, 0.00146),
        "RegretFormer": (2.453, 0.00102),
    },
    ("1e-3", "3x10"): {
        "RegretNet": (5.590, 0.00204),
        "EquivariantNet": (5.744, 0.00167),
        "RegretFormer": (6.121, 0.00179),
    },
    ("1e-4", "1x2"): {
        "RegretNet": (0.551, 0.00007),
        "EquivariantNet": (0.548, 0.00013),
        "RegretFormer": (0.556, 0.00014),
    },
    ("1e-4", "2x2"): {
        "RegretNet": (0.825, 0.00005),
        "EquivariantNet": (0.750, 0.00005),
        "RegretFormer": (0.861, 0.00006),
    },
    ("1e-4", "2x3"): {
        "RegretNet": (1.249, 0.00007),
        "EquivariantNet": (1.226, 0.00010),
        "RegretFormer": (1.327, 0.00011),
    },
    ("1e-4", "2x5"): {
        "RegretNet": (2.121, 0.00013),
        "EquivariantNet": (2.168, 0.00017),
        "RegretFormer": (2.339, 0.00015),
    },
    ("1e-4", "3x10"): {
        "RegretNet": (5.020, 0.00062),
        "EquivariantNet": (5.120, 0.00025),
        "RegretFormer": (5.745, 0.00022),
    },
}
"""Seed 004 (``004_12b8a0182d8bd540.txt``) Table 1, transcribed:
``{(R_max, setting): {model: (revenue, mean regret per bidder)}}``."""


@dataclass(frozen=True)
class ComparisonRow:
    """One LP mechanism measured on the continuous prior.

    Attributes:
        setting: ``"{n}x{m}"``; grid: points per item ``K``; points: grid kind.
        epsilon: the regret budget on the grid (0: exactly DSIC on the grid).
        status: how the LP ended (``"optimal"`` or why not; then the numbers are ``nan``).
        grid_revenue: the LP's revenue on its grid (= the expected revenue with rounded bids).
        grid_regret: the audited mean ex-post regret on the grid (types reporting types).
        revenue, revenue_se: mean total payment over the sampled profiles, standard error.
        regret, regret_se: mean over bidders and samples of the ex-post regret with rounded
            bids (best misreport found exactly), standard error (of the per-profile mean over
            bidders).
        regret_max_observed: the largest regret of any bidder at any sampled profile.
        n_samples: profiles drawn; seed: the draw's seed.
        solve_time_s, eval_time_s: seconds to solve the LP and to measure it.
    """

    setting: str
    grid: int
    points: str
    epsilon: float
    status: str
    grid_revenue: float
    grid_regret: float
    revenue: float
    revenue_se: float
    regret: float
    regret_se: float
    regret_max_observed: float
    n_samples: int
    seed: int
    solve_time_s: float
    eval_time_s: float


def learned_auction_comparison(
    n_bidders: int,
    n_items: int,
    grid: int,
    *,
    epsilon: float = 0.0,
    points: str = "midpoint",
    n_samples: int = 100_000,
    seed: int = 0,
    limits: Limits | None = None,
    time_limit: float | None = None,
) -> ComparisonRow:
    """Solve the grid LP for ``n_bidders`` i.i.d. additive bidders with values ``U[0, 1]``
    on ``n_items`` items (``grid`` points per item; DSIC when ``epsilon == 0``, else mean
    ex-post grid regret at most ``epsilon``) and measure it on ``n_samples`` profiles drawn
    from ``U[0, 1]^{n x m}`` with bids rounded to the grid (see the module docstring)."""
    fn = "learned_auction_comparison"
    n = v.positive_int(fn, "n_bidders", n_bidders)
    if n > MAX_BIDDERS:
        raise MechsolveInputError(fn, "n_bidders", f"must be at most {MAX_BIDDERS}; got {n}")
    eps = v.real(fn, "epsilon", epsilon, min_value=0.0)
    pts = v.choice(fn, "points", points, GRID_POINTS)
    n_s = v.positive_int(fn, "n_samples", n_samples, minimum=2)
    lim = resolve(limits)
    lim.check(fn, "n_samples", n_s, "max_types")
    seed_used = v.seed(fn, seed)
    try:
        prior = uniform_grid(n_items, grid, points=pts, limits=lim)
    except MechsolveInputError as exc:  # name the argument as this function's
        arg = "grid" if exc.argument == "points_per_item" else exc.argument
        raise type(exc)(fn, arg, exc.detail) from exc
    m = prior.n_items
    watch = Stopwatch()
    res = (
        regret_budget_auction(prior, n, epsilon=eps, limits=lim, time_limit=time_limit)
        if eps > 0.0
        else optimal_dsic_auction(prior, n, limits=lim, time_limit=time_limit)
    )
    solve_time = watch.elapsed
    nan = math.nan
    if not res.termination.is_optimal:
        status = f"{res.termination.reason.value}: {res.termination.detail}"
        return ComparisonRow(
            f"{n}x{m}", grid, pts, eps, status, nan, nan, nan, nan, nan, nan, nan, n_s,
            seed_used, solve_time, 0.0,
        )  # fmt: skip
    t0 = watch.elapsed
    gen = np.random.default_rng(np.random.SeedSequence([seed_used, n, m, grid]))
    priors: list[Any] = list(res.priors)
    revenue = np.empty(n_s)
    regret = np.empty((n_s, n))
    for s0 in range(0, n_s, EVAL_BATCH):
        k = min(EVAL_BATCH, n_s - s0)
        vals = gen.random((k, n, m))
        reg, paid = rounded_regrets(res.allocation, res.payment, priors, vals)
        regret[s0 : s0 + k] = reg
        revenue[s0 : s0 + k] = paid.sum(axis=1)
    per_profile = regret.mean(axis=1)
    root = math.sqrt(n_s)
    return ComparisonRow(
        setting=f"{n}x{m}",
        grid=grid,
        points=pts,
        epsilon=eps,
        status=res.termination.reason.value,
        grid_revenue=res.revenue,
        grid_regret=audit_result(res).regret_mean,
        revenue=float(revenue.mean()),
        revenue_se=float(revenue.std(ddof=1) / root),
        regret=float(per_profile.mean()),
        regret_se=float(per_profile.std(ddof=1) / root),
        regret_max_observed=float(regret.max()),
        n_samples=n_s,
        seed=seed_used,
        solve_time_s=solve_time,
        eval_time_s=watch.elapsed - t0,
    )
