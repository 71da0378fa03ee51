"""``mechsolve.v1.IncentiveService``: incentive design as optimization (docs/incentives.md):
the cheapest payments implementing a target profile (seed 001 chapter 4's planning agent, done
exactly) and welfare-optimal mediated equilibria (seed 004's Public Goods Game)."""

from __future__ import annotations

from mechsolve.solver import incentives as inc
from mechsolve.solver.games.normal_form import prisoners_dilemma, public_goods_game
from mechsolve.v1 import incentives_pb2 as pb

from .declare import Rpc

RPCS = (
    Rpc(
        inc.cheapest_incentives,
        pb.CheapestIncentivesRequest,
        example=lambda: {"game": prisoners_dilemma(), "target": [0, 0], "margin": 0.1},
    ),
    Rpc(
        inc.mediated_equilibrium,
        pb.MediatedEquilibriumRequest,
        example=lambda: {"game": public_goods_game(3), "ic": True, "e": True},
    ),
    Rpc(
        inc.anonymous_mediated_equilibrium,
        pb.AnonymousMediatedEquilibriumRequest,
        example=lambda: {"game": inc.symmetric_public_goods_game(25), "e": True},
    ),
)
