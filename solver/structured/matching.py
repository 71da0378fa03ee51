"""The matching game and its mediators (seed 000 section 4.2, Figure 2 left; SPEC section 3).

Model. ``n`` agents each point at another agent (``partners[i] = j != i``; ``-1`` = points at
nobody, which only a mediator's output uses in practice). ``i`` and ``j`` are *matched* when
they point at each other; then i receives ``R[i, j] >= 0`` (asymmetric), otherwise 0.

Mediators (D = delegators; non-delegators never change their pointer):

- :func:`matching_pareto`, the paper's method: delegators not matched in the submitted profile
  are matched among themselves by a maximum-weight matching on ``R[i, j] + R[j, i]``; matched
  agents keep their partner, delegators left over keep their pointer. Nobody in D loses (an
  unmatched delegator had 0).
- :func:`matching_pareto_exact` (beyond the paper): eq. 3 exactly. The mediator may re-point
  every delegator; with ``p_i`` the submitted payoff of i in D it solves::

      max  sum_{i,k in D} (R_ik + R_ki) x_ik + sum_{i in D} b_i s_i
      s.t. sum_k x_ik + s_i <= 1  (= 1 if p_i > 0),  x_ik allowed iff R_ik >= p_i, R_ki >= p_k,
           s_i allowed iff b_i >= p_i

  where ``s_i`` means "point back at the best non-delegator already pointing at i", worth
  ``b_i``. The submitted profile is feasible, so the optimum is >= the paper's method.
- :func:`matching_punishing`: delegators matched with a non-delegator are unmatched (they point
  at nobody); if everyone delegates, the central planner's matching.
- :func:`matching_central_planner`: a maximum-weight matching of everyone (unmatched: nobody).

Every matching is solved exactly by :func:`max_weight_matching`'s algorithm: the matching LP in
HiGHS with column generation over all pairs (pricing by the row duals) and odd-set (blossom)
cuts for fractional odd cycles; if a fractional point remains, Edmonds' blossom algorithm
(rustworkx) on the edges whose reduced cost cannot rule them out of an improving matching (so
the answer is optimal over all pairs, not just the generated ones, and the finish is
polynomial: no branch-and-bound that may not terminate).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.sparse.csgraph import connected_components

from ..core import highs_backend as hb
from ..core import validation as v
from ..core.errors import MechsolveInputError
from ..core.limits import Limits, resolve
from ..core.results import HasOutcome, HasSolveInfo, Limit, SolveInfo, Stopwatch, Termination

_TOP_EDGES = 8
"""Edges per node in the first working set of the column generation."""

_MAX_CUT_ROUNDS = 50
"""Rounds of odd-set cuts before the blossom finish."""


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class MatchingSolution(HasSolveInfo):
    """A maximum-weight matching of a general graph.

    Attributes:
        mates: ``mates[i]`` is i's partner, or -1 when i is unmatched; shape ``(k,)``.
        lp_rounds: LP solves of the column-and-cut generation.
        cuts: odd-set inequalities added.
        columns: edges in the final working set (out of all candidate pairs).
        info: status, total weight, method, backend, wall time.
    """

    mates: NDArray[np.int64]
    lp_rounds: int
    cuts: int
    columns: int
    info: SolveInfo


@dataclass(frozen=True, eq=False)
class MatchingResult(HasSolveInfo, HasOutcome):
    """What a mediator did to one submitted matching profile (names as in every family:
    docs/api.md).

    Attributes:
        mediator: ``"pareto"``, ``"pareto_exact"``, ``"punishing"`` or ``"central_planner"``.
        actions_before, actions_after: every agent's pointer before and after (``-1``:
            nobody), shape ``(n,)``.
        delegate: the delegate bits the mediator acted on (all true for the central planner).
        mates: the partner in a mutual match after mediation, or -1.
        utilities_before, utilities_after: ``R[i, mate]`` or 0, shape ``(n,)``.
        beneficiaries: whose welfare the mediator maximizes: the delegators (everyone for the
            central planner).
        welfare_function: ``"utilitarian"`` (the total payoff of the beneficiaries).
        welfare_before, welfare_after: the beneficiaries' total payoff.
        gain_over_paper: exact variant only: its ``welfare_after`` minus the paper's method's
            (``nan`` otherwise, or when the paper's method was not solved to optimality).
        build_time_s, solve_time_s: seconds to build and to solve the matching problem.
        info: termination, objective (the matching weight solved for), method, backend, wall time.
    """

    mediator: str
    actions_before: NDArray[np.int64]
    delegate: NDArray[np.bool_]
    actions_after: NDArray[np.int64]
    mates: NDArray[np.int64]
    utilities_before: NDArray[np.float64]
    utilities_after: NDArray[np.float64]
    beneficiaries: NDArray[np.bool_]
    welfare_function: str
    welfare_before: float
    welfare_after: float
    gain_over_paper: float
    build_time_s: float
    solve_time_s: float
    info: SolveInfo


# --------------------------------------------------------------------------------------------
# Payoffs and validation
# --------------------------------------------------------------------------------------------
def mutual_mates(partners: NDArray[np.int64]) -> NDArray[np.int64]:
    """``mates[i] = partners[i]`` when ``partners[partners[i]] == i``, else -1."""
    idx = np.arange(len(partners))
    safe = np.where(partners >= 0, partners, idx)
    mutual = (partners >= 0) & (partners[safe] == idx)
    return np.where(mutual, partners, -1)


def _payoffs(rewards: NDArray[np.float64], partners: NDArray[np.int64]) -> NDArray[np.float64]:
    mates = mutual_mates(partners)
    idx = np.arange(len(partners))
    return np.where(mates >= 0, rewards[idx, np.maximum(mates, 0)], 0.0)


def matching_payoffs(
    rewards: Any, partners: Any, *, limits: Limits | None = None
) -> NDArray[np.float64]:
    """Every agent's payoff: ``R[i, j]`` if i and j point at each other, else 0."""
    fn = "matching_payoffs"
    r = _rewards(fn, rewards, resolve(limits))
    return _payoffs(r, _partners(fn, partners, r.shape[0]))


def _rewards(fn: str, rewards: Any, limits: Limits) -> NDArray[np.float64]:
    r = v.float_array(fn, "rewards", rewards, ndim=2, min_value=0.0)
    if r.shape[0] != r.shape[1]:
        raise MechsolveInputError(fn, "rewards", f"must be square (n, n); got shape {r.shape}")
    limits.check(fn, "rewards", int(r.shape[0]), "max_agents")
    limits.check(fn, "rewards cells", int(r.size), "max_candidates")
    return r


def _partners(fn: str, partners: Any, n: int) -> NDArray[np.int64]:
    p = v.int_array(fn, "partners", partners, shape=(n,), low=-1, high=n)
    selfish = np.flatnonzero(p == np.arange(n))
    if len(selfish):
        i = int(selfish[0])
        raise MechsolveInputError(
            fn, f"partners[{i}]", f"must not be {i} (an agent cannot point at itself); got {i}"
        )
    return p


def _validate(
    fn: str, rewards: Any, partners: Any, delegate: Any, time_limit: Any, limits: Limits
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.bool_], float | None]:
    r = _rewards(fn, rewards, limits)
    n = r.shape[0]
    p = _partners(fn, partners, n)
    d = v.bool_array(fn, "delegate", delegate, shape=(n,))
    return r, p, d, v.time_limit(fn, time_limit)


