"""The compiled kernels of the set enumeration of :mod:`.policy_enumeration` (numba; the
math is there): one loop over an explicit stack, no Python per node. Loops rather than array
expressions and slice assignments throughout: numba compiles them several times faster (the
first compilation on a machine is about 8 s; later processes load them from numba's cache)."""

from __future__ import annotations

import math
import time

import numba
import numpy as np
from numpy.typing import NDArray

ROOT_STEPS = 300
_NODE_STEPS = 30
_STEP_DECAY = 0.97
_STEP_SCALE = 1.5  # (Polyak's step times this; measured against 1, 1.3, 1.7 and 2 by nodes)
_FIX_EVERY = 5
"""Subgradient steps between two fixings of a node's candidates (:func:`descend`)."""

# the search's counters, in one int64 array per thread that the kernels write (LIMIT: a node
# limit, or -1; WORK: values read so far; CHECK: the WORK at which the clock is read next)
NODES, FIXED_OUT, SETS, LIMIT, WORK, CHECK, EXPIRED = 0, 1, 2, 3, 4, 5, 6
CLOCK_WORK = 1 << 20
"""Values read (about a millisecond of work) between two readings of the clock: reading it
takes the GIL, which threads searching at once would otherwise contend for at every step."""


_jit = numba.njit(cache=True)


@_jit
def _now() -> float:
    """:func:`time.perf_counter` (an object-mode call: under a microsecond)."""
    with numba.objmode(t="float64"):
        t = time.perf_counter()
    return t


@_jit
def expired(deadline: float, stats: NDArray[np.int64]) -> bool:
    """Whether the ``deadline`` (a :func:`time.perf_counter` instant; read every
    :data:`CLOCK_WORK` values of work) or the node limit is reached."""
    limit = stats[LIMIT]
    if stats[EXPIRED] or (limit >= 0 and stats[NODES] >= limit):
        return True
    if deadline == math.inf or stats[WORK] < stats[CHECK]:
        return False
    stats[CHECK] = stats[WORK] + CLOCK_WORK
    stats[EXPIRED] = _now() >= deadline  # (once expired, always: every caller up the stack)
    return stats[EXPIRED] != 0


@numba.njit(cache=True, fastmath={"reassoc", "nsz"})  # (a vectorized sum)
def _rho(wt, rows, cnt, lam, out):
    """``out[i] = rho_{rows[i]}(lambda) = sum_u (w[u, rows[i]] - lambda_u)^+`` for ``i < cnt``."""
    n = lam.shape[0]
    for i in range(cnt):
        row = wt[rows[i]]
        s = 0.0
        for u in range(n):
            s += max(row[u] - lam[u], 0.0)
        out[i] = s


@_jit
def _keep_top(vals, idx, size, q, v, i):
    """Offer ``v`` (at position ``i``) to the ``q`` largest so far, held ascending in
    ``vals[:size]`` (positions in ``idx``); the new size and the change of their sum."""
    if size < q:
        p = size
        while p > 0 and vals[p - 1] > v:
            vals[p], idx[p] = vals[p - 1], idx[p - 1]
            p -= 1
        vals[p], idx[p] = v, i
        return size + 1, v
    if q == 0 or v <= vals[0]:
        return size, 0.0
    change = v - vals[0]
    p = 0
    while p + 1 < size and vals[p + 1] < v:
        vals[p], idx[p] = vals[p + 1], idx[p + 1]
        p += 1
    vals[p], idx[p] = v, i
    return size, change


@_jit
def _top(x, cnt, q):
    """The positions of the ``q`` largest of ``x[:cnt]`` (all when ``q >= cnt``)."""
    if q >= cnt:
        return np.arange(cnt)
    vals, idx, size = np.empty(q), np.empty(q, dtype=np.int64), 0
    for i in range(cnt):
        size, _ = _keep_top(vals, idx, size, q, x[i], i)
    return idx


@_jit
def _lagrangian(wt, rows, cnt, lam, r, rho, grad, known):
    """At ``lambda`` (at least the floor ``a``): the bound ``sum lambda + (the r largest rho
    over R)`` (``R``: the ``cnt`` candidates ``rows``, their ``rho`` written to ``rho``
    unless ``known``) and a subgradient ``grad = 1 - #{p among those r: w[u,p] > lambda_u}``."""
    if not known:
        _rho(wt, rows, cnt, lam, rho)
    top = _top(rho, cnt, r)
    value = _total(lam, lam.shape[0])
    for u in range(lam.shape[0]):
        grad[u] = 1.0
    for t in top:
        value += rho[t]
        row = wt[rows[t]]
        for u in range(lam.shape[0]):
            if row[u] > lam[u]:
                grad[u] -= 1.0
    return value


