"""Incentive design and mediated equilibria as LPs (issue 13; seed 001 chapter 4, seed 004;
docs/incentives.md): the cheapest additional payments that implement a target profile
(k-implementation) and welfare-optimal mediated equilibria, explicit and anonymous."""

if __name__ != "mechsolve.solver.incentives":  # pragma: no cover - the guard itself
    raise ImportError(
        f"import mechsolve.solver.incentives, not {__name__!r} (one copy of its types)"
    )


from .implementation import IncentiveResult, cheapest_incentives
from .mediated import (
    AnonymousMediatedResult,
    MediatedEquilibriumResult,
    anonymous_mediated_equilibrium,
    mediated_equilibrium,
)
from .symmetric import SymmetricGame, seed004_multiplier, symmetric_public_goods_game

__all__ = [
    "AnonymousMediatedResult",
    "IncentiveResult",
    "MediatedEquilibriumResult",
    "SymmetricGame",
    "anonymous_mediated_equilibrium",
    "cheapest_incentives",
    "mediated_equilibrium",
    "seed004_multiplier",
    "symmetric_public_goods_game",
]