def _result(
    rewards: NDArray[np.float64],
    before: NDArray[np.int64],
    after: NDArray[np.int64],
    delegate: NDArray[np.bool_],
    *,
    mediator: str,
    objective: float,
    termination: Termination,
    method: str,
    backend: str,
    message: str,
    sw: Stopwatch,
    build_s: float = 0.0,
    solve_s: float = 0.0,
    gain_over_paper: float = math.nan,
) -> MatchingResult:
    p0, p1 = _payoffs(rewards, before), _payoffs(rewards, after)
    return MatchingResult(
        mediator=mediator,
        actions_before=before,
        delegate=delegate,
        actions_after=after,
        mates=mutual_mates(after),
        utilities_before=p0,
        utilities_after=p1,
        beneficiaries=delegate.copy(),
        welfare_function="utilitarian",
        welfare_before=float(p0[delegate].sum()),
        welfare_after=float(p1[delegate].sum()),
        gain_over_paper=gain_over_paper,
        build_time_s=build_s,
        solve_time_s=solve_s,
        info=SolveInfo(termination.with_detail(message), objective, method, backend, sw.elapsed),
    )


# --------------------------------------------------------------------------------------------
# Maximum-weight matching: LP + column generation + odd-set cuts + blossom finish
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class _Graph:
    """Candidate pairs ``u < v`` (dense weights), optional solo values, nodes that must be
    covered, and a feasible starting matching."""

    weight: NDArray[np.float64]  # (k, k), -inf = no edge
    solo: NDArray[np.float64]  # (k,), -inf = no solo option
    must: NDArray[np.bool_]  # (k,)
    start: NDArray[np.int64]  # (k,) feasible mates (-1), solo nodes not listed here
    start_solo: NDArray[np.bool_]  # (k,)

    @property
    def k(self) -> int:
        return len(self.solo)


