"""Small budgets of policies (``2 <= k <= 5``) by a bounded enumeration of candidate sets: a
branch and bound over sets whose bounds come from the Lagrangian relaxation of the
facility-location MILP of :mod:`.policies` (seed 004, r-MDPs; the model is there).

Bound. For any multipliers ``lambda`` (one per user) and any set ``S``::

    f(S) = sum_u max_{p in S} w[u,p] <= sum_u lambda_u + sum_{p in S} rho_p(lambda),
    rho_p(lambda) = sum_u (w[u,p] - lambda_u)^+

(``max_{p in S} w[u,p] <= lambda_u + max_{p in S} (w[u,p] - lambda_u)^+``): the Lagrangian
relaxation of "every user gets one policy" (``sum_p x_up = 1``); its minimum over ``lambda``
is the strong LP bound. A node is ``T`` (chosen), ``R`` (the candidates it may still add, in
a fixed order) and ``r = k - |T|`` slots; every ``k``-set below it is bounded by::

    UB(T, R) = min_lambda  sum_u lambda_u + sum_{p in T} rho_p + (the r largest rho_p over R)

Search. Candidates are ordered by ``rho`` at the root's multipliers (largest first); the
children of ``(T, R)`` are ``(T + R_j, R_{j+1:})``, so every ``k``-set is met once. With the
parent's ``lambda`` (valid for any ``lambda``) child ``j`` is bounded by ``sum lambda +
rho_T + rho_{R_j} + (the r - 1 largest rho over R_{j+1:})``: children at or below the best
value found are pruned at once, the others re-optimize ``lambda`` by subgradient steps
(Polyak steps towards the best value, from the parent's ``lambda``; any iterate's value is a
valid bound, so a node is pruned as soon as one reaches the best value). At the node's final
``lambda`` a candidate ``q`` of ``R`` is fixed out of the whole subtree when ``sum lambda +
rho_T + rho_q + (the r - 1 largest rho over R - q) <= best`` (the bound of every set holding
``T + q``): the children then bound and evaluate fewer columns; each child ``T + R_j`` is
also fixed at the parent's ``lambda`` before its own steps, and every ``_FIX_EVERY`` of its
steps at that step's ``lambda`` (the tree is the same; its nodes are cheaper: uniform 100 x
1,000, ``k = 5``: 319 s -> 47 s with the first, 35 s with the second, about 25 s with the
third and 30 steps per node instead of 60). With one slot left every completion is evaluated
exactly. The enumeration is finite and exact (to
``PRUNE_TOL``); at a deadline the largest bound of the unexplored nodes is a valid bound.

Lattice values. When every ``w`` is a multiple of a step ``delta = 1 / L`` (``L <=
MAX_LATTICE``; e.g. integer-valued ``V`` scaled into [0, 1]), so is every ``f(S)``: a node
bounded below ``best + delta`` holds no better set and is pruned (tolerance ``delta`` less
ten times the ``PRUNE_TOL`` one: room for rounding). Such values tie the incumbent with the
Lagrangian (LP) bound at many nodes, which the subgradient steps approach only to about
``1e-5``: with ``PRUNE_TOL`` alone those nodes were never pruned (measured: 50 x 300 integers
in 0..4, ``k = 4``: 53,282 nodes and 14 s, 8,272 nodes and 1.7 s with the step; 60 x 500, the
same values: 49 s, 5.9 s with the step, the MILP 3.7 s).

Measured (100 users x 1,000 candidates, docs/policy_budget.md): uniform i.i.d. values
``k = 3, 4, 5`` proved in about 1, 7 and 14 s (seed 0; seed 1: 11 and 44 s for 4 and 5) (the Benders MILP of :mod:`.policies` stops at 60 s
with gaps of 1.8, 0.9 and 0.5 %), and 2-30 times faster than the MILP at ``k = 3..5`` on values
with structure; at ``k = 6`` the tree grows too fast (uniform: unproved at 120 s with a 1.7 %
gap, the MILP 0.9 % at 60 s; proved in 179 s), so the MILP serves ``k >= 6``.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

MAX_BUDGET = 5
"""The enumeration serves budgets ``2..MAX_BUDGET`` (measured: better than the MILP there, and
worse at 6)."""

PRUNE_TOL = 1e-9
"""A node is pruned when its bound is at most the best value plus this (values scaled into
[0, 1] per user, times ``max(1, best)``)."""

MAX_LATTICE = 1024
"""Lattices ``w in Z / L`` tried up to this ``L`` (see the module docstring)."""

_ROOT_STEPS = 300
_NODE_STEPS = 30
_STEP_DECAY = 0.97
_FIX_EVERY = 5
"""Subgradient steps between two fixings of a node's candidates (:meth:`_Search.descend`)."""


