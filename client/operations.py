"""Every remote operation written once: build the request message, name the RPC, parse the
response into the solver's result type. The sync and asyncio clients supply ``_invoke``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeAlias

import numpy as np

from mechsolve import convert as cv
from mechsolve.solver.core import validation as v
from mechsolve.solver.games.normal_form import NormalFormGame
from mechsolve.solver.games.welfare import Welfare, WelfareKind
from mechsolve.solver.mediators.deterministic import MediatorKind
from mechsolve.v1 import mediators_pb2 as mpb

WelfareArg: TypeAlias = str | Welfare | WelfareKind


def _game_of(game: NormalFormGame | Any) -> NormalFormGame:
    return (
        game
        if isinstance(game, NormalFormGame)
        else NormalFormGame(np.asarray(game, dtype=np.float64))
    )


def _ints(argument: str, value: Any) -> Any:
    """Integers checked on the client: ``0.5`` or ``True`` is an error, not a silent cast."""
    return v.int_array("client", argument, value, allow_empty=True)


def _bools(argument: str, value: Any) -> Any:
    """Booleans (or 0/1) checked on the client: ``2`` is an error, not ``True``."""
    return v.bool_array("client", argument, value)


def _welfare_name(welfare: WelfareArg) -> str:
    if isinstance(welfare, Welfare):
        return welfare.name
    return welfare.value if isinstance(welfare, WelfareKind) else str(welfare)


class OperationsBase:
    """Base of the per-service operation mixins. The clients implement
    ``_invoke(rpc_name, request, parse, timeout)`` (the RPC name is unique across the
    mechsolve.v1 services): the sync client returns the parsed result, the asyncio client an
    awaitable of it."""

    def _invoke(
        self, rpc: str, request: Any, parse: Callable[[Any], Any], timeout: float | None
    ) -> Any:
        raise NotImplementedError


class MediatorOperations(OperationsBase):
    """``mechsolve.v1.MediatorService``: mediators on normal-form games."""

    # -- mediators ----------------------------------------------------------------------
    def mediate(
        self,
        game: NormalFormGame | Any,
        actions: Any,
        delegate: Any,
        *,
        mediator: str | MediatorKind = "pareto",
        welfare: WelfareArg = "utilitarian",
        method: str = "enumeration",
        solver: str | None = None,
        timeout: float | None = None,
    ) -> Any:
        """One profile (see :func:`mechsolve.solver.mediators.deterministic.mediate`) -> MediatorResult."""
        req = mpb.MediateRequest(
            game=cv.game_to_proto(_game_of(game)),
            actions=_ints("actions", actions).ravel().tolist(),
            delegate=_bools("delegate", delegate).ravel().tolist(),
            mediator=cv.mediator_to_proto(mediator),
            welfare=cv.welfare_to_proto(welfare),
            method=cv.method_to_proto(method),
            pyomo_solver=solver or "",
        )
        return self._invoke(
            "Mediate", req, lambda r: cv.mediator_result_from_proto(r.result), timeout
        )

    def pareto_mediator(self, game: Any, actions: Any, delegate: Any, **kw: Any) -> Any:
        """Pareto Mediator (seed 000 eq. 3) -> MediatorResult."""
        return self.mediate(game, actions, delegate, mediator="pareto", **kw)

    def punishing_mediator(self, game: Any, actions: Any, delegate: Any, **kw: Any) -> Any:
        """Punishing Mediator (seed 000 eqs. 1-2) -> MediatorResult."""
        return self.mediate(game, actions, delegate, mediator="punishing", **kw)

    def central_planner(
        self, game: Any, actions: Any = None, delegate: Any = None, **kw: Any
    ) -> Any:
        """Central planner -> MediatorResult (``actions`` default all zeros)."""
        g = _game_of(game)
        a = np.zeros(g.n_players, dtype=np.int64) if actions is None else actions
        d = np.ones(g.n_players, dtype=bool) if delegate is None else delegate
        return self.mediate(g, a, d, mediator="central_planner", **kw)

    def mediate_batch(
        self,
        game: NormalFormGame | Any,
        actions: Any,
        delegate: Any,
        *,
        mediator: str | MediatorKind = "pareto",
        welfare: WelfareArg = "utilitarian",
        method: str = "enumeration",
        solver: str | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Many profiles of one game, shape (m, n) -> BatchResult."""
        acts = _ints("actions", actions)
        dele = _bools("delegate", delegate)
        req = batch_request(game, acts, dele, mediator, welfare, method, solver)
        return self._invoke(
            "MediateBatch", req, lambda r: cv.batch_result_from_proto(r, acts, dele), timeout
        )

    def lottery_pareto_mediator(
        self,
        game: NormalFormGame | Any,
        actions: Any,
        delegate: Any,
        *,
        welfare: WelfareArg = "utilitarian",
        seed: int = 0,
        timeout: float | None = None,
    ) -> Any:
        """Lottery Pareto Mediator -> LotteryResult."""
        req = mpb.MediateLotteryRequest(
            game=cv.game_to_proto(_game_of(game)),
            actions=_ints("actions", actions).ravel().tolist(),
            delegate=_bools("delegate", delegate).ravel().tolist(),
            welfare=cv.welfare_to_proto(welfare),
            seed=seed,
        )
        return self._invoke("MediateLottery", req, cv.lottery_from_proto, timeout)

    # -- mediated games -----------------------------------------------------------------
    def mediated_game(
        self,
        game: NormalFormGame | Any,
        mediator: str | MediatorKind = "pareto",
        *,
        welfare: WelfareArg = "utilitarian",
        timeout: float | None = None,
    ) -> Any:
        """The mediated game -> MediatedGame."""
        g = _game_of(game)
        kind = MediatorKind(mediator.value if isinstance(mediator, MediatorKind) else mediator)
        req = mpb.BuildMediatedGameRequest(
            game=cv.game_to_proto(g),
            mediator=cv.mediator_to_proto(kind),
            welfare=cv.welfare_to_proto(welfare),
        )
        name = _welfare_name(welfare)
        return self._invoke(
            "BuildMediatedGame",
            req,
            lambda r: cv.mediated_game_from_proto(r, g, kind, name),
            timeout,
        )

    def summarize_mediation(
        self,
        game: NormalFormGame | Any,
        mediator: str | MediatorKind = "pareto",
        *,
        welfare: WelfareArg = "utilitarian",
        timeout: float | None = None,
    ) -> Any:
        """Equilibrium welfare of the original and mediated games -> MediationSummary."""
        req = mpb.AnalyzeMediationRequest(
            game=cv.game_to_proto(_game_of(game)),
            mediator=cv.mediator_to_proto(mediator),
            welfare=cv.welfare_to_proto(welfare),
        )
        return self._invoke("AnalyzeMediation", req, cv.summary_from_proto, timeout)

    def pure_nash_equilibria(
        self, game: NormalFormGame | Any, *, timeout: float | None = None
    ) -> Any:
        """All pure Nash equilibria -> array (e, n)."""
        req = mpb.FindPureEquilibriaRequest(game=cv.game_to_proto(_game_of(game)))
        return self._invoke(
            "FindPureEquilibria",
            req,
            lambda r: cv.tensor_to_numpy(r.equilibria, "equilibria", np.int64, "client"),
            timeout,
        )

    def strong_nash(
        self, game: NormalFormGame | Any, profile: Any, *, timeout: float | None = None
    ) -> Any:
        """Strong Nash check -> StrongNashResult."""
        prof = _ints("profile", profile).ravel().tolist()
        req = mpb.CheckStrongNashRequest(game=cv.game_to_proto(_game_of(game)), profile=prof)
        return self._invoke(
            "CheckStrongNash", req, lambda r: cv.strong_nash_from_proto(r, prof), timeout
        )

    def import_nfg(self, text: str, *, timeout: float | None = None) -> Any:
        """Parse Gambit .nfg text -> NormalFormGame."""
        req = mpb.ImportNfgRequest(nfg_text=text)
        return self._invoke(
            "ImportNfg", req, lambda r: cv.game_from_proto(r.game, "client"), timeout
        )

    def export_nfg(self, game: NormalFormGame | Any, *, timeout: float | None = None) -> Any:
        """A game as Gambit .nfg text -> str."""
        req = mpb.ExportNfgRequest(game=cv.game_to_proto(_game_of(game)))
        return self._invoke("ExportNfg", req, lambda r: str(r.nfg_text), timeout)


def batch_request(
    game: NormalFormGame | Any,
    actions: Any,
    delegate: Any,
    mediator: str | MediatorKind,
    welfare: WelfareArg,
    method: str,
    solver: str | None,
) -> mpb.MediateBatchRequest:
    """The MediateBatch request message (also the body of each StreamMediateBatch message)."""
    return mpb.MediateBatchRequest(
        game=cv.game_to_proto(_game_of(game)),
        actions=cv.int_tensor(_ints("actions", actions)),
        delegate=cv.bool_tensor(_bools("delegate", delegate)),
        mediator=cv.mediator_to_proto(mediator),
        welfare=cv.welfare_to_proto(welfare),
        method=cv.method_to_proto(method),
        pyomo_solver=solver or "",
    )
