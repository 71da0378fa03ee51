"""Termination status and solve statistics shared by every solver result.

The status model follows OR-Tools MathOpt's ``TerminationReason``: a solve that hits a limit
or proves infeasibility is a *successful call* whose result says so; it never raises and never
returns ``None``.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass
from typing import Any

from numpy.typing import NDArray


class Termination(enum.Enum):
    """Why a solve stopped.

    OPTIMAL: the returned solution is proven optimal (within the documented tolerance).
    FEASIBLE: a limit (time, iterations) stopped the solve; the returned solution is feasible
        but not proven optimal.
    INFEASIBLE: the problem has no feasible solution.
    UNBOUNDED: the objective is unbounded.
    INFEASIBLE_OR_UNBOUNDED: the backend proved one of the two without telling which.
    TIME_LIMIT_NO_SOLUTION: the time limit was reached before any feasible solution was found.
    NUMERICAL_ERROR: the backend failed for numerical reasons; no trustworthy solution.
    """

    OPTIMAL = "OPTIMAL"
    FEASIBLE = "FEASIBLE"
    INFEASIBLE = "INFEASIBLE"
    UNBOUNDED = "UNBOUNDED"
    INFEASIBLE_OR_UNBOUNDED = "INFEASIBLE_OR_UNBOUNDED"
    TIME_LIMIT_NO_SOLUTION = "TIME_LIMIT_NO_SOLUTION"
    NUMERICAL_ERROR = "NUMERICAL_ERROR"

    @property
    def has_solution(self) -> bool:
        """True when the result carries a usable (feasible) solution."""
        return self in (Termination.OPTIMAL, Termination.FEASIBLE)


@dataclass(frozen=True)
class SolveInfo:
    """How a solve ended: status, objective, the method and backend used, and wall time.

    Attributes:
        termination: why the solve stopped.
        objective: the objective value of the returned solution (``nan`` without a solution).
        method: the formulation/algorithm, e.g. ``"enumeration"``, ``"milp"``, ``"min_cost_flow"``.
        backend: the software that solved it, e.g. ``"numpy"``, ``"highs"``, ``"ortools"``.
        wall_time_s: wall-clock seconds spent in the solve, validation included.
        message: a short human-readable detail (limit hit, backend status string), or ``""``.
    """

    termination: Termination
    objective: float
    method: str
    backend: str
    wall_time_s: float
    message: str = ""


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


def readonly(a: NDArray[Any]) -> NDArray[Any]:
    """``a``, made read-only in place (result arrays are immutable like their dataclasses)."""
    a.setflags(write=False)
    return a
