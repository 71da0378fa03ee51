"""The one-hot mediator MILP (:mod:`~mechsolve.solver.mediators.onehot_milp`) as a Pyomo model.

Any Pyomo solver the user has can solve it (``appsi_highs`` by default, installed with
highspy), and the model can be written as ``.lp`` or ``.mps`` for other tools::

    max   s_1 . x    s.t.  sum_c x_c = 1,  sum_c U[i, c] x_c >= u_i(a) (i in D),  x binary
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyomo.environ as pyo
from numpy.typing import NDArray
from pyomo.core.expr.numeric_expr import LinearExpression
from pyomo.opt import TerminationCondition

from ..core.errors import MechsolveInputError, SolverBackendError
from ..core.limits import Limits
from ..core.results import Limit, Termination, TerminationReason
from .onehot_milp import OneHotProblem

# Solver option names for a time limit and a zero relative MIP gap (exact optima, as the
# HiGHS path solves them); appsi solvers take both through their config instead.
_TIME_LIMIT_OPTION = {
    "cbc": "seconds",
    "glpk": "tmlim",
    "gurobi": "TimeLimit",
    "cplex": "timelimit",
}
_GAP_OPTION = {"cbc": "ratioGap", "glpk": "mipgap", "gurobi": "MIPGap", "cplex": "mipgap"}

_CONDITIONS = {
    TerminationCondition.optimal: TerminationReason.OPTIMAL,
    TerminationCondition.globallyOptimal: TerminationReason.OPTIMAL,
    TerminationCondition.locallyOptimal: TerminationReason.OPTIMAL,
    TerminationCondition.infeasible: TerminationReason.INFEASIBLE,
    TerminationCondition.unbounded: TerminationReason.UNBOUNDED,
    TerminationCondition.infeasibleOrUnbounded: TerminationReason.INFEASIBLE_OR_UNBOUNDED,
}


def check_solver(function: str, solver: str, limits: Limits, time_limit: float | None) -> str:
    """``solver`` if the limits allow it and mechsolve can pass it a time limit when one is set."""
    if limits.pyomo_solvers is not None and solver not in limits.pyomo_solvers:
        allowed = ", ".join(repr(s) for s in limits.pyomo_solvers)
        raise MechsolveInputError(function, "solver", f"must be one of {allowed}; got {solver!r}")
    if time_limit is not None and not (solver.startswith("appsi_") or solver in _TIME_LIMIT_OPTION):
        known = ", ".join(["appsi_*", *_TIME_LIMIT_OPTION])
        raise MechsolveInputError(
            function,
            "solver",
            f"takes no time limit mechsolve knows how to set (known: {known}); got {solver!r} "
            "with time_limit set",
        )
    return solver


def build_model(problem: OneHotProblem) -> pyo.ConcreteModel:
    """The stage-1 model of ``problem`` (objective: the first score; ``-inf`` entries -> 0)."""
    c = problem.n_candidates
    m = pyo.ConcreteModel(name="mediator_one_hot")
    m.C = pyo.RangeSet(0, c - 1)
    m.x = pyo.Var(m.C, domain=pyo.Binary, initialize=0)
    m.one_hot = pyo.Constraint(expr=_linear(m, np.ones(c)) == 1)
    m.P = pyo.RangeSet(0, len(problem.pareto_rhs) - 1)
    m.pareto = pyo.Constraint(
        m.P, rule=lambda mm, i: _linear(mm, problem.pareto_u[i]) >= float(problem.pareto_rhs[i])
    )
    first = np.where(np.isfinite(problem.scores[0]), problem.scores[0], 0.0)
    m.obj = pyo.Objective(expr=_linear(m, first), sense=pyo.maximize)
    m.stages = pyo.ConstraintList()
    return m


def write_model(problem: OneHotProblem, path: str | Path) -> Path:
    """Write the stage-1 model as ``.lp`` or ``.mps`` (chosen by the suffix)."""
    p = Path(path)
    if p.suffix.lower() not in (".lp", ".mps"):
        raise MechsolveInputError("write_model", "path", f"must end in .lp or .mps; got {str(p)!r}")
    build_model(problem).write(str(p), io_options={"symbolic_solver_labels": True})
    return p


def _linear(m: pyo.ConcreteModel, coef: NDArray[np.float64]) -> LinearExpression:
    nz = np.flatnonzero(coef)
    return LinearExpression(
        constant=0.0,
        linear_coefs=[float(coef[j]) for j in nz],
        linear_vars=[m.x[int(j)] for j in nz],
    )


class PyomoOneHot:
    """:class:`~mechsolve.solver.mediators.onehot_milp.OneHotBackend` on a Pyomo model."""

    def __init__(self, problem: OneHotProblem, solver: str = "appsi_highs") -> None:
        self.name = f"pyomo:{solver}"
        self._m = build_model(problem)
        self._solver_name = solver
        self._solver = pyo.SolverFactory(solver)
        if not _available(self._solver):
            raise SolverBackendError(f"Pyomo solver {solver!r} is not available on this machine")
        _set_zero_gap(self._solver, solver)

    @classmethod
    def factory(cls, solver: str) -> Any:
        return lambda problem: cls(problem, solver)

    def set_objective(self, c: NDArray[np.float64]) -> None:
        self._m.obj.set_value(_linear(self._m, c))

    def add_ge_row(self, c: NDArray[np.float64], rhs: float) -> None:
        self._m.stages.add(_linear(self._m, c) >= rhs)

    def set_forbidden(self, forbidden: NDArray[np.bool_]) -> None:
        for j, f in enumerate(forbidden):
            self._m.x[j].setub(0 if f else 1)

    def solve(self, time_limit: float | None) -> tuple[Termination, int | None]:
        if time_limit is not None:
            _set_time_limit(self._solver, self._solver_name, time_limit)
        res = self._solver.solve(self._m, load_solutions=False)
        cond = res.solver.termination_condition
        if cond == TerminationCondition.maxTimeLimit:
            if len(res.solution) == 0:
                return Termination.no_solution(Limit.TIME, str(cond)), None
            term = Termination.feasible(Limit.TIME, str(cond))
        else:
            reason = _CONDITIONS.get(cond, TerminationReason.OTHER_ERROR)
            term = Termination(
                reason, None, "" if reason is TerminationReason.OPTIMAL else str(cond)
            )
        if not term.has_solution:
            return term, None
        try:
            self._m.solutions.load_from(res)
        except (ValueError, RuntimeError, KeyError) as exc:  # reported as what it is
            detail = f"{self.name} reported {cond} but its solution could not be loaded: {exc}"
            return Termination.failed(TerminationReason.OTHER_ERROR, detail), None
        x = np.array([pyo.value(self._m.x[j]) or 0.0 for j in self._m.C])
        return term, int(np.argmax(x))


def _available(solver: Any) -> bool:
    try:
        return bool(solver.available(exception_flag=False))
    except Exception:
        return False


def _set_time_limit(solver: Any, name: str, seconds: float) -> None:
    """Set the time limit (:func:`check_solver` has made sure the solver takes one)."""
    seconds = max(seconds, 1e-3)
    if name.startswith("appsi_"):
        solver.config.time_limit = seconds
    else:
        solver.options[_TIME_LIMIT_OPTION[name]] = seconds


def _set_zero_gap(solver: Any, name: str) -> None:
    """A zero relative MIP gap, as on the HiGHS path (Pyomo's appsi default is 1e-4)."""
    if name.startswith("appsi_"):
        solver.config.mip_gap = 0.0
    elif name in _GAP_OPTION:
        solver.options[_GAP_OPTION[name]] = 0.0
