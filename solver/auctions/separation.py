"""Exact, vectorized separation oracles: best misreports (IC) and Border's condition (BIC).

Both are exact: they examine every misreport and every candidate set that can be most
violated, in chunks so that memory stays bounded, and never write the constraints out.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

CHUNK_ELEMENTS = 1 << 22
"""Entries of the ``(rows x misreports)`` gain matrix computed at once (32 MiB of float64)."""


def best_deviation(
    values: NDArray[np.float64],
    alloc: NDArray[np.float64],
    pay: NDArray[np.float64],
    *,
    chunk_elements: int = CHUNK_ELEMENTS,
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """The best report of every type within every slice of a mechanism.

    A slice ``s`` is a menu: report ``b`` yields allocation ``alloc[s, b]`` (shape
    ``(S, B, m)``) at price ``pay[s, b]``. For true values ``values[s, a]`` (shape
    ``(S, A, m)``, or ``(A, m)`` shared by all slices) returns ``best[s, a] = max_b
    values[s, a] . alloc[s, b] - pay[s, b]`` and its argmax (first index on ties), both of
    shape ``(S, A)``. The ex-post regret of a type is ``best`` minus its truthful utility.
    """
    best, arg = top_deviations(values, alloc, pay, 1, chunk_elements=chunk_elements)
    return best[..., 0], arg[..., 0]


def top_deviations(
    values: NDArray[np.float64],
    alloc: NDArray[np.float64],
    pay: NDArray[np.float64],
    top: int,
    *,
    chunk_elements: int = CHUNK_ELEMENTS,
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Like :func:`best_deviation` but the ``top`` best reports of every type (in no
    particular order; ``top = 1`` is the argmax), shapes ``(S, A, top)``."""
    n_s, n_b, _ = alloc.shape
    top = min(top, n_b)
    shared = values.ndim == 2
    n_a = values.shape[0] if shared else values.shape[1]
    best = np.empty((n_s, n_a, top))
    arg = np.empty((n_s, n_a, top), dtype=np.int64)
    if n_s == 0 or n_a == 0:
        return best, arg
    per_slice = max(1, n_a * n_b)
    cs = max(1, min(n_s, chunk_elements // per_slice))
    ca = n_a if cs > 1 else max(1, min(n_a, chunk_elements // max(1, n_b)))
    alloc_t = np.swapaxes(alloc, 1, 2)  # (S, m, B)
    for s0 in range(0, n_s, cs):
        s1 = min(n_s, s0 + cs)
        for a0 in range(0, n_a, ca):
            a1 = min(n_a, a0 + ca)
            vals = values[a0:a1] if shared else values[s0:s1, a0:a1]
            gains = np.matmul(vals, alloc_t[s0:s1]) - pay[s0:s1, None, :]
            if top == 1:
                j = gains.argmax(axis=2)[..., None]
            else:
                j = np.argpartition(-gains, top - 1, axis=2)[..., :top]
            arg[s0:s1, a0:a1] = j
            best[s0:s1, a0:a1] = np.take_along_axis(gains, j, axis=2)
    return best, arg


def border_violations(
    interim: Sequence[NDArray[np.float64]],
    probs: Sequence[NDArray[np.float64]],
    *,
    symmetric: bool,
    max_sets: int = 20,
) -> list[tuple[float, list[NDArray[np.int64]]]]:
    """Most violated Border constraints of one item's interim allocation rule.

    Border's condition (Border 1991, 2007): an interim rule ``pi_i(t)`` (probability that
    bidder ``i`` of type ``t`` gets the item) of independent bidders is implementable iff for all
    type sets ``S_i``::

        sum_i sum_{t in S_i} f_i(t) pi_i(t) <= 1 - prod_i (1 - f_i(S_i)).

    Adding type ``t`` to ``S_i`` changes ``lhs - rhs`` by ``f_i(t) (pi_i(t) - prod_{k != i}
    (1 - f_k(S_k)))``, so a most violated family consists of threshold sets (types sorted by
    ``pi_i``). With ``symmetric`` (identical bidders and interim rules) one set ``S`` for all
    bidders suffices (Border 1991); otherwise every combination of thresholds of bidders
    ``1..n-1`` is enumerated and bidder ``n``'s best set follows in closed form: exact, with
    ``prod_{i<n} (T_i + 1)`` combinations (two bidders: both roles are scanned).

    Returns up to ``max_sets`` violated families per scan ``(violation, [S_1, ..., S_n])`` (type index
    arrays), most violated first, taken at local maxima of the violation along the scan; an
    empty list when the rule is feasible up to rounding (violation <= 0).
    """
    n = len(interim)
    orders = [np.argsort(-pi, kind="stable") for pi in interim]
    f_pref = [np.concatenate([[0.0], np.cumsum(p[o])]) for p, o in zip(probs, orders, strict=True)]
    a_pref = [
        np.concatenate([[0.0], np.cumsum(p[o] * pi[o])])
        for p, pi, o in zip(probs, interim, orders, strict=True)
    ]
    if symmetric or n == 1:
        viol = n * a_pref[0] - (1.0 - (1.0 - f_pref[0]) ** n)
        picks = _local_maxima(viol, max_sets)
        return [(float(viol[k]), [orders[0][:k]] * n) for k in picks]
    # Asymmetric: enumerate the thresholds of all bidders but one, who best-responds. With two
    # bidders both roles are scanned (more diverse cuts, fewer rounds; same maximum).
    lasts = [1, 0] if n == 2 else [n - 1]
    found = []
    for last in lasts:
        others = [i for i in range(n) if i != last]
        sizes = [len(orders[i]) + 1 for i in others]
        grids = np.meshgrid(*[np.arange(size) for size in sizes], indexing="ij")
        ks = [g.ravel() for g in grids]
        lhs = np.zeros(len(ks[0]))
        rest = np.ones(len(ks[0]))
        for i, k in zip(others, ks, strict=True):
            lhs += a_pref[i][k]
            rest *= 1.0 - f_pref[i][k]
        pi_last = interim[last][orders[last]]
        # include every type of the last bidder with pi >= rest (gain f (pi - rest) >= 0)
        k_last = np.searchsorted(-pi_last, -rest, side="right")
        viol = lhs + a_pref[last][k_last] - 1.0 + rest * (1.0 - f_pref[last][k_last])
        for c in _local_maxima(viol, max_sets):
            sets: list[NDArray[np.int64]] = [np.empty(0, np.int64)] * n
            for i, k in zip(others, ks, strict=True):
                sets[i] = orders[i][: k[c]]
            sets[last] = orders[last][: k_last[c]]
            found.append((float(viol[c]), sets))
    found.sort(key=lambda item: -item[0])
    return found


def max_border_violation(
    interim: Sequence[NDArray[np.float64]],
    probs: Sequence[NDArray[np.float64]],
    *,
    symmetric: bool,
) -> float:
    """The largest ``lhs - rhs`` over all Border constraints (``<= 0`` iff implementable)."""
    found = border_violations(interim, probs, symmetric=symmetric, max_sets=1)
    return found[0][0] if found else 0.0


def _local_maxima(viol: NDArray[np.float64], max_sets: int) -> list[int]:
    """Up to ``max_sets`` indices of positive entries of a 1-D scan: the largest first, then
    evenly spread over the other violated positions (diverse cuts converge in fewer rounds)."""
    hit = np.nonzero(viol > 0.0)[0]
    if hit.size == 0:
        return []
    top = int(hit[np.argmax(viol[hit])])
    if hit.size > max_sets:
        hit = hit[np.linspace(0, hit.size - 1, max_sets).round().astype(np.int64)]
    rest = [int(k) for k in hit if k != top]
    return [top, *rest][:max_sets]


def seller_favoured_choice(
    values: NDArray[np.float64],
    alloc: NDArray[np.float64],
    price: NDArray[np.float64],
    *,
    tie_tol: float = 1e-9,
    chunk_elements: int = CHUNK_ELEMENTS,
) -> NDArray[np.int64]:
    """The entry of a menu ``(alloc (E, m), price (E,))`` each type ``values (A, m)`` picks:
    the largest utility ``v . alloc - price``, ties (within ``tie_tol``) broken towards the
    highest price, as a buyer indifferent between entries is assumed to favour the seller."""
    n_a, n_e = values.shape[0], alloc.shape[0]
    out = np.empty(n_a, dtype=np.int64)
    ca = max(1, chunk_elements // max(1, n_e))
    for a0 in range(0, n_a, ca):
        gains = values[a0 : a0 + ca] @ alloc.T - price
        near = gains >= gains.max(axis=1, keepdims=True) - tie_tol
        out[a0 : a0 + ca] = np.where(near, price, -np.inf).argmax(axis=1)
    return out
