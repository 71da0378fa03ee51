"""``AuctionService`` in-process: the auction LPs, audits and evaluations with the same methods as
:class:`~.auction_ops.AuctionOperations`, calling :mod:`mechsolve.solver.auctions` directly."""

from __future__ import annotations

from typing import Any

from mechsolve.solver import auctions as au
from mechsolve.solver.core.limits import Limits


class LocalAuctions:
    """Auction LPs and audits in-process (``self.limits``; ``timeout`` is the solver's time
    limit, per budget for :meth:`regret_budget_curve` as in the solver)."""

    limits: Limits | None

    # -- solves -------------------------------------------------------------------------
    def optimal_menu(self, prior: Any, *, timeout: float | None = None, **kw: Any) -> Any:
        return au.optimal_menu(prior, limits=self.limits, time_limit=timeout, **kw)

    def optimal_auction(
        self, priors: Any, n_bidders: int | None = None, *, timeout: float | None = None, **kw: Any
    ) -> Any:
        return au.optimal_auction(priors, n_bidders, limits=self.limits, time_limit=timeout, **kw)

    def optimal_dsic_auction(
        self, priors: Any, n_bidders: int | None = None, *, timeout: float | None = None, **kw: Any
    ) -> Any:
        return au.optimal_dsic_auction(
            priors, n_bidders, limits=self.limits, time_limit=timeout, **kw
        )

    def optimal_bic_auction(
        self, priors: Any, n_bidders: int | None = None, *, timeout: float | None = None, **kw: Any
    ) -> Any:
        return au.optimal_bic_auction(
            priors, n_bidders, limits=self.limits, time_limit=timeout, **kw
        )

    def regret_budget_auction(
        self, priors: Any, n_bidders: int | None = None, *, timeout: float | None = None, **kw: Any
    ) -> Any:
        return au.regret_budget_auction(
            priors, n_bidders, limits=self.limits, time_limit=timeout, **kw
        )

    def regret_budget_curve(
        self, priors: Any, n_bidders: int | None = None, *, timeout: float | None = None, **kw: Any
    ) -> Any:
        return au.regret_budget_curve(
            priors, n_bidders, limits=self.limits, time_limit=timeout, **kw
        )

    def extrapolate_optimum(
        self,
        n_items: int,
        n_bidders: int = 1,
        grids: tuple[int, int] = (20, 40),
        *,
        timeout: float | None = None,
        **kw: Any,
    ) -> Any:
        return au.extrapolate_optimum(
            n_items, n_bidders, grids, limits=self.limits, time_limit=timeout, **kw
        )

    # -- audits and evaluations ---------------------------------------------------------
    def audit_mechanism(
        self,
        allocation: Any,
        payment: Any,
        priors: Any,
        *,
        timeout: float | None = None,
        **kw: Any,
    ) -> Any:
        return au.audit_mechanism(allocation, payment, priors, limits=self.limits, **kw)

    def audit_result(self, result: Any, *, timeout: float | None = None, **kw: Any) -> Any:
        return au.audit_result(result, **kw)

    def continuous_menu_revenue(self, menu: Any, *, timeout: float | None = None, **kw: Any) -> Any:
        return au.continuous_menu_revenue(menu, **kw)

    def sampled_menu_revenue(self, menu: Any, samples: Any, *, timeout: float | None = None) -> Any:
        return au.sampled_menu_revenue(menu, samples)

    def rounded_evaluation(self, result: Any, *, timeout: float | None = None, **kw: Any) -> Any:
        return au.rounded_evaluation(result, **kw)
