"""Remote operations of ``mechsolve.v1.AuctionService``: revenue-maximizing auction LPs, exact
incentive audits and evaluations (:mod:`mechsolve.solver.auctions`; docs/auctions.md).

Same names and arguments as the solver functions (plus ``timeout``); priors are
:class:`~mechsolve.solver.auctions.priors.TypePrior` objects, tables are numpy arrays, and each
method returns the solver's own result dataclass (``MenuResult``, ``AuctionResult``,
``InterimAuctionResult``, ``AuditReport``, ...) with the caller's priors in it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mechsolve import convert as cv
from mechsolve import convert_auctions as ca
from mechsolve.solver.auctions.arguments import bidder_priors, flag
from mechsolve.solver.auctions.audit import result_tables
from mechsolve.solver.auctions.priors import TypePrior
from mechsolve.solver.auctions.regret_budget import DEFAULT_EPSILONS
from mechsolve.solver.auctions.results import AuctionResult, Menu, MenuResult
from mechsolve.solver.core import validation as v
from mechsolve.solver.core.errors import MechsolveInputError
from mechsolve.v1 import auctions_pb2 as apb

from .operations import OperationsBase

_FN = "client"


def _bidders(priors: Any, n_bidders: Any) -> tuple[tuple[TypePrior, ...], list[apb.Prior]]:
    """The bidders' priors as the solver sees them, and their messages (one when shared)."""
    ps = bidder_priors(_FN, priors, n_bidders)
    return ps, ca.priors_to_proto(ps)


def _one_prior(prior: Any) -> TypePrior:
    if not isinstance(prior, TypePrior):
        raise MechsolveInputError(_FN, "prior", f"must be a TypePrior; got {type(prior).__name__}")
    return prior


def _table(argument: str, value: Any) -> Any:
    """A finite float table as a tensor (shapes are the server's to check)."""
    return cv.tensor(v.float_array(_FN, argument, value, allow_empty=True))


def _menu(menu: Any) -> Menu:
    if isinstance(menu, MenuResult):
        return menu.menu(decimals=12)
    if not isinstance(menu, Menu):
        raise MechsolveInputError(
            _FN, "menu", f"must be a Menu or MenuResult; got {type(menu).__name__}"
        )
    return menu


