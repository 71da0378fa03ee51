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
from ..core.results import Termination
from .onehot_milp import OneHotProblem

_TIME_LIMIT_OPTION = {
    "cbc": "seconds",
    "glpk": "tmlim",
    "gurobi": "TimeLimit",
    "cplex": "timelimit",
}

_CONDITIONS = {
    TerminationCondition.optimal: Termination.OPTIMAL,
    TerminationCondition.globallyOptimal: Termination.OPTIMAL,
    TerminationCondition.locallyOptimal: Termination.OPTIMAL,
    TerminationCondition.infeasible: Termination.INFEASIBLE,
    TerminationCondition.unbounded: Termination.UNBOUNDED,
    TerminationCondition.infeasibleOrUnbounded: Termination.INFEASIBLE_OR_UNBOUNDED,
    TerminationCondition.maxTimeLimit: Termination.FEASIBLE,
}


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

    def solve(self, time_limit: float | None, start: int) -> tuple[Termination, int | None]:
        kwargs: dict[str, Any] = {"load_solutions": False}
        if time_limit is not None:
            _set_time_limit(self._solver, self._solver_name, time_limit)
        res = self._solver.solve(self._m, **kwargs)
        cond = res.solver.termination_condition
        term = _CONDITIONS.get(cond, Termination.NUMERICAL_ERROR)
        if not term.has_solution:
            return term, None
        try:
            self._m.solutions.load_from(res)
        except Exception:
            return Termination.TIME_LIMIT_NO_SOLUTION, None
        x = np.array([pyo.value(self._m.x[j]) or 0.0 for j in self._m.C])
        return term, int(np.argmax(x))


def _available(solver: Any) -> bool:
    try:
        return bool(solver.available(exception_flag=False))
    except Exception:
        return False


def _set_time_limit(solver: Any, name: str, seconds: float) -> None:
    seconds = max(seconds, 1e-3)
    if name.startswith("appsi_"):
        solver.config.time_limit = seconds
    elif name in _TIME_LIMIT_OPTION:
        solver.options[_TIME_LIMIT_OPTION[name]] = seconds
