"""Mediators on normal-form games (seed 000, SPEC 2): Pareto, Punishing, central planner, the
lottery Pareto Mediator, mediated games and their equilibria."""

if __name__ != "mechsolve.solver.mediators":  # pragma: no cover - the guard itself
    raise ImportError(
        f"import mechsolve.solver.mediators, not {__name__!r} (one copy of its types)"
    )


from .deterministic import (
    BatchResult,
    MediatorKind,
    MediatorResult,
    central_planner,
    mediate,
    mediate_batch,
    mediator_problem,
    pareto_mediator,
    punishing_mediator,
    stream_mediate_batch,
    write_mediator_model,
)
from .lottery import LotteryResult, lottery_pareto_mediator
from .mediated_games import (
    MediatedGame,
    MediationSummary,
    StrongNashResult,
    delegation_dominance,
    equilibrium_welfare,
    mediated_game,
    pure_nash_equilibria,
    strong_nash,
    summarize_mediation,
)

__all__ = [
    "BatchResult",
    "LotteryResult",
    "MediatedGame",
    "MediationSummary",
    "MediatorKind",
    "MediatorResult",
    "StrongNashResult",
    "central_planner",
    "delegation_dominance",
    "equilibrium_welfare",
    "lottery_pareto_mediator",
    "mediate",
    "mediate_batch",
    "mediated_game",
    "mediator_problem",
    "pareto_mediator",
    "punishing_mediator",
    "pure_nash_equilibria",
    "stream_mediate_batch",
    "strong_nash",
    "summarize_mediation",
    "write_mediator_model",
]
