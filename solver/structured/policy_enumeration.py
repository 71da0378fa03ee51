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
deadline (or a node limit) the largest bound of the unexplored nodes is a valid bound (near
the root's: it is loose, see docs/policy_budget.md).

Implementation. The search runs compiled (numba, :mod:`.policy_kernels`), depth first over an
explicit stack: level ``d`` holds the node with ``d`` chosen candidates (its floor, ``lambda``,
the candidates of ``R`` in order with their ``rho`` and children's bounds, the next child to
visit), so memory is about ``24 k (n + m)`` bytes per thread besides ``w`` held candidate-major (one row per
candidate: a node's candidates are rows, read in place). On one thread it visits the same
tree as the numpy version it replaced (uniform 100 x 1,000 seed 1: 316,860 / 426,476 /
762,013 nodes at ``k`` = 10 / 12 / 15, both), about 5 times faster (17 / 19 / 28 s against
71 / 98 / 148 s). Threads (one per CPU by default) search the root's children at once, each
taking the next one from a shared counter and sharing the incumbent's value (a value some
thread's set attains, so pruning by it is valid whichever thread reads it; each thread keeps
its own best set and the best of them is returned); the clock is read once per about a
millisecond of work, so the threads do not contend for the GIL (reading it at every step, two
threads were slower than one). Two threads: uniform seed 2 ``k = 9`` in 16.9 s instead of
31.9 s on one, ``k = 12`` in 14.5 s instead of 25.2 s. With ties, which optimal set is
returned may differ between runs.

Lattice values. When every ``w`` is a multiple of a step ``delta = 1 / L`` (``L <=
MAX_LATTICE``; e.g. integer-valued ``V`` scaled into [0, 1]), so is every ``f(S)``: a node
bounded below ``best + delta`` holds no better set and is pruned (tolerance ``delta`` less
ten times the ``PRUNE_TOL`` one: room for rounding). Such values tie the incumbent with the
Lagrangian (LP) bound at many nodes, which the subgradient steps approach only to about
``1e-5``: with ``PRUNE_TOL`` alone those nodes were never pruned (measured: 50 x 300 integers
in 0..4, ``k = 4``: 53,282 nodes and 14 s, 8,272 nodes and 1.7 s with the step; 60 x 500, the
same values: 49 s, 5.9 s with the step, the MILP 3.7 s).

Measured (100 users x 1,000 candidates): docs/policy_budget.md.
"""

from __future__ import annotations

import math
import os
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..core.limits import DEFAULT_LIMITS

MAX_BUDGET = 64
"""The enumeration serves budgets ``2..MAX_BUDGET`` (measured up to 50: faster than the MILP
of :mod:`.policies` on every instance of the benchmark; its stack is as deep as the budget)."""

PRUNE_TOL = 1e-9
"""A node is pruned when its bound is at most the best value plus this (values scaled into
[0, 1] per user, times ``max(1, best)``)."""

MAX_LATTICE = 1024
"""Lattices ``w in Z / L`` tried up to this ``L`` (see the module docstring)."""


def serves(k: int) -> bool:
    """Whether the enumeration takes budget ``k`` (:data:`MAX_BUDGET`)."""
    return 2 <= k <= MAX_BUDGET


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
    sets: int = 0
    """``k``-sets evaluated exactly (the completions of the nodes with one slot left)."""
    threads: int = 1
    """Threads that searched."""


def best_set(
    w: NDArray[np.float64],
    k: int,
    start: NDArray[np.int64],
    deadline: float = math.inf,
    node_limit: int | None = None,
    *,
    threads: int | None = None,
    prune: bool = True,
) -> Enumeration:
    """The ``k``-set of columns of ``w`` (``n x m``, ``k <= m``) maximizing ``f``, by the
    bounded enumeration above, from the feasible ``start`` (its value is the first incumbent).
    ``threads`` (default: the CPUs this process may use, at most :data:`MAX_THREADS`, and as
    many as :data:`MAX_STACK_BYTES` allows: each holds a stack of about ``24 k (n + m)``
    bytes) search the root's children at once, sharing the incumbent's value. The search stops
    at ``deadline`` (a :func:`time.perf_counter` instant, read about every millisecond of
    work) or after ``node_limit`` nodes per thread, with the best set found and a valid bound.
    ``prune=False`` (tests) keeps the incumbent out of the bounds: every ``k``-set is then
    evaluated, once (twice at most for the root children two threads race for)."""
    n, m = w.shape
    start = np.sort(np.asarray(start, dtype=np.int64))
    if not 2 <= k <= m or len(np.unique(start)) != k or start[0] < 0 or start[-1] >= m:
        raise ValueError(f"best_set needs 2 <= k <= {m} and a start of k distinct columns")
    if threads is not None and threads < 1:
        raise ValueError(f"best_set needs at least one thread; got {threads}")
    from . import policy_kernels as kn  # (numba: imported, and its kernels loaded, on first use)

    stack = 24 * k * (n + m)  # (each thread's: rows, rho, children's bounds, floors, lambdas)
    fits = max(1, MAX_STACK_BYTES // stack)
    n_threads = min(default_threads() if threads is None else threads, fits)
    wt = np.ascontiguousarray(w.T, dtype=np.float64)  # candidate-major: a candidate is a row
    lb = _value(w, start)
    tol = PRUNE_TOL * max(1.0, abs(lb))
    tol = max(tol, lattice_step(w) - 10.0 * tol)  # (module docstring: lattices)
    lam = w[:, start].max(axis=1)  # the tight levels of the start (Benders' cut levels)
    stats = np.zeros((n_threads, 16), dtype=np.int64)  # (rows 128 bytes apart: no false sharing)
    stats[:, kn.LIMIT] = -1 if node_limit is None else node_limit
    # the incumbent's value the bounds are held against (shared by the threads)
    cutoff = np.array([lb if prune else n * float(w.min()) - 1.0])  # (not pruning: below all)
    deadline = float(deadline)
    rows, rho, kids = np.arange(m), np.empty(m), np.empty(m)
    floor = np.full(n, -math.inf)
    root, cnt = kn.descend(wt, rows, m, floor, lam, k, kn.ROOT_STEPS, False, rho, cutoff, tol,
                           deadline, stats[0])  # fmt: skip
    bests, owns = np.tile(start, (n_threads, 1)), np.full((n_threads, 8), lb)  # (rows apart)
    pending = root  # (the largest bound left unexplored; -inf once everything is settled)
    if root <= cutoff[0] + tol:
        pending = -math.inf
    elif not kn.expired(deadline, stats[0]):  # candidates ordered by rho there, largest first
        order = rows[:cnt][np.argsort(-rho[:cnt], kind="stable")]
        pending, left, base = kn.root_node(wt, k, lam, order, rho, kids, cutoff, tol, deadline,
                                           stats[0])  # fmt: skip
        if left < 0:  # (pruned)
            pending = -math.inf
        elif left > 0:  # (0: the deadline struck)
            pending = _search_children(kn, wt, k, bests, owns, cutoff, tol, lam, order[:left],
                                       rho[:left], kids[:left], base, deadline, stats, prune)  # fmt: skip
    chosen = max(bests, key=lambda s: _value(w, s))  # (each thread's best; ties: the first)
    value = _value(w, chosen)  # (at least every value the threads shared in cutoff[0])
    complete = pending == -math.inf
    bound = value if complete else max(pending, value)
    total = stats.sum(axis=0)
    return Enumeration(np.sort(chosen), value, bound, complete, int(total[kn.NODES]),
                       int(total[kn.FIXED_OUT]), int(total[kn.SETS]), n_threads)  # fmt: skip


MAX_THREADS = DEFAULT_LIMITS.max_threads
"""Threads of one enumeration at most (:func:`default_threads`; ``Limits.max_threads``)."""

MAX_STACK_BYTES = 1 << 28
"""The threads' stacks together at most this (256 MiB; one thread whatever its size)."""


def default_threads() -> int:
    """The CPUs this process may use (its affinity), at most :data:`MAX_THREADS`."""
    return max(1, min(MAX_THREADS, len(os.sched_getaffinity(0))))


def _value(w: NDArray[np.float64], chosen: NDArray[np.int64]) -> float:
    return float(w[:, chosen].max(axis=1).sum())


def _search_children(
    kn: Any,
    wt: NDArray[np.float64],
    k: int,
    bests: NDArray[np.int64],
    owns: NDArray[np.float64],
    cutoff: NDArray[np.float64],
    tol: float,
    lam: NDArray[np.float64],
    rows: NDArray[np.int64],
    rho: NDArray[np.float64],
    kids: NDArray[np.float64],
    base: float,
    deadline: float,
    stats: NDArray[np.int64],
    prune: bool,
) -> float:
    """The root's children searched by ``len(bests)`` threads (the compiled search releases
    the GIL), each taking the next child from a shared counter; the largest bound left
    unexplored (``-inf``: none)."""
    counter = np.zeros(1, dtype=np.int64)
    pendings = [-math.inf] * len(bests)

    def run(t: int) -> None:
        pendings[t] = kn.search(wt, k, bests[t], owns[t], cutoff, tol, lam, rows, rho, kids,
                                base, counter, deadline, stats[t], prune)  # fmt: skip

    if len(bests) == 1:
        run(0)
    else:
        workers = [threading.Thread(target=run, args=(t,)) for t in range(len(bests))]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    limit = len(rows) - (k - 1)  # the root's children no thread took (a deadline struck)
    left = kids[min(int(counter[0]), limit) : limit]
    return max(max(pendings), float(left.max()) if len(left) else -math.inf)


def warm_up() -> None:
    """Compile the kernels below (or load them from numba's cache, next to this module or in
    the user's cache directory): about 8 s the first time on a machine, under 1 s after. The
    server's worker forkserver calls it once, so that workers start with them compiled."""
    w = np.array([[0.0, 0.5, 1.0, 0.25], [1.0, 0.0, 0.5, 0.75], [0.5, 1.0, 0.0, 0.25]])
    best_set(w, 3, np.arange(3, dtype=np.int64), prune=False)  # (every kernel, one signature)


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
