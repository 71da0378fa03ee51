"""Symmetry reduction of the auction LPs: orbits of LP rows under item and bidder permutations.

A *full row* is one bidder at one point of the type space: ``(i, p)`` with ``p`` a type profile
(ex-post LPs, row id ``i * P + p``) or ``(i, t)`` with ``t`` one of bidder ``i``'s types
(interim LPs, row id ``offset_i + t``). Each full row carries an allocation vector ``q`` (one
entry per item) and a utility ``u``.

When the priors are invariant under a group ``G`` of item permutations (and bidder permutations,
for identical bidders), the LP is invariant too, so averaging any optimum over ``G`` gives a
``G``-equivariant optimum of the same revenue: restricting to equivariant mechanisms is exact.
An equivariant mechanism is stored by one *representative* per orbit; with ``g`` mapping a row
to its representative and permuting the items by ``perm`` (values ``v' = v[perm]``),
``q(row) = q(rep)[inv(perm)]`` and ``u(row) = u(rep)``. A representative fixed by some ``g``
with ``perm != id`` must satisfy ``q(rep)[k] = q(rep)[inv(perm)[k]]`` (the ``equal_pairs``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .priors import TypePrior, item_symmetries

MAX_BIDDER_PERMUTATIONS = 120
"""Above this many bidder permutations (n > 5) only the cyclic shifts are used."""


@dataclass(frozen=True, eq=False)
class RowOrbits:
    """Orbit representatives of the full rows.

    Attributes:
        rep: ``(R,)`` representative id of each full row.
        item_map: ``(R, m)`` so that ``q(row) = q_rep[rep[row]][item_map[row]]``.
        rep_row: ``(n_rep,)`` the full row that is its own representative (identity map).
        equal_pairs: ``(k, 3)`` rows ``(rep, j, l)``: ``q_rep[rep][j] = q_rep[rep][l]``.
        group_order: ``|G|`` (1 without symmetry).
        bidders_symmetric: True when bidder permutations are part of ``G``.
    """

    rep: NDArray[np.int64]
    item_map: NDArray[np.int64]
    rep_row: NDArray[np.int64]
    equal_pairs: NDArray[np.int64]
    group_order: int
    bidders_symmetric: bool

    @property
    def n_rep(self) -> int:
        return int(self.rep_row.shape[0])

    @property
    def canonical(self) -> NDArray[np.bool_]:
        """``(R,)`` True on the rows that are their own representative."""
        mask = np.zeros(self.rep.shape[0], dtype=np.bool_)
        mask[self.rep_row] = True
        return mask

    def expand(self, q_rep: NDArray[np.float64]) -> NDArray[np.float64]:
        """Full-row allocations ``(R, m)`` from representative allocations ``(n_rep, m)``."""
        return np.take_along_axis(q_rep[self.rep], self.item_map, axis=1)


def _bidder_permutations(n: int) -> list[tuple[int, ...]]:
    if math.factorial(n) <= MAX_BIDDER_PERMUTATIONS:
        return list(itertools.permutations(range(n)))
    return [tuple((k + s) % n for k in range(n)) for s in range(n)]


def _group(
    priors: Sequence[TypePrior], use_symmetry: bool
) -> tuple[list[tuple[tuple[int, ...], tuple[int, ...], list[NDArray[np.int64]]]], bool]:
    """Group elements ``(rho, perm, type_maps)``, identity first; ``rho[k]`` is bidder ``k``'s
    new position, ``type_maps[k][t]`` the type of bidder ``k`` after permuting items."""
    n = len(priors)
    ident = tuple(range(n))
    if not use_symmetry:
        return [
            (ident, tuple(range(priors[0].n_items)), [np.arange(p.n_types) for p in priors])
        ], False
    items = item_symmetries(priors)
    bidders_sym = n > 1 and all(p.same_as(priors[0]) for p in priors[1:])
    rhos = _bidder_permutations(n) if bidders_sym else [ident]
    return [(rho, perm, maps) for rho in rhos for perm, maps in items], bidders_sym


def _orbits(
    n_rows: int,
    m: int,
    images: list[tuple[tuple[int, ...], NDArray[np.int64]]],
    bidders_symmetric: bool,
) -> RowOrbits:
    """Orbits from the row image of every group element (identity first)."""
    best = np.arange(n_rows, dtype=np.int64)
    best_g = np.zeros(n_rows, dtype=np.int64)
    for gi, (_, img) in enumerate(images[1:], start=1):
        better = img < best
        best[better] = img[better]
        best_g[better] = gi
    rep_row, rep = np.unique(best, return_inverse=True)
    inv_perms = np.array([np.argsort(perm) for perm, _ in images], dtype=np.int64).reshape(-1, m)
    item_map = inv_perms[best_g]
    pairs = []
    for perm, img in images[1:]:
        fixed = rep_row[img[rep_row] == rep_row]
        if perm == tuple(range(m)) or fixed.size == 0:
            continue
        r_ids = np.searchsorted(rep_row, fixed)
        inv = np.argsort(perm)
        for j in np.nonzero(inv > np.arange(m))[0]:
            pairs.append(np.stack([r_ids, np.full_like(r_ids, j), np.full_like(r_ids, inv[j])], 1))
    equal = np.unique(np.concatenate(pairs), axis=0) if pairs else np.empty((0, 3), np.int64)
    return RowOrbits(
        rep.astype(np.int64),
        item_map,
        rep_row.astype(np.int64),
        equal,
        len(images),
        bidders_symmetric,
    )


def ex_post_orbits(priors: Sequence[TypePrior], use_symmetry: bool) -> RowOrbits:
    """Orbits of the rows ``(i, profile)`` of an ex-post (DSIC / menu) LP."""
    shape = tuple(p.n_types for p in priors)
    n, n_prof, m = len(priors), math.prod(shape), priors[0].n_items
    elements, bsym = _group(priors, use_symmetry)
    idx = np.unravel_index(np.arange(n_prof, dtype=np.int64), shape)
    images = []
    for rho, perm, maps in elements:
        new_idx: list[NDArray[np.int64]] = [np.empty(0, np.int64)] * n
        for k in range(n):
            new_idx[rho[k]] = maps[k][idx[k]]
        flat = np.ravel_multi_index(tuple(new_idx), shape).astype(np.int64)
        img = np.concatenate([rho[i] * n_prof + flat for i in range(n)])
        images.append((perm, img))
    return _orbits(n * n_prof, m, images, bsym)


def interim_orbits(priors: Sequence[TypePrior], use_symmetry: bool) -> RowOrbits:
    """Orbits of the rows ``(i, own type)`` of an interim (BIC reduced-form) LP."""
    sizes = [p.n_types for p in priors]
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    elements, bsym = _group(priors, use_symmetry)
    images = []
    for rho, perm, maps in elements:
        img = np.concatenate([offsets[rho[i]] + maps[i] for i in range(len(priors))])
        images.append((perm, img.astype(np.int64)))
    return _orbits(int(offsets[-1]), priors[0].n_items, images, bsym)
