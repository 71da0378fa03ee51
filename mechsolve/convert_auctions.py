"""Conversions between the ``mechsolve.v1.AuctionService`` messages and the auction solver's types
(:mod:`mechsolve.solver.auctions`).

The server and the Python client both use these functions, so a result that crosses the wire
comes back as the same frozen dataclass the in-process call returns. Malformed messages raise
:class:`~mechsolve.solver.core.errors.MechsolveInputError` naming the field path
(``priors[0].uniform_grid.points_per_item``), which the server answers with
``INVALID_ARGUMENT``; priors over the size limits raise
:class:`~mechsolve.solver.core.errors.ProblemTooLargeError` (``RESOURCE_EXHAUSTED``) before anything
of their size is built.

Priors cross the wire as the recipe that rebuilds them exactly: a uniform grid as its
parameters, any other :class:`~mechsolve.solver.auctions.priors.TypePrior` as its explicit type
set (values and probabilities, float64 bit for bit). Results do not echo the priors: the client
puts the priors of its request back into the result.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mechsolve.convert import enum_value, info_from_proto, info_to_proto, tensor, tensor_to_numpy
from mechsolve.solver.auctions.priors import (
    PriorKind,
    TypePrior,
    discrete_marginals,
    empirical_prior,
    uniform_grid,
)
from mechsolve.solver.auctions.results import (
    AuctionResult,
    AuditReport,
    ContinuousRevenue,
    Extrapolation,
    GenerationStats,
    Incentive,
    InterimAuctionResult,
    MenuResult,
    RoundedEvaluation,
    Verification,
)
from mechsolve.solver.core import validation as v
from mechsolve.solver.core.errors import MechsolveInputError, ProblemTooLargeError
from mechsolve.solver.core.limits import Limits, resolve
from mechsolve.v1 import auctions_pb2 as apb

DEFAULT_HI = 1.0
"""``hi`` when a request leaves it unset (the solver's default)."""
PROBS_TOLERANCE = 1e-9
"""How far the probabilities of an explicit type set may sum from 1."""
NO_LIMITS = Limits(max_types=1 << 62)
"""For rebuilding a prior the caller already holds (client side): no size check."""

# -- enums ----------------------------------------------------------------------------------

_POINTS = {
    apb.GRID_POINTS_UNSPECIFIED: "midpoint",
    apb.GRID_POINTS_MIDPOINT: "midpoint",
    apb.GRID_POINTS_CORNER: "corner",
}
_POINTS_BACK = {"midpoint": apb.GRID_POINTS_MIDPOINT, "corner": apb.GRID_POINTS_CORNER}
_TYPE_SET_KINDS = {
    apb.TYPE_SET_KIND_UNSPECIFIED: None,
    apb.TYPE_SET_KIND_PRODUCT_GRID: PriorKind.DISCRETE,
    apb.TYPE_SET_KIND_EMPIRICAL: PriorKind.EMPIRICAL,
}
_CONSTRAINTS = {
    apb.CONSTRAINT_MODE_UNSPECIFIED: "generation",
    apb.CONSTRAINT_MODE_GENERATION: "generation",
    apb.CONSTRAINT_MODE_FULL: "full",
}
_CONSTRAINTS_BACK = {"generation": apb.CONSTRAINT_MODE_GENERATION, "full": apb.CONSTRAINT_MODE_FULL}
_INCENTIVES = {
    apb.INCENTIVE_MENU: Incentive.MENU,
    apb.INCENTIVE_DSIC: Incentive.DSIC,
    apb.INCENTIVE_BIC: Incentive.BIC,
    apb.INCENTIVE_REGRET_BUDGET: Incentive.REGRET_BUDGET,
}
_INCENTIVES_BACK = {kind: number for number, kind in _INCENTIVES.items()}


def _name_to_proto(argument: str, value: Any, table: dict[str, Any]) -> Any:
    """Client side: a solver name to its enum number (unknown names rejected before sending)."""
    if isinstance(value, str) and value in table:
        return table[value]
    listed = ", ".join(repr(k) for k in table)
    raise MechsolveInputError("client", argument, f"must be one of {listed}; got {value!r}")


def points_from_proto(function: str, value: Any, field: str = "points") -> str:
    return str(enum_value(function, field, value, _POINTS, "GRID_POINTS"))


def points_to_proto(points: str, argument: str = "points") -> Any:
    return _name_to_proto(argument, points, _POINTS_BACK)


def constraints_from_proto(function: str, value: Any) -> str:
    return str(enum_value(function, "constraints", value, _CONSTRAINTS, "CONSTRAINT_MODE"))


def constraints_to_proto(constraints: str) -> Any:
    return _name_to_proto("constraints", constraints, _CONSTRAINTS_BACK)


def auction_incentive_from_proto(function: str, value: Any) -> str:
    """``"dsic"`` or ``"bic"`` (the choices of OptimalAuction's ``incentive``)."""
    kind = enum_value(function, "incentive", value, _INCENTIVES, "INCENTIVE")
    if kind not in (Incentive.DSIC, Incentive.BIC):
        raise MechsolveInputError(
            function, "incentive", f"must be INCENTIVE_DSIC or INCENTIVE_BIC; got {value}"
        )
    return str(kind.value)


def auction_incentive_to_proto(incentive: str) -> Any:
    return _name_to_proto(
        "incentive", incentive, {"dsic": apb.INCENTIVE_DSIC, "bic": apb.INCENTIVE_BIC}
    )


def symmetry_from_proto(msg: Any) -> bool:
    """An ``optional bool symmetry`` (unset: true)."""
    return bool(msg.symmetry) if msg.HasField("symmetry") else True


# -- priors ---------------------------------------------------------------------------------


def _rebased(exc: MechsolveInputError, function: str, argument: str) -> MechsolveInputError:
    """The same error (same class: input error or too large) for another argument path."""
    cls = ProblemTooLargeError if isinstance(exc, ProblemTooLargeError) else MechsolveInputError
    return cls(function, argument, exc.detail)


def _grid_size(k: int, m: int) -> int:
    """``k ** m`` without building a huge integer (capped at ``2**62``)."""
    if k < 2 or m < 1:
        return 0
    return k**m if m * math.log2(k) < 62 else 1 << 62


def _uniform_grid(function: str, msg: apb.UniformGrid, field: str, limits: Limits) -> TypePrior:
    m, k = int(msg.n_items), int(msg.points_per_item)
    points = points_from_proto(function, msg.points, f"{field}.points")
    limits.check(function, f"{field}.points_per_item", _grid_size(k, m), "max_types")
    try:
        return uniform_grid(
            m,
            k,
            lo=msg.lo,
            hi=msg.hi if msg.HasField("hi") else DEFAULT_HI,
            points=points,
            limits=limits,
        )
    except MechsolveInputError as exc:
        raise _rebased(exc, function, f"{field}.{exc.argument}") from exc


def _discrete_marginals(
    function: str, msg: apb.DiscreteMarginals, field: str, limits: Limits
) -> TypePrior:
    values = [np.asarray(item.values, dtype=np.float64) for item in msg.items]
    probs: list[NDArray[np.float64]] | None = None
    if any(len(item.probs) for item in msg.items):
        probs = [
            np.asarray(item.probs, dtype=np.float64)
            if len(item.probs)
            else np.full(len(item.values), 1.0 / max(1, len(item.values)))
            for item in msg.items
        ]
    try:
        return discrete_marginals(values, probs, limits=limits)
    except MechsolveInputError as exc:
        arg = exc.argument
        for name in ("values", "probs"):
            if arg.startswith(f"{name}["):
                j, rest = arg[len(name) + 1 :].split("]", 1)
                arg = f"items[{j}].{name}{rest}"
                break
        else:
            arg = "items"
        raise _rebased(exc, function, f"{field}.{arg}") from exc


def _empirical(function: str, msg: apb.EmpiricalSamples, field: str, limits: Limits) -> TypePrior:
    path = f"{field}.samples"
    if not msg.HasField("samples"):
        raise MechsolveInputError(function, path, "is required (a tensor of shape (N, m))")
    shape = tuple(int(s) for s in msg.samples.shape)
    if len(shape) == 2:
        limits.check(function, path, shape[0], "max_types")
    x = tensor_to_numpy(msg.samples, path, np.float64, function)
    try:
        return empirical_prior(x, limits=limits)
    except MechsolveInputError as exc:
        raise _rebased(exc, function, f"{field}.{exc.argument}") from exc


def product_grid_shape(values: NDArray[np.float64]) -> tuple[int, ...]:
    """``(K_1, ..., K_m)`` when ``values`` is the full product of its column values in C order
    (as :func:`~mechsolve.solver.auctions.priors.discrete_marginals` builds it), else ``()``."""
    axes = [np.unique(values[:, j]) for j in range(values.shape[1])]
    shape = tuple(len(a) for a in axes)
    if math.prod(shape) != len(values):
        return ()
    grids = np.meshgrid(*axes, indexing="ij")
    grid = np.stack([g.ravel() for g in grids], axis=1)
    return shape if np.array_equal(grid, values) else ()


def _type_set(function: str, msg: apb.TypeSet, field: str, limits: Limits) -> TypePrior:
    if not msg.HasField("values"):
        raise MechsolveInputError(
            function, f"{field}.values", "is required (a tensor of shape (T, m))"
        )
    shape = tuple(int(s) for s in msg.values.shape)
    if len(shape) == 2:
        limits.check(function, f"{field}.values", shape[0], "max_types")
    raw = tensor_to_numpy(msg.values, f"{field}.values", np.float64, function)
    values = v.float_array(function, f"{field}.values", raw, ndim=2, min_value=0.0)
    t, m = values.shape
    if m == 0:
        raise MechsolveInputError(
            function, f"{field}.values", f"must have at least one item column; got shape {shape}"
        )
    probs = v.float_array(function, f"{field}.probs", msg.probs, shape=(t,), min_value=0.0)
    if abs(float(probs.sum()) - 1.0) > PROBS_TOLERANCE:
        raise MechsolveInputError(
            function, f"{field}.probs", f"must sum to 1; got sum {float(probs.sum())}"
        )
    if len(np.unique(values + 0.0, axis=0)) != t:
        raise MechsolveInputError(function, f"{field}.values", "must have distinct rows")
    kind = enum_value(function, f"{field}.kind", msg.kind, _TYPE_SET_KINDS, "TYPE_SET_KIND")
    grid_shape = () if kind is PriorKind.EMPIRICAL else product_grid_shape(values)
    if kind is PriorKind.DISCRETE and not grid_shape:
        raise MechsolveInputError(
            function,
            f"{field}.values",
            "must be a full product grid in C order (item 0 varying slowest) for "
            "TYPE_SET_KIND_PRODUCT_GRID",
        )
    return TypePrior(
        values, probs, PriorKind.DISCRETE if grid_shape else PriorKind.EMPIRICAL, grid_shape
    )


def prior_from_proto(
    msg: apb.Prior, function: str, field: str, limits: Limits | None = None
) -> TypePrior:
    """The validated :class:`TypePrior` of one ``Prior`` message (``field`` is its path)."""
    lim = resolve(limits)
    which = msg.WhichOneof("source")
    if which == "uniform_grid":
        return _uniform_grid(function, msg.uniform_grid, f"{field}.uniform_grid", lim)
    if which == "discrete_marginals":
        return _discrete_marginals(
            function, msg.discrete_marginals, f"{field}.discrete_marginals", lim
        )
    if which == "empirical":
        return _empirical(function, msg.empirical, f"{field}.empirical", lim)
    if which == "type_set":
        return _type_set(function, msg.type_set, f"{field}.type_set", lim)
    raise MechsolveInputError(
        function,
        field,
        "is required: set one of uniform_grid, discrete_marginals, empirical, type_set",
    )


def priors_from_proto(
    msgs: Sequence[apb.Prior], function: str, limits: Limits | None = None
) -> TypePrior | list[TypePrior]:
    """One shared prior (one message) or one prior per bidder (several), as the solvers take
    them."""
    if len(msgs) == 0:
        raise MechsolveInputError(
            function, "priors", "is required (one prior shared by every bidder, or one per bidder)"
        )
    if len(msgs) == 1:
        return prior_from_proto(msgs[0], function, "priors[0]", limits)
    return [prior_from_proto(p, function, f"priors[{i}]", limits) for i, p in enumerate(msgs)]


def n_bidders_from_proto(value: int) -> int | None:
    """``uint32 n_bidders``: 0 means the solver's default."""
    return int(value) if value else None


def prior_to_proto(prior: TypePrior) -> apb.Prior:
    """A prior as the message that rebuilds it exactly (client side)."""
    if prior.is_uniform_grid and len(set(prior.grid_shape)) == 1:
        grid = uniform_grid(
            prior.n_items,
            prior.grid_shape[0],
            lo=prior.lo,
            hi=prior.hi,
            points=prior.kind.value,
            limits=NO_LIMITS,
        )
        if grid.same_as(prior):
            return apb.Prior(
                uniform_grid=apb.UniformGrid(
                    n_items=prior.n_items,
                    points_per_item=prior.grid_shape[0],
                    lo=prior.lo,
                    hi=prior.hi,
                    points=points_to_proto(prior.kind.value),
                )
            )
    kind = apb.TYPE_SET_KIND_PRODUCT_GRID if prior.grid_shape else apb.TYPE_SET_KIND_EMPIRICAL
    return apb.Prior(
        type_set=apb.TypeSet(values=tensor(prior.values), probs=prior.probs.tolist(), kind=kind)
    )


def priors_to_proto(priors: tuple[TypePrior, ...], *, merge: bool = True) -> list[apb.Prior]:
    """Messages for the bidders' priors (client side): one message when every bidder has the
    same prior and ``merge`` (the request's ``n_bidders`` then says how many), else one each."""
    if merge and all(p is priors[0] or p.same_as(priors[0]) for p in priors[1:]):
        return [prior_to_proto(priors[0])]
    return [prior_to_proto(p) for p in priors]


# -- results --------------------------------------------------------------------------------


def _array(msg: Any, field: str, dtype: Any = np.float64) -> NDArray[Any]:
    return tensor_to_numpy(msg, field, dtype, "client")


def verification_to_proto(ver: Verification) -> apb.Verification:
    return apb.Verification(
        passed=ver.passed,
        max_ic_violation=ver.max_ic_violation,
        max_ir_violation=ver.max_ir_violation,
        max_feasibility_violation=ver.max_feasibility_violation,
        max_budget_violation=ver.max_budget_violation,
        tolerance=ver.tolerance,
        ic_constraints_checked=ver.ic_constraints_checked,
    )


def verification_from_proto(msg: apb.Verification) -> Verification:
    return Verification(
        passed=msg.passed,
        max_ic_violation=msg.max_ic_violation,
        max_ir_violation=msg.max_ir_violation,
        max_feasibility_violation=msg.max_feasibility_violation,
        max_budget_violation=msg.max_budget_violation,
        tolerance=msg.tolerance,
        ic_constraints_checked=int(msg.ic_constraints_checked),
    )


def stats_to_proto(stats: GenerationStats) -> apb.GenerationStats:
    return apb.GenerationStats(
        constraints=stats.constraints,
        rounds=stats.rounds,
        ic_rows=stats.ic_rows,
        ic_rows_full=stats.ic_rows_full,
        border_rows=stats.border_rows,
        lp_rows=stats.lp_rows,
        lp_cols=stats.lp_cols,
        symmetry_order=stats.symmetry_order,
        lp_time_seconds=stats.lp_time_s,
        separation_time_seconds=stats.separation_time_s,
    )


def stats_from_proto(msg: apb.GenerationStats) -> GenerationStats:
    return GenerationStats(
        constraints=msg.constraints,
        rounds=int(msg.rounds),
        ic_rows=int(msg.ic_rows),
        ic_rows_full=int(msg.ic_rows_full),
        border_rows=int(msg.border_rows),
        lp_rows=int(msg.lp_rows),
        lp_cols=int(msg.lp_cols),
        symmetry_order=int(msg.symmetry_order),
        lp_time_s=msg.lp_time_seconds,
        separation_time_s=msg.separation_time_seconds,
    )


def menu_to_proto(res: MenuResult) -> apb.MenuMechanism:
    return apb.MenuMechanism(
        info=info_to_proto(res.info),
        allocation=tensor(res.allocation),
        payment=tensor(res.payment),
        utility=tensor(res.utility),
        revenue=res.revenue,
        unit_demand=res.unit_demand,
        verification=verification_to_proto(res.verification),
        stats=stats_to_proto(res.stats),
    )


def menu_from_proto(msg: apb.MenuMechanism, prior: TypePrior) -> MenuResult:
    return MenuResult(
        info_from_proto(msg.info),
        prior,
        _array(msg.allocation, "allocation"),
        _array(msg.payment, "payment"),
        _array(msg.utility, "utility"),
        msg.revenue,
        msg.unit_demand,
        verification_from_proto(msg.verification),
        stats_from_proto(msg.stats),
    )


def ex_post_to_proto(res: AuctionResult) -> apb.ExPostMechanism:
    return apb.ExPostMechanism(
        info=info_to_proto(res.info),
        incentive=_INCENTIVES_BACK[res.incentive],
        allocation=tensor(res.allocation),
        payment=tensor(res.payment),
        revenue=res.revenue,
        regret_budget=res.regret_budget,
        unit_demand=res.unit_demand,
        verification=verification_to_proto(res.verification),
        stats=stats_to_proto(res.stats),
    )


def ex_post_from_proto(msg: apb.ExPostMechanism, priors: tuple[TypePrior, ...]) -> AuctionResult:
    return AuctionResult(
        info_from_proto(msg.info),
        priors,
        _INCENTIVES.get(msg.incentive, Incentive.DSIC),
        _array(msg.allocation, "allocation"),
        _array(msg.payment, "payment"),
        msg.revenue,
        msg.regret_budget,
        msg.unit_demand,
        verification_from_proto(msg.verification),
        stats_from_proto(msg.stats),
    )


def interim_to_proto(res: InterimAuctionResult) -> apb.InterimMechanism:
    return apb.InterimMechanism(
        info=info_to_proto(res.info),
        bidders=[
            apb.InterimRule(allocation=tensor(a), payment=tensor(p), utility=tensor(u))
            for a, p, u in zip(res.allocation, res.payment, res.utility, strict=True)
        ],
        revenue=res.revenue,
        verification=verification_to_proto(res.verification),
        stats=stats_to_proto(res.stats),
    )


def interim_from_proto(
    msg: apb.InterimMechanism, priors: tuple[TypePrior, ...]
) -> InterimAuctionResult:
    rules = list(msg.bidders)
    return InterimAuctionResult(
        info_from_proto(msg.info),
        priors,
        tuple(_array(r.allocation, "allocation") for r in rules),
        tuple(_array(r.payment, "payment") for r in rules),
        tuple(_array(r.utility, "utility") for r in rules),
        msg.revenue,
        verification_from_proto(msg.verification),
        stats_from_proto(msg.stats),
    )


def auction_to_proto(res: AuctionResult | InterimAuctionResult) -> apb.OptimalAuctionResponse:
    if isinstance(res, InterimAuctionResult):
        return apb.OptimalAuctionResponse(interim=interim_to_proto(res))
    return apb.OptimalAuctionResponse(ex_post=ex_post_to_proto(res))


def auction_from_proto(
    msg: apb.OptimalAuctionResponse, priors: tuple[TypePrior, ...]
) -> AuctionResult | InterimAuctionResult:
    if msg.WhichOneof("mechanism") == "interim":
        return interim_from_proto(msg.interim, priors)
    return ex_post_from_proto(msg.ex_post, priors)


def audit_to_proto(rep: AuditReport) -> apb.AuditReport:
    return apb.AuditReport(
        revenue=rep.revenue,
        regret_mean=rep.regret_mean,
        regret_per_bidder=rep.regret_per_bidder.tolist(),
        regret_max_per_bidder=rep.regret_max_per_bidder.tolist(),
        regret_max=rep.regret_max,
        witness_bidder=rep.witness_bidder,
        witness_profile=rep.witness_profile.tolist(),
        witness_report=rep.witness_report,
        ir_violation_max=rep.ir_violation_max,
        ir_violation_mass=rep.ir_violation_mass,
        supply_violation_max=rep.supply_violation_max,
        tolerance=rep.tolerance,
        convention=rep.convention,
    )


def audit_from_proto(msg: apb.AuditReport) -> AuditReport:
    return AuditReport(
        revenue=msg.revenue,
        regret_mean=msg.regret_mean,
        regret_per_bidder=np.asarray(msg.regret_per_bidder, dtype=np.float64),
        regret_max_per_bidder=np.asarray(msg.regret_max_per_bidder, dtype=np.float64),
        regret_max=msg.regret_max,
        witness_bidder=int(msg.witness_bidder),
        witness_profile=np.asarray(msg.witness_profile, dtype=np.int64),
        witness_report=int(msg.witness_report),
        ir_violation_max=msg.ir_violation_max,
        ir_violation_mass=msg.ir_violation_mass,
        supply_violation_max=msg.supply_violation_max,
        tolerance=msg.tolerance,
        convention=msg.convention,
    )


def continuous_revenue_to_proto(res: ContinuousRevenue) -> apb.ContinuousRevenue:
    return apb.ContinuousRevenue(
        revenue=res.revenue,
        error=res.error,
        error_kind=res.error_kind,
        method=res.method,
        evaluations=res.evaluations,
    )


def continuous_revenue_from_proto(msg: apb.ContinuousRevenue) -> ContinuousRevenue:
    return ContinuousRevenue(
        msg.revenue, msg.error, msg.error_kind, msg.method, int(msg.evaluations)
    )


def rounded_to_proto(res: RoundedEvaluation) -> apb.RoundedBidsEvaluation:
    return apb.RoundedBidsEvaluation(
        revenue=res.revenue,
        regret_mean=res.regret_mean,
        regret_mean_se=res.regret_mean_se,
        regret_per_bidder=res.regret_per_bidder.tolist(),
        regret_max_observed=res.regret_max_observed,
        n_samples=res.n_samples,
        seed=res.seed,
    )


def rounded_from_proto(msg: apb.RoundedBidsEvaluation) -> RoundedEvaluation:
    return RoundedEvaluation(
        revenue=msg.revenue,
        regret_mean=msg.regret_mean,
        regret_mean_se=msg.regret_mean_se,
        regret_per_bidder=np.asarray(msg.regret_per_bidder, dtype=np.float64),
        regret_max_observed=msg.regret_max_observed,
        n_samples=int(msg.n_samples),
        seed=int(msg.seed),
    )


def extrapolation_to_proto(res: Extrapolation) -> apb.Extrapolation:
    return apb.Extrapolation(
        estimate=res.estimate,
        grids=list(res.grids),
        revenues=list(res.revenues),
        points=_POINTS_BACK[res.points],
        wall_time_seconds=res.wall_time_s,
        message=res.message,
    )


def extrapolation_from_proto(msg: apb.Extrapolation) -> Extrapolation:
    k1, k2 = (int(k) for k in msg.grids)
    r1, r2 = msg.revenues
    return Extrapolation(
        msg.estimate, (k1, k2), (r1, r2), _POINTS[msg.points], msg.wall_time_seconds, msg.message
    )
