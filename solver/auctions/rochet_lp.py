"""The revenue LP in utility (Rochet) variables, solved by constraint generation.

Every *full row* (a bidder at a type profile for ex-post LPs, or at a type for interim/BIC
LPs; see :mod:`.symmetry`) has an allocation ``q in [0, 1]^m`` and a utility ``u >= 0`` (IR
as a bound); its payment is ``q . v - u``. The LP is (seed 004, first study: revenue
maximization subject to IC and IR; Rochet 1987 for the utility form)::

    max   sum_rows w(row) (q(row) . v(row) - u(row))
    s.t.  u(a) - u(b) - q(b) . (v(a) - v(b)) + r(a) >= 0     for rows a, b of one IC slice
          sum_i q_ij(profile) <= 1                            (ex-post supply)
          sum_j q_j(row) <= 1                                 (unit demand, optional)
          Border's condition per item                         (interim / BIC)
          (1/n) sum_rows w(row) r(row) <= epsilon              (regret budget, optional)

An IC slice is the set of rows that differ only in the bidder's own type. ``r`` (the regret
epigraph) exists only in regret-budget LPs; otherwise the IC rows have ``m + 2`` non-zeros.

Constraint generation: start from the IC rows between grid neighbours, solve, find for every
(representative) row its best misreport by an exact vectorized scan
(:func:`.separation.top_deviations`) and the most violated Border families
(:func:`.separation.border_violations`), add the violated rows to the same HiGHS model and
re-solve (warm-started dual simplex) until no row is violated (:class:`.cut_pool.CutPool`
keeps the added rows, de-duplicated, and deletes long-slack ones early on). The final
mechanism is then verified against every constraint (:func:`verify`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from ..core.highs_backend import INF, new_highs, pass_model, termination_of
from ..core.results import Limit, Stopwatch, Termination, TerminationReason
from .arguments import SolveArgs
from .cut_pool import CutPool
from .priors import TypePrior
from .results import GenerationStats, Verification
from .separation import border_violations, max_border_violation, top_deviations
from .symmetry import RowOrbits, ex_post_orbits, interim_orbits

SEPARATION_TOL = 1e-8
"""Rows violated by more than this (times the value scale) are added to the LP."""
VERIFY_TOL = 1e-6
"""Verification tolerance (times the value scale ``max(1, largest value)``)."""
REGRET_CUTS_PER_ROW = 8
"""Misreports added per violated row and round in regret-budget LPs (1 otherwise)."""
BORDER_CUTS_PER_ITEM = 20
"""Violated Border families added per item and round (the largest violation first, the others
spread over the scan). 2x2 BIC, K=20, bidders U[0,1]^2 and U[0,1] x U[0,2]: 5 per item do not
converge in 400 rounds, 20 take 70 rounds, 60 take 70 and 150 take 56 rounds, in about the same
time (HiGHS re-solves dominate)."""


@dataclass(frozen=True, eq=False)
class BorderSpec:
    """Border's condition on interim rows: bidder ``i``'s rows are ``offsets[i] + t``."""

    offsets: NDArray[np.int64]
    probs: tuple[NDArray[np.float64], ...]
    symmetric: bool


@dataclass(frozen=True, eq=False)
class RochetLayout:
    """The full rows of an LP and how they are tied together.

    Attributes:
        type_values: per bidder ``(T_i, m)`` its type set.
        slices: per bidder ``(T_i, S_i)`` full-row ids; column ``s`` is one IC slice, ordered
            by the bidder's own type.
        own_values: ``(R, m)`` the row's own valuation.
        weight: ``(R,)`` objective weight (probability of the profile or of the type).
        orbits: symmetry representatives.
        neighbours: per bidder, ordered pairs of neighbouring type indices (IC seeds).
        supply_groups: ``(G, n)`` full rows sharing a profile (ex-post supply), or ``(0, n)``.
        unit_demand: add ``sum_j q_j <= 1`` per row.
        border: Border's condition (interim LPs) or ``None``.
    """

    type_values: tuple[NDArray[np.float64], ...]
    slices: tuple[NDArray[np.int64], ...]
    own_values: NDArray[np.float64]
    weight: NDArray[np.float64]
    orbits: RowOrbits
    neighbours: tuple[tuple[NDArray[np.int64], NDArray[np.int64]], ...]
    supply_groups: NDArray[np.int64]
    unit_demand: bool
    border: BorderSpec | None

    @property
    def n_items(self) -> int:
        return int(self.own_values.shape[1])

    @property
    def n_rows(self) -> int:
        return int(self.own_values.shape[0])

    @property
    def n_bidders(self) -> int:
        return len(self.slices)

    @property
    def scale(self) -> float:
        return max(1.0, float(np.abs(self.own_values).max(initial=0.0)))

    def ic_rows_full(self) -> int:
        """IC rows of the full formulation: every representative row against every misreport."""
        canon = self.orbits.canonical
        return sum(int(canon[sl].sum()) * (sl.shape[0] - 1) for sl in self.slices)


def ex_post_layout(
    priors: Sequence[TypePrior], *, unit_demand: bool, use_symmetry: bool
) -> RochetLayout:
    """Rows ``(i, profile)`` of the DSIC / menu / regret-budget LP (row id ``i * P + p``)."""
    shape = tuple(p.n_types for p in priors)
    n, n_prof = len(priors), math.prod(shape)
    idx = np.unravel_index(np.arange(n_prof, dtype=np.int64), shape)
    prob = np.ones(n_prof)
    for i, p in enumerate(priors):
        prob = prob * p.probs[idx[i]]
    own = np.concatenate([priors[i].values[idx[i]] for i in range(n)])
    base = np.arange(n_prof, dtype=np.int64).reshape(shape)
    slices = tuple(np.moveaxis(i * n_prof + base, i, 0).reshape(shape[i], -1) for i in range(n))
    groups = (
        np.stack([i * n_prof + np.arange(n_prof, dtype=np.int64) for i in range(n)], axis=1)
        if n > 1
        else np.empty((0, 1), np.int64)
    )
    return RochetLayout(
        type_values=tuple(p.values for p in priors),
        slices=slices,
        own_values=own,
        weight=np.tile(prob, n),
        orbits=ex_post_orbits(priors, use_symmetry),
        neighbours=tuple(p.neighbour_pairs() for p in priors),
        supply_groups=groups,
        unit_demand=unit_demand,
        border=None,
    )


def interim_layout(priors: Sequence[TypePrior], *, use_symmetry: bool) -> RochetLayout:
    """Rows ``(i, own type)`` of the BIC reduced-form LP (row id ``offset_i + t``)."""
    sizes = [p.n_types for p in priors]
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    orbits = interim_orbits(priors, use_symmetry)
    return RochetLayout(
        type_values=tuple(p.values for p in priors),
        slices=tuple(
            (offsets[i] + np.arange(sizes[i], dtype=np.int64))[:, None] for i in range(len(priors))
        ),
        own_values=np.concatenate([p.values for p in priors]),
        weight=np.concatenate([p.probs for p in priors]),
        orbits=orbits,
        neighbours=tuple(p.neighbour_pairs() for p in priors),
        supply_groups=np.empty((0, len(priors)), np.int64),
        unit_demand=False,
        border=BorderSpec(offsets, tuple(p.probs for p in priors), orbits.bidders_symmetric),
    )


@dataclass(frozen=True, eq=False)
class RochetSolution:
    """The expanded (full-row) solution of :func:`solve_rochet` and how it ended.

    ``converged`` is True when separation found no violated row; only then is the solution
    feasible for the whole LP. ``q``, ``u``, ``pay`` (``q . v - u``), ``r`` are per full row,
    empty without any LP solution.
    """

    termination: Termination
    converged: bool
    q: NDArray[np.float64]
    u: NDArray[np.float64]
    pay: NDArray[np.float64]
    r: NDArray[np.float64]
    lp_objective: float
    stats: GenerationStats
    verification: Verification


class _Columns:
    """Column indices: representative ``k`` has ``q`` at ``k (m+1) + j``, ``u`` at
    ``k (m+1) + m``; regret columns (if any) follow all of them."""

    def __init__(self, layout: RochetLayout, regret: bool) -> None:
        self.m = layout.n_items
        self.n_rep = layout.orbits.n_rep
        self.regret = regret
        self.count = self.n_rep * (self.m + 1) + (self.n_rep if regret else 0)
        self.rep = layout.orbits.rep
        self.item_map = layout.orbits.item_map

    def q(self, rows: NDArray[np.int64]) -> NDArray[np.int64]:
        """``(k, m)`` columns of the full-row allocations ``q(row)[j]``."""
        return self.rep[rows, None] * (self.m + 1) + self.item_map[rows]

    def u(self, rows: NDArray[np.int64]) -> NDArray[np.int64]:
        return self.rep[rows] * (self.m + 1) + self.m

    def r(self, rows: NDArray[np.int64]) -> NDArray[np.int64]:
        return self.n_rep * (self.m + 1) + self.rep[rows]


def _csr(cols: NDArray[np.int64], vals: NDArray[np.float64], n_cols: int) -> sp.csr_array:
    """Rows given as equal-length column/value lists (duplicates summed, zeros dropped)."""
    n_rows, width = cols.shape
    rows = np.repeat(np.arange(n_rows), width)
    mat = sp.csr_array((vals.ravel(), (rows, cols.ravel())), shape=(n_rows, n_cols))
    mat.sum_duplicates()
    mat.eliminate_zeros()
    return mat


def _ic_matrix(
    layout: RochetLayout, col: _Columns, a: NDArray[np.int64], b: NDArray[np.int64]
) -> sp.csr_array:
    """IC rows ``u(a) - u(b) - q(b) . (v(a) - v(b)) [+ r(a)] >= 0``."""
    k = len(a)
    dv = layout.own_values[a] - layout.own_values[b]
    parts_c = [col.u(a)[:, None], col.u(b)[:, None], col.q(b)]
    parts_v = [np.ones((k, 1)), -np.ones((k, 1)), -dv]
    if col.regret:
        parts_c.append(col.r(a)[:, None])
        parts_v.append(np.ones((k, 1)))
    return _csr(np.concatenate(parts_c, axis=1), np.concatenate(parts_v, axis=1), col.count)


def _static_rows(
    layout: RochetLayout, col: _Columns, regret_budget: float | None
) -> tuple[sp.csr_array, NDArray[np.float64], NDArray[np.float64]]:
    """Supply, unit-demand, symmetry equalities, the ex-ante Border rows and the budget."""
    m, n_rep = col.m, col.n_rep
    mats: list[sp.csr_array] = []
    lower: list[NDArray[np.float64]] = []
    upper: list[NDArray[np.float64]] = []

    def add(mat: sp.csr_array, lo: float, hi: float) -> None:
        mats.append(mat)
        lower.append(np.full(mat.shape[0], lo))
        upper.append(np.full(mat.shape[0], hi))

    groups = layout.supply_groups
    if groups.shape[0]:
        cols = np.concatenate([col.q(groups.ravel())[:, j].reshape(groups.shape) for j in range(m)])
        cols = np.unique(np.sort(cols, axis=1), axis=0)
        add(_csr(cols, np.ones(cols.shape), col.count), -INF, 1.0)
    reps = layout.orbits.rep_row
    if layout.unit_demand and m > 1:
        add(_csr(col.q(reps), np.ones((n_rep, m)), col.count), -INF, 1.0)
    eq = layout.orbits.equal_pairs
    if eq.shape[0]:
        cols = np.stack([eq[:, 0] * (m + 1) + eq[:, 1], eq[:, 0] * (m + 1) + eq[:, 2]], axis=1)
        add(_csr(cols, np.tile([1.0, -1.0], (len(eq), 1)), col.count), 0.0, 0.0)
    if layout.border is not None:
        rows = np.arange(layout.n_rows, dtype=np.int64)
        for j in range(m):
            add(
                _csr(col.q(rows)[:, j][None, :], layout.weight[None, :], col.count),
                -INF,
                1.0,
            )
    if regret_budget is not None:
        coef = np.bincount(layout.orbits.rep, weights=layout.weight, minlength=n_rep)
        cols = (n_rep * (m + 1) + np.arange(n_rep))[None, :]
        add(_csr(cols, coef[None, :] / layout.n_bidders, col.count), -INF, regret_budget)
    if not mats:
        return sp.csr_array((0, col.count)), np.empty(0), np.empty(0)
    return sp.vstack(mats, format="csr"), np.concatenate(lower), np.concatenate(upper)


def _seed_pairs(
    layout: RochetLayout, full: bool
) -> list[tuple[NDArray[np.int64], NDArray[np.int64]]]:
    """IC (row, misreport row) pairs to start with: neighbours, or all pairs (``full``),
    for representative rows only, in chunks."""
    canon = layout.orbits.canonical
    out = []
    for i, sl in enumerate(layout.slices):
        t = sl.shape[0]
        if full:
            for own in range(t):
                cols = np.nonzero(canon[sl[own]])[0]
                if cols.size == 0:
                    continue
                others = np.delete(np.arange(t), own)
                a = np.broadcast_to(sl[own, cols], (len(others), len(cols))).ravel()
                b = sl[others][:, cols].ravel()
                out.append((a, b))
        else:
            a_t, b_t = layout.neighbours[i]
            a = sl[a_t].ravel()
            b = sl[b_t].ravel()
            keep = canon[a]
            out.append((a[keep], b[keep]))
    return out


def _payments(
    layout: RochetLayout, q: NDArray[np.float64], u: NDArray[np.float64]
) -> NDArray[np.float64]:
    return np.einsum("rm,rm->r", q, layout.own_values) - u


def ic_violations(
    layout: RochetLayout,
    q: NDArray[np.float64],
    u: NDArray[np.float64],
    r: NDArray[np.float64],
    bidders: Sequence[int],
    *,
    top: int = 1,
) -> list[tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]]:
    """Per bidder: ``(violation, row, misreport row)`` for the ``top`` best misreports of
    every row of its slices: ``v(a) . q(b) - p(b) - u(a) - r(a)`` (exact, every misreport
    examined)."""
    pay = _payments(layout, q, u)
    out = []
    for i in bidders:
        sl_t = layout.slices[i].T  # (S, T_i)
        gain, arg = top_deviations(layout.type_values[i], q[sl_t], pay[sl_t], top)
        viol = gain - (u[sl_t] + r[sl_t])[..., None]
        a_rows = np.broadcast_to(sl_t[..., None], arg.shape)
        b_rows = np.take_along_axis(sl_t, arg.reshape(len(sl_t), -1), axis=1)
        out.append((viol.ravel(), a_rows.ravel(), b_rows.ravel()))
    return out


def _border_items(
    layout: RochetLayout, q: NDArray[np.float64], max_sets: int
) -> list[tuple[int, float, list[NDArray[np.int64]]]]:
    """Violated Border families ``(item, violation, sets)``."""
    spec = layout.border
    assert spec is not None
    found = []
    for j in range(layout.n_items):
        interim = [q[spec.offsets[i] : spec.offsets[i + 1], j] for i in range(layout.n_bidders)]
        for viol, sets in border_violations(
            interim, spec.probs, symmetric=spec.symmetric, max_sets=max_sets
        ):
            found.append((j, viol, sets))
    return found


def verify(
    layout: RochetLayout,
    q: NDArray[np.float64],
    u: NDArray[np.float64],
    r: NDArray[np.float64],
    regret_budget: float | None,
) -> Verification:
    """Check a full-row solution against every constraint of the LP (all bidders, all rows,
    every misreport, every item at every profile, Border's condition exactly)."""
    tol = VERIFY_TOL * layout.scale
    ic = max(
        (
            float(v.max(initial=0.0))
            for v, _, _ in ic_violations(layout, q, u, r, range(layout.n_bidders))
        ),
        default=0.0,
    )
    ir = max(0.0, -float(u.min(initial=0.0)))
    feas = max(0.0, -float(q.min(initial=0.0)), float(q.max(initial=0.0)) - 1.0)
    if layout.supply_groups.shape[0]:
        feas = max(feas, float(q[layout.supply_groups].sum(axis=1).max()) - 1.0)
    if layout.unit_demand:
        feas = max(feas, float(q.sum(axis=1).max(initial=0.0)) - 1.0)
    if layout.border is not None:
        spec = layout.border
        for j in range(layout.n_items):
            interim = [q[spec.offsets[i] : spec.offsets[i + 1], j] for i in range(layout.n_bidders)]
            feas = max(feas, max_border_violation(interim, spec.probs, symmetric=spec.symmetric))
    budget = 0.0
    if regret_budget is not None:
        mean = float(layout.weight @ r) / layout.n_bidders
        budget = max(0.0, mean - regret_budget, -float(r.min(initial=0.0)))
    checked = sum(sl.shape[0] * sl.size for sl in layout.slices)
    worst = max(ic, ir, feas, budget)
    return Verification(worst <= tol, ic, ir, feas, budget, tol, int(checked))


def solve_rochet(
    layout: RochetLayout,
    args: SolveArgs,
    *,
    regret_budget: float | None,
    watch: Stopwatch,
) -> RochetSolution:
    """Solve the LP of ``layout`` (see the module docstring) on one persistent HiGHS model."""
    constraints, limits, time_limit = args.constraints, args.limits, args.time_limit
    col = _Columns(layout, regret_budget is not None)
    m, n_rep = col.m, col.n_rep
    full = constraints == "full"
    ic_full = layout.ic_rows_full()
    if full:
        limits.check(args.function, "constraints", ic_full, "max_lp_rows")

    # objective and bounds
    c = np.zeros(col.count)
    rows = np.arange(layout.n_rows, dtype=np.int64)
    np.add.at(c, col.q(rows).ravel(), (layout.weight[:, None] * layout.own_values).ravel())
    np.add.at(c, col.u(rows), -layout.weight)
    col_lo = np.zeros(col.count)
    col_hi = np.ones(col.count)
    col_hi[np.arange(n_rep) * (m + 1) + m] = INF
    if col.regret:
        col_hi[n_rep * (m + 1) :] = INF

    static, s_lo, s_hi = _static_rows(layout, col, regret_budget)
    h = new_highs(watch.remaining(time_limit))
    pass_model(h, c, static.tocsc(), s_lo, s_hi, col_lo, col_hi, maximize=True)
    pool = CutPool(h)
    for a, b in _seed_pairs(layout, full):
        pool.add_ic(_ic_matrix(layout, col, a, b), a * layout.n_rows + b)
    pool.freeze()  # seeds are never dropped

    sep_tol = SEPARATION_TOL * layout.scale
    # a regret allowance makes many misreports bind at once: cut several per row and round
    cuts_per_row = REGRET_CUTS_PER_ROW if col.regret else 1
    scan = [0] if layout.orbits.bidders_symmetric else list(range(layout.n_bidders))
    canon = layout.orbits.canonical
    rounds, lp_time, sep_time = 0, 0.0, 0.0
    converged = False
    term = Termination.no_solution(Limit.TIME, "time limit before the first LP solve")
    x = np.empty(0)
    objective = math.nan
    while True:
        remaining = watch.remaining(time_limit)
        if remaining is not None:
            if remaining <= 0.0:
                term = Termination.no_solution(
                    Limit.TIME, f"time limit reached after {rounds} LP solves"
                )
                break
            h.setOptionValue("time_limit", float(h.getRunTime() + remaining))
        t0 = watch.elapsed
        h.run()
        lp_time += watch.elapsed - t0
        rounds += 1
        term = termination_of(h)
        if not term.is_optimal:
            term = term.with_detail(f"HiGHS stopped in LP solve {rounds}")
            break
        sol = h.getSolution()
        x = np.asarray(sol.col_value, dtype=np.float64)
        objective = float(h.getInfo().objective_function_value)
        row_value = np.asarray(sol.row_value, dtype=np.float64)
        if len(row_value) != h.getNumRow() or not np.all(np.isfinite(x)):
            term = Termination.failed(
                TerminationReason.NUMERICAL_ERROR,
                f"HiGHS returned no usable solution in LP solve {rounds}",
            )
            x = np.empty(0)
            break
        pool.age(row_value, sep_tol, rounds)
        q, u, r = _expand(layout, col, x)
        t0 = watch.elapsed
        new_a, new_b = [], []
        for viol, a, b in ic_violations(layout, q, u, r, scan, top=cuts_per_row):
            hit = (viol > sep_tol) & canon[a]
            new_a.append(a[hit])
            new_b.append(b[hit])
        cand_a, cand_b = np.concatenate(new_a), np.concatenate(new_b)
        fresh = pool.fresh_ic(cand_a * layout.n_rows + cand_b)
        cand_a, cand_b = cand_a[fresh], cand_b[fresh]
        border = _border_rows(layout, col, q, sep_tol) if layout.border is not None else []
        border = [(mat, rhs, key) for mat, rhs, key in border if pool.fresh_border(key)]
        sep_time += watch.elapsed - t0
        n_new = len(cand_a) + len(border)
        if n_new == 0:
            converged = True
            break
        if h.getNumRow() + n_new > limits.max_lp_rows:
            term = Termination.no_solution(
                Limit.ROWS,
                f"constraint generation stopped: the LP would exceed max_lp_rows={limits.max_lp_rows}",
            )
            break
        pool.drop_aged()
        if len(cand_a):
            pool.add_ic(_ic_matrix(layout, col, cand_a, cand_b), cand_a * layout.n_rows + cand_b)
        pool.add_borders(border)

    n_static_border = m if layout.border is not None else 0
    stats = GenerationStats(
        constraints=constraints,
        rounds=rounds,
        ic_rows=pool.ic_rows,
        ic_rows_full=ic_full,
        border_rows=pool.border_rows + n_static_border,
        lp_rows=int(h.getNumRow()),
        lp_cols=int(h.getNumCol()),
        symmetry_order=layout.orbits.group_order,
        lp_time_s=lp_time,
        separation_time_s=sep_time,
    )
    if x.size == 0:
        return _no_solution(m, term, stats)
    q, u, r = _expand(layout, col, x)
    ver = verify(layout, q, u, r, regret_budget)
    if converged:
        if ver.passed:
            term = Termination.optimal()
        else:
            worst = max(
                ver.max_ic_violation,
                ver.max_ir_violation,
                ver.max_feasibility_violation,
                ver.max_budget_violation,
            )
            term = Termination.failed(
                TerminationReason.NUMERICAL_ERROR,
                f"verification failed: largest violation {worst:.3g} > tolerance {ver.tolerance:.3g}",
            )
    elif term.has_solution:  # the last LP had only some IC rows: a relaxation, not a mechanism
        term = Termination.no_solution(term.limit or Limit.OTHER, term.detail)
    pay = _payments(layout, q, u)
    return RochetSolution(term, converged, q, u, pay, r, objective, stats, ver)


def _no_solution(m: int, term: Termination, stats: GenerationStats) -> RochetSolution:
    ver = Verification(False, math.nan, math.nan, math.nan, math.nan, math.nan, 0)
    empty = np.empty(0)
    return RochetSolution(term, False, np.empty((0, m)), empty, empty, empty, math.nan, stats, ver)


def empty_solution(layout: RochetLayout, constraints: str, term: Termination) -> RochetSolution:
    """The solution of an LP that was never solved (e.g. its call ran out of time first)."""
    stats = GenerationStats(constraints, 0, 0, 0, 0, 0, 0, layout.orbits.group_order, 0.0, 0.0)
    return _no_solution(layout.n_items, term, stats)


def _expand(
    layout: RochetLayout, col: _Columns, x: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    m, n_rep = col.m, col.n_rep
    block = x[: n_rep * (m + 1)].reshape(n_rep, m + 1)
    q = np.clip(layout.orbits.expand(block[:, :m]), 0.0, 1.0)
    u = block[layout.orbits.rep, m]
    r = x[n_rep * (m + 1) :][layout.orbits.rep] if col.regret else np.zeros(layout.n_rows)
    return q, u, r


def _border_rows(
    layout: RochetLayout, col: _Columns, q: NDArray[np.float64], tol: float
) -> list[tuple[sp.csr_array, float, bytes]]:
    """Violated Border rows ``sum_i sum_{t in S_i} f_i(t) q_i(t)_j <= 1 - prod_i (1 - f_i(S_i))``
    with a content key (column indices and coefficients) for de-duplication."""
    spec = layout.border
    assert spec is not None
    out = []
    for j, viol, sets in _border_items(layout, q, max_sets=BORDER_CUTS_PER_ITEM):
        if viol <= tol:
            continue
        rows = np.concatenate([spec.offsets[i] + s for i, s in enumerate(sets)])
        coef = np.concatenate([spec.probs[i][s] for i, s in enumerate(sets)])
        mat = _csr(col.q(rows)[:, j][None, :], coef[None, :], col.count)
        key = mat.indices.tobytes() + np.round(mat.data, 12).tobytes()
        rhs = 1.0 - math.prod(1.0 - float(spec.probs[i][s].sum()) for i, s in enumerate(sets))
        out.append((mat, rhs, key))
    return out