@dataclass
class Enumeration:
    """The best set found, a valid upper bound on ``f`` and whether the search finished."""

    chosen: NDArray[np.int64]
    value: float
    bound: float
    complete: bool
    nodes: int
    fixed_out: int = 0
    """Candidates fixed out of a subtree by their bound (summed over the nodes)."""


def best_small_set(
    w: NDArray[np.float64],
    k: int,
    start: NDArray[np.int64],
    expired: Callable[[], bool] = lambda: False,
) -> Enumeration:
    """The ``k``-set of columns of ``w`` (``n x m``, ``k <= m``) maximizing ``f``, by the
    bounded enumeration above, from the feasible ``start`` (its value is the first incumbent).
    ``expired()`` is checked at every node and subgradient step."""
    if not 2 <= k <= w.shape[1] or len(start) != k:
        raise ValueError(f"best_small_set needs 2 <= k <= {w.shape[1]} and a start of k")
    search = _Search(w, k, start, expired)
    lam = w[:, start].max(axis=1)  # the tight levels of the start (Benders' cut levels)
    every = np.arange(w.shape[1], dtype=np.int64)
    root, lam, rho, _, pos = search.descend(w, 0, lam, k, _ROOT_STEPS)
    if root <= search.lb + search.tol:
        return search.result(-math.inf)
    if expired():  # (before the O(m log m) ordering: the root's bound holds)
        return search.result(root)
    order = every[pos][np.argsort(-rho, kind="stable")]
    pending = search.visit(np.empty(0, dtype=np.int64), order, lam, root)
    return search.result(pending)


def _lagrangian(
    w_node: NDArray[np.float64],
    t: int,
    lam: NDArray[np.float64],
    r: int,
    scratch: NDArray[np.float64] | None = None,
) -> tuple[float, NDArray[np.float64], NDArray[np.float64], float]:
    """At ``lambda``: the bound, a subgradient (``1 - #{chosen p: w[u,p] > lambda_u}``),
    ``rho`` over ``R`` and ``sum lambda + rho_T``. ``w_node`` holds ``T``'s columns first;
    ``scratch`` (at least ``w_node``'s shape) is reused for ``(w - lambda)^+`` (a fresh
    ``n x m`` array per step cost three times the arithmetic, measured)."""
    rows, cols = w_node.shape
    pos = np.empty_like(w_node) if scratch is None else scratch[:rows, :cols]
    np.subtract(w_node, lam[:, None], out=pos)
    np.maximum(pos, 0.0, out=pos)
    rho = pos.sum(axis=0)
    rho_r = rho[t:]
    top = np.argpartition(-rho_r, r - 1)[:r] if r < len(rho_r) else np.arange(len(rho_r))
    base = float(lam.sum() + rho[:t].sum())
    chosen = np.concatenate([np.arange(t), t + top])
    grad = 1.0 - (pos[:, chosen] > 0).sum(axis=1)
    return base + float(rho_r[top].sum()), grad, rho_r, base


