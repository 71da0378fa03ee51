"""Equilibria and bargaining as optimization (seeds 000 section 2.2, 002, 003;
docs/equilibria.md): correlated and coarse correlated equilibria (LPs), welfare-optimal Nash
equilibria of bimatrix games (MILP), minimax, Stackelberg commitments and sequential leaders,
leader selection, welfare optima and normalized scores."""

if __name__ != "mechsolve.solver.equilibria":  # pragma: no cover - the guard itself
    raise ImportError(
        f"import mechsolve.solver.equilibria, not {__name__!r} (one copy of its types)"
    )


from .bargaining import ScoreResult, WelfareOptimum, normalized_score, welfare_optimum
from .correlated import CorrelatedResult, GapResult, correlated_equilibrium, equilibrium_gap
from .nash import (
    MinimaxResult,
    NashResult,
    minimax,
    nash_equilibrium_with_value,
    optimal_nash_equilibrium,
)
from .stackelberg import (
    LeaderSelectionResult,
    SequentialResult,
    StackelbergResult,
    select_leader,
    sequential_stackelberg,
    strong_stackelberg,
)

__all__ = [
    "CorrelatedResult",
    "GapResult",
    "LeaderSelectionResult",
    "MinimaxResult",
    "NashResult",
    "ScoreResult",
    "SequentialResult",
    "StackelbergResult",
    "WelfareOptimum",
    "correlated_equilibrium",
    "equilibrium_gap",
    "minimax",
    "nash_equilibrium_with_value",
    "normalized_score",
    "optimal_nash_equilibrium",
    "select_leader",
    "sequential_stackelberg",
    "strong_stackelberg",
    "welfare_optimum",
]
