"""Lexicographic LPs with HiGHS, shared by the incentive and mediated-equilibrium LPs: optimize
the first objective, then each next one among the optima of the previous stages (each stage's
optimum kept as a row ``c . z <= best + tol`` for a minimization, ``>= best - tol`` for a
maximization), warm-started from the previous basis."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from ..core import highs_backend as hb
from ..core.results import Stopwatch, Termination

STAGE_RTOLS = (1e-12, 1e-9, 1e-7)
"""How far a later stage may move an earlier stage's optimum, relative to ``max(1, |best|)``:
the first value, then (when HiGHS finds the kept row infeasible within its tolerances) the
next ones."""


@dataclass(frozen=True, eq=False)
class LexSolution:
    """``x`` (empty without a solution), the termination of the run, the optimum of each stage
    that was solved to optimality (``values``), and how many stages were solved."""

    x: NDArray[np.float64]
    termination: Termination
    values: tuple[float, ...]


def solve_lexicographic(
    costs: list[NDArray[np.float64]],
    a: sp.csr_array,
    lo: NDArray[np.float64],
    hi: NDArray[np.float64],
    col_lo: NDArray[np.float64],
    col_hi: NDArray[np.float64],
    *,
    maximize: bool,
    time_limit: float | None,
    watch: Stopwatch,
    names: tuple[str, ...] = (),
) -> LexSolution:
    """Optimize ``costs[0] . z``, then ``costs[1] . z`` among its optima, and so on, subject to
    ``lo <= A z <= hi`` and the column bounds. A later stage that fails (a limit, or the kept
    rows infeasible at both :data:`STAGE_RTOLS`) keeps the previous stage's solution, with a
    detail; a limit there makes the run ``FEASIBLE`` (the lexicographic problem is unsolved)."""
    h = hb.new_highs(watch.remaining(time_limit))
    hb.pass_model(h, costs[0], a, lo, hi, col_lo, col_hi, maximize=maximize)
    sol = hb.run(h)
    if not sol.termination.is_optimal:
        return LexSolution(sol.x, sol.termination, ())
    x, term, values = sol.x, sol.termination, [sol.objective]
    n_col = len(costs[0])
    all_cols = np.arange(n_col, dtype=np.int32)
    for stage, cost in enumerate(costs[1:], start=1):
        prev = costs[stage - 1]
        on = np.flatnonzero(prev).astype(np.int32)
        best = values[-1]
        row = h.getNumRow()
        h.addRow(-hb.INF, hb.INF, len(on), on, prev[on])
        h.changeColsCost(n_col, all_cols, np.asarray(cost, dtype=np.float64))
        h.setOptionValue("solver", "choose")
        left = watch.remaining(time_limit)
        if left is not None:  # HiGHS' time limit counts the instance's whole run time
            h.setOptionValue("time_limit", float(h.getRunTime()) + max(left, 1e-3))
        nxt = None
        for rtol in STAGE_RTOLS:
            slack = rtol * max(1.0, abs(best))
            if maximize:
                h.changeRowBounds(row, best - slack, hb.INF)
            else:
                h.changeRowBounds(row, -hb.INF, best + slack)
            nxt = hb.run(h)
            if nxt.termination.has_solution or watch.expired(time_limit):
                break
        assert nxt is not None
        label = names[stage] if stage < len(names) else f"stage {stage + 1}"
        if not nxt.termination.is_optimal:
            detail = f"{label} LP ended {nxt.termination.reason.value}: previous stage kept"
            if nxt.termination.limit is not None:
                return LexSolution(
                    x, Termination.feasible(nxt.termination.limit, detail), tuple(values)
                )
            return LexSolution(x, term.with_detail(detail), tuple(values))
        x = nxt.x
        values.append(nxt.objective)
    return LexSolution(x, term, tuple(values))
