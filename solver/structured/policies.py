"""A budget of policies: choose at most ``k`` representative policies and assign every user to
one of them, maximizing the users' total value (seed 004, "Personalized RL with a Budget of
Policies": represented MDPs, r-MDPs; Ivanov & Ben-Porat, AAAI 2024).

Model. ``V[u, p]`` is the value (expected return) of candidate policy ``p`` for user ``u``
(``n`` users, ``m`` candidates, any finite reals), ``k >= 1`` the budget. The seed's r-MDP
objective with the policies fixed is the utilitarian social welfare of an assignment
``alpha(u)`` of users to at most ``k`` representatives::

    max_{S, |S| <= k}  f(S) = sum_u max_{p in S} V[u, p]

This is the uncapacitated facility-location (``k``-median) MILP, with ``y_p = 1`` when ``p``
is chosen and ``x_up`` the share of user ``u`` given to ``p``::

    max  sum_{u,p} V[u,p] x_up
    s.t. sum_p x_up = 1            (every user gets one policy)
         x_up <= y_p               (only chosen policies)
         sum_p y_p <= k            (the budget)
         y binary, x >= 0          (x integral at an optimum: each user takes its best y)

``method="exact"`` solves it, proved optimal, by a bounded set enumeration with Lagrangian
bounds (budgets up to 64 with budget x cells at most 2^26, step 3) and otherwise with HiGHS on
the projection of this formulation onto ``(y, theta)`` (Benders; the cuts of Fischetti,
Ljubic & Sinnl 2017 for facility location; ``method="milp"`` uses it for every budget from
2): for every user ``u`` and level ``v``::

    theta_u <= v + sum_p (V[u,p] - v)^+ y_p

is valid (the best chosen policy is worth at most ``v`` plus what any chosen policy gives above
``v``) and tight at ``v = max_{p in S} V[u,p]`` when ``y`` is the indicator of ``S``; with
every level the LP relaxation equals the strong formulation's above. The master is
``max sum_u theta_u, sum_p y_p = min(k, m')`` (choosing more policies never lowers ``f``, so
the budget may be spent in full) plus the cuts generated so far:

1. reductions (exact): a candidate whose column is dominated (``V[:, q] >= V[:, p]``, the
   lower index kept among equal columns) is dropped; ``k = 1`` (the best column sum) and
   ``k`` at least the number of distinct users' best candidates (every user's best one) are
   solved in closed form; values are shifted per user and scaled into [0, 1] for the solver
   (the same argmax; the value is mapped back).
2. a warm start: the alternating heuristic below, improved by single swaps
   (:func:`swap_search`), gives a feasible ``S``: the first incumbent of both exact methods
   (the MILP's cuts, HiGHS' start and the value reduced-cost fixing compares with).
3. budgets ``2..64`` by a bounded enumeration of candidate sets with Lagrangian bounds
   (:mod:`.policy_enumeration`, ``method == "set_enumeration"``; measured faster than the MILP
   at every budget 2-30 of the benchmark's instances and within 0.6 s of it at 50,
   docs/policy_budget.md; ``budget x users x candidates <= 2^26``: each level of its recursion
   may hold two copies of its node's values); the steps below serve the rest and
   ``method="milp"``.
4. the root LP by cut generation: the most violated cut of user ``u`` at a fractional ``y``
   has ``v`` = the value where the cumulative ``y`` over u's candidates sorted by value
   reaches 1; rounds until none is violated (the strong formulation's LP bound, from an LP
   with ``m + n`` columns instead of ``n m + m``);
5. reduced-cost fixing: ``y_p`` is fixed to 0 (1) when forcing it to 1 (0) would take the LP
   bound below the heuristic's value;
6. MILP rounds: HiGHS solves the master with ``y`` binary and the best set as incumbent; the
   tight cuts at every integral point HiGHS met (``cbMipSolution``) and at its optimum are
   added, the best set is polished by swaps; ``OPTIMAL`` when the master's ``theta`` at its
   optimum is every user's true value (to ``CUT_TOL`` each) or its bound is at most the best
   value found, else another round; a time limit gives ``FEASIBLE`` with the master's bound
   (a relaxation's: valid).

``method="alternating"`` is the seed's EM-like algorithm with the policies drawn from the
candidates (the E-step: "agents are then greedily reassigned to their optimal representatives";
the M-step, instead of PPO, picks the candidate with the largest total value over the cluster):
both steps never lower ``f``, so it stops at a local optimum; it restarts from ``restarts``
random sets of ``k`` candidates (seeded) and keeps the best. Clusters emptied or merged are
refilled with the candidate of the largest marginal gain. No optimality proof: ``FEASIBLE``
with ``Limit.OTHER`` (``OPTIMAL`` only in the closed-form cases).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np
from numpy.typing import NDArray

from ..core import highs_backend as hb
from ..core import validation as v
from ..core.errors import MechsolveInputError
from ..core.limits import Limits, resolve
from ..core.results import (
    HasSolveInfo,
    Limit,
    SolveInfo,
    Stopwatch,
    Termination,
    TerminationReason,
    readonly,
)
from . import policy_enumeration as enumeration

POLICY_METHODS = ("exact", "alternating", "milp")

MAX_BUDGET_VALUE = 2**63 - 1
"""The largest budget (an int64 on the wire; any budget of at least the candidates is the same
problem)."""

CUT_TOL = 1e-7
"""A cut is added when ``theta_u`` exceeds it by more than this (values scaled into [0, 1])."""

_DOMINANCE_WORK = 400_000_000
"""Dominance pruning compares columns pairwise (``n m^2`` comparisons); above this much work
only identical columns are merged."""

_MAX_HARVEST = 200
"""Integral points kept per master solve for cuts (the callback's list is capped)."""

_MAX_ROOT_ROUNDS = 500

MAX_RESTARTS = 10_000
"""``restarts`` at most: each restart costs ``O(n m)`` per round, and a call without a
deadline must end."""

MAX_ITERATIONS = 10_000
"""``max_iterations`` at most (each round strictly raises ``f``; the cap bounds a call)."""

MAX_ABS_TOTAL = 1e306
"""``n_users * max |values|`` at most: every sum of values (column sums, the welfare, the
per-user shift and scale) must stay finite."""
_MAX_MASTER_SOLVES = 1000

_MAX_CUT_NONZEROS = 30_000_000
"""Cut coefficients the master may hold (a few hundred MB in HiGHS): a call without a deadline
on a large instance stops there (``FEASIBLE``, ``Limit.OTHER``, with its bound) instead of
growing without end."""


@dataclass(frozen=True, eq=False)
class PolicySelection(HasSolveInfo):
    """At most ``budget`` policies and every user's assignment (seed 004, r-MDP).

    Attributes:
        chosen: the chosen candidates (column indices of ``values``), sorted, each assigned to
            at least one user; at most ``budget`` of them.
        assignment: ``assignment[u]`` = the candidate user ``u`` is assigned to (its best
            chosen one), shape ``(n,)``.
        utilities: ``values[u, assignment[u]]``, shape ``(n,)``.
        welfare: the total value ``sum_u utilities[u]`` (also ``info.objective``).
        budget: ``k`` as requested.
        bound: a proven upper bound on the optimal welfare (``info.bound``; ``nan`` for the
            alternating heuristic, which proves none).
        gap: ``bound - welfare`` (``nan`` without a bound); 0 up to the tolerance when optimal.
        heuristic_welfare: the alternating heuristic's welfare (for ``method="alternating"``,
            ``welfare`` itself; for ``"exact"``, the warm start's).
        heuristic_gap: ``bound - heuristic_welfare``: the heuristic's distance to the optimum
            (an upper bound on it unless ``OPTIMAL``; ``nan`` without a bound).
        candidates_kept: candidates left after dropping dominated columns.
        restarts: restarts of the alternating heuristic that ran.
        cuts: optimality cuts added (exact method; 0 otherwise).
        master_solves: LP and MILP solves of the master (exact method; 0 otherwise).
        info: termination, objective (= welfare), method, backend, wall time, bound.
    """

    chosen: NDArray[np.int64]
    assignment: NDArray[np.int64]
    utilities: NDArray[np.float64]
    welfare: float
    budget: int
    bound: float
    gap: float
    heuristic_welfare: float
    heuristic_gap: float
    candidates_kept: int
    restarts: int
    cuts: int
    master_solves: int
    info: SolveInfo

    @property
    def relative_gap(self) -> float:
        """``gap / max(|bound|, |welfare|)`` (0 when both are 0; ``nan`` without a bound)."""
        scale = max(abs(self.bound), abs(self.welfare))
        return 0.0 if scale == 0 else self.gap / scale


# --------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------
def select_policies(
    values: Any,
    budget: Any,
    *,
    method: str = "exact",
    time_limit: float | None = None,
    seed: Any = 0,
    restarts: int = 10,
    max_iterations: int = 100,
    limits: Limits | None = None,
) -> PolicySelection:
    """Choose at most ``budget`` of the candidate policies and assign every user to one of them,
    maximizing ``sum_u values[u, assignment[u]]`` (seed 004, r-MDPs; the math is in the module
    docstring).

    Args:
        values: ``V``, shape ``(n_users, n_candidates)``, finite reals: the value of each
            candidate policy for each user (e.g. its estimated return), with
            ``n_users * max |values| <= MAX_ABS_TOTAL`` (sums stay finite).
        budget: ``k >= 1``, the most policies that may be chosen.
        method: ``"exact"`` (proved optimal unless the time limit stops it: the set enumeration
            for budgets 2-64, the MILP with HiGHS above), ``"milp"`` (the same, with the MILP
            for every budget from 2: slower, an independent check of the enumeration)
            or ``"alternating"`` (the seed's EM-like heuristic with random restarts).
        time_limit: seconds for the whole call (``None``: no limit). A limit that stops the
            exact method gives ``FEASIBLE`` with ``Limit.TIME``, the best solution found and
            the proven bound.
        seed: seeds the heuristic's random restarts (an integer, a Generator or ``None``).
        restarts: random restarts of the alternating heuristic (also the exact method's warm
            start), at most :data:`MAX_RESTARTS`.
        max_iterations: alternating rounds per restart at most (at most
            :data:`MAX_ITERATIONS`).
        limits: size limits (users: ``max_agents``, ``max_exact_agents`` for the exact method;
            candidates and cells: ``max_candidates``) and ``max_threads``, the set
            enumeration's threads at most (default 8; it uses no more than the CPUs this
            process may use).
    """
    fn = "select_policies"
    sw = Stopwatch()
    lim = resolve(limits)
    method = v.choice(fn, "method", method, POLICY_METHODS)
    _check_size(fn, values, lim, exact=method != "alternating")
    vals = v.float_array(fn, "values", values, ndim=2)
    k = _at_most(fn, "budget", v.positive_int(fn, "budget", budget), MAX_BUDGET_VALUE)
    tl = v.time_limit(fn, time_limit)
    gen = np.random.default_rng(v.seed(fn, seed))
    n_restarts = _at_most(fn, "restarts", v.positive_int(fn, "restarts", restarts), MAX_RESTARTS)
    iters = _at_most(
        fn, "max_iterations", v.positive_int(fn, "max_iterations", max_iterations), MAX_ITERATIONS
    )
    _check_magnitude(fn, vals)

    closed = _closed_form(vals, k)  # before the dominance pass (one user: 4M columns)
    kept = np.arange(vals.shape[1], dtype=np.int64)
    if closed is None:
        # (the dominance pass is skipped when the deadline has already passed: it is O(n m^2))
        kept = kept if sw.expired(tl) else undominated_candidates(vals)
        closed = _closed_form(vals[:, kept], min(k, len(kept)))
    if closed is not None:
        term = Termination.optimal(
            "closed form (budget 1, or at least the candidates left or the users' best ones)"
        )
        return _result(vals, kept[closed], k, sw, term, "closed_form", "numpy", bound=math.nan,
                       heuristic=math.nan, kept=len(kept))  # fmt: skip
    sub = _normalized(vals[:, kept])
    k_eff = min(k, len(kept))
    heur, n_run = _alternating(sub, k_eff, gen, n_restarts, iters, sw, tl)
    h_val = _welfare(vals[:, kept], heur)
    if method == "alternating":
        if n_run < n_restarts:
            term = Termination.feasible(Limit.TIME, f"time limit after {n_run} restarts")
        else:
            term = Termination.feasible(Limit.OTHER, "alternating heuristic: no optimality proof")
        return _result(vals, kept[heur], k, sw, term, "alternating", "numpy", bound=math.nan,
                       heuristic=h_val, kept=len(kept), restarts=n_run)  # fmt: skip
    trivial = _trivial_bound(vals[:, kept])
    small = method == "exact" and enumeration.serves(k_eff)  # else the MILP
    if sw.expired(tl):
        step = "the set enumeration" if small else "the MILP"
        term = Termination.feasible(Limit.TIME, f"time limit before {step}")
        method_used, backend = ("set_enumeration", "numba") if small else ("benders_milp", "highs")
        return _result(vals, kept[heur], k, sw, term, method_used, backend, bound=trivial,
                       heuristic=h_val, kept=len(kept), restarts=n_run)  # fmt: skip
    start = swap_search(sub.w, heur, expired=lambda: sw.expired(tl))
    if small:
        return _enumerated(vals, kept, sub, k, k_eff, start, sw, tl, heuristic=h_val,
                           restarts=n_run, threads=lim.max_threads)  # fmt: skip
    run = _BendersRun(sub, k_eff)
    chosen, bound_scaled, term = run.solve(start, sw, tl)
    bound = min(bound_scaled * sub.scale + sub.offset, trivial)
    return _result(vals, kept[chosen], k, sw, term, "benders_milp", "highs", bound=bound,
                   heuristic=h_val, kept=len(kept), restarts=n_run, cuts=run.cuts,
                   solves=run.solves)  # fmt: skip


# --------------------------------------------------------------------------------------------
# Validation and reductions
# --------------------------------------------------------------------------------------------
def _at_most(fn: str, argument: str, value: int, maximum: int) -> int:
    if value > maximum:
        raise MechsolveInputError(fn, argument, f"must be at most {maximum}; got {value}")
    return value


def _check_magnitude(fn: str, vals: NDArray[np.float64]) -> None:
    """Refuse values whose sums could overflow (``n * max|V|`` over :data:`MAX_ABS_TOTAL`)."""
    top = float(np.abs(vals).max())
    if top * vals.shape[0] > MAX_ABS_TOTAL:
        raise MechsolveInputError(
            fn,
            "values",
            f"must have n_users * max |value| <= {MAX_ABS_TOTAL:g} (sums of values must be "
            f"finite); got max |value| = {top:g} with {vals.shape[0]} users",
        )


def _trivial_bound(vals: NDArray[np.float64]) -> float:
    """``sum_u max_p V[u, p]``: every user served by its best candidate (any budget)."""
    return float(vals.max(axis=1).sum())


def _check_size(fn: str, values: Any, lim: Limits, *, exact: bool) -> None:
    """Check the users and candidates against the limits before any array is built."""
    shape = getattr(values, "shape", None)
    if shape is None:
        try:
            shape = (len(values), len(values[0]) if len(values) else 0)
        except (TypeError, IndexError, KeyError):
            return  # not a matrix: float_array names the argument
    if len(shape) != 2:
        return
    check_sizes(fn, int(shape[0]), int(shape[1]), lim, exact=exact, prefix="values ")


def check_sizes(
    fn: str, users: int, candidates: int, lim: Limits, *, exact: bool, prefix: str = ""
) -> None:
    """Users against ``max_exact_agents`` (exact) or ``max_agents``; candidates and cells
    (users x candidates) against ``max_candidates``."""
    lim.check(fn, f"{prefix}users", users, "max_exact_agents" if exact else "max_agents")
    lim.check(fn, f"{prefix}candidates", candidates, "max_candidates")
    lim.check(fn, f"{prefix}cells", users * candidates, "max_candidates")


def undominated_candidates(values: NDArray[np.float64]) -> NDArray[np.int64]:
    """The candidates (columns) to keep: ``p`` is dropped when another column ``q`` is at least
    as good for every user (``V[:, q] >= V[:, p]``) and better for one, or equal with
    ``q < p``. Dropping them never lowers the optimum (``p`` can be swapped for ``q``).

    Pairwise comparison costs ``n m^2``; above :data:`_DOMINANCE_WORK` only equal columns
    are merged."""
    n = values.shape[0]
    _, first = np.unique(values.T, axis=0, return_index=True)
    cand = np.sort(first).astype(np.int64)
    if n * len(cand) ** 2 > _DOMINANCE_WORK:
        return cand
    cols = values[:, cand]
    # larger column sums first: a column can only be dominated by one with a larger sum
    order = np.argsort(-cols.sum(axis=0), kind="stable")
    kept_cols = np.empty((len(cand), n))  # rows: the kept columns so far
    keep: list[int] = []
    for j in order:
        c = cols[:, j]
        if keep and bool(np.all(kept_cols[: len(keep)] >= c, axis=1).any()):
            continue
        kept_cols[len(keep)] = c
        keep.append(int(j))
    return np.sort(cand[np.array(keep, dtype=np.int64)])


@dataclass(frozen=True, eq=False)
class _Scaled:
    """``values`` shifted per user and scaled into [0, 1]: ``V = scale * W + rowmin``."""

    w: NDArray[np.float64]
    scale: float
    rowmin: NDArray[np.float64]

    @property
    def offset(self) -> float:
        return float(self.rowmin.sum())

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.w.shape[0]), int(self.w.shape[1]))