@dataclass(frozen=True, eq=False)
class _Solved:
    mates: NDArray[np.int64]
    solo: NDArray[np.bool_]
    objective: float
    termination: Termination
    message: str
    lp_rounds: int
    cuts: int
    columns: int
    build_s: float
    solve_s: float

    @property
    def backend(self) -> str:
        """HiGHS for the LP; plus rustworkx when the blossom algorithm finished the solve."""
        return "highs+rustworkx" if self.message.startswith("blossom") else "highs"


class _MatchingLp:
    """The matching LP/MILP over a growing working set of edges, kept in one HiGHS instance
    so that each round warm-starts from the previous basis.

    Columns: one per solo option (first), then one per edge in order of arrival. Rows: one
    degree row per node (``<= 1``, ``= 1`` if it must be covered), then one per odd set S
    (``sum of x_e over edges inside S <= (|S| - 1) / 2``).
    """

    def __init__(self, g: _Graph) -> None:
        self.g = g
        finite_w = g.weight[np.isfinite(g.weight)]
        finite_s = g.solo[np.isfinite(g.solo)]
        scale = max(1.0, float(finite_w.max(initial=0.0)), float(finite_s.max(initial=0.0)))
        self.tol = 1e-9 * scale
        self.in_set = np.zeros((g.k, g.k), dtype=np.bool_)
        self.solo_nodes = np.flatnonzero(np.isfinite(g.solo))
        self.col_u = np.empty(0, np.int64)
        self.col_v = np.empty(0, np.int64)
        self.cut_sets = np.zeros((g.k, 0), dtype=np.bool_)
        ns = len(self.solo_nodes)
        self.h = hb.new_highs()
        hb.pass_model(
            self.h,
            g.solo[self.solo_nodes],
            sp.csc_array((np.ones(ns), (self.solo_nodes, np.arange(ns))), shape=(g.k, ns)),
            np.where(g.must, 1.0, -hb.INF),
            np.ones(g.k),
            np.zeros(ns),
            np.full(ns, hb.INF),
            maximize=True,
        )

    @property
    def n_cuts(self) -> int:
        return int(self.cut_sets.shape[1])

    def add(self, mask: NDArray[np.bool_]) -> int:
        """Add the candidate edges in ``mask`` (either triangle); returns how many were new."""
        sym = (mask | mask.T) & np.isfinite(self.g.weight) & ~self.in_set
        np.fill_diagonal(sym, False)
        u, v = (a.astype(np.int64) for a in np.nonzero(np.triu(sym, 1)))
        if not len(u):
            return 0
        self.in_set |= sym
        cut_e, cut_c = np.nonzero(self.cut_sets[u] & self.cut_sets[v])
        col = np.concatenate([np.arange(len(u)), np.arange(len(u)), cut_e])
        row = np.concatenate([u, v, self.g.k + cut_c])
        a = sp.csc_array((np.ones(len(col)), (row, col)), shape=(self.g.k + self.n_cuts, len(u)))
        a.sort_indices()
        self.h.addCols(
            len(u),
            self.g.weight[u, v],
            np.zeros(len(u)),
            np.full(len(u), hb.INF),
            a.nnz,
            a.indptr.astype(np.int32),
            a.indices.astype(np.int32),
            a.data,
        )
        self.col_u = np.concatenate([self.col_u, u])
        self.col_v = np.concatenate([self.col_v, v])
        return len(u)

    def add_cuts(self, sets: NDArray[np.bool_]) -> None:
        """Odd-set rows for the node sets in the columns of ``sets`` (k x m)."""
        inside = sets[self.col_u] & sets[self.col_v]  # edges x sets
        e, c = np.nonzero(inside)
        a = sp.csr_array(
            (np.ones(len(e)), (c, len(self.solo_nodes) + e)),
            shape=(sets.shape[1], len(self.solo_nodes) + len(self.col_u)),
        )
        a.sort_indices()
        self.h.addRows(
            sets.shape[1],
            np.full(sets.shape[1], -hb.INF),
            np.floor((sets.sum(axis=0) - 1) / 2).astype(np.float64),
            a.nnz,
            a.indptr.astype(np.int32),
            a.indices.astype(np.int32),
            a.data,
        )
        self.cut_sets = np.concatenate([self.cut_sets, sets], axis=1)

    def solve(self, time_limit: float | None) -> hb.HighsSolution:
        self.h.setOptionValue("time_limit", hb.INF if time_limit is None else max(time_limit, 1e-3))
        return hb.run(self.h)

    def reduced_costs(self, duals: NDArray[np.float64]) -> NDArray[np.float64]:
        """``w_uv - y_u - y_v`` for every pair (``-inf`` where there is no edge)."""
        y = duals[: self.g.k]
        return self.g.weight - y[:, None] - y[None, :]

    def odd_cuts(self, x: NDArray[np.float64]) -> int:
        """Add violated odd-set inequalities on the components of the fractional support."""
        xe = x[len(self.solo_nodes) :]
        frac = (xe > self.tol) & (xe < 1.0 - self.tol)
        if not frac.any():
            return 0
        k, eu, ev = self.g.k, self.col_u, self.col_v
        adj = sp.coo_array((np.ones(int(frac.sum())), (eu[frac], ev[frac])), shape=(k, k))
        n_comp, label = connected_components(adj, directed=False)
        touched = np.zeros(k, dtype=np.bool_)
        touched[eu[frac]] = True
        touched[ev[frac]] = True
        size = np.bincount(label[touched], minlength=n_comp)
        same = label[eu] == label[ev]
        inside = np.bincount(label[eu[same]], weights=xe[same], minlength=n_comp)
        violated = np.flatnonzero((size >= 3) & (size % 2 == 1) & (inside > (size - 1) / 2 + 1e-6))
        if len(violated):
            self.add_cuts(touched[:, None] & (label[:, None] == violated[None, :]))
        return len(violated)

    def decode(self, x: NDArray[np.float64]) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
        ns = len(self.solo_nodes)
        used = x[ns:] > 0.5
        mates = np.full(self.g.k, -1, np.int64)
        mates[self.col_u[used]] = self.col_v[used]
        mates[self.col_v[used]] = self.col_u[used]
        solo = np.zeros(self.g.k, dtype=np.bool_)
        solo[self.solo_nodes[x[:ns] > 0.5]] = True
        return mates, solo


