"""How a solve ended, in the shape of OR-Tools MathOpt's result: a termination (reason, and
which limit stopped the solve) and the solve's statistics, shared by every family's results.

A solve that hits a limit or proves infeasibility is a *successful call* whose result says so;
it never raises and never returns ``None``. ``objective`` is the value of the returned solution
(``nan`` without a feasible one); a relaxation's value (a bound on the optimum) goes in
``bound``, never in ``objective``, a revenue or a welfare. ``docs/api.md`` lists the vocabulary.
"""

from __future__ import annotations

import enum
import math
import time
from dataclasses import dataclass
from typing import Any

from numpy.typing import NDArray


class TerminationReason(enum.Enum):
    """Why a solve stopped (MathOpt's ``TerminationReason``)."""

    OPTIMAL = "optimal"
    """The returned solution is proven optimal within the documented tolerances."""
    FEASIBLE = "feasible"
    """A limit stopped the solve (``Termination.limit`` says which); the returned solution is
    feasible but not proven optimal."""
    NO_SOLUTION_FOUND = "no_solution_found"
    """A limit stopped the solve before any feasible solution was found."""
    INFEASIBLE = "infeasible"
    """The problem has no feasible solution."""
    UNBOUNDED = "unbounded"
    """The objective is unbounded."""
    INFEASIBLE_OR_UNBOUNDED = "infeasible_or_unbounded"
    """The backend proved one of the two without telling which."""
    IMPRECISE = "imprecise"
    """Solved to optimality with looser tolerances than requested (e.g. a conic solver's
    ``optimal_inaccurate``); the solution is usable, the optimality claim is weaker."""
    NUMERICAL_ERROR = "numerical_error"
    """The backend failed for numerical reasons; no trustworthy solution."""
    OTHER_ERROR = "other_error"
    """The backend failed for another reason (see ``Termination.detail``)."""


class Limit(enum.Enum):
    """Which limit stopped a solve (MathOpt's ``Limit``)."""

    TIME = "time"
    """The time limit (the call's deadline on the service)."""
    ITERATION = "iteration"
    """An iteration or round limit, e.g. a cap on repair rounds."""
    ROWS = "rows"
    """Constraint generation would exceed ``Limits.max_lp_rows``."""
    INTERRUPTED = "interrupted"
    """The caller cancelled the call."""
    OTHER = "other"
    """Another limit (see ``Termination.detail``)."""


_SOLVED = frozenset(
    {TerminationReason.OPTIMAL, TerminationReason.FEASIBLE, TerminationReason.IMPRECISE}
)


@dataclass(frozen=True)
class Termination:
    """Why a solve stopped: a reason, which limit (for ``FEASIBLE`` and ``NO_SOLUTION_FOUND``;
    ``None`` otherwise) and a short human-readable detail (``""`` when there is nothing to add).
    """

    reason: TerminationReason
    limit: Limit | None = None
    detail: str = ""

    @property
    def has_solution(self) -> bool:
        """True when the result carries a usable (feasible) solution."""
        return self.reason in _SOLVED

    @property
    def is_optimal(self) -> bool:
        return self.reason is TerminationReason.OPTIMAL

    @classmethod
    def optimal(cls, detail: str = "") -> Termination:
        return cls(TerminationReason.OPTIMAL, None, detail)

    @classmethod
    def feasible(cls, limit: Limit, detail: str = "") -> Termination:
        """A limit stopped the solve with a feasible (not proven optimal) solution."""
        return cls(TerminationReason.FEASIBLE, limit, detail)

    @classmethod
    def no_solution(cls, limit: Limit, detail: str = "") -> Termination:
        """A limit stopped the solve before any feasible solution was found."""
        return cls(TerminationReason.NO_SOLUTION_FOUND, limit, detail)

    @classmethod
    def failed(cls, reason: TerminationReason, detail: str = "") -> Termination:
        """No trustworthy solution: infeasible, unbounded, numerical or other error."""
        return cls(reason, None, detail)

    def with_detail(self, detail: str) -> Termination:
        """The same termination with ``detail`` appended (``"; "``-separated)."""
        text = "; ".join(part for part in (self.detail, detail) if part)
        return Termination(self.reason, self.limit, text)


@dataclass(frozen=True)
class SolveInfo:
    """How a solve ended and what it cost.

    Attributes:
        termination: reason, limit and detail.
        objective: the objective value of the returned solution (``nan`` without a feasible
            solution).
        method: the formulation or algorithm, e.g. ``"enumeration"``, ``"milp"``,
            ``"min_cost_flow"``.
        backend: the software that solved it, e.g. ``"numpy"``, ``"highs"``, ``"ortools"``.
        wall_time_s: wall-clock seconds of the whole call, validation included.
        bound: the best proven bound on the optimal objective (e.g. the value of a relaxation
            that a limit stopped), ``nan`` when none was computed.
    """

    termination: Termination
    objective: float
    method: str
    backend: str
    wall_time_s: float
    bound: float = math.nan


class HasSolveInfo:
    """Mixin for result dataclasses with an ``info: SolveInfo`` field: flat accessors."""

    info: SolveInfo

    @property
    def termination(self) -> Termination:
        return self.info.termination

    @property
    def objective(self) -> float:
        return self.info.objective

    @property
    def method(self) -> str:
        return self.info.method

    @property
    def backend(self) -> str:
        return self.info.backend

    @property
    def wall_time_s(self) -> float:
        return self.info.wall_time_s


class HasOutcome:
    """Mixin for mediator results with per-agent ``utilities_before`` and ``utilities_after``:
    the totals over every agent (the utilitarian welfare of everyone, what the papers plot)."""

    utilities_before: NDArray[Any]
    utilities_after: NDArray[Any]

    @property
    def total_utility_before(self) -> float:
        return float(self.utilities_before.sum())

    @property
    def total_utility_after(self) -> float:
        return float(self.utilities_after.sum())


class Stopwatch:
    """Wall-clock timer; ``elapsed`` is the seconds since construction."""

    def __init__(self) -> None:
        self._start = time.perf_counter()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self._start

    def remaining(self, time_limit: float | None) -> float | None:
        """Seconds left of ``time_limit`` (``None`` = no limit); never negative."""
        if time_limit is None:
            return None
        return max(0.0, time_limit - self.elapsed)

    def deadline(self, time_limit: float | None) -> float:
        """The :func:`time.perf_counter` instant ``time_limit`` runs out (``inf``: no limit)."""
        return math.inf if time_limit is None else self._start + time_limit

    def expired(self, time_limit: float | None) -> bool:
        """True when ``time_limit`` (``None`` = no limit) has run out."""
        return time_limit is not None and self.elapsed >= time_limit


def readonly(a: NDArray[Any]) -> NDArray[Any]:
    """``a``, made read-only in place (result arrays are immutable like their dataclasses).

    Only for arrays the solver created: a caller's array must be copied first
    (:func:`mechsolve.solver.core.validation` helpers return copies).
    """
    a.setflags(write=False)
    return a