def _normalized(vals: NDArray[np.float64]) -> _Scaled:
    rowmin = vals.min(axis=1)
    span = float((vals.max(axis=1) - rowmin).max())
    scale = span if span > 0 else 1.0
    return _Scaled((vals - rowmin[:, None]) / scale, scale, rowmin)


def _closed_form(w: NDArray[np.float64], k: int) -> NDArray[np.int64] | None:
    """The optimum without search: ``k = 1`` (the best column sum), or ``k`` at least the
    number of distinct users' best candidates (e.g. ``k >= m'`` or ``k >= n``: every user gets
    its best one, the trivial upper bound); ``None`` otherwise."""
    if k == 1:
        return np.array([int(np.argmax(w.sum(axis=0)))], dtype=np.int64)
    best = np.unique(np.argmax(w, axis=1)).astype(np.int64)
    return best if len(best) <= k else None


def _enumerated(
    vals: NDArray[np.float64],
    kept: NDArray[np.int64],
    sub: _Scaled,
    k: int,
    k_eff: int,
    start: NDArray[np.int64],
    sw: Stopwatch,
    tl: float | None,
    *,
    heuristic: float,
    restarts: int,
    threads: int,
) -> PolicySelection:
    """Budgets the enumeration serves (``k_eff``: ``k`` capped by the candidates kept): the
    bounded set enumeration of :mod:`.policy_enumeration`, on at most ``threads`` threads (the
    CPUs this process may use, at most ``limits.max_threads``)."""
    threads = min(enumeration.default_threads(), threads)
    found = enumeration.best_set(sub.w, k_eff, start, deadline=sw.deadline(tl), threads=threads)
    searched = f"{found.nodes} nodes, {found.threads} thread{'s' * (found.threads > 1)}"
    if found.complete:
        term = Termination.optimal(f"bounded set enumeration, {searched}")
    else:
        term = Termination.feasible(Limit.TIME, f"time limit in the set enumeration, {searched}")
    bound = min(found.bound * sub.scale + sub.offset, _trivial_bound(vals[:, kept]))
    return _result(vals, kept[found.chosen], k, sw, term, "set_enumeration", "numba",
                   bound=bound, heuristic=heuristic, kept=len(kept), restarts=restarts)  # fmt: skip


