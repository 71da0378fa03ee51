"""The mechsolve API in-process: the same methods as :class:`~.grpc_client.MechsolveClient`,
calling the solver directly, so a simulation runs with or without a server."""

from __future__ import annotations

from typing import Any

from mechsolve.solver.core.limits import Limits
from mechsolve.solver.games.nfg import dumps_nfg, loads_nfg
from mechsolve.solver.mediators import mediated_games as mgm
from mechsolve.solver.mediators.deterministic import mediate, mediate_batch
from mechsolve.solver.mediators.lottery import lottery_pareto_mediator

from .local_auctions import LocalAuctions
from .local_structured import LocalStructured


class LocalMediators:
    """``MediatorService`` in-process (``self.limits``; ``timeout`` is the solver's time limit)."""

    limits: Limits | None

    def mediate(
        self, game: Any, actions: Any, delegate: Any, *, timeout: float | None = None, **kw: Any
    ) -> Any:
        return mediate(game, actions, delegate, time_limit=timeout, limits=self.limits, **kw)

    def pareto_mediator(self, game: Any, actions: Any, delegate: Any, **kw: Any) -> Any:
        return self.mediate(game, actions, delegate, mediator="pareto", **kw)

    def punishing_mediator(self, game: Any, actions: Any, delegate: Any, **kw: Any) -> Any:
        return self.mediate(game, actions, delegate, mediator="punishing", **kw)

    def central_planner(
        self, game: Any, actions: Any = None, delegate: Any = None, **kw: Any
    ) -> Any:
        from mechsolve.solver.mediators.deterministic import central_planner

        timeout = kw.pop("timeout", None)
        return central_planner(
            game, actions, delegate, time_limit=timeout, limits=self.limits, **kw
        )

    def mediate_batch(
        self, game: Any, actions: Any, delegate: Any, *, timeout: float | None = None, **kw: Any
    ) -> Any:
        return mediate_batch(game, actions, delegate, time_limit=timeout, limits=self.limits, **kw)

    def lottery_pareto_mediator(
        self, game: Any, actions: Any, delegate: Any, *, timeout: float | None = None, **kw: Any
    ) -> Any:
        return lottery_pareto_mediator(
            game, actions, delegate, time_limit=timeout, limits=self.limits, **kw
        )

    def mediated_game(
        self, game: Any, mediator: str = "pareto", *, timeout: float | None = None, **kw: Any
    ) -> Any:
        return mgm.mediated_game(game, mediator, limits=self.limits, **kw)

    def summarize_mediation(
        self, game: Any, mediator: str = "pareto", *, timeout: float | None = None, **kw: Any
    ) -> Any:
        return mgm.summarize_mediation(game, mediator, limits=self.limits, **kw)

    def pure_nash_equilibria(self, game: Any, *, timeout: float | None = None) -> Any:
        return mgm.pure_nash_equilibria(game)

    def strong_nash(self, game: Any, profile: Any, *, timeout: float | None = None) -> Any:
        return mgm.strong_nash(game, profile)

    def import_nfg(self, text: str, *, timeout: float | None = None) -> Any:
        return loads_nfg(text, limits=self.limits)

    def export_nfg(self, game: Any, *, timeout: float | None = None) -> Any:
        return dumps_nfg(game)


class LocalMechsolve(LocalMediators, LocalStructured, LocalAuctions):
    """In-process implementation of every mechsolve.v1 service (one mixin per service)."""

    def __init__(self, *, limits: Limits | None = None) -> None:
        self.limits = limits

    def close(self) -> None:
        """Nothing to release (for symmetry with the remote clients)."""

    def __enter__(self) -> LocalMechsolve:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