def _value(g: _Graph, mates: NDArray[np.int64], solo: NDArray[np.bool_]) -> float:
    idx = np.flatnonzero(mates > np.arange(g.k))
    return float(g.weight[idx, mates[idx]].sum() + g.solo[solo].sum())


def _solve_matching(g: _Graph, time_limit: float | None) -> _Solved:
    """Exact maximum-weight matching with solo options and must-cover nodes (module doc)."""
    sw = Stopwatch()
    lp = _MatchingLp(g)
    useful = np.isfinite(g.weight) & ((g.weight > 0) | g.must[:, None] | g.must[None, :])
    np.fill_diagonal(useful, False)
    if not useful.any() and not len(lp.solo_nodes):
        return _Solved(
            g.start.copy(), g.start_solo.copy(), 0.0, Termination.optimal(),
            "no edge of positive weight", 0, 0, 0, sw.elapsed, 0.0,
        )  # fmt: skip
    first = np.zeros((g.k, g.k), dtype=np.bool_)
    top = min(_TOP_EDGES, g.k - 1)
    if top > 0:
        best = np.argpartition(-np.where(useful, g.weight, -np.inf), top - 1, axis=1)[:, :top]
        first[np.repeat(np.arange(g.k), top), best.ravel()] = True
    first &= useful
    started = np.flatnonzero(g.start >= 0)
    first[started, g.start[started]] = True
    lp.add(first)
    build_s = sw.elapsed
    rounds = cut_rounds = 0
    while True:  # pricing always terminates (each round adds edges); cutting is capped
        sol = lp.solve(sw.remaining(time_limit))
        rounds += 1
        if not sol.termination.is_optimal:
            why = f"matching LP ended {sol.termination.reason.value} ({sol.status_text})"
            return _fallback(g, lp, rounds, why, build_s, sw, sol.termination.limit)
        rc = lp.reduced_costs(sol.row_duals)
        if lp.add(useful & (rc > lp.tol)):
            continue
        if cut_rounds >= _MAX_CUT_ROUNDS or not lp.odd_cuts(sol.x):
            break
        cut_rounds += 1
    upper = sol.objective
    if np.all(np.minimum(sol.x, np.abs(1.0 - sol.x)) <= 1e-6):
        mates, solo = lp.decode(sol.x)
        return _solved(
            g, lp, mates, solo, Termination.optimal(), "LP integral", rounds, build_s, sw
        )
    # A fractional point is left: finish with Edmonds' blossom algorithm on the edges that can
    # still beat the starting matching. By LP duality (cut duals >= 0) a matching that uses
    # edge e is worth at most upper + rc_e, so edges with rc_e < -(upper - start) are useless.
    if time_limit is not None and sw.elapsed >= time_limit:
        why = "time limit before the blossom step"
        return _fallback(g, lp, rounds, why, build_s, sw, Limit.TIME)
    lower = _value(g, g.start, g.start_solo)
    keep = useful & (rc >= -(upper - lower) - lp.tol)
    mates, solo, note = _blossom(g, keep | keep.T)
    if not np.all(g.must <= ((mates >= 0) | solo)):  # cannot happen: the start covers them
        why = "blossom left a must-cover node uncovered"
        return _fallback(g, lp, rounds, why, build_s, sw, None)
    return _solved(g, lp, mates, solo, Termination.optimal(), note, rounds, build_s, sw)