def _welfare(w: NDArray[np.float64], chosen: NDArray[np.int64]) -> float:
    return float(w[:, chosen].max(axis=1).sum())


# --------------------------------------------------------------------------------------------
# The alternating (EM-like) heuristic
# --------------------------------------------------------------------------------------------
def _refill(w: NDArray[np.float64], chosen: NDArray[np.int64], k: int) -> NDArray[np.int64]:
    """``chosen`` (distinct) completed to ``k`` candidates by largest marginal gains."""
    s = list(int(p) for p in chosen)
    best = w[:, s].max(axis=1) if s else np.full(w.shape[0], -np.inf)
    while len(s) < k:
        gain = np.maximum(w - best[:, None], 0.0).sum(axis=0) if s else w.sum(axis=0)
        gain[s] = -np.inf
        p = int(np.argmax(gain))
        s.append(p)
        best = np.maximum(best, w[:, p])
    return np.array(sorted(s), dtype=np.int64)


def alternating_step(w: NDArray[np.float64], chosen: NDArray[np.int64]) -> NDArray[np.int64]:
    """One EM-like round (seed 004): assign every user to its best chosen candidate (E-step),
    then give every non-empty cluster the candidate with the largest total value over its
    users (M-step). Returns the new (distinct, sorted) candidates, possibly fewer."""
    labels = np.argmax(w[:, chosen], axis=1)
    by_label = np.argsort(labels, kind="stable")
    starts = np.flatnonzero(np.diff(labels[by_label], prepend=-1))
    totals = np.add.reduceat(w[by_label], starts, axis=0)  # each cluster's total per candidate
    return np.unique(np.argmax(totals, axis=1)).astype(np.int64)


