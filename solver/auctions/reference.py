"""Textbook auctions as grid tables, to audit and to compare with (each item sold separately).

Both return ``(allocation, payment)`` with shapes ``(T_1, ..., T_n, n, m)`` and
``(T_1, ..., T_n, n)`` (see :mod:`.results`). Per item the highest bid wins; ties are split
evenly among the highest bidders.

- first price: the winner pays its bid (not IC: bidders gain by shading).
- second price with reserve ``r``: only bids ``>= r`` compete; the winner pays the larger of
  ``r`` and the highest competing bid (DSIC; Myerson's optimum for i.i.d. ``U[0, 1]`` and one
  item when ``r = 1/2``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..core import validation as v
from ..core.limits import Limits, resolve
from .arguments import bidder_priors, check_profiles
from .priors import TypePrior


def _bids(priors: tuple[TypePrior, ...]) -> NDArray[np.float64]:
    """``(T_1, ..., T_n, n, m)`` every bidder's bid at every profile."""
    shape = tuple(p.n_types for p in priors)
    idx = np.indices(shape)
    return np.stack([p.values[idx[i]] for i, p in enumerate(priors)], axis=-2)


def _winners(bids: NDArray[np.float64], reserve: float) -> NDArray[np.float64]:
    """Tie-split allocation of the highest bid at or above ``reserve`` per item."""
    top = bids.max(axis=-2, keepdims=True)
    win = (bids == top) & (bids >= reserve)
    return win / np.maximum(win.sum(axis=-2, keepdims=True), 1)


def first_price_tables(
    priors: Any, n_bidders: int | None = None, *, limits: Limits | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """First-price auction of every item separately (pay your bid when you win)."""
    fn = "first_price_tables"
    ps = bidder_priors(fn, priors, n_bidders)
    check_profiles(fn, ps, resolve(limits), interim=False)
    bids = _bids(ps)
    alloc = _winners(bids, -np.inf)
    return alloc, (alloc * bids).sum(axis=-1)


def second_price_tables(
    priors: Any,
    n_bidders: int | None = None,
    *,
    reserve: float = 0.0,
    limits: Limits | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Second-price auction with reserve ``reserve`` of every item separately."""
    fn = "second_price_tables"
    ps = bidder_priors(fn, priors, n_bidders)
    r = v.real(fn, "reserve", reserve, min_value=0.0)
    check_profiles(fn, ps, resolve(limits), interim=False)
    bids = _bids(ps)
    alloc = _winners(bids, r)
    n = bids.shape[-2]
    others = np.stack(
        [np.delete(bids, i, axis=-2).max(axis=-2, initial=-np.inf) for i in range(n)], axis=-2
    )
    price = np.maximum(others, r)
    return alloc, (alloc * price).sum(axis=-1)