@_jit
def _kept(rho, cnt, base, r, cutoff):
    """Mask of the positions of ``R`` that may still be in a set above ``cutoff``: ``q`` is
    fixed out of the node's whole subtree when ``base + rho_q + (the r - 1 largest rho over
    R - q) <= cutoff`` (the Lagrangian bound of every set holding ``T + q``; valid at this
    node's ``lambda``). The ``r - 1`` largest are always kept (their bound is the node's)."""
    keep = np.empty(cnt, dtype=np.bool_)
    if r == 1 or cnt <= r:
        keep[:] = True
        return keep
    top = _top(rho, cnt, r - 1)
    rest = base
    for t in top:
        rest += rho[t]
    for i in range(cnt):
        keep[i] = rest + rho[i] > cutoff
    for t in top:
        keep[t] = True
    return keep


@_jit
def _copy(dst, src, cnt):
    """``dst[:cnt] = src[:cnt]`` (loops, here and below: numba compiles them several times
    faster than slice assignments and array methods)."""
    for i in range(cnt):
        dst[i] = src[i]


@_jit
def _total(x, cnt):
    """``x[:cnt].sum()``."""
    s = 0.0
    for i in range(cnt):
        s += x[i]
    return s


@_jit
def _max_into(dst, a, b):
    """``dst = max(a, b)`` elementwise."""
    for i in range(dst.shape[0]):
        dst[i] = max(a[i], b[i])


@_jit
def _compact(keep, rows, start, rho, cnt, rows_to, rho_to):
    """The masked entries of ``rows[start:start + cnt]`` and ``rho[:cnt]``, in order, to
    ``rows_to`` and ``rho_to`` (which may be ``rows`` and ``rho`` with ``start = 0``); their
    count."""
    c = 0
    for i in range(cnt):
        if keep[i]:
            rows_to[c] = rows[start + i]
            rho_to[c] = rho[i]
            c += 1
    return c


@_jit
def _suffix_top_sums(x, cnt, q, out):
    """``out[j]`` = the sum of the ``q`` largest entries of ``x[j + 1:cnt]`` (fewer if short)."""
    vals, idx = np.empty(max(q, 1)), np.empty(max(q, 1), dtype=np.int64)
    size, total = 0, 0.0
    for j in range(cnt - 1, -1, -1):
        out[j] = total
        size, change = _keep_top(vals, idx, size, q, x[j], j)
        total += change


@_jit
def _raised(wt, rows, j, cnt, lam, rho, out):
    """``out[i]`` = ``rho`` of ``rows[j + 1 + i]`` at ``mu = max(lambda, w[:, rows[j]])`` from
    ``rho`` at ``lambda`` (``rows[j + 1:cnt]``). Raising ``lambda_u`` by ``d_u = (w[u, R_j] -
    lambda_u)^+`` lowers ``(w[u,q] - lambda_u)^+`` by ``min((w[u,q] - lambda_u)^+, d_u)``; only
    the users with ``d_u > 0`` (usually a few) change."""
    lead = wt[rows[j]]
    users, raise_ = np.empty(lam.shape[0], dtype=np.int64), 0
    for u in range(lam.shape[0]):
        if lead[u] > lam[u]:
            users[raise_] = u
            raise_ += 1
    for i in range(cnt - j - 1):
        row = wt[rows[j + 1 + i]]
        s = rho[j + 1 + i]
        for u in users[:raise_]:
            g = row[u] - lam[u]
            if g > 0.0:
                s -= min(g, lead[u] - lam[u])
        out[i] = s


_F1, _F2, _I1 = "f8[::1]", "f8[:, ::1]", "i8[::1]"


