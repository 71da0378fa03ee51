"""Finite type sets of one additive bidder: the priors the auction LPs are solved on.

A :class:`TypePrior` holds ``T`` valuation vectors over ``m`` items (``values``, shape
``(T, m)``) and their probabilities (``probs``). Three ways to build one (SPEC section 6; seed
004, first study, "an auctioneer equipped with a sample of past valuation profiles"):

- :func:`uniform_grid`: ``K`` points per item on ``[lo_j, hi_j]`` (one box for every item, or
  one interval per item). Item ``j``'s interval is cut into ``K`` cells of width
  ``h_j = (hi_j - lo_j) / K``; each grid point stands for its cell and carries the cell's mass
  under the continuous prior ``prod_j U[lo_j, hi_j]`` (``1 / K^m``). ``points="midpoint"`` puts the
  point at the cell centre (grid revenue approaches the continuous optimum from above);
  ``points="corner"`` at the cell's lower corner (the rounded-down prior, which the continuous
  prior dominates; grid revenue approaches from below).
- :func:`discrete_marginals`: any product of independent discrete marginals.
- :func:`empirical_prior`: the empirical distribution of sampled valuation vectors.

Types are ordered in C order over the items for product priors (item 0 varies slowest), so
``values.reshape(*grid_shape, m)`` is the grid.
"""

from __future__ import annotations

import enum
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..core import validation as v
from ..core.errors import MechsolveInputError
from ..core.limits import Limits, power_size, resolve


class PriorKind(enum.Enum):
    """How a :class:`TypePrior` was built."""

    MIDPOINT = "midpoint"
    CORNER = "corner"
    DISCRETE = "discrete"
    EMPIRICAL = "empirical"


GRID_POINTS = (PriorKind.MIDPOINT.value, PriorKind.CORNER.value)
"""The ``points`` choices of :func:`uniform_grid`."""

Box = float | tuple[float, ...]
"""A bound of a box prior: one value for every item, or one per item."""