def _alternating(
    sub: _Scaled,
    k: int,
    gen: np.random.Generator,
    restarts: int,
    max_iterations: int,
    sw: Stopwatch,
    tl: float | None,
) -> tuple[NDArray[np.int64], int]:
    """Best local optimum over ``restarts`` random starts; the restarts that ran."""
    w = sub.w
    m = w.shape[1]
    best, best_val, ran = np.empty(0, dtype=np.int64), -math.inf, 0
    for _ in range(restarts):
        if ran and sw.expired(tl):
            break
        s = np.sort(gen.choice(m, size=k, replace=False)).astype(np.int64)
        val = _welfare(w, s)
        for _ in range(max_iterations):
            if sw.expired(tl):
                break
            new = _refill(w, alternating_step(w, s), k)
            new_val = _welfare(w, new)
            if new_val <= val or np.array_equal(new, s):
                break
            s, val = new, new_val
        ran += 1
        if val > best_val:
            best, best_val = s, val
    return best, ran


def swap_search(
    w: NDArray[np.float64],
    chosen: NDArray[np.int64],
    max_swaps: int = 1000,
    expired: Callable[[], bool] = lambda: False,
) -> NDArray[np.int64]:
    """Best-improvement single swaps (one chosen candidate out, another in: the interchange
    heuristic of Teitz & Bart 1968) from ``chosen`` until no swap raises ``f`` (or
    ``expired()``); the exact method's warm start (not the seed's algorithm)."""
    s = np.array(chosen, dtype=np.int64)
    n = w.shape[0]
    rows = np.arange(n)
    val = _welfare(w, s)
    for _ in range(max_swaps):
        if expired():
            break
        sub = w[:, s]
        top2 = np.argsort(-sub, axis=1)[:, :2]
        best = sub[rows, top2[:, 0]]
        second = sub[rows, top2[:, 1]] if len(s) > 1 else np.full(n, -np.inf)
        gains = np.full((len(s), w.shape[1]), -np.inf)
        for j in range(len(s)):  # remove s[j]: its users fall back to their second best
            base = np.where(top2[:, 0] == j, second, best)
            gains[j] = np.maximum(w, base[:, None]).sum(axis=0)
        gains[:, s] = -np.inf
        out, into = (int(i) for i in np.unravel_index(int(np.argmax(gains)), gains.shape))
        if gains[out, into] <= val + 1e-12 * max(1.0, abs(val)):
            break
        s[out] = into
        s.sort()
        val = _welfare(w, s)
    return s