@numba.njit(
    f"Tuple((f8, i8))({_F2}, {_I1}, i8, {_F1}, {_F1}, i8, i8, b1, {_F1}, {_F1}, f8, f8, {_I1})",
    cache=True,
)  # (a signature: one compilation, not one per literal argument seen)
def descend(wt, rows, cnt, floor, lam, r, steps, known, rho, cutoff_ref, tol, deadline, stats):
    """The smallest bound met by projected Polyak subgradient steps towards the best value
    (``lambda`` kept at least the floor ``a``; ``lambda`` and ``rho`` are overwritten with the
    best step's, over the candidates still in play). Every ``_FIX_EVERY`` steps (from the
    first) the candidates whose bound with ``T`` is at most the best value at that step's
    ``lambda`` are fixed out (:func:`_kept`), so later steps work on fewer rows. ``known``:
    ``rho`` holds its value at ``max(lambda, floor)``. Returns the bound and the count left."""
    n = lam.shape[0]
    cur = np.empty(n)
    for u in range(n):
        cur[u] = max(lam[u], floor[u])
    grad = np.empty(n)
    best = math.inf
    have = False  # whether lam/rho hold the best step's values over rows[:cnt]
    work = np.empty(cnt)
    for it in range(steps):
        if it == 0 and known:
            _copy(work, rho, cnt)
        value = _lagrangian(wt, rows, cnt, cur, r, work, grad, it == 0 and known)
        stats[WORK] += cnt * n
        for u in range(n):
            if grad[u] > 0.0 and cur[u] <= floor[u]:
                grad[u] = 0.0  # (projected: no step below the floor)
        if value < best:
            best, have = value, True
            _copy(lam, cur, n)
            _copy(rho, work, cnt)
        norm = 0.0
        for u in range(n):
            norm += grad[u] * grad[u]
        lb = cutoff_ref[0]
        if best <= lb + tol or norm == 0.0 or expired(deadline, stats):
            break
        if it % _FIX_EVERY == 0:
            keep = _kept(work, cnt, _total(cur, n), r, lb + tol)
            left = _compact(keep, rows, 0, work, cnt, rows, work)
            if left < cnt:
                stats[FIXED_OUT] += cnt - left
                cnt = left
                have = False  # (the best rho was over the rows before the fixing)
        size = _STEP_SCALE * math.pow(_STEP_DECAY, it) * (value - lb) / norm
        for u in range(n):
            cur[u] = max(cur[u] - size * grad[u], floor[u])
    if not have:  # the best multipliers' rho on the rows left (a bound too)
        value = _lagrangian(wt, rows, cnt, lam, r, rho, grad, False)
        best = min(best, value)
    return best, cnt


@_jit
def _complete(wt, rows, j, cnt, floor, chosen, d, best, own, cutoff, stats, prune):
    """One slot left below ``T + R_j`` (``floor``: ``T``'s value per user): every completion
    ``T + R_j + q``, ``q`` in ``rows[j + 1:cnt]``, exactly. One better than this thread's best
    (``own[0]``, ``best``) replaces it and, when pruning, raises the shared incumbent value
    ``cutoff[0]``. (Held against the thread's own value, not the shared one: a write of another
    thread may lower ``cutoff[0]`` between a test and a write, and a set tested against that
    lowered value would otherwise replace a better one of this thread; pruning by a lowered
    value stays valid, since every value written is one of some thread's sets.)"""
    stats[NODES] += 1
    if j + 1 >= cnt:
        return
    raised = np.empty(floor.shape[0])
    _max_into(raised, floor, wt[rows[j]])
    top, arg = -math.inf, -1
    for i in range(j + 1, cnt):
        row = wt[rows[i]]
        s = 0.0
        for u in range(raised.shape[0]):
            s += max(raised[u], row[u])
        if s > top:
            top, arg = s, i
    stats[SETS] += cnt - j - 1
    stats[WORK] += (cnt - j - 1) * raised.shape[0]
    if top > own[0]:
        own[0] = top
        _copy(best, chosen, d)
        best[d] = rows[j]
        best[d + 1] = rows[arg]
    if prune and top > cutoff[0]:
        cutoff[0] = top


@_jit
def _bound_node(wt, rows, cnt, floor, lam, r, known, rho, kids, cutoff, tol, deadline, stats):
    """Bound a node (its ``cnt`` candidates ``rows``, ``rho`` there when ``known``) by
    :func:`descend`, fix out the candidates that cannot improve on the incumbent, and write its
    children's first bounds to ``kids``. Returns the bound, the candidates left (``-1``: the
    node is pruned; ``0`` with a finite bound: the deadline struck) and ``sum lambda``."""
    bound, cnt = descend(wt, rows, cnt, floor, lam, r, _NODE_STEPS, known, rho, cutoff, tol,
                         deadline, stats)  # fmt: skip
    if bound <= cutoff[0] + tol:
        return bound, -1, 0.0
    if expired(deadline, stats):
        return bound, 0, 0.0
    base = _total(lam, lam.shape[0])
    keep = _kept(rho, cnt, base, r, cutoff[0] + tol)
    left = _compact(keep, rows, 0, rho, cnt, rows, rho)
    stats[FIXED_OUT] += cnt - left
    _suffix_top_sums(rho, left, r - 1, kids)
    for i in range(left):
        kids[i] += base + rho[i]
    return bound, left, base


@_jit
def root_node(wt, k, lam, rows, rho, kids, cutoff, tol, deadline, stats):
    """The root (``T`` empty, candidates ``rows`` in order, multipliers ``lam``) bounded as
    every node is (:func:`_bound_node`; ``lam``, ``rows``, ``rho``, ``kids`` overwritten): the
    bound, the candidates left (-1: pruned, 0: the deadline struck) and ``sum lambda``."""
    stats[NODES] += 1
    floor = np.empty(lam.shape[0])
    for u in range(lam.shape[0]):
        floor[u] = -math.inf
    return _bound_node(wt, rows, len(rows), floor, lam, k, False, rho, kids, cutoff, tol,
                       deadline, stats)  # fmt: skip


