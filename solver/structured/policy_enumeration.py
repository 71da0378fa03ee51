"""Budgets of policies (``2 <= k <= MAX_BUDGET``) by a bounded enumeration of candidate sets:
a branch and bound over sets whose bounds come from the Lagrangian relaxation of the
facility-location MILP of :mod:`.policies` (seed 004, r-MDPs; the model is there).

Bound. For any multipliers ``lambda`` (one per user) and any set ``S``::

    f(S) = sum_u max_{p in S} w[u,p] <= sum_u lambda_u + sum_{p in S} rho_p(lambda),
    rho_p(lambda) = sum_u (w[u,p] - lambda_u)^+

(``max_{p in S} w[u,p] <= lambda_u + max_{p in S} (w[u,p] - lambda_u)^+``): the Lagrangian
relaxation of "every user gets one policy" (``sum_p x_up = 1``); its minimum over ``lambda``
is the strong LP bound. A node is ``T`` (chosen), ``R`` (the candidates it may still add, in
a fixed order) and ``r = k - |T|`` slots. With the floor ``a_u = max_{p in T} w[u,p]`` (what
``T`` already gives user ``u``), ``f(T + Q) = sum_u max(a_u, max_{q in Q} w[u,q])``, so for
every ``lambda >= a`` and every ``r``-set ``Q`` of ``R``::

    f(T + Q) <= sum_u lambda_u + (the r largest rho_q(lambda) over R)

and the node's bound is the smallest right side met over ``lambda >= a``. Its minimum is the
same LP bound as that of ``sum lambda + sum_{p in T} rho_p + ...`` over every ``lambda``, but
at the multipliers actually met (a parent's, a few subgradient steps) it is never looser and
often much tighter: it does not count twice a user whom two candidates of ``T + Q`` serve
above ``lambda_u`` (uniform 100 x 1,000 values, ``k = 5``: 26,006 instead of 64,604 nodes;
8,785 with the raised children's bounds below; both at the plain Polyak step).

Search. Candidates are ordered by ``rho`` at the root's multipliers (largest first); the
children of ``(T, R)`` are ``(T + R_j, R_{j+1:})``, so every ``k``-set is met once. At the
parent's ``lambda`` child ``j`` is bounded first by ``sum lambda + rho_{R_j} + (the r - 1
largest rho over R_{j+1:})`` (one pass over ``R`` for all children), then, if that is above
the best value, at ``lambda`` raised to the child's floor ``max(lambda, w[:, R_j])`` (raising
``lambda_u`` by ``d_u`` lowers ``(w[u,q] - lambda_u)^+`` by ``min((w[u,q] - lambda_u)^+,
d_u)``: one pass over ``R_{j+1:}``): children at or below the best value are pruned; the
others re-optimize ``lambda`` by projected subgradient steps from there (Polyak steps: 1.5
times the step to the best value, times ``0.97^step``; ``lambda`` kept at least the floor; any
iterate's value is a valid bound, so a node is pruned as soon as one reaches the best value).
At the node's final ``lambda`` a candidate ``q`` of ``R`` is fixed out of the whole subtree
when ``sum lambda + rho_q + (the r - 1 largest rho over R - q) <= best`` (the bound of every
set holding ``T + q``), so the children bound and evaluate fewer columns; each child is fixed
again at its raised ``lambda`` and every ``_FIX_EVERY`` of its steps. With one slot left every
completion is evaluated exactly. The enumeration is finite and exact (to ``PRUNE_TOL``); at a
deadline the largest bound of the unexplored nodes is a valid bound (near the root's: it is
loose, see docs/policy_budget.md). ``w`` is held candidate-major (one row per candidate), so
that a node's columns are contiguous rows.

Lattice values. When every ``w`` is a multiple of a step ``delta = 1 / L`` (``L <=
MAX_LATTICE``; e.g. integer-valued ``V`` scaled into [0, 1]), so is every ``f(S)``: a node
bounded below ``best + delta`` holds no better set and is pruned (tolerance ``delta`` less
ten times the ``PRUNE_TOL`` one: room for rounding). Such values tie the incumbent with the
Lagrangian (LP) bound at many nodes, which the subgradient steps approach only to about
``1e-5``: with ``PRUNE_TOL`` alone those nodes were never pruned (measured: 50 x 300 integers
in 0..4, ``k = 4``: 53,282 nodes and 14 s, 8,272 nodes and 1.7 s with the step; 60 x 500, the
same values: 49 s, 5.9 s with the step, the MILP 3.7 s).

Measured (100 users x 1,000 candidates, docs/policy_budget.md): values with structure
(r-MDP, latent, low-rank, clustered) every budget 2-50 proved in at most 1.7 s (the MILP of
:mod:`.policies`: up to 11 s); uniform i.i.d. values, seed 0, every budget 2-50 proved in at
most 55 s (k = 5: 4 s, 6: 17 s, 7-12: 27-55 s; before the floors, 6-17 were unproved at
60 s); seed 1, k = 10-20 stop at 60 s with gaps 0.13-0.58 % (the MILP's: 0.075-0.47 %, with
worse solutions).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

MAX_BUDGET = 64
"""The enumeration serves budgets ``2..MAX_BUDGET`` (measured up to 50: faster than the MILP
of :mod:`.policies` on every instance of the benchmark up to 30, within 0.6 s of it at 50;
its recursion is as deep as the budget)."""

MAX_STACK_CELLS = 1 << 26
"""Budget times cells (users x candidates) at most this for the enumeration: each level of its
recursion may hold two copies of its node's values (``budget x cells x 16`` bytes, 1 GiB at
the limit); larger problems go to the MILP."""


def serves(k: int, cells: int) -> bool:
    """Whether the enumeration takes budget ``k`` on ``cells`` values (:data:`MAX_BUDGET`,
    :data:`MAX_STACK_CELLS`)."""
    return 2 <= k <= MAX_BUDGET and k * cells <= MAX_STACK_CELLS


PRUNE_TOL = 1e-9
"""A node is pruned when its bound is at most the best value plus this (values scaled into
[0, 1] per user, times ``max(1, best)``)."""

MAX_LATTICE = 1024
"""Lattices ``w in Z / L`` tried up to this ``L`` (see the module docstring)."""

_sum = np.add.reduce

_ROOT_STEPS = 300
_NODE_STEPS = 30
_STEP_DECAY = 0.97
_STEP_SCALE = 1.5  # (Polyak's step times this; measured against 1, 1.3, 1.7 and 2 by nodes)
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


def best_set(
    w: NDArray[np.float64],
    k: int,
    start: NDArray[np.int64],
    expired: Callable[[], bool] = lambda: False,
) -> Enumeration:
    """The ``k``-set of columns of ``w`` (``n x m``, ``k <= m``) maximizing ``f``, by the
    bounded enumeration above, from the feasible ``start`` (its value is the first incumbent).
    ``expired()`` is checked at every node and subgradient step."""
    if not 2 <= k <= w.shape[1] or len(start) != k:
        raise ValueError(f"best_set needs 2 <= k <= {w.shape[1]} and a start of k")
    search = _Search(w, k, start, expired)
    lam = w[:, start].max(axis=1)  # the tight levels of the start (Benders' cut levels)
    every = np.arange(w.shape[1], dtype=np.int64)
    floor = np.full(w.shape[0], -np.inf)  # (nothing chosen: no floor)
    root, lam, rho, pos = search.descend(search.wt, floor, lam, k, _ROOT_STEPS)
    if root <= search.lb + search.tol:
        return search.result(-math.inf)
    if expired():  # (before the O(m log m) ordering: the root's bound holds)
        return search.result(root)
    order = every[pos][np.argsort(-rho, kind="stable")]
    pending = search.visit(np.empty(0, dtype=np.int64), floor, order, lam, root)
    return search.result(pending)


def _lagrangian(
    w_rest: NDArray[np.float64],
    lam: NDArray[np.float64],
    r: int,
    scratch: NDArray[np.float64] | None = None,
    rho: NDArray[np.float64] | None = None,
) -> tuple[float, NDArray[np.float64], NDArray[np.float64]]:
    """At ``lambda`` (at least the floor ``a``): the bound ``sum lambda + (the r largest rho
    over R)``, a subgradient (``1 - #{p among those r: w[u,p] > lambda_u}``) and ``rho`` over
    ``R``. ``w_rest`` holds ``R``'s columns of ``w`` as rows (candidate-major: gathers and
    sums are over contiguous rows); ``scratch`` (at least ``w_rest``'s shape) is reused for
    ``max(w, lambda)`` (a fresh array per step cost three times the arithmetic, measured);
    a ``rho`` already known at this ``lambda`` is used as is."""
    cols = w_rest.shape[0]
    total = float(_sum(lam))  # (ufunc reductions and methods: these run ~10^6 times a solve)
    if rho is None:
        out = np.empty_like(w_rest) if scratch is None else scratch[:cols]
        rho = _sum(np.maximum(w_rest, lam, out=out), axis=1)  # (w - l)^+ = max(w, l) - l
        rho -= total
    top = rho.argpartition(cols - r)[cols - r :] if r < cols else np.arange(cols)
    grad = 1.0 - _sum(w_rest[top] > lam, axis=0)
    return total + float(_sum(rho[top])), grad, rho


def _raised(
    gains_t: NDArray[np.float64],
    j: int,
    rho: NDArray[np.float64],
) -> NDArray[np.float64]:
    """``rho`` over the candidates after ``j`` at ``mu = max(lambda, w[:, R_j])`` from
    ``gains_t`` (``(w[u, R_p] - lambda_u)^+``, user-major: one row per user) and ``rho`` after
    ``j`` at ``lambda``. Raising ``lambda_u`` by ``d_u = (w[u, R_j] - lambda_u)^+`` lowers
    ``(w[u,q] - lambda_u)^+`` by ``min((w[u,q] - lambda_u)^+, d_u)``; only the users with
    ``d_u > 0`` (usually a few) change."""
    d = gains_t[:, j]
    users = d.nonzero()[0]
    drop = np.minimum(gains_t[users, j + 1 :], d[users, None])
    return rho - _sum(drop, axis=0)


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
        self.k, self.expired = k, expired
        self.wt = np.ascontiguousarray(w.T)  # candidate-major (see _lagrangian)
        self.best = np.sort(start).astype(np.int64)
        self.lb = float(w[:, self.best].max(axis=1).sum())
        tol = PRUNE_TOL * max(1.0, abs(self.lb))
        self.tol = max(tol, lattice_step(w) - 10.0 * tol)  # (module docstring: lattices)
        self.nodes = 0
        self.fixed_out = 0
        self.scratch = np.empty_like(self.wt)  # max(w, lambda) of every step, reused

    def result(self, pending: float) -> Enumeration:
        complete = pending == -math.inf
        bound = self.lb if complete else max(pending, self.lb)
        return Enumeration(self.best, self.lb, bound, complete, self.nodes, self.fixed_out)

    def descend(
        self,
        w_rest: NDArray[np.float64],
        floor: NDArray[np.float64],
        lam: NDArray[np.float64],
        r: int,
        steps: int,
        rho: NDArray[np.float64] | None = None,
    ) -> tuple[float, NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
        """The smallest bound met by projected Polyak subgradient steps towards the best
        value (``lambda`` kept at least the floor ``a``), with its ``lambda``, ``rho`` over the
        candidates of ``R`` still in play and their positions in ``R``: every ``_FIX_EVERY``
        steps (from the first) the candidates whose bound with ``T`` is at most the best value
        at that step's ``lambda`` are fixed out (:meth:`_kept`), so later steps work on fewer
        columns. ``rho``: its value at ``max(lambda, floor)``, when the caller has it."""
        pos = np.arange(w_rest.shape[0])
        lam = np.maximum(lam, floor)
        best, best_lam, best_rho = math.inf, lam, None
        for it in range(steps):
            value, grad, rho = _lagrangian(w_rest, lam, r, self.scratch, rho if it == 0 else None)
            grad[(grad > 0) & (lam <= floor)] = 0.0  # (projected: no step below the floor)
            if value < best:
                best, best_lam, best_rho = value, lam, rho
            norm = float(grad @ grad)
            if best <= self.lb + self.tol or norm == 0.0 or self.expired():
                break
            if it % _FIX_EVERY == 0:
                kept = self._kept(rho, float(_sum(lam)), r)
                if len(kept) < len(rho):
                    self.fixed_out += len(rho) - len(kept)
                    pos, w_rest = pos[kept], w_rest[kept]
                    best_rho = None  # over the columns before the fixing: recomputed below
            lam = lam - _STEP_SCALE * _STEP_DECAY**it * (value - self.lb) / norm * grad
            np.maximum(lam, floor, out=lam)
        if best_rho is None:  # the best multipliers' rho on the columns left (a bound too)
            value, _, best_rho = _lagrangian(w_rest, best_lam, r, self.scratch)
            best = min(best, value)
        return best, best_lam, best_rho, pos

    def visit(
        self,
        chosen: NDArray[np.int64],
        floor: NDArray[np.float64],
        rest: NDArray[np.int64],
        lam: NDArray[np.float64],
        bound: float,
        rho: NDArray[np.float64] | None = None,
    ) -> float:
        """Search below ``(T, R)`` (``floor``: ``a_u = max_{p in T} w[u,p]``, ``-inf`` at the
        root) whose bound is ``bound`` (``rho``: over ``rest`` at ``max(lambda, floor)``,
        when known); the largest bound left unexplored when the deadline struck (``-inf`` when
        everything below was settled)."""
        self.nodes += 1
        r = self.k - len(chosen)
        if self.expired():
            return bound
        w_rest = self.wt[rest]
        value, lam, rho, pos = self.descend(w_rest, floor, lam, r, _NODE_STEPS, rho)
        if value <= self.lb + self.tol:
            return -math.inf
        if self.expired():  # (before the O(|R|) children's bounds: this node's bound holds)
            return value
        base = float(_sum(lam))
        kept = self._kept(rho, base, r)  # (positions among the columns the steps left)
        self.fixed_out += len(pos) - len(kept)
        rho, left = rho[kept], pos[kept]
        rest, w_rest = rest[left], w_rest[left]
        child = base + rho + _suffix_top_sums(rho, r - 1)
        gains_t = np.maximum(w_rest - lam, 0.0).T.copy() if r > 2 else w_rest  # (for _raised)
        pending = -math.inf
        limit = len(rest) - (r - 1)  # a child needs r - 1 candidates after it
        for j in (child[:limit] > self.lb + self.tol).nonzero()[0].tolist():
            if child[j] <= self.lb + self.tol:  # (the best value may have risen since)
                continue
            if self.expired():
                return max(pending, float(child[j:limit].max()))
            if r == 2:  # one slot left below: every completion, on a view of w_rest
                raised = np.maximum(floor, w_rest[j])
                self._complete(np.append(chosen, rest[j]), raised, w_rest[j + 1 :], rest[j + 1 :])
                continue
            # the child's bound and candidates at this node's lambda raised to its floor
            rho_c = _raised(gains_t, j, rho[j + 1 :])
            base_c = base + float(rho[j])
            cut = len(rho_c) - (r - 1)
            bound_c = base_c + float(_sum(np.partition(rho_c, cut)[cut:]))
            if bound_c <= self.lb + self.tol:
                continue
            below = j + 1 + self._kept(rho_c, base_c, r - 1)
            self.fixed_out += len(rest) - (j + 1) - len(below)
            grown, raised = np.append(chosen, rest[j]), np.maximum(floor, w_rest[j])
            below_rho = rho_c[below - j - 1]
            pending = max(pending, self.visit(grown, raised, rest[below], lam, bound_c, below_rho))
        return pending

    def _kept(self, rho: NDArray[np.float64], base: float, r: int) -> NDArray[np.int64]:
        """The positions in ``R`` that may still be in a set better than the best: ``q`` is
        fixed out of the node's whole subtree when ``base + rho_q + (the r - 1 largest rho
        over R - q) <= best`` (the Lagrangian bound of every set holding ``T + q``; valid at
        this node's ``lambda``). The ``r - 1`` largest are always kept (their bound is the
        node's)."""
        if r == 1 or len(rho) <= r:
            return np.arange(len(rho))
        cut = len(rho) - (r - 1)
        top = rho.argpartition(cut)[cut:]
        keep = base + rho + float(_sum(rho[top])) > self.lb + self.tol
        keep[top] = True
        return keep.nonzero()[0]

    def _complete(
        self,
        chosen: NDArray[np.int64],
        floor: NDArray[np.float64],
        w_rest: NDArray[np.float64],
        rest: NDArray[np.int64],
    ) -> None:
        """One slot left (``chosen`` has ``k - 1`` candidates, ``floor`` its value per user):
        every completion by ``rest`` (rows ``w_rest``), exactly."""
        self.nodes += 1
        if len(rest) == 0:
            return
        out = self.scratch[: w_rest.shape[0]]
        values = _sum(np.maximum(floor, w_rest, out=out), axis=1)
        j = int(np.argmax(values))
        if values[j] > self.lb:
            self.lb = float(values[j])
            self.best = np.sort(np.append(chosen, rest[j])).astype(np.int64)
