"""``mechsolve.v1.EquilibriumService``: equilibria and bargaining as optimization
(docs/equilibria.md): correlated equilibria, welfare-optimal Nash equilibria, minimax,
Stackelberg, leader selection, welfare optima and normalized scores."""

from __future__ import annotations

import numpy as np

from mechsolve.solver import equilibria as eq
from mechsolve.solver.games import asymmetric_bos, chicken, random_game
from mechsolve.solver.games.welfare import Welfare, WelfareKind
from mechsolve.v1 import equilibria_pb2 as pb

from .declare import Rpc

_GAME = random_game([3, 3, 2], seed=5)
_BIMATRIX = random_game([3, 4], seed=7)
RPCS = (
    Rpc(
        eq.correlated_equilibrium,
        pb.CorrelatedEquilibriumRequest,
        example=lambda: {"game": _GAME, "kind": "ce", "welfare": "egalitarian"},
    ),
    Rpc(
        eq.equilibrium_gap,
        pb.EquilibriumGapRequest,
        example=lambda: {
            "game": _GAME,
            "distribution": np.full(_GAME.num_actions, 1.0 / _GAME.n_outcomes),
            "kind": "cce",
        },
    ),
    Rpc(
        eq.optimal_nash_equilibrium,
        pb.OptimalNashEquilibriumRequest,
        example=lambda: {"game": _BIMATRIX, "objective": "player", "player": 1, "sense": "min"},
    ),
    Rpc(
        eq.nash_equilibrium_with_value,
        pb.NashEquilibriumWithValueRequest,
        example=lambda: {"game": _BIMATRIX, "player": 0, "at_least": 0.5},
    ),
    Rpc(
        eq.minimax,
        pb.MinimaxRequest,
        example=lambda: {"game": _BIMATRIX},
    ),
    Rpc(
        eq.strong_stackelberg,
        pb.StrongStackelbergRequest,
        example=lambda: {"game": _BIMATRIX, "leader": 1},
    ),
    Rpc(
        eq.sequential_stackelberg,
        pb.SequentialStackelbergRequest,
        example=lambda: {"game": _GAME, "order": [2, 0, 1]},
    ),
    Rpc(
        eq.select_leader,
        pb.SelectLeaderRequest,
        example=lambda: {"game": chicken(), "welfare": "egalitarian", "orders": "leader"},
    ),
    Rpc(
        eq.welfare_optimum,
        pb.WelfareOptimumRequest,
        example=lambda: {"game": asymmetric_bos(), "welfare": "nash", "lottery": True},
    ),
    Rpc(
        eq.normalized_score,
        pb.NormalizedScoreRequest,
        example=lambda: {
            "game": asymmetric_bos(),
            "utilities": [2.0, 2.0],
            "disagreement_utilities": [0.0, 0.0],
            "welfare_functions": [
                "utilitarian",
                Welfare(WelfareKind.INEQUITY_AVERSE, beta=0.5),
            ],
        },
    ),
)