# --------------------------------------------------------------------------------------------
# The exact method: Benders cuts, root LP by cut generation, MILP rounds
# --------------------------------------------------------------------------------------------
class _BendersRun:
    """The master ``max sum theta, sum y = k`` with cuts, in one HiGHS instance."""

    def __init__(self, sub: _Scaled, k: int) -> None:
        self.w = sub.w
        self.n, self.m = sub.shape
        self.k = k
        self.order = np.argsort(-self.w, axis=1, kind="stable")  # each user's best first
        self.sorted_w = np.take_along_axis(self.w, self.order, axis=1)
        self.cuts = 0
        self.nonzeros = 0
        self.solves = 0
        # Presolve off: HiGHS 1.12's presolve has declared a MIP start optimal when it was not
        # (see restaurant.py); symmetry detection and primal heuristics off: the master's root
        # spent most of its time there (measured, docs/policy_budget.md), and the warm start
        # is the incumbent.
        h = hb.new_highs(
            None,
            options={"presolve": "off", "mip_detect_symmetry": False, "mip_heuristic_effort": 0.0},
        )
        m, n = self.m, self.n
        h.addVars(m, np.zeros(m), np.ones(m))
        h.addVars(n, self.w.min(axis=1), self.w.max(axis=1))
        idx = np.arange(m + n, dtype=np.int32)
        h.changeColsCost(m + n, idx, np.concatenate([np.zeros(m), np.ones(n)]))
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        h.addRow(float(k), float(k), m, np.arange(m, dtype=np.int32), np.ones(m))
        self.h = h
        self.found: list[NDArray[np.float64]] = []  # integral points HiGHS met in a solve
        h.cbMipSolution.subscribe(self._collect)

    def _collect(self, event: Any) -> None:
        """HiGHS callback: keep every integral master point met during a MILP solve (their
        tight cuts are added after it: fewer rounds)."""
        if len(self.found) < _MAX_HARVEST:
            self.found.append(np.array(event.data_out.mip_solution, dtype=np.float64))

    # -- cuts ---------------------------------------------------------------------------------
    def _levels(self, y: NDArray[np.float64]) -> NDArray[np.float64]:
        """Per user, the level ``v`` of the most violated cut at ``y``: the value at which
        the cumulative ``y`` over the user's candidates, best first, reaches 1."""
        cum = np.cumsum(y[self.order], axis=1)
        reach = cum >= 1.0 - 1e-9
        pos = np.where(reach.any(axis=1), np.argmax(reach, axis=1), self.m - 1)
        return self.sorted_w[np.arange(self.n), pos]

    def _add_cuts(
        self, y: NDArray[np.float64], theta: NDArray[np.float64], levels: NDArray[np.float64]
    ) -> int:
        """Add ``theta_u <= v_u + sum_p (W[u,p] - v_u)^+ y_p`` where ``theta`` violates it."""
        coef = np.maximum(self.w - levels[:, None], 0.0)
        violated = np.flatnonzero(theta > levels + coef @ y + CUT_TOL)
        for u in violated:
            cols = np.flatnonzero(coef[u] > 0)
            index = np.concatenate([cols, [self.m + u]]).astype(np.int32)
            vals = np.concatenate([-coef[u, cols], [1.0]])
            self.h.addRow(-hb.INF, float(levels[u]), len(index), index, vals)
            self.nonzeros += len(index)
        self.cuts += len(violated)
        return len(violated)

    @property
    def full(self) -> bool:
        """The cuts hold :data:`_MAX_CUT_NONZEROS` coefficients or more."""
        return self.nonzeros >= _MAX_CUT_NONZEROS

    def _tight_levels(self, chosen: NDArray[np.int64]) -> NDArray[np.float64]:
        return self.w[:, chosen].max(axis=1)

    def _run(self, tl: float | None, sw: Stopwatch) -> NDArray[np.float64]:
        """Solve the master with the time left; its column values."""
        rem = sw.remaining(tl)
        self.h.setOptionValue("time_limit", math.inf if rem is None else max(rem, 1e-3))
        self.h.run()
        self.solves += 1
        return np.asarray(self.h.getSolution().col_value, dtype=np.float64)

    # -- the solve ------------------------------------------------------------------------------
    def solve(
        self, heur: NDArray[np.int64], sw: Stopwatch, tl: float | None
    ) -> tuple[NDArray[np.int64], float, Termination]:
        """Optimal chosen set (indices into the kept candidates), the bound in scaled units,
        and the termination."""
        m, n = self.m, self.n
        best, lb = heur, _welfare(self.w, heur)
        y0 = np.zeros(m)
        y0[heur] = 1.0
        self._add_cuts(y0, np.full(n, np.inf), self._tight_levels(heur))
        # root LP by cut generation
        lp_bound = math.inf
        for _ in range(_MAX_ROOT_ROUNDS):
            x = self._run(tl, sw)
            status = self.h.getModelStatus()
            if status != highspy.HighsModelStatus.kOptimal:
                break
            lp_bound = float(self.h.getInfo().objective_function_value)
            y, theta = x[:m], x[m:]
            if self._add_cuts(y, theta, self._levels(y)) == 0 or sw.expired(tl):
                break
            if self.full:
                break
        if sw.expired(tl):
            bound = max(lp_bound, lb)
            term = Termination.feasible(Limit.TIME, "time limit in the root LP")
            return best, bound, term
        self._fix_by_reduced_costs(lp_bound, lb)
        # MILP rounds
        self.h.changeColsIntegrality(m, np.arange(m, dtype=np.int32), np.ones(m, dtype=np.uint8))
        bound = lp_bound
        for _ in range(_MAX_MASTER_SOLVES):
            self._start(best)
            x = self._run(tl, sw)
            term = hb.termination_of(self.h)
            info = self.h.getInfo()
            if math.isfinite(info.mip_dual_bound):
                bound = min(bound, float(info.mip_dual_bound))
            if not term.has_solution:  # a limit, or a failure (the warm start is feasible)
                limit = term.limit if term.reason is TerminationReason.NO_SOLUTION_FOUND else None
                note = term.with_detail("best solution: the warm start's or an earlier round's")
                return best, max(bound, lb), Termination.feasible(limit or Limit.OTHER, note.detail)
            for point in self.found:  # the integral points met on the way: value and cuts
                best, lb = self._visit(point, best, lb)
            self.found.clear()
            y = np.round(x[:m])
            cand = np.flatnonzero(y > 0.5).astype(np.int64)
            val = _welfare(self.w, cand)
            if val > lb:
                best, lb = cand, val
            polished = swap_search(self.w, best, expired=lambda: sw.expired(tl))
            if _welfare(self.w, polished) > lb:
                best, lb = polished, _welfare(self.w, polished)
                y_best = np.zeros(m)
                y_best[best] = 1.0
                self._add_cuts(y_best, np.full(n, np.inf), self._tight_levels(best))
            if not term.is_optimal:
                return best, max(bound, lb), Termination.feasible(term.limit or Limit.OTHER,
                                                                  term.detail)  # fmt: skip
            # optimal when the master's theta is every user's true value at its optimum (its
            # objective, an upper bound, is then attained), or the bound meets the best value
            actual = self._tight_levels(cand)
            consistent = bool(np.all(x[m:] <= actual + CUT_TOL))
            self._add_cuts(y, x[m:], actual)  # (none if the callback met this point)
            if consistent or bound <= lb + CUT_TOL * max(1.0, abs(lb)):
                return best, max(bound, lb), Termination.optimal()
            if sw.expired(tl):
                return best, max(bound, lb), Termination.feasible(Limit.TIME, "time limit")
            if self.full:
                detail = f"the cuts reached {_MAX_CUT_NONZEROS} nonzeros"
                return best, max(bound, lb), Termination.feasible(Limit.OTHER, detail)
        detail = f"{_MAX_MASTER_SOLVES} master solves"
        return best, max(bound, lb), Termination.feasible(Limit.ITERATION, detail)

    def _visit(
        self, point: NDArray[np.float64], best: NDArray[np.int64], lb: float
    ) -> tuple[NDArray[np.int64], float]:
        """Evaluate an integral master point, add its tight cuts; the best set and value."""
        if len(point) != self.m + self.n:
            return best, lb
        y = np.round(point[: self.m])
        cand = np.flatnonzero(y > 0.5).astype(np.int64)
        if len(cand) == 0:
            return best, lb
        self._add_cuts(y, point[self.m :], self._tight_levels(cand))
        val = _welfare(self.w, cand)
        return (cand, val) if val > lb else (best, lb)

    def _start(self, chosen: NDArray[np.int64]) -> None:
        """Give HiGHS ``chosen`` (feasible in the master) as its first incumbent."""
        x = np.zeros(self.m + self.n)
        x[chosen] = 1.0
        x[self.m :] = self._tight_levels(chosen)
        sol = highspy.HighsSolution()
        sol.col_value = x.tolist()
        sol.value_valid = True
        self.h.setSolution(sol)

    def _fix_by_reduced_costs(self, lp_bound: float, lb: float) -> None:
        """Fix ``y_p`` where moving it off its LP bound would cost more than the gap."""
        if not math.isfinite(lp_bound):
            return
        sol = self.h.getSolution()
        if not sol.dual_valid:
            return
        y = np.asarray(sol.col_value[: self.m])
        d = np.asarray(sol.col_dual[: self.m])
        slack = lp_bound - lb - CUT_TOL * max(1.0, abs(lb))
        zero = np.flatnonzero((y < 1e-9) & (-d > slack))  # y_p = 1 would cost -d_p
        one = np.flatnonzero((y > 1 - 1e-9) & (d > slack))  # y_p = 0 would cost d_p
        if len(zero):
            self.h.changeColsBounds(len(zero), zero.astype(np.int32), np.zeros(len(zero)),
                                    np.zeros(len(zero)))  # fmt: skip
        if len(one):
            self.h.changeColsBounds(len(one), one.astype(np.int32), np.ones(len(one)),
                                    np.ones(len(one)))  # fmt: skip