def lattice_step(w: NDArray[np.float64]) -> float:
    """The largest ``delta = 1 / L`` (``L <= MAX_LATTICE``) with every entry of ``w`` an
    integer multiple of it, or 0 when there is none. ``L`` is the smallest that fits a sample
    of ``w``; it is kept when every ``f(S)`` is within ``PRUNE_TOL delta`` of a multiple of
    ``delta`` (``n`` times the largest deviation of an entry)."""
    sample = np.unique(w.ravel()[: 4 * MAX_LATTICE])
    if len(sample) > MAX_LATTICE + 1 or not np.all(np.isfinite(sample)):
        return 0.0  # (a lattice of step 1/L in [0, 1] has at most L + 1 points)
    steps = np.arange(1, MAX_LATTICE + 1, dtype=np.float64)
    grid = steps[:, None] * sample[None, :]
    fits = np.flatnonzero((np.abs(grid - np.round(grid)) <= 1e-9).all(axis=1))
    if len(fits) == 0:
        return 0.0
    level = float(steps[fits[0]])
    x = level * w
    off = float(np.abs(x - np.round(x)).max())  # in steps
    return 1.0 / level if w.shape[0] * off <= PRUNE_TOL else 0.0


def _suffix_top_sums(x: NDArray[np.float64], q: int) -> NDArray[np.float64]:
    """``out[j]`` = the sum of the ``q`` largest entries of ``x[j + 1:]`` (fewer if short)."""
    out = np.zeros(len(x))
    heap: list[float] = []
    total = 0.0
    for j in range(len(x) - 1, -1, -1):
        out[j] = total
        v = float(x[j])
        if len(heap) < q:
            heapq.heappush(heap, v)
            total += v
        elif v > heap[0]:
            total += v - heapq.heapreplace(heap, v)
    return out


