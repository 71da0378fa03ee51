"""``mechsolve.v1.AuctionService``: revenue-maximizing auction LPs and exact incentive audits
(:mod:`mechsolve.solver.auctions`). Converts requests, delegates to the solver with the server's
limits and the call's time limit, converts back."""

from __future__ import annotations

from typing import Any

import grpc
import numpy as np
from numpy.typing import NDArray

from mechsolve import convert_auctions as ca
from mechsolve.convert import tensor_to_numpy
from mechsolve.solver.auctions import (
    DEFAULT_EPSILONS,
    audit_mechanism,
    continuous_menu_revenue,
    extrapolate_optimum,
    optimal_auction,
    optimal_menu,
    regret_budget_auction,
    rounded_evaluation,
    sampled_menu_revenue,
)
from mechsolve.solver.auctions.arguments import bidder_priors, check_profiles
from mechsolve.solver.auctions.evaluation import START_CELLS
from mechsolve.solver.auctions.priors import TypePrior, profile_probs
from mechsolve.solver.auctions.results import (
    AuctionResult,
    GenerationStats,
    Incentive,
    Menu,
    Verification,
)
from mechsolve.solver.core import validation as v
from mechsolve.solver.core.errors import MechsolveInputError, ProblemTooLargeError
from mechsolve.solver.core.results import SolveInfo, Stopwatch, Termination
from mechsolve.v1 import auctions_pb2 as apb
from mechsolve.v1 import auctions_pb2_grpc as agrpc

from .config import ServerConfig
from .status import CallBudget, unary

# Solver argument -> request field (error field paths).
FIELDS = {
    "time_limit": "deadline",
    "points_per_item": "grids",  # ExtrapolateOptimum: a grid over max_types
    "k1": "grids",
    "k2": "grids",
}

MAX_MENU_CELLS = 4_000_000
"""Largest ``max_cells`` an EvaluateMenu call may ask for (the solver's default)."""
DEFAULT_MENU_TOLERANCE = 1e-5
"""EvaluateMenu's ``uniform.tolerance`` when unset (the solver's default)."""
DEFAULT_AUDIT_TOLERANCE = 1e-9
"""AuditMechanism's ``tolerance`` when unset (the solver's default)."""
DEFAULT_N_SAMPLES = 100_000
"""EvaluateRoundedBids' ``n_samples`` when 0 (the solver's default)."""
DEFAULT_GRIDS = (20, 40)
"""ExtrapolateOptimum's ``grids`` when empty (the solver's default)."""


def _required_tensor(function: str, msg: Any, name: str, dtype: Any = np.float64) -> NDArray[Any]:
    if not msg.HasField(name):
        raise MechsolveInputError(function, name, "is required (a tensor)")
    return tensor_to_numpy(getattr(msg, name), name, dtype, function)


