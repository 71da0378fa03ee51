"""A one-bidder mechanism's menu without LP noise.

An LP solution gives every type its own row ``(q(t), p(t))``; types that share a menu entry get
rows equal only up to the LP's tolerances (HiGHS: ``1e-7``), e.g. 138 rows that are 3 entries
for the unit-demand menu on ``U[2, 3]^2`` at ``K = 40``. :func:`distinct_menu` merges rows
within ``tol`` of each other (allocation within ``tol``, price within ``tol`` times the value
scale), keeping the row of the largest mass of each group, and lets every type choose again.

Why the merged menu still verifies: a menu with the null entry is IC and IR for every type by
construction (each type takes its best entry or nothing, ties to the seller), so what merging
can change is only who buys what, i.e. the revenue. The merged menu is kept when its revenue on
the prior equals the LP's within the verification tolerance (``1e-6`` times the value scale);
otherwise the unmerged distinct rows are returned.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ..core import validation as v
from .priors import TypePrior
from .results import Menu
from .separation import seller_favoured_choice

MERGE_TOL = 1e-7
"""Default merge tolerance of :func:`distinct_menu` (HiGHS's primal and dual feasibility
tolerance): rows closer than this are one entry up to LP noise."""
REVENUE_TOL = 1e-6
"""The merged menu's revenue must equal the LP's within this (times the value scale), as the
LP's verification tolerance."""


def distinct_menu(
    prior: TypePrior,
    allocation: NDArray[np.float64],
    payment: NDArray[np.float64],
    *,
    tol: float = MERGE_TOL,
) -> Menu:
    """The distinct entries of the menu ``(allocation (T, m), payment (T,))`` solved on
    ``prior``, rows within ``tol`` merged (see the module docstring); the null entry is left
    out, ``mass`` is the prior probability of the types choosing each entry."""
    fn = "MenuResult.menu"
    tol_f = v.real(fn, "tol", tol, min_value=0.0)
    m = prior.n_items
    scale = max(1.0, float(np.abs(prior.values).max(initial=0.0)))
    rows = np.column_stack([allocation, payment]) + 0.0
    uniq, inverse = np.unique(rows, axis=0, return_inverse=True)
    mass = np.bincount(inverse.ravel(), weights=prior.probs, minlength=len(uniq))
    width = np.r_[np.full(m, tol_f), tol_f * scale]
    leader = np.full(len(uniq), -1, dtype=np.int64)
    for u in np.argsort(-mass, kind="stable"):
        if leader[u] < 0:
            near = (leader < 0) & np.all(np.abs(uniq - uniq[u]) <= width, axis=1)
            leader[near] = u
    entries = uniq[np.unique(leader)]
    entries = entries[~np.all(np.abs(entries) <= width, axis=1)]  # the null entry
    lp_revenue = float(prior.probs @ payment)
    merged = _chosen(prior, entries)
    if abs(merged[1] - lp_revenue) > REVENUE_TOL * scale:  # LP noise was not all it merged
        entries = uniq[np.any(uniq != 0.0, axis=1)]
        merged = _chosen(prior, entries)
    chosen_mass = merged[0]
    keep = chosen_mass > 0.0
    box = (prior.lo, prior.hi) if prior.is_uniform_grid else (None, None)
    return Menu(entries[keep, :m], entries[keep, m], chosen_mass[keep], *box)


def _chosen(prior: TypePrior, entries: NDArray[np.float64]) -> tuple[NDArray[np.float64], float]:
    """Mass of the types choosing each entry (null excluded) and the menu's revenue."""
    m = prior.n_items
    alloc = np.vstack([entries[:, :m], np.zeros((1, m))])
    price = np.concatenate([entries[:, m], [0.0]])
    pick = seller_favoured_choice(prior.values, alloc, price)
    mass = np.bincount(pick, weights=prior.probs, minlength=len(price))[:-1].astype(np.float64)
    return mass, float(prior.probs @ price[pick])