class AuctionOperations(OperationsBase):
    """``mechsolve.v1.AuctionService``: optimal menus, DSIC and BIC auctions, revenue at a
    regret budget, audits, continuous-prior evaluation and extrapolation."""

    # -- solves -------------------------------------------------------------------------
    def optimal_menu(
        self,
        prior: TypePrior,
        *,
        unit_demand: bool = False,
        constraints: str = "generation",
        symmetry: bool = True,
        timeout: float | None = None,
    ) -> Any:
        """The revenue-optimal menu for one bidder -> MenuResult."""
        p = _one_prior(prior)
        req = apb.OptimalMenuRequest(
            prior=ca.prior_to_proto(p),
            unit_demand=flag(_FN, "unit_demand", unit_demand),
            constraints=ca.constraints_to_proto(constraints),
            symmetry=flag(_FN, "symmetry", symmetry),
        )
        return self._invoke(
            "OptimalMenu", req, lambda r: ca.menu_from_proto(r.mechanism, p), timeout
        )

    def optimal_auction(
        self,
        priors: Any,
        n_bidders: int | None = None,
        *,
        incentive: str = "dsic",
        unit_demand: bool = False,
        constraints: str = "generation",
        symmetry: bool = True,
        timeout: float | None = None,
    ) -> Any:
        """The revenue-optimal DSIC (-> AuctionResult) or BIC (-> InterimAuctionResult)
        auction; ``priors`` is one prior shared by ``n_bidders`` bidders or one per bidder."""
        ps, msgs = _bidders(priors, n_bidders)
        req = apb.OptimalAuctionRequest(
            priors=msgs,
            n_bidders=len(ps),
            incentive=ca.auction_incentive_to_proto(incentive),
            unit_demand=flag(_FN, "unit_demand", unit_demand),
            constraints=ca.constraints_to_proto(constraints),
            symmetry=flag(_FN, "symmetry", symmetry),
        )
        return self._invoke("OptimalAuction", req, lambda r: ca.auction_from_proto(r, ps), timeout)

    def optimal_dsic_auction(self, priors: Any, n_bidders: int | None = None, **kw: Any) -> Any:
        """:meth:`optimal_auction` with ``incentive="dsic"`` -> AuctionResult."""
        return self.optimal_auction(priors, n_bidders, incentive="dsic", **kw)

    def optimal_bic_auction(self, priors: Any, n_bidders: int | None = None, **kw: Any) -> Any:
        """:meth:`optimal_auction` with ``incentive="bic"`` -> InterimAuctionResult."""
        return self.optimal_auction(priors, n_bidders, incentive="bic", **kw)

    def regret_budget_auction(
        self,
        priors: Any,
        n_bidders: int | None = None,
        *,
        epsilon: float,
        unit_demand: bool = False,
        constraints: str = "generation",
        symmetry: bool = True,
        timeout: float | None = None,
    ) -> Any:
        """Revenue-maximizing ex-post IR mechanism with mean ex-post regret <= ``epsilon``
        -> AuctionResult."""
        ps, msgs = _bidders(priors, n_bidders)
        req = apb.RegretBudgetAuctionRequest(
            priors=msgs,
            n_bidders=len(ps),
            epsilon=v.real(_FN, "epsilon", epsilon),
            unit_demand=flag(_FN, "unit_demand", unit_demand),
            constraints=ca.constraints_to_proto(constraints),
            symmetry=flag(_FN, "symmetry", symmetry),
        )
        return self._invoke(
            "RegretBudgetAuction",
            req,
            lambda r: ca.ex_post_from_proto(r.mechanism, ps),
            timeout,
        )

    def regret_budget_curve(
        self,
        priors: Any,
        n_bidders: int | None = None,
        *,
        epsilons: Sequence[float] = DEFAULT_EPSILONS,
        unit_demand: bool = False,
        symmetry: bool = True,
        timeout: float | None = None,
    ) -> Any:
        """:meth:`regret_budget_auction` at every budget, in one call whose ``timeout`` the
        solves share -> tuple of AuctionResult."""
        ps, msgs = _bidders(priors, n_bidders)
        eps = v.float_array(_FN, "epsilons", epsilons, ndim=1)
        req = apb.RegretBudgetCurveRequest(
            priors=msgs,
            n_bidders=len(ps),
            epsilons=eps.tolist(),
            unit_demand=flag(_FN, "unit_demand", unit_demand),
            symmetry=flag(_FN, "symmetry", symmetry),
        )
        return self._invoke(
            "RegretBudgetCurve",
            req,
            lambda r: tuple(ca.ex_post_from_proto(m, ps) for m in r.mechanisms),
            timeout,
        )

    def extrapolate_optimum(
        self,
        n_items: int,
        n_bidders: int = 1,
        grids: tuple[int, int] = (20, 40),
        *,
        points: str = "midpoint",
        lo: float = 0.0,
        hi: float = 1.0,
        unit_demand: bool = False,
        timeout: float | None = None,
    ) -> Any:
        """Richardson extrapolation of the continuous optimum from two grids -> Extrapolation."""
        if not isinstance(grids, tuple | list) or len(grids) != 2:
            raise MechsolveInputError(
                _FN, "grids", f"must be two grid sizes (K1, K2); got {grids!r}"
            )
        req = apb.ExtrapolateOptimumRequest(
            n_items=v.positive_int(_FN, "n_items", n_items),
            n_bidders=v.positive_int(_FN, "n_bidders", n_bidders),
            grids=[v.positive_int(_FN, f"grids[{i}]", k) for i, k in enumerate(grids)],
            points=ca.points_to_proto(points),
            lo=v.real(_FN, "lo", lo),
            hi=v.real(_FN, "hi", hi),
            unit_demand=flag(_FN, "unit_demand", unit_demand),
        )
        return self._invoke(
            "ExtrapolateOptimum",
            req,
            lambda r: ca.extrapolation_from_proto(r.extrapolation),
            timeout,
        )

    # -- audits and evaluations ---------------------------------------------------------
    def audit_mechanism(
        self,
        allocation: Any,
        payment: Any,
        priors: Any,
        *,
        unit_demand: bool = False,
        tolerance: float = 1e-9,
        timeout: float | None = None,
    ) -> Any:
        """Exact audit of tables ``allocation (T_1..T_n, n, m)``, ``payment (T_1..T_n, n)`` on
        ``priors`` (one shared TypePrior or one per bidder) -> AuditReport."""
        if isinstance(priors, TypePrior):
            msgs = [ca.prior_to_proto(priors)]
        else:
            msgs = ca.priors_to_proto(bidder_priors(_FN, priors, None), merge=False)
        req = apb.AuditMechanismRequest(
            allocation=_table("allocation", allocation),
            payment=_table("payment", payment),
            priors=msgs,
            unit_demand=flag(_FN, "unit_demand", unit_demand),
            tolerance=v.real(_FN, "tolerance", tolerance),
        )
        return self._invoke("AuditMechanism", req, lambda r: ca.audit_from_proto(r.report), timeout)

    def audit_result(
        self,
        result: AuctionResult | MenuResult,
        *,
        tolerance: float = 1e-7,
        timeout: float | None = None,
    ) -> Any:
        """Audit a solver result on its own grid (a menu is a one-bidder mechanism)
        -> AuditReport."""
        alloc, pay, ps, unit_demand = result_tables("audit_result", result)
        if pay.size == 0:
            raise MechsolveInputError(
                "audit_result",
                "result",
                f"has no mechanism (termination {result.termination.value})",
            )
        return self.audit_mechanism(
            alloc, pay, list(ps), unit_demand=unit_demand, tolerance=tolerance, timeout=timeout
        )

    def continuous_menu_revenue(
        self,
        menu: Menu | MenuResult,
        *,
        lo: float | None = None,
        hi: float | None = None,
        tol: float = 1e-5,
        max_cells: int = 4_000_000,
        timeout: float | None = None,
    ) -> Any:
        """Expected revenue of a menu on ``U[lo, hi]^m`` with a guaranteed error bound
        (``lo``/``hi`` default to a MenuResult's grid) -> ContinuousRevenue."""
        grid = isinstance(menu, MenuResult) and menu.prior.is_uniform_grid
        if isinstance(menu, MenuResult) and grid and lo is None and hi is None:
            lo, hi = menu.prior.lo, menu.prior.hi
        entries = _menu(menu)
        if lo is None or hi is None:
            raise MechsolveInputError(
                _FN, "lo", "and `hi` are required unless the menu comes from a uniform grid"
            )
        box = apb.UniformBox(
            lo=v.real(_FN, "lo", lo),
            hi=v.real(_FN, "hi", hi),
            tolerance=v.real(_FN, "tol", tol),
            max_cells=v.positive_int(_FN, "max_cells", max_cells),
        )
        req = apb.EvaluateMenuRequest(
            allocation=cv.tensor(entries.allocation), price=cv.tensor(entries.price), uniform=box
        )
        return self._invoke(
            "EvaluateMenu", req, lambda r: ca.continuous_revenue_from_proto(r.evaluation), timeout
        )

    def sampled_menu_revenue(
        self, menu: Menu | MenuResult, samples: Any, *, timeout: float | None = None
    ) -> Any:
        """Mean price paid by buyers with valuations ``samples (N, m)`` -> ContinuousRevenue."""
        entries = _menu(menu)
        req = apb.EvaluateMenuRequest(
            allocation=cv.tensor(entries.allocation),
            price=cv.tensor(entries.price),
            samples=cv.tensor(np.asarray(samples, dtype=np.float64)),
        )
        return self._invoke(
            "EvaluateMenu", req, lambda r: ca.continuous_revenue_from_proto(r.evaluation), timeout
        )

    def rounded_evaluation(
        self,
        result: AuctionResult,
        *,
        n_samples: int = 100_000,
        seed: int | None = 0,
        timeout: float | None = None,
    ) -> Any:
        """Run a grid mechanism on continuous values with bids rounded to the grid (exact
        revenue, Monte Carlo ex-post regret) -> RoundedEvaluation."""
        if not isinstance(result, AuctionResult) or result.payment.size == 0:
            raise MechsolveInputError(_FN, "result", "must be an AuctionResult with a mechanism")
        if seed is not None and (
            isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0
        ):
            raise MechsolveInputError(
                _FN, "seed", f"must be a non-negative integer or None; got {seed!r}"
            )
        req = apb.EvaluateRoundedBidsRequest(
            allocation=cv.tensor(result.allocation),
            payment=cv.tensor(result.payment),
            priors=ca.priors_to_proto(result.priors),
            n_samples=v.positive_int(_FN, "n_samples", n_samples),
        )
        if seed is not None:
            req.seed = int(seed)
        return self._invoke(
            "EvaluateRoundedBids", req, lambda r: ca.rounded_from_proto(r.evaluation), timeout
        )