@dataclass(frozen=True, eq=False)
class TypePrior:
    """A finite prior over one bidder's additive valuations.

    Attributes:
        values: ``(T, m)`` non-negative valuation vectors (read-only).
        probs: ``(T,)`` probabilities summing to 1 (read-only).
        kind: how the prior was built.
        grid_shape: points per item ``(K_1, ..., K_m)`` for product priors (then ``values`` is
            that grid in C order); ``()`` for empirical priors.
        lo, hi: the continuous support of a uniform grid: a float when every item has the
            same interval ``[lo, hi]``, else one bound per item (``prod_j [lo_j, hi_j]``);
            ``nan`` for other priors. :meth:`box` gives both as ``(m,)`` arrays.
    """

    values: NDArray[np.float64]
    probs: NDArray[np.float64]
    kind: PriorKind
    grid_shape: tuple[int, ...] = ()
    lo: Box = math.nan
    hi: Box = math.nan

    def __post_init__(self) -> None:
        for name in ("values", "probs"):
            arr = np.array(getattr(self, name), dtype=np.float64)
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    @property
    def n_types(self) -> int:
        return int(self.values.shape[0])

    @property
    def n_items(self) -> int:
        return int(self.values.shape[1])

    @property
    def is_uniform_grid(self) -> bool:
        """True for :func:`uniform_grid` priors (they have a continuous counterpart)."""
        return self.kind in (PriorKind.MIDPOINT, PriorKind.CORNER)

    def box(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """``(lo, hi)`` per item, ``(m,)`` each (``nan`` unless a uniform grid)."""
        return box_vector(self.lo, self.n_items), box_vector(self.hi, self.n_items)

    @property
    def cell_width(self) -> NDArray[np.float64]:
        """``(hi_j - lo_j) / K`` per item, ``(m,)`` (``nan`` unless a uniform grid)."""
        lo, hi = self.box()
        if not self.is_uniform_grid:
            return np.full(self.n_items, math.nan)
        return (hi - lo) / self.grid_shape[0]

    def same_as(self, other: TypePrior) -> bool:
        """True when both priors have exactly the same types and probabilities."""
        return (
            self.values.shape == other.values.shape
            and bool(np.array_equal(self.values, other.values))
            and bool(np.array_equal(self.probs, other.probs))
        )

    def cell_index(self, x: NDArray[np.float64]) -> NDArray[np.int64]:
        """Type index of the grid cell holding each continuous valuation ``x`` (shape
        ``(..., m)``): bids are rounded to the grid (values outside ``[lo, hi]`` clip)."""
        if not self.is_uniform_grid:
            raise MechsolveInputError(
                "TypePrior.cell_index",
                "prior",
                f"must be a uniform grid; got kind={self.kind.value!r}",
            )
        k = self.grid_shape[0]
        lo, _ = self.box()
        cell = np.clip(np.floor((x - lo) / self.cell_width), 0, k - 1).astype(np.int64)
        strides = k ** np.arange(self.n_items - 1, -1, -1, dtype=np.int64)
        return cell @ strides

    def neighbour_pairs(self) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Ordered pairs ``(a, b)`` of neighbouring types, both directions: grid neighbours
        along each item axis for product priors, else each type's ``2m`` nearest neighbours."""
        t = self.n_types
        if t < 2:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        if self.grid_shape:
            idx = np.arange(t, dtype=np.int64).reshape(self.grid_shape)
            a_list, b_list = [], []
            for ax, k in enumerate(self.grid_shape):
                if k < 2:
                    continue
                lower = np.take(idx, np.arange(k - 1), axis=ax).ravel()
                upper = np.take(idx, np.arange(1, k), axis=ax).ravel()
                a_list += [lower, upper]
                b_list += [upper, lower]
            if not a_list:
                return np.empty(0, np.int64), np.empty(0, np.int64)
            return np.concatenate(a_list), np.concatenate(b_list)
        from scipy.spatial import cKDTree

        k_nn = min(2 * self.n_items, t - 1)
        _, nn = cKDTree(self.values).query(self.values, k=k_nn + 1)
        a = np.repeat(np.arange(t, dtype=np.int64), k_nn)
        b = np.asarray(nn[:, 1:], dtype=np.int64).ravel()
        pairs = np.unique(np.concatenate([np.stack([a, b], 1), np.stack([b, a], 1)]), axis=0)
        pairs = pairs[pairs[:, 0] != pairs[:, 1]]
        return pairs[:, 0], pairs[:, 1]

    def item_permutation_map(self, perm: Sequence[int]) -> NDArray[np.int64] | None:
        """The type permutation induced by permuting items, or ``None`` if the prior is not
        invariant under it: ``map[t]`` is the type whose values are ``values[t][perm]``."""
        perm_arr = np.asarray(perm, dtype=np.int64)
        order, keys = _sorted_keys(self.values)
        target = _row_keys(self.values[:, perm_arr])
        pos = np.searchsorted(keys, target)
        pos = np.minimum(pos, len(keys) - 1)
        if not bool(np.all(keys[pos] == target)):
            return None
        mapped = order[pos]
        if not np.allclose(self.probs[mapped], self.probs, rtol=1e-12, atol=0.0):
            return None
        return mapped.astype(np.int64)


def box_vector(bound: Box, m: int) -> NDArray[np.float64]:
    """A :data:`Box` bound as an ``(m,)`` array."""
    return np.broadcast_to(np.asarray(bound, dtype=np.float64), (m,)).copy()


def box_bounds(
    function: str, lo: Any, hi: Any, m: int, *, min_lo: float | None = 0.0
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Validated ``(lo, hi)`` of the box ``prod_j [lo_j, hi_j]`` as ``(m,)`` arrays: each a
    real number (the same for every item) or ``m`` of them; ``hi_j > lo_j``."""
    out = []
    for name, bound, low in (("lo", lo, min_lo), ("hi", hi, None)):
        if isinstance(bound, int | float | np.integer | np.floating):
            x = np.full(m, v.real(function, name, bound, min_value=low, max_value=MAX_VALUE))
        else:
            x = v.float_array(function, name, bound, shape=(m,), min_value=low, max_value=MAX_VALUE)
        out.append(x)
    lo_a, hi_a = out
    bad = np.nonzero(~(hi_a > lo_a))[0]
    if bad.size:
        j = int(bad[0])
        name = "hi" if np.ndim(hi) == 0 else f"hi[{j}]"
        raise MechsolveInputError(function, name, f"must be > lo={lo_a[j]}; got {hi_a[j]}")
    return lo_a, hi_a


def box_value(x: NDArray[np.float64]) -> Box:
    """A validated box bound as stored: a float when every item has it, else a tuple."""
    return float(x[0]) if bool(np.all(x == x[0])) else tuple(float(b) for b in x)


MAX_VALUE = 1e12
"""Largest valuation a prior (or a payment a table) may hold: the LPs and audits work in
float64 and lose their precision long before 1e308; revenue is linear in the values, so
rescale larger ones."""


def profile_probs(priors: Sequence[TypePrior]) -> NDArray[np.float64]:
    """``(T_1, ..., T_n)`` probability of every type profile of independent bidders."""
    prob = np.ones(())
    for p in priors:
        prob = np.multiply.outer(prob, p.probs)
    return prob


def _row_keys(values: NDArray[np.float64]) -> NDArray[Any]:
    arr = np.ascontiguousarray(values + 0.0)  # +0.0 turns -0.0 into 0.0 (same bytes)
    return arr.view(np.dtype((np.void, arr.dtype.itemsize * arr.shape[1]))).ravel()


def _sorted_keys(values: NDArray[np.float64]) -> tuple[NDArray[np.int64], NDArray[Any]]:
    keys = _row_keys(values)
    order = np.argsort(keys, kind="stable")
    return order.astype(np.int64), keys[order]


def item_symmetries(
    priors: Sequence[TypePrior],
) -> list[tuple[tuple[int, ...], list[NDArray[np.int64]]]]:
    """Item permutations under which every prior is invariant, each with its per-prior type
    maps (the identity first). Enumerates all ``m!`` permutations for ``m <= 5``."""
    m = priors[0].n_items
    perms = list(itertools.permutations(range(m))) if m <= 5 else [tuple(range(m))]
    out = []
    for perm in perms:
        maps = [p.item_permutation_map(perm) for p in priors]
        if all(mp is not None for mp in maps):
            out.append((tuple(int(j) for j in perm), [mp for mp in maps if mp is not None]))
    return out


def uniform_grid(
    n_items: int,
    points_per_item: int,
    *,
    lo: float | Sequence[float] = 0.0,
    hi: float | Sequence[float] = 1.0,
    points: str = "midpoint",
    limits: Limits | None = None,
) -> TypePrior:
    """The grid prior of ``prod_j U[lo_j, hi_j]`` (``U[lo, hi]^n_items`` when ``lo`` and
    ``hi`` are numbers; else one bound per item) with ``points_per_item`` cells per item.

    Point ``k`` of item ``j`` is ``lo_j + (k + 1/2) h_j`` (midpoint) or ``lo_j + k h_j``
    (corner) with ``h_j = (hi_j - lo_j) / points_per_item``; every grid type has mass
    ``1 / points_per_item^m``.
    """
    fn = "uniform_grid"
    m = v.positive_int(fn, "n_items", n_items)
    k = v.positive_int(fn, "points_per_item", points_per_item, minimum=2)
    lo_a, hi_a = box_bounds(fn, lo, hi, m)
    kind = PriorKind(v.choice(fn, "points", points, GRID_POINTS))
    resolve(limits).check(fn, "points_per_item", power_size(k, m), "max_types")
    h = (hi_a - lo_a) / k
    offset = 0.5 if kind is PriorKind.MIDPOINT else 0.0
    axes = [lo_a[j] + (np.arange(k, dtype=np.float64) + offset) * h[j] for j in range(m)]
    values = _product(axes)
    probs = np.full(k**m, 1.0 / k**m)
    return TypePrior(values, probs, kind, (k,) * m, box_value(lo_a), box_value(hi_a))


def discrete_marginals(
    values: Sequence[Any],
    probs: Sequence[Any] | None = None,
    *,
    limits: Limits | None = None,
) -> TypePrior:
    """The product of independent discrete marginals: item ``j`` takes ``values[j][k]`` with
    probability ``probs[j][k]`` (uniform when ``probs`` is ``None``). Values are non-negative and
    distinct per item (sorted here); probabilities non-negative, summing to 1 per item."""
    fn = "discrete_marginals"
    if isinstance(values, np.ndarray) and values.ndim == 2:
        values = list(values)
    if not isinstance(values, Sequence) or isinstance(values, str) or len(values) == 0:
        raise MechsolveInputError(
            fn, "values", f"must be a non-empty list of 1-D arrays, one per item; got {values!r}"
        )
    if probs is not None and (
        not isinstance(probs, Sequence | np.ndarray) or len(probs) != len(values)
    ):
        raise MechsolveInputError(
            fn, "probs", f"must be a list of {len(values)} arrays (one per item); got {probs!r}"
        )
    axes, masses = [], []
    size = 1
    for j, vals in enumerate(values):
        x = v.float_array(fn, f"values[{j}]", vals, ndim=1, min_value=0.0, max_value=MAX_VALUE)
        if probs is None:
            p = np.full(len(x), 1.0 / len(x))
        else:
            p = v.float_array(fn, f"probs[{j}]", probs[j], shape=(len(x),), min_value=0.0)
            if abs(p.sum() - 1.0) > 1e-9:
                raise MechsolveInputError(fn, f"probs[{j}]", f"must sum to 1; got sum {p.sum()}")
            p = p / p.sum()
        order = np.argsort(x, kind="stable")
        x, p = x[order], p[order]
        if len(x) > 1 and bool(np.any(np.diff(x) == 0)):
            dup = float(x[1:][np.diff(x) == 0][0])
            raise MechsolveInputError(fn, f"values[{j}]", f"must be distinct; got {dup} twice")
        axes.append(x)
        masses.append(p)
        size *= len(x)
    resolve(limits).check(fn, "values", size, "max_types")
    probs_all = _product(masses).prod(axis=1)
    return TypePrior(_product(axes), probs_all, PriorKind.DISCRETE, tuple(len(x) for x in axes))


def empirical_prior(samples: Any, *, limits: Limits | None = None) -> TypePrior:
    """The empirical distribution of ``samples`` (shape ``(N, m)``, non-negative, finite):
    distinct valuation vectors weighted by their frequency."""
    fn = "empirical_prior"
    x = v.float_array(fn, "samples", samples, ndim=2, min_value=0.0, max_value=MAX_VALUE)
    if x.shape[1] == 0:
        raise MechsolveInputError(
            fn, "samples", f"must have at least one item column; got shape {x.shape}"
        )
    resolve(limits).check(fn, "samples", int(x.shape[0]), "max_types")
    uniq, counts = np.unique(x + 0.0, axis=0, return_counts=True)
    return TypePrior(uniq, counts / counts.sum(), PriorKind.EMPIRICAL)


PROBS_TOLERANCE = 1e-9
"""How far the probabilities of an explicit type set may sum from 1."""


def type_set(
    values: Any, probs: Any, *, kind: str | None = None, limits: Limits | None = None
) -> TypePrior:
    """A prior given as its type set: distinct valuation vectors ``values`` (``(T, m)``,
    non-negative) with probabilities ``probs`` (``(T,)``, summing to 1). ``kind``:
    ``"product_grid"`` (the values must be a full product grid in C order, item 0 varying
    slowest, as :func:`discrete_marginals` builds it), ``"empirical"``, or ``None`` (a product
    grid when they are one). Every prior crosses the wire this way, bit for bit."""
    fn = "type_set"
    x = v.float_array(fn, "values", values, ndim=2, min_value=0.0, max_value=MAX_VALUE)
    t, m = x.shape
    if m == 0:
        raise MechsolveInputError(
            fn, "values", f"must have at least one item column; got {x.shape}"
        )
    resolve(limits).check(fn, "values", t, "max_types")
    p = v.float_array(fn, "probs", probs, shape=(t,), min_value=0.0)
    if abs(float(p.sum()) - 1.0) > PROBS_TOLERANCE:
        raise MechsolveInputError(fn, "probs", f"must sum to 1; got sum {float(p.sum())}")
    if len(np.unique(x + 0.0, axis=0)) != t:
        raise MechsolveInputError(fn, "values", "must have distinct rows")
    v.choice(fn, "kind", kind, (None, "product_grid", "empirical"))
    shape = () if kind == "empirical" else product_grid_shape(x)
    if kind == "product_grid" and not shape:
        raise MechsolveInputError(
            fn, "values", "must be a full product grid in C order (item 0 varying slowest)"
        )
    return TypePrior(x, p, PriorKind.DISCRETE if shape else PriorKind.EMPIRICAL, shape)


def product_grid_shape(values: NDArray[np.float64]) -> tuple[int, ...]:
    """``(K_1, ..., K_m)`` when ``values`` is the full product of its column values in C order
    (as :func:`discrete_marginals` builds it), else ``()``."""
    axes = [np.unique(values[:, j]) for j in range(values.shape[1])]
    shape = tuple(len(a) for a in axes)
    if math.prod(shape) != len(values):
        return ()
    return shape if np.array_equal(_product(axes), values) else ()


def _product(axes: Sequence[NDArray[np.float64]]) -> NDArray[np.float64]:
    """All combinations of the 1-D ``axes`` in C order, shape ``(prod len, len(axes))``."""
    grids = np.meshgrid(*axes, indexing="ij")
    return np.stack([g.ravel() for g in grids], axis=1)