class AuctionServicer(agrpc.AuctionServiceServicer):
    """Every method: request -> solver call (with the server's limits and the call's time
    limit) -> response."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config

    # -- helpers ------------------------------------------------------------------------
    def _priors(self, fn: str, request: Any) -> TypePrior | list[TypePrior]:
        return ca.priors_from_proto(request.priors, fn, self.config.limits)

    def _tables(
        self, fn: str, request: Any
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], TypePrior | list[TypePrior]]:
        """Tables and priors of an audit-like request (the priors first: their size limits
        are checked before the tables are converted)."""
        priors = self._priors(fn, request)
        alloc = _required_tensor(fn, request, "allocation")
        pay = _required_tensor(fn, request, "payment")
        return alloc, pay, priors

    # -- solves -------------------------------------------------------------------------
    @unary(FIELDS)
    def OptimalMenu(
        self, request: apb.OptimalMenuRequest, context: grpc.ServicerContext, b: CallBudget
    ) -> apb.OptimalMenuResponse:
        fn = "OptimalMenu"
        if not request.HasField("prior"):
            raise MechsolveInputError(fn, "prior", "is required")
        prior = ca.prior_from_proto(request.prior, fn, "prior", self.config.limits)
        res = optimal_menu(
            prior,
            unit_demand=request.unit_demand,
            constraints=ca.constraints_from_proto(fn, request.constraints),
            symmetry=ca.symmetry_from_proto(request),
            limits=self.config.limits,
            time_limit=b.time_limit,
        )
        return apb.OptimalMenuResponse(mechanism=ca.menu_to_proto(res))

    @unary(FIELDS)
    def OptimalAuction(
        self, request: apb.OptimalAuctionRequest, context: grpc.ServicerContext, b: CallBudget
    ) -> apb.OptimalAuctionResponse:
        fn = "OptimalAuction"
        incentive = ca.auction_incentive_from_proto(fn, request.incentive)
        res = optimal_auction(
            self._priors(fn, request),
            ca.n_bidders_from_proto(request.n_bidders),
            incentive=incentive,
            unit_demand=request.unit_demand,
            constraints=ca.constraints_from_proto(fn, request.constraints),
            symmetry=ca.symmetry_from_proto(request),
            limits=self.config.limits,
            time_limit=b.time_limit,
        )
        return ca.auction_to_proto(res)

    @unary(FIELDS)
    def RegretBudgetAuction(
        self,
        request: apb.RegretBudgetAuctionRequest,
        context: grpc.ServicerContext,
        b: CallBudget,
    ) -> apb.RegretBudgetAuctionResponse:
        fn = "RegretBudgetAuction"
        res = regret_budget_auction(
            self._priors(fn, request),
            ca.n_bidders_from_proto(request.n_bidders),
            epsilon=request.epsilon,
            unit_demand=request.unit_demand,
            constraints=ca.constraints_from_proto(fn, request.constraints),
            symmetry=ca.symmetry_from_proto(request),
            limits=self.config.limits,
            time_limit=b.time_limit,
        )
        return apb.RegretBudgetAuctionResponse(mechanism=ca.ex_post_to_proto(res))

    @unary(FIELDS)
    def RegretBudgetCurve(
        self, request: apb.RegretBudgetCurveRequest, context: grpc.ServicerContext, b: CallBudget
    ) -> apb.RegretBudgetCurveResponse:
        """The budgets solved in turn, sharing the call's time limit (each solve gets what is
        left of it)."""
        fn = "RegretBudgetCurve"
        watch = Stopwatch()
        eps = v.float_array(
            fn, "epsilons", list(request.epsilons) or DEFAULT_EPSILONS, ndim=1, min_value=0.0
        )
        priors = self._priors(fn, request)
        n_bidders = ca.n_bidders_from_proto(request.n_bidders)
        out = []
        for e in eps:
            remaining = watch.remaining(b.time_limit)
            res = regret_budget_auction(
                priors,
                n_bidders,
                epsilon=float(e),
                unit_demand=request.unit_demand,
                symmetry=ca.symmetry_from_proto(request),
                limits=self.config.limits,
                time_limit=max(remaining, 1e-3) if remaining is not None else None,
            )
            out.append(ca.ex_post_to_proto(res))
        return apb.RegretBudgetCurveResponse(mechanisms=out)

    @unary(FIELDS)
    def ExtrapolateOptimum(
        self, request: apb.ExtrapolateOptimumRequest, context: grpc.ServicerContext, b: CallBudget
    ) -> apb.ExtrapolateOptimumResponse:
        fn = "ExtrapolateOptimum"
        grids = tuple(int(k) for k in request.grids) or DEFAULT_GRIDS
        res = extrapolate_optimum(
            int(request.n_items),
            int(request.n_bidders) or 1,
            grids,  # the solver checks there are two
            points=ca.points_from_proto(fn, request.points),
            lo=request.lo,
            hi=request.hi if request.HasField("hi") else ca.DEFAULT_HI,
            unit_demand=request.unit_demand,
            limits=self.config.limits,
            time_limit=b.time_limit,
        )
        return apb.ExtrapolateOptimumResponse(extrapolation=ca.extrapolation_to_proto(res))

    # -- audits and evaluations ---------------------------------------------------------
    @unary(FIELDS)
    def AuditMechanism(
        self, request: apb.AuditMechanismRequest, context: grpc.ServicerContext, b: CallBudget
    ) -> apb.AuditMechanismResponse:
        fn = "AuditMechanism"
        alloc, pay, priors = self._tables(fn, request)
        report = audit_mechanism(
            alloc,
            pay,
            priors,
            unit_demand=request.unit_demand,
            tolerance=request.tolerance
            if request.HasField("tolerance")
            else DEFAULT_AUDIT_TOLERANCE,
            limits=self.config.limits,
        )
        return apb.AuditMechanismResponse(report=ca.audit_to_proto(report))

    @unary(FIELDS)
    def EvaluateMenu(
        self, request: apb.EvaluateMenuRequest, context: grpc.ServicerContext, b: CallBudget
    ) -> apb.EvaluateMenuResponse:
        fn = "EvaluateMenu"
        lim = self.config.limits
        alloc = v.float_array(
            fn, "allocation", _required_tensor(fn, request, "allocation"), ndim=2, allow_empty=True
        )
        n_entries, m = alloc.shape
        if m == 0:
            raise MechsolveInputError(
                fn, "allocation", f"must have at least one item column; got shape {alloc.shape}"
            )
        lim.check(fn, "allocation", n_entries, "max_types")
        price = v.float_array(
            fn,
            "price",
            _required_tensor(fn, request, "price"),
            shape=(n_entries,),
            allow_empty=True,
        )
        menu = Menu(alloc, price, np.zeros(n_entries))
        which = request.WhichOneof("distribution")
        if which == "samples":
            samples = tensor_to_numpy(request.samples, "samples", np.float64, fn)
            lim.check(fn, "samples", int(samples.shape[0]) if samples.ndim else 1, "max_types")
            res = sampled_menu_revenue(menu, samples)
        elif which == "uniform":
            box = request.uniform
            max_cells = int(box.max_cells) if box.HasField("max_cells") else MAX_MENU_CELLS
            if max_cells > MAX_MENU_CELLS:
                raise ProblemTooLargeError(
                    fn,
                    "uniform.max_cells",
                    f"has size {max_cells}, over the limit {MAX_MENU_CELLS}",
                )
            if m > 32 or START_CELLS**m > max_cells:
                raise ProblemTooLargeError(
                    fn,
                    "allocation",
                    f"has {m} items: the first level of {START_CELLS}^{m} cells is over "
                    f"max_cells={max_cells}",
                )
            # memory of the first level: every cell against every entry
            lim.check(fn, "allocation", START_CELLS**m * (n_entries + 1), "max_candidates")
            try:
                res = continuous_menu_revenue(
                    menu,
                    lo=box.lo,
                    hi=box.hi if box.HasField("hi") else ca.DEFAULT_HI,
                    tol=box.tolerance if box.HasField("tolerance") else DEFAULT_MENU_TOLERANCE,
                    max_cells=max_cells,
                )
            except MechsolveInputError as exc:
                arg = {"tol": "tolerance"}.get(exc.argument, exc.argument)
                raise MechsolveInputError(fn, f"uniform.{arg}", exc.detail) from exc
        else:
            raise MechsolveInputError(
                fn, "distribution", "is required: set one of uniform, samples"
            )
        return apb.EvaluateMenuResponse(evaluation=ca.continuous_revenue_to_proto(res))

    @unary(FIELDS)
    def EvaluateRoundedBids(
        self,
        request: apb.EvaluateRoundedBidsRequest,
        context: grpc.ServicerContext,
        b: CallBudget,
    ) -> apb.EvaluateRoundedBidsResponse:
        fn = "EvaluateRoundedBids"
        lim = self.config.limits
        alloc, pay, priors = self._tables(fn, request)
        n = pay.shape[-1] if pay.ndim >= 2 else 0
        ps = bidder_priors(fn, priors, n if isinstance(priors, TypePrior) and n else None)
        check_profiles(fn, ps, lim, interim=False)
        shape = tuple(p.n_types for p in ps)
        n, m = len(ps), ps[0].n_items
        alloc = v.float_array(fn, "allocation", alloc, shape=(*shape, n, m))
        pay = v.float_array(fn, "payment", pay, shape=(*shape, n))
        for i, p in enumerate(ps):
            if not p.is_uniform_grid:
                raise MechsolveInputError(
                    fn, f"priors[{i}]", f"must be a uniform grid; got kind={p.kind.value!r}"
                )
        n_samples = int(request.n_samples) or DEFAULT_N_SAMPLES
        lim.check(fn, "n_samples", n_samples, "max_types")
        revenue = float((pay.sum(axis=-1) * profile_probs(ps)).sum())
        mechanism = AuctionResult(
            SolveInfo(Termination.OPTIMAL, revenue, "tables", "numpy", 0.0),
            ps,
            Incentive.DSIC,
            alloc,
            pay,
            revenue,
            0.0,
            False,
            Verification(True, 0.0, 0.0, 0.0, 0.0, 0.0, 0),
            GenerationStats("tables", 0, 0, 0, 0, 0, 0, 1, 0.0, 0.0),
        )
        seed = int(request.seed) if request.HasField("seed") else None
        if seed is not None and seed >= 1 << 63:
            raise MechsolveInputError(fn, "seed", f"must be below 2**63; got {seed}")
        res = rounded_evaluation(mechanism, n_samples=n_samples, seed=seed)
        return apb.EvaluateRoundedBidsResponse(evaluation=ca.rounded_to_proto(res))