def _blossom(
    g: _Graph, keep: NDArray[np.bool_]
) -> tuple[NDArray[np.int64], NDArray[np.bool_], str]:
    """Exact maximum-weight matching of ``g`` on the edges in ``keep`` (plus every solo
    option) by Edmonds' blossom algorithm (rustworkx, integer weights).

    A solo option of node i is an edge to a private dummy node. A node that must be covered
    gets a bonus ``B`` on each of its edges, larger than any matching's weight, so every
    optimum covers every must node (the start matching shows it is possible) and, among those,
    has the largest weight. Weights are scaled to integers by ``2^s`` (``s`` as large as int64
    allows); the answer is optimal for the scaled weights, within ``k / 2^(s+1)`` of the exact
    optimum.
    """
    import rustworkx as rx

    k = g.k
    u, v = np.nonzero(np.triu(keep & np.isfinite(g.weight), 1))
    solo_nodes = np.flatnonzero(np.isfinite(g.solo))
    w = np.concatenate([g.weight[u, v], g.solo[solo_nodes]])
    tails = np.concatenate([u, solo_nodes])
    heads = np.concatenate([v, k + np.arange(len(solo_nodes))])
    total = float(np.abs(w).sum()) + 1.0
    bits = max(0, int(np.floor(np.log2((2.0**60) / ((k + 2) * 3.0 * total)))))
    scale = float(2**bits)
    bonus = int(np.ceil(total * scale)) + 1
    iw = np.rint(w * scale).astype(np.int64)
    iw += bonus * (g.must[tails].astype(np.int64) + (heads < k) * g.must[np.minimum(heads, k - 1)])
    graph = rx.PyGraph()
    graph.add_nodes_from(range(k + len(solo_nodes)))
    graph.add_edges_from(list(zip(tails.tolist(), heads.tolist(), iw.tolist(), strict=True)))
    pairs = rx.max_weight_matching(graph, max_cardinality=False, weight_fn=int)
    mates = np.full(k, -1, np.int64)
    solo = np.zeros(k, dtype=np.bool_)
    for a, b in pairs:
        a, b = min(a, b), max(a, b)
        if b >= k:
            solo[a] = True
        else:
            mates[a], mates[b] = b, a
    note = f"blossom (rustworkx) on {len(u)} edges kept by LP reduced costs; weights x 2^{bits}"
    return mates, solo, note


def _solved(
    g: _Graph,
    lp: _MatchingLp,
    mates: NDArray[np.int64],
    solo: NDArray[np.bool_],
    termination: Termination,
    message: str,
    rounds: int,
    build_s: float,
    sw: Stopwatch,
) -> _Solved:
    return _Solved(
        mates, solo, _value(g, mates, solo), termination, message, rounds, lp.n_cuts,
        int(lp.in_set.sum()) // 2, build_s, sw.elapsed - build_s,
    )  # fmt: skip


def _fallback(
    g: _Graph,
    lp: _MatchingLp,
    rounds: int,
    why: str,
    build_s: float,
    sw: Stopwatch,
    limit: Limit | None,
) -> _Solved:
    """The feasible starting matching, returned when the solve stopped early (a limit, or
    ``Limit.OTHER`` for a backend failure)."""
    return _solved(
        g, lp, g.start.copy(), g.start_solo.copy(), Termination.feasible(limit or Limit.OTHER),
        f"{why}; starting matching returned", rounds, build_s, sw,
    )  # fmt: skip