# --------------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------------
def _result(
    vals: NDArray[np.float64],
    chosen: NDArray[np.int64],
    k: int,
    sw: Stopwatch,
    term: Termination,
    method: str,
    backend: str,
    *,
    bound: float,
    heuristic: float,
    kept: int,
    restarts: int = 0,
    cuts: int = 0,
    solves: int = 0,
) -> PolicySelection:
    """Assign every user to its best chosen candidate; drop candidates nobody uses."""
    pick = np.argmax(vals[:, chosen], axis=1)
    assignment = chosen[pick].astype(np.int64)
    utilities = vals[np.arange(vals.shape[0]), assignment]
    welfare = float(utilities.sum())
    if term.is_optimal and math.isnan(bound):
        bound = welfare  # the closed forms are exact
    if math.isnan(heuristic):  # the closed forms: the heuristic finds the same optimum
        heuristic = welfare
    if not math.isnan(bound):
        bound = max(bound, welfare)
    gap = bound - welfare if not math.isnan(bound) else math.nan
    h_gap = bound - heuristic if not (math.isnan(bound) or math.isnan(heuristic)) else math.nan
    info = SolveInfo(term, welfare, method, backend, sw.elapsed, bound=bound)
    return PolicySelection(
        chosen=readonly(np.unique(assignment)),
        assignment=readonly(assignment),
        utilities=readonly(utilities),
        welfare=welfare,
        budget=k,
        bound=bound,
        gap=gap,
        heuristic_welfare=heuristic,
        heuristic_gap=h_gap,
        candidates_kept=kept,
        restarts=restarts,
        cuts=cuts,
        master_solves=solves,
        info=info,
    )
