"""``mechsolve.v1.MediatorService``: mediators on normal-form games (seed 000, SPEC 2)."""

from __future__ import annotations

from typing import Any

from mechsolve.solver import mediators as md
from mechsolve.solver.games import dumps_nfg, loads_nfg, random_game, seed000_prisoners_dilemma
from mechsolve.v1 import mediators_pb2 as pb

from .declare import Alias, Rpc, Stream, Vectorized

_GAME = random_game([3, 4, 3], seed=11)
_FAST = (pb.MEDIATOR_METHOD_UNSPECIFIED, pb.MEDIATOR_METHOD_ENUMERATION)


def _enumeration(request: Any) -> bool:
    """Enumeration is vectorized numpy: small requests answer well under a millisecond."""
    return bool(request.method in _FAST)


MAX_INLINE_PLAYERS = 8
"""A strong-Nash check visits up to ``2^n`` coalitions: inline (a few ms) up to this many
players, in a solve worker beyond."""


def _few_coalitions(request: Any) -> bool:
    return len(request.game.payoffs.shape) - 1 <= MAX_INLINE_PLAYERS


def _profiles() -> dict[str, Any]:
    return {
        "game": _GAME,
        "actions": [[1, 2, 0], [0, 0, 1], [2, 3, 2]],
        "delegate": [[1, 1, 0], [1, 1, 1], [0, 1, 1]],
        "welfare": "egalitarian",
    }


MEDIATE_BATCH = Rpc(
    md.mediate_batch,
    pb.MediateBatchRequest,
    inline=_enumeration,
    example=_profiles,
)

RPCS = (
    Rpc(
        md.mediate,
        pb.MediateRequest,
        aliases=(
            Alias(md.pareto_mediator, {"mediator": "pareto"}),
            Alias(md.punishing_mediator, {"mediator": "punishing"}),
        ),
        inline=_enumeration,
        vectorized=Vectorized(
            MEDIATE_BATCH, ("actions", "delegate"), lambda batch, i: batch.profile(i)
        ),
        example=lambda: {
            "game": _GAME,
            "actions": [1, 2, 0],
            "delegate": [1, 1, 0],
            "method": "milp",
        },
    ),
    MEDIATE_BATCH,
    Stream(
        md.stream_mediate_batch,
        MEDIATE_BATCH,
        pb.StreamMediateBatchRequest,
        per_message=("actions", "delegate"),
        example=lambda: {
            "game": _GAME,
            "batches": [
                ([[1, 2, 0]], [[1, 1, 0]]),
                ([[0, 1, 2], [2, 3, 1]], [[1, 1, 1], [0, 1, 1]]),
            ],
            "mediator": "punishing",
        },
    ),
    Rpc(
        md.lottery_pareto_mediator,
        pb.MediateLotteryRequest,
        example=lambda: {
            "game": _GAME,
            "actions": [1, 2, 0],
            "delegate": [1, 1, 1],
            "welfare": "nash",
            "seed": 3,
        },
    ),
    Rpc(
        md.mediated_game,
        pb.BuildMediatedGameRequest,
        example=lambda: {"game": seed000_prisoners_dilemma(), "mediator": "punishing"},
    ),
    Rpc(
        md.summarize_mediation,
        pb.AnalyzeMediationRequest,
        example=lambda: {"game": seed000_prisoners_dilemma()},
    ),
    Rpc(
        md.pure_nash_equilibria,
        pb.FindPureEquilibriaRequest,
        inline=lambda request: True,
        example=lambda: {"game": seed000_prisoners_dilemma()},
    ),
    Rpc(
        md.strong_nash,
        pb.CheckStrongNashRequest,
        inline=_few_coalitions,
        example=lambda: {"game": seed000_prisoners_dilemma(), "profile": [1, 1]},
    ),
    Rpc(
        loads_nfg,
        pb.ImportNfgRequest,
        inline=lambda request: True,
        errors="text",
        example=lambda: {"text": dumps_nfg(seed000_prisoners_dilemma())},
    ),
    Rpc(
        dumps_nfg,
        pb.ExportNfgRequest,
        inline=lambda request: True,
        example=lambda: {"game": seed000_prisoners_dilemma()},
    ),
)