def _plain_graph(weight: NDArray[np.float64]) -> _Graph:
    k = weight.shape[0]
    w = weight.copy()
    np.fill_diagonal(w, -np.inf)
    return _Graph(
        w,
        np.full(k, -np.inf),
        np.zeros(k, dtype=np.bool_),
        np.full(k, -1, np.int64),
        np.zeros(k, dtype=np.bool_),
    )


def max_weight_matching(
    weights: Any, *, limits: Limits | None = None, time_limit: float | None = None
) -> MatchingSolution:
    """A maximum-weight matching of the general graph with symmetric weights ``W >= 0``.

    ``weights[i, j]`` is the weight of edge ``{i, j}`` (the diagonal is ignored; a zero weight
    is no edge worth using). Solved exactly (module docstring); ``info.objective`` is the total
    weight of the matching.
    """
    fn = "max_weight_matching"
    sw = Stopwatch()
    w = _rewards(fn, weights, resolve(limits))
    asym = np.abs(w - w.T) > 1e-12 * max(1.0, float(w.max()))
    np.fill_diagonal(asym, False)
    if asym.any():
        i, j = (int(a) for a in np.argwhere(asym)[0])
        raise MechsolveInputError(
            fn, f"weights[{i}][{j}]", f"must equal weights[{j}][{i}] = {w[j, i]}; got {w[i, j]}"
        )
    tl = v.time_limit(fn, time_limit)
    s = _solve_matching(_plain_graph(w), tl)
    return MatchingSolution(
        s.mates,
        s.lp_rounds,
        s.cuts,
        s.columns,
        SolveInfo(
            s.termination.with_detail(s.message),
            s.objective,
            "lp_cuts_columns",
            s.backend,
            sw.elapsed,
        ),
    )


# --------------------------------------------------------------------------------------------
# Mediators
# --------------------------------------------------------------------------------------------
def _matching_among(
    rewards: NDArray[np.float64], pool: NDArray[np.int64], tl: float | None
) -> tuple[NDArray[np.int64], _Solved]:
    """Max-weight matching of the agents in ``pool`` on ``R + R^T``; global mates (-1)."""
    sub = rewards[np.ix_(pool, pool)]
    s = _solve_matching(_plain_graph(sub + sub.T), tl)
    mates = np.full(rewards.shape[0], -1, np.int64)
    got = s.mates >= 0
    mates[pool[got]] = pool[s.mates[got]]
    return mates, s


def matching_pareto(
    rewards: Any,
    partners: Any,
    delegate: Any,
    *,
    limits: Limits | None = None,
    time_limit: float | None = None,
) -> MatchingResult:
    """The paper's Pareto Mediator: unmatched delegators matched among themselves by a
    maximum-weight matching on ``R[i, j] + R[j, i]`` (seed 000 section 4.2); everyone else
    keeps their pointer. ``info.objective`` is the weight of that matching."""
    fn = "matching_pareto"
    sw = Stopwatch()
    r, p, d, tl = _validate(fn, rewards, partners, delegate, time_limit, resolve(limits))
    return _pareto(r, p, d, tl, sw)


def _pareto(
    r: NDArray[np.float64],
    p: NDArray[np.int64],
    d: NDArray[np.bool_],
    tl: float | None,
    sw: Stopwatch,
) -> MatchingResult:
    pool = np.flatnonzero(d & (mutual_mates(p) < 0))
    if d.sum() < 2 or len(pool) < 2:
        return _result(
            r, p, p.copy(), d, mediator="pareto", objective=0.0, termination=Termination.optimal(),
            method="max_weight_matching", backend="numpy",
            message="fewer than two unmatched delegators: profile unchanged", sw=sw,
        )  # fmt: skip
    mates, s = _matching_among(r, pool, tl)
    new = np.where(mates >= 0, mates, p)
    return _result(
        r, p, new, d, mediator="pareto", objective=s.objective, termination=s.termination,
        method="max_weight_matching", backend=s.backend, message=s.message, sw=sw,
        build_s=s.build_s, solve_s=s.solve_s,
    )  # fmt: skip


