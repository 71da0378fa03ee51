"""The mediator problem as a MILP with one binary per candidate outcome.

For candidates ``c = 1..C`` with utilities ``U[i, c]``::

    max   s_1 . x                                  (then s_2, s_3, ... lexicographically)
    s.t.  sum_c x_c = 1,  x_c in {0, 1}
          sum_c U[i, c] x_c >= u_i(a)      for i in the Pareto set (seed 000 eq. 3)
          s_j . x >= s_j* - tol            for every earlier stage j

The lexicographic stages reproduce the deterministic tie-breaking of
:func:`~mechsolve.solver.mediators.candidates.lex_argmax`; the last stage picks the submitted profile,
then the smallest index. The solver backends (HiGHS here, Pyomo in
:mod:`~mechsolve.solver.mediators.pyomo_model`) implement :class:`OneHotBackend`; :func:`solve_lex`
drives the stages and checks the returned outcome against the Pareto constraints exactly
(solver tolerances could otherwise admit an outcome a hair worse for a delegator).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from ..core import highs_backend as hb
from ..core.results import Limit, Stopwatch, Termination, TerminationReason
from ..games.welfare import tie_tolerance

MAX_REPAIRS = 8


@dataclass(frozen=True, eq=False)
class OneHotProblem:
    """One profile's mediator problem over ``C`` candidates.

    Attributes:
        scores: arrays ``(C,)`` to maximize lexicographically (``-inf`` = outside the domain).
        pareto_u: ``(p, C)`` utilities of the Pareto-constrained players.
        pareto_rhs: ``(p,)`` their utilities at the submitted profile.
        submitted: the submitted profile's candidate index (always feasible).
    """

    scores: tuple[NDArray[np.float64], ...]
    pareto_u: NDArray[np.float64]
    pareto_rhs: NDArray[np.float64]
    submitted: int

    @property
    def n_candidates(self) -> int:
        return int(self.pareto_u.shape[1]) if self.pareto_u.size else int(self.scores[0].shape[0])

    def rank_score(self) -> NDArray[np.float64]:
        """Final tie-break, maximized: the submitted profile first, then the smallest index."""
        rank = -np.arange(self.n_candidates, dtype=np.float64)
        rank[self.submitted] = 1.0
        return rank

    def is_pareto_feasible(self, c: int) -> bool:
        return bool(np.all(self.pareto_u[:, c] >= self.pareto_rhs))


class OneHotBackend(Protocol):
    """A MILP solver holding the one-hot model of a :class:`OneHotProblem`."""

    name: str

    def set_objective(self, c: NDArray[np.float64]) -> None: ...

    def add_ge_row(self, c: NDArray[np.float64], rhs: float) -> None: ...

    def set_forbidden(self, forbidden: NDArray[np.bool_]) -> None: ...

    def solve(self, time_limit: float | None) -> tuple[Termination, int | None]:
        """Maximize; the chosen candidate, or ``None`` without a solution."""
        ...


@dataclass(frozen=True)
class LexSolution:
    """The chosen candidate and how the stages ended (the index is always Pareto-feasible)."""

    termination: Termination
    index: int


def solve_lex(
    problem: OneHotProblem,
    make_backend: Callable[[OneHotProblem], OneHotBackend],
    watch: Stopwatch,
    time_limit: float | None,
) -> LexSolution:
    """Solve ``problem`` stage by stage with a fresh backend from ``make_backend(problem)``.

    Every answer, optimal or not, is checked against the Pareto constraints exactly; one that
    fails (a tolerance artefact) is excluded and the problem re-solved, at most
    :data:`MAX_REPAIRS` times. When a limit stops the stages, or the repairs run out, the best
    verified candidate so far (at worst the submitted profile, always feasible) comes back as
    ``FEASIBLE`` with the limit that stopped it.
    """
    forbidden = np.zeros(problem.n_candidates, dtype=bool)
    for _ in range(MAX_REPAIRS):
        backend = make_backend(problem)
        sol = _stages(problem, backend, forbidden, watch, time_limit)
        if problem.is_pareto_feasible(sol.index):
            return sol
        forbidden[sol.index] = True  # tolerance artefact: exclude exactly and re-solve
        if watch.expired(time_limit):
            detail = "time limit while repairing a tolerance artefact: submitted profile"
            return LexSolution(Termination.feasible(Limit.TIME, detail), problem.submitted)
    detail = f"{MAX_REPAIRS} repairs of tolerance artefacts: submitted profile"
    return LexSolution(Termination.feasible(Limit.ITERATION, detail), problem.submitted)


def _stages(
    problem: OneHotProblem,
    backend: OneHotBackend,
    forbidden: NDArray[np.bool_],
    watch: Stopwatch,
    time_limit: float | None,
) -> LexSolution:
    forbidden = forbidden.copy()
    stages = [*problem.scores, problem.rank_score()]
    index = problem.submitted  # the best candidate proven so far (feasible)
    for k, score in enumerate(stages):
        outside = ~np.isfinite(score)
        coef = np.where(outside, 0.0, score)
        trial = forbidden | outside
        backend.set_forbidden(trial)
        backend.set_objective(coef)
        term, idx = backend.solve(watch.remaining(time_limit))
        if outside.any() and term.reason is TerminationReason.INFEASIBLE:
            backend.set_forbidden(forbidden)  # every feasible candidate is outside: no information
            continue
        if not term.is_optimal or idx is None:
            detail = f"stage {k + 1} of {len(stages)} ended {term.reason.value}"
            detail += f" ({term.detail})" if term.detail else ""
            limit = term.limit or Limit.OTHER
            if term.has_solution and idx is not None and k == 0:
                return LexSolution(Termination.feasible(limit, detail), idx)
            return LexSolution(
                Termination.feasible(limit, f"{detail}: earlier stage's answer"), index
            )
        forbidden = trial
        index = idx
        if k < len(stages) - 1:
            best = float(coef[idx])
            backend.add_ge_row(coef, best - float(tie_tolerance(best)))
    return LexSolution(Termination.optimal(), index)


class HighsOneHot:
    """:class:`OneHotBackend` on HiGHS (highspy), the model passed from numpy arrays at once."""

    name = "highs"

    def __init__(self, problem: OneHotProblem) -> None:
        c = problem.n_candidates
        rows = np.vstack([np.ones((1, c)), problem.pareto_u])
        lower = np.concatenate([[1.0], problem.pareto_rhs])
        upper = np.concatenate([[1.0], np.full(len(problem.pareto_rhs), hb.INF)])
        self._h = hb.new_highs()
        hb.pass_model(
            self._h,
            np.zeros(c),
            sp.csc_array(rows),
            lower,
            upper,
            np.zeros(c),
            np.ones(c),
            integrality=np.ones(c, dtype=np.int32),
            maximize=True,
        )
        self._cols = np.arange(c, dtype=np.int32)

    def set_objective(self, c: NDArray[np.float64]) -> None:
        self._h.changeColsCost(len(c), self._cols, np.asarray(c, dtype=np.float64))

    def add_ge_row(self, c: NDArray[np.float64], rhs: float) -> None:
        nz = np.flatnonzero(c).astype(np.int32)
        self._h.addRow(rhs, hb.INF, len(nz), nz, np.asarray(c[nz], dtype=np.float64))

    def set_forbidden(self, forbidden: NDArray[np.bool_]) -> None:
        ub = np.where(forbidden, 0.0, 1.0)
        self._h.changeColsBounds(len(ub), self._cols, np.zeros(len(ub)), ub)

    def solve(self, time_limit: float | None) -> tuple[Termination, int | None]:
        # No MIP start: HiGHS given one has declared wrong optima (solver/structured/restaurant.py).
        if time_limit is not None:
            self._h.setOptionValue("time_limit", float(max(time_limit, 1e-3)))
        sol = hb.run(self._h)
        if not sol.termination.has_solution:
            return sol.termination, None
        return sol.termination, int(np.argmax(sol.x))
