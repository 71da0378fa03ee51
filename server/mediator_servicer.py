"""``mechsolve.v1.MediatorService``: converts requests, delegates to the solver, converts back."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import grpc
import numpy as np

from mechsolve import convert as cv
from mechsolve.solver.core.errors import MechsolveInputError
from mechsolve.solver.games.nfg import dumps_nfg, loads_nfg
from mechsolve.solver.games.welfare import make_welfare
from mechsolve.solver.mediators import mediated_games as mgm
from mechsolve.solver.mediators.deterministic import mediate, mediate_batch
from mechsolve.solver.mediators.lottery import lottery_pareto_mediator
from mechsolve.v1 import mediators_pb2 as mpb
from mechsolve.v1 import mediators_pb2_grpc as mgrpc

from .config import ServerConfig
from .status import CallBudget, small, streaming, unary

# Solver argument -> request field (error field paths).
FIELDS = {
    "game": "game.payoffs",
    "candidates": "game.payoffs",
    "mediated": "game.payoffs",
    "welfare": "welfare.function",
    "weights": "welfare.weights",
    "disagreement": "welfare.disagreement",
    "beta": "welfare.beta",
    "solver": "pyomo_solver",
    "time_limit": "deadline",
    "text": "nfg_text",
    "payoffs": "nfg_text",
}


class GameCache:
    """Validated games by their serialized message: simulations send the same game every
    round, so each distinct game is parsed and validated once (LRU, small games only)."""

    MAX_ENTRIES = 256
    MAX_BYTES = 1 << 20

    def __init__(self, limits: Any) -> None:
        self._limits = limits
        self._games: OrderedDict[bytes, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, fn: str, msg: Any) -> Any:
        if msg.ByteSize() > self.MAX_BYTES:
            return cv.game_from_proto(msg, fn, limits=self._limits)
        key = msg.SerializeToString(deterministic=True)
        with self._lock:
            game = self._games.get(key)
            if game is not None:
                self._games.move_to_end(key)
                return game
        game = cv.game_from_proto(msg, fn, limits=self._limits)  # raises on bad input
        with self._lock:
            self._games[key] = game
            if len(self._games) > self.MAX_ENTRIES:
                self._games.popitem(last=False)
        return game


def _small_enumeration(request: Any) -> bool:
    """Small enumeration requests run inline on the event loop (well under a millisecond)."""
    body = getattr(request, "batch", request)
    return body.method in (mpb.METHOD_UNSPECIFIED, mpb.METHOD_ENUMERATION) and small(request)


class MediatorServicer(mgrpc.MediatorServiceServicer):
    """Every method: request -> solver call (with the server's limits and the call's time
    limit) -> response."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self._games = GameCache(config.limits)

    # -- helpers ------------------------------------------------------------------------
    def _game(self, fn: str, msg: Any) -> Any:
        return self._games.get(fn, msg)

    def _welfare(self, fn: str, msg: Any, n_players: int) -> Any:
        return make_welfare(fn, n_players=n_players, **cv.welfare_from_proto(fn, msg))

    def _batch(self, req: mpb.MediateBatchRequest, b: CallBudget) -> mpb.MediateBatchResponse:
        fn = "MediateBatch"
        game = self._game(fn, req.game)
        for name in ("actions", "delegate"):
            if not req.HasField(name):
                raise MechsolveInputError(fn, name, "is required (a tensor of shape (m, n))")
        acts = cv.tensor_to_numpy(req.actions, "actions", np.int64, fn)
        dele = cv.tensor_to_numpy(req.delegate, "delegate", bool, fn)
        res = mediate_batch(
            game,
            acts,
            dele,
            mediator=cv.mediator_from_proto(fn, req.mediator),
            welfare=self._welfare(fn, req.welfare, game.n_players),
            method=cv.method_from_proto(fn, req.method),
            solver=req.pyomo_solver or None,
            time_limit=b.time_limit,
            limits=self.config.limits,
            _function=fn,
        )
        return cv.batch_result_to_proto(res)

    # -- RPCs ---------------------------------------------------------------------------
    @unary(FIELDS, inline=_small_enumeration)
    def Mediate(
        self, request: mpb.MediateRequest, context: grpc.ServicerContext, b: CallBudget
    ) -> mpb.MediateResponse:
        fn = "Mediate"
        game = self._game(fn, request.game)
        res = mediate(
            game,
            list(request.actions),
            list(request.delegate),
            mediator=cv.mediator_from_proto(fn, request.mediator),
            welfare=self._welfare(fn, request.welfare, game.n_players),
            method=cv.method_from_proto(fn, request.method),
            solver=request.pyomo_solver or None,
            time_limit=b.time_limit,
            limits=self.config.limits,
            _function=fn,
        )
        return mpb.MediateResponse(result=cv.mediator_result_to_proto(res))

    @unary(FIELDS, inline=_small_enumeration)
    def MediateBatch(
        self, request: mpb.MediateBatchRequest, context: grpc.ServicerContext, b: CallBudget
    ) -> mpb.MediateBatchResponse:
        return self._batch(request, b)

    @streaming(FIELDS, inline=_small_enumeration)
    def StreamMediateBatch(
        self, request: mpb.StreamMediateBatchRequest, context: Any, b: CallBudget
    ) -> mpb.StreamMediateBatchResponse:
        return mpb.StreamMediateBatchResponse(batch=self._batch(request.batch, b))

    @unary(FIELDS)
    def MediateLottery(
        self, request: mpb.MediateLotteryRequest, context: grpc.ServicerContext, b: CallBudget
    ) -> mpb.MediateLotteryResponse:
        fn = "MediateLottery"
        game = self._game(fn, request.game)
        res = lottery_pareto_mediator(
            game,
            list(request.actions),
            list(request.delegate),
            welfare=self._welfare(fn, request.welfare, game.n_players),
            seed=int(request.seed),
            time_limit=b.time_limit,
            limits=self.config.limits,
        )
        return cv.lottery_to_proto(res)

    @unary(FIELDS)
    def BuildMediatedGame(
        self, request: mpb.BuildMediatedGameRequest, context: grpc.ServicerContext, b: CallBudget
    ) -> mpb.BuildMediatedGameResponse:
        fn = "BuildMediatedGame"
        game = self._game(fn, request.game)
        mg = mgm.mediated_game(
            game,
            cv.mediator_from_proto(fn, request.mediator),
            welfare=self._welfare(fn, request.welfare, game.n_players),
            limits=self.config.limits,
        )
        return cv.mediated_game_to_proto(mg)

    @unary(FIELDS)
    def AnalyzeMediation(
        self, request: mpb.AnalyzeMediationRequest, context: grpc.ServicerContext, b: CallBudget
    ) -> mpb.AnalyzeMediationResponse:
        fn = "AnalyzeMediation"
        game = self._game(fn, request.game)
        summary = mgm.summarize_mediation(
            game,
            cv.mediator_from_proto(fn, request.mediator),
            welfare=self._welfare(fn, request.welfare, game.n_players),
            limits=self.config.limits,
        )
        return cv.summary_to_proto(summary)

    @unary(FIELDS, inline=small)
    def FindPureEquilibria(
        self, request: mpb.FindPureEquilibriaRequest, context: grpc.ServicerContext, b: CallBudget
    ) -> mpb.FindPureEquilibriaResponse:
        game = self._game("FindPureEquilibria", request.game)
        return mpb.FindPureEquilibriaResponse(
            equilibria=cv.int_tensor(mgm.pure_nash_equilibria(game))
        )

    @unary(FIELDS, inline=small)
    def CheckStrongNash(
        self, request: mpb.CheckStrongNashRequest, context: grpc.ServicerContext, b: CallBudget
    ) -> mpb.CheckStrongNashResponse:
        game = self._game("CheckStrongNash", request.game)
        return cv.strong_nash_to_proto(mgm.strong_nash(game, list(request.profile)))

    @unary(FIELDS, inline=small)
    def ImportNfg(
        self, request: mpb.ImportNfgRequest, context: grpc.ServicerContext, b: CallBudget
    ) -> mpb.ImportNfgResponse:
        game = loads_nfg(request.nfg_text, limits=self.config.limits)
        return mpb.ImportNfgResponse(game=cv.game_to_proto(game))

    @unary(FIELDS, inline=small)
    def ExportNfg(
        self, request: mpb.ExportNfgRequest, context: grpc.ServicerContext, b: CallBudget
    ) -> mpb.ExportNfgResponse:
        game = self._game("ExportNfg", request.game)
        return mpb.ExportNfgResponse(nfg_text=dumps_nfg(game))