def matching_pareto_exact(
    rewards: Any,
    partners: Any,
    delegate: Any,
    *,
    limits: Limits | None = None,
    time_limit: float | None = None,
) -> MatchingResult:
    """Eq. 3 exactly for the matching game (module docstring): every delegator may be
    re-pointed, nobody in D may lose, the delegators' total payoff is maximized.
    ``gain_over_paper`` is the improvement over :func:`matching_pareto`."""
    fn = "matching_pareto_exact"
    sw = Stopwatch()
    lim = resolve(limits)
    r, p, d, tl = _validate(fn, rewards, partners, delegate, time_limit, lim)
    dels = np.flatnonzero(d)
    lim.check(fn, "delegate", len(dels), "max_exact_agents")
    paper = _pareto(r, p, d, tl, Stopwatch())
    if len(dels) < 2:
        return _result(
            r, p, p.copy(), d, mediator="pareto_exact", objective=paper.welfare_before,
            termination=Termination.optimal(), method="milp", backend="numpy",
            message="fewer than two delegators: profile unchanged", sw=sw, gain_over_paper=0.0,
        )  # fmt: skip
    g, back = _exact_graph(r, p, d, dels, paper.utilities_before[dels])
    s = _solve_matching(g, None if tl is None else tl - sw.elapsed)
    new = p.copy()
    got = s.mates >= 0
    new[dels[got]] = dels[s.mates[got]]
    new[dels[s.solo]] = back[s.solo]
    dw = float(_payoffs(r, new)[d].sum())
    term, msg = s.termination, s.message
    # The paper's answer is the fallback when it has a solution (its matching falls back to
    # the submitted one after a limit); it is the gain's base only when solved to optimality.
    if paper.termination.has_solution and dw < paper.welfare_after:  # only after a limit
        new, dw = paper.actions_after, paper.welfare_after
        term = Termination.feasible(term.limit or Limit.OTHER)
        msg = f"{msg}; paper's solution kept"
    paper_w = paper.welfare_after if paper.termination.is_optimal else math.nan
    if not paper.termination.is_optimal:
        msg = f"{msg}; the paper's method ended {paper.termination.reason.value}: no gain measured"
    return _result(
        r, p, new, d, mediator="pareto_exact", objective=dw, termination=term,
        method="max_weight_matching", backend=s.backend,
        message=msg, sw=sw, build_s=s.build_s, solve_s=s.solve_s, gain_over_paper=dw - paper_w,
    )  # fmt: skip


def _exact_graph(
    r: NDArray[np.float64],
    p: NDArray[np.int64],
    d: NDArray[np.bool_],
    dels: NDArray[np.int64],
    p0: NDArray[np.float64],
) -> tuple[_Graph, NDArray[np.int64]]:
    """Edges between delegators that leave both no worse off; for each delegator the best
    non-delegator already pointing at it (``back``, -1 if none) as its solo option."""
    k = len(dels)
    local = np.full(len(p), -1, np.int64)
    local[dels] = np.arange(k)
    sub = r[np.ix_(dels, dels)]
    ok = sub >= p0[:, None]  # R[i, k] >= p_i ...
    ok &= ok.T  # ... and R[k, i] >= p_k
    weight = np.where(ok, sub + sub.T, -np.inf)
    np.fill_diagonal(weight, -np.inf)
    fans = np.flatnonzero(~d & (p >= 0))
    fans = fans[d[p[fans]]]  # non-delegators pointing at a delegator
    target = local[p[fans]]
    value = r[p[fans], fans]
    # best fan per delegator: sort by (target, -value, fan index) and keep the first of each
    order = np.lexsort((fans, -value, target))
    head = order[np.r_[True, target[order][1:] != target[order][:-1]]] if len(order) else order
    solo = np.full(k, -np.inf)
    back = np.full(k, -1, np.int64)
    solo[target[head]] = value[head]
    back[target[head]] = fans[head]
    solo = np.where(solo >= p0, solo, -np.inf)
    mates0 = mutual_mates(p)[dels]
    start = np.where((mates0 >= 0) & d[np.maximum(mates0, 0)], local[np.maximum(mates0, 0)], -1)
    start_solo = (mates0 >= 0) & ~d[np.maximum(mates0, 0)]
    return _Graph(weight, solo, p0 > 0, start, start_solo), back