class _Search:
    def __init__(
        self,
        w: NDArray[np.float64],
        k: int,
        start: NDArray[np.int64],
        expired: Callable[[], bool],
    ) -> None:
        self.w, self.k, self.expired = w, k, expired
        self.best = np.sort(start).astype(np.int64)
        self.lb = float(w[:, self.best].max(axis=1).sum())
        tol = PRUNE_TOL * max(1.0, abs(self.lb))
        self.tol = max(tol, lattice_step(w) - 10.0 * tol)  # (module docstring: lattices)
        self.nodes = 0
        self.fixed_out = 0
        self.scratch = np.empty_like(w)  # (w - lambda)^+ of every node, reused

    def result(self, pending: float) -> Enumeration:
        complete = pending == -math.inf
        bound = self.lb if complete else max(pending, self.lb)
        return Enumeration(self.best, self.lb, bound, complete, self.nodes, self.fixed_out)

    def descend(
        self, w_node: NDArray[np.float64], t: int, lam: NDArray[np.float64], r: int, steps: int
    ) -> tuple[float, NDArray[np.float64], NDArray[np.float64], float, NDArray[np.int64]]:
        """The smallest bound met by Polyak subgradient steps towards the best value, with
        its ``lambda``, ``rho`` over the candidates of ``R`` still in play, ``sum lambda +
        rho_T`` and their positions in ``R``: every ``_FIX_EVERY`` steps the candidates whose
        bound with ``T`` is at most the best value at that step's ``lambda`` are fixed out
        (:meth:`_kept`), so later steps work on fewer columns."""
        pos = np.arange(w_node.shape[1] - t)
        best, best_lam, best_rho, best_base = math.inf, lam, None, 0.0
        for it in range(steps):
            value, grad, rho, base = _lagrangian(w_node, t, lam, r, self.scratch)
            if value < best:
                best, best_lam, best_rho, best_base = value, lam, rho, base
            norm = float(grad @ grad)
            if best <= self.lb + self.tol or norm == 0.0 or self.expired():
                break
            if it % _FIX_EVERY == _FIX_EVERY - 1:
                kept = self._kept(rho, base, r)
                if len(kept) < len(rho):
                    self.fixed_out += len(rho) - len(kept)
                    pos, w_node = pos[kept], w_node[:, np.concatenate([np.arange(t), t + kept])]
                    best_rho = None  # over the columns before the fixing: recomputed below
            lam = lam - _STEP_DECAY**it * (value - self.lb) / norm * grad
        if best_rho is None:  # the best multipliers' rho on the columns left (a bound too)
            value, _, best_rho, best_base = _lagrangian(w_node, t, best_lam, r, self.scratch)
            best = min(best, value)
        return best, best_lam, best_rho, best_base, pos

    def visit(
        self, chosen: NDArray[np.int64], rest: NDArray[np.int64], lam: NDArray[np.float64],
        bound: float,
    ) -> float:  # fmt: skip
        """Search below ``(T, R)`` whose bound is ``bound``; the largest bound left unexplored
        when the deadline struck (``-inf`` when everything below was settled)."""
        self.nodes += 1
        r = self.k - len(chosen)
        if self.expired():
            return bound
        w_node = self.w[:, np.concatenate([chosen, rest])]
        value, lam, rho, base, pos = self.descend(w_node, len(chosen), lam, r, _NODE_STEPS)
        if value <= self.lb + self.tol:
            return -math.inf
        if self.expired():  # (before the O(|R|) children's bounds: this node's bound holds)
            return value
        t = len(chosen)
        kept = self._kept(rho, base, r)  # (positions among the columns the steps left)
        self.fixed_out += len(pos) - len(kept)
        if len(kept) < len(rest):  # fixed out for the whole subtree: fewer columns below
            rho, left = rho[kept], pos[kept]
            rest, w_node = rest[left], w_node[:, np.concatenate([np.arange(t), t + left])]
        child = base + rho + _suffix_top_sums(rho, r - 1)
        pending = -math.inf
        for j in range(len(rest) - (r - 1)):  # a child needs r - 1 candidates after it
            if child[j] <= self.lb + self.tol:
                continue
            if self.expired():
                tail = child[j : len(rest) - (r - 1)]
                return max(pending, float(tail.max()))
            grown = np.append(chosen, rest[j])
            if r == 2:  # one slot left below: every completion, on views of w_node
                self._complete(grown, w_node[:, t + j], w_node[:, t + j + 1 :], rest[j + 1 :])
            else:  # the child's candidates, fixed at this node's lambda before its own steps
                below = j + 1 + self._kept(rho[j + 1 :], base + float(rho[j]), r - 1)
                self.fixed_out += len(rest) - (j + 1) - len(below)
                pending = max(pending, self.visit(grown, rest[below], lam, child[j]))
        return pending

    def _kept(self, rho: NDArray[np.float64], base: float, r: int) -> NDArray[np.int64]:
        """The positions in ``R`` that may still be in a set better than the best: ``q`` is
        fixed out of the node's whole subtree when ``base + rho_q + (the r - 1 largest rho
        over R - q) <= best`` (the Lagrangian bound of every set holding ``T + q``; valid at
        this node's ``lambda``). The ``r - 1`` largest are always kept (their bound is the
        node's)."""
        if r == 1 or len(rho) <= r:
            return np.arange(len(rho))
        top = np.argpartition(-rho, r - 2)[: r - 1]
        keep = base + rho + float(rho[top].sum()) > self.lb + self.tol
        keep[top] = True
        return np.flatnonzero(keep)

    def _complete(
        self,
        chosen: NDArray[np.int64],
        added: NDArray[np.float64],
        w_rest: NDArray[np.float64],
        rest: NDArray[np.int64],
    ) -> None:
        """One slot left (``chosen`` has ``k - 1`` candidates, the last one's column is
        ``added``): every completion by ``rest`` (columns ``w_rest``), exactly."""
        self.nodes += 1
        if len(rest) == 0:
            return
        base = np.maximum(self.w[:, chosen[:-1]].max(axis=1), added) if len(chosen) > 1 else added
        out = self.scratch[:, : w_rest.shape[1]]
        values = np.maximum(base[:, None], w_rest, out=out).sum(axis=0)
        j = int(np.argmax(values))
        if values[j] > self.lb:
            self.lb = float(values[j])
            self.best = np.sort(np.append(chosen, rest[j])).astype(np.int64)