@numba.njit(cache=True, nogil=True)  # (threads of best_set search the root's children at once)
def search(
    wt, k, best, own, cutoff, tol, lam0, rows0, rho0, kids0, base0, counter, deadline, stats, prune
):
    """Search the subtrees of the root's children (the root: ``lam0``, ``rows0``, ``rho0``,
    ``kids0``, ``base0`` from :func:`root_node`), taking the next child from ``counter``
    (shared by the threads: a child may be taken twice when two threads race, never skipped);
    the largest bound left unexplored in the subtree at hand when the deadline or node limit
    struck (``-inf`` when every child was settled). ``cutoff[0]``: the incumbent's value
    (shared by the threads; never raised when not pruning), ``best`` and ``own[0]``: this
    thread's best set and its value (:func:`_complete`). The stack's level ``d`` holds the node with ``d`` chosen
    candidates (``chosen[:d]``): its floor, multipliers, candidates ``R`` in order with their
    ``rho`` and children's bounds, and the next child to visit (level 0: the root)."""
    m, n = wt.shape
    floors = np.empty((k, n))
    for u in range(n):
        floors[0, u] = -math.inf
    lams = np.empty((k, n))
    rows = np.empty((k, m), dtype=np.int64)
    rhos = np.empty((k, m))
    kids = np.empty((k, m))
    counts = np.zeros(k, dtype=np.int64)
    cursors = np.zeros(k, dtype=np.int64)
    bases = np.zeros(k)
    chosen = np.empty(k, dtype=np.int64)
    raised = np.empty(m)
    counts[0], bases[0] = len(rows0), base0
    _copy(lams[0], lam0, n)
    _copy(rows[0], rows0, len(rows0))
    _copy(rhos[0], rho0, len(rows0))
    _copy(kids[0], kids0, len(rows0))
    d, bound = 0, -math.inf
    entering = False  # the node at level d is to be bounded (else: its next child)
    while d >= 0:
        r = k - d
        if entering:
            entering = False
            stats[NODES] += 1
            if expired(deadline, stats):
                return _pending(kids, cursors, counts, k, d, bound)
            bound, left, base = _bound_node(wt, rows[d], counts[d], floors[d], lams[d], r, True,
                                            rhos[d], kids[d], cutoff, tol, deadline, stats)  # fmt: skip
            if left < 0:
                d -= 1
                continue
            if left == 0:  # (the deadline struck)
                return _pending(kids, cursors, counts, k, d, bound)
            counts[d], bases[d], cursors[d] = left, base, 0
        limit = counts[d] - (r - 1)  # a child needs r - 1 candidates after it
        if d == 0:
            j = counter[0]
            counter[0] = j + 1
        else:
            j = cursors[d]
            cursors[d] = j + 1
        if j >= limit:
            d -= 1
            continue
        if kids[d, j] <= cutoff[0] + tol:
            continue
        if expired(deadline, stats):
            return _pending(kids, cursors, counts, k, d + 1, kids[d, j])
        cnt = counts[d]
        if r == 2:  # one slot left below: every completion
            _complete(wt, rows[d], j, cnt, floors[d], chosen, d, best, own, cutoff, stats, prune)
            continue
        # the child's bound and candidates at this node's lambda raised to its floor
        _raised(wt, rows[d], j, cnt, lams[d], rhos[d], raised)
        below = cnt - j - 1
        stats[WORK] += below
        base_c = bases[d] + rhos[d, j]
        bound_c = base_c
        for t in _top(raised, below, r - 1):
            bound_c += raised[t]
        if bound_c <= cutoff[0] + tol:
            continue
        keep = _kept(raised, below, base_c, r - 1, cutoff[0] + tol)
        c = d + 1
        left = _compact(keep, rows[d], j + 1, raised, below, rows[c], rhos[c])
        stats[FIXED_OUT] += below - left
        counts[c], chosen[d] = left, rows[d, j]
        _max_into(floors[c], floors[d], wt[rows[d, j]])
        _copy(lams[c], lams[d], n)
        d, bound, entering = c, bound_c, True
    return -math.inf


@_jit
def _pending(kids, cursors, counts, k, levels, bound):
    """The largest bound left unexplored: ``bound`` (the node or child at hand) and every
    unvisited child of the levels ``1..levels - 1`` of the stack (the root's are the shared
    counter's: :func:`~.policy_enumeration.best_set` adds them)."""
    top = bound
    for level in range(1, levels):
        limit = counts[level] - (k - level - 1)
        for j in range(cursors[level], limit):
            top = max(top, kids[level, j])
    return top