def matching_punishing(
    rewards: Any,
    partners: Any,
    delegate: Any,
    *,
    limits: Limits | None = None,
    time_limit: float | None = None,
) -> MatchingResult:
    """The Punishing Mediator (seed 000 section 4.2): every delegator matched with a
    non-delegator is unmatched (points at nobody); if everyone delegates, the central
    planner's maximum-weight matching. ``info.objective``: the non-delegators' total payoff."""
    fn = "matching_punishing"
    sw = Stopwatch()
    r, p, d, tl = _validate(fn, rewards, partners, delegate, time_limit, resolve(limits))
    if d.all():
        return _planner(r, p, d, tl, sw, "punishing")
    mates = mutual_mates(p)
    cut = d & (mates >= 0) & ~d[np.maximum(mates, 0)]
    new = np.where(cut, -1, p)
    return _result(
        r, p, new, d, mediator="punishing", objective=float(_payoffs(r, new)[~d].sum()),
        termination=Termination.optimal(), method="punishing", backend="numpy",
        message=f"{int(cut.sum())} delegator(s) unmatched", sw=sw,
    )  # fmt: skip


def matching_central_planner(
    rewards: Any,
    partners: Any,
    *,
    limits: Limits | None = None,
    time_limit: float | None = None,
) -> MatchingResult:
    """The central planner: a maximum-weight matching of all agents on ``R + R^T``;
    unmatched agents point at nobody."""
    fn = "matching_central_planner"
    sw = Stopwatch()
    lim = resolve(limits)
    r = _rewards(fn, rewards, lim)
    p = _partners(fn, partners, r.shape[0])
    everyone = np.ones(len(p), dtype=np.bool_)
    return _planner(r, p, everyone, v.time_limit(fn, time_limit), sw, "central_planner")


def _planner(
    r: NDArray[np.float64],
    p: NDArray[np.int64],
    d: NDArray[np.bool_],
    tl: float | None,
    sw: Stopwatch,
    mediator: str,
) -> MatchingResult:
    mates, s = _matching_among(r, np.arange(len(p)), tl)
    return _result(
        r, p, mates, d, mediator=mediator, objective=s.objective, termination=s.termination,
        method="planner_max_weight_matching", backend=s.backend, message=s.message, sw=sw,
        build_s=s.build_s, solve_s=s.solve_s,
    )  # fmt: skip


# --------------------------------------------------------------------------------------------
# Synthetic instances (seed 000 section 4.2: rewards sampled uniformly)
# --------------------------------------------------------------------------------------------
def random_matching_instance(n_agents: int, *, seed: Any = None) -> NDArray[np.float64]:
    """Rewards ``R ~ U[0, 1)`` i.i.d. (asymmetric), zero diagonal."""
    fn = "random_matching_instance"
    n = v.positive_int(fn, "n_agents", n_agents, minimum=2)
    r = v.rng(fn, seed).random((n, n))
    np.fill_diagonal(r, 0.0)
    return r


def random_matching_profile(
    n_agents: int, *, delegate_share: float = 0.5, seed: Any = None
) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """Random ``(partners, delegate)``: each agent points at a uniformly random other agent and
    delegates with probability ``delegate_share``."""
    fn = "random_matching_profile"
    n = v.positive_int(fn, "n_agents", n_agents, minimum=2)
    share = v.real(fn, "delegate_share", delegate_share, min_value=0.0, max_value=1.0)
    gen = v.rng(fn, seed)
    pick = gen.integers(0, n - 1, size=n)
    partners = pick + (pick >= np.arange(n))  # skip self
    return partners.astype(np.int64), gen.random(n) < share


# --------------------------------------------------------------------------------------------
# One entry point for the four mediators (the service's MediateMatching)
# --------------------------------------------------------------------------------------------
def mediate_matching(
    rewards: Any,
    partners: Any,
    delegate: Any = None,
    *,
    mediator: str = "pareto",
    limits: Limits | None = None,
    time_limit: float | None = None,
) -> MatchingResult:
    """One matching mediator on one profile: :func:`matching_pareto`,
    :func:`matching_pareto_exact`, :func:`matching_punishing` or
    :func:`matching_central_planner` (which takes no ``delegate``)."""
    from .restaurant import STRUCTURED_MEDIATORS, planner_delegate

    fn = "mediate_matching"
    kind = v.choice(fn, "mediator", mediator, STRUCTURED_MEDIATORS)
    planner_delegate(fn, kind, delegate)
    if kind == "central_planner":
        return matching_central_planner(rewards, partners, limits=limits, time_limit=time_limit)
    solve = {
        "pareto": matching_pareto,
        "pareto_exact": matching_pareto_exact,
        "punishing": matching_punishing,
    }[kind]
    return solve(rewards, partners, delegate, limits=limits, time_limit=time_limit)
