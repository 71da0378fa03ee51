"""Conversions between the ``mechsolve.v1.StructuredMediatorService`` messages and the solver's
restaurant and matching types, plus the mediator dispatch that the servicer and the in-process
client share (so both accept and reject exactly the same requests).

Malformed messages raise :class:`~mechsolve.solver.core.errors.MechsolveInputError` naming the field
(``known_utilities``, ``rewards.values``), which the server answers with ``INVALID_ARGUMENT``;
tensors over the size limits raise :class:`~mechsolve.solver.core.errors.ProblemTooLargeError`
before they are converted.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mechsolve.convert import enum_value, info_from_proto, info_to_proto, tensor_to_numpy
from mechsolve.solver.core import validation as v
from mechsolve.solver.core.errors import MechsolveInputError
from mechsolve.solver.core.limits import Limits, resolve
from mechsolve.solver.core.results import readonly
from mechsolve.solver.structured import matching as mt
from mechsolve.solver.structured import restaurant as rs
from mechsolve.solver.structured.matching import MatchingResult
from mechsolve.solver.structured.restaurant import RestaurantResult
from mechsolve.v1 import structured_pb2 as spb

STRUCTURED_MEDIATORS = ("pareto", "pareto_exact", "punishing", "central_planner")
"""Mediators of the restaurant and matching games (client and dispatch names)."""

# -- enums ----------------------------------------------------------------------------------

_MEDIATORS = {
    spb.STRUCTURED_MEDIATOR_PARETO: "pareto",
    spb.STRUCTURED_MEDIATOR_PARETO_EXACT: "pareto_exact",
    spb.STRUCTURED_MEDIATOR_PUNISHING: "punishing",
    spb.STRUCTURED_MEDIATOR_CENTRAL_PLANNER: "central_planner",
}
_MEDIATORS_BACK = {name: number for number, name in _MEDIATORS.items()}
_METHODS: dict[Any, str | None] = {
    spb.RESTAURANT_METHOD_UNSPECIFIED: None,  # the solver's default (min-cost flow)
    spb.RESTAURANT_METHOD_MIN_COST_FLOW: "min_cost_flow",
    spb.RESTAURANT_METHOD_HIGHS_LP: "highs_lp",
    spb.RESTAURANT_METHOD_SEAT_ASSIGNMENT: "seat_assignment",
}
_METHODS_BACK = {name: number for number, name in _METHODS.items() if name is not None}
_UTILITIES = {
    spb.MEDIATOR_UTILITY_UNSPECIFIED: "known",
    spb.MEDIATOR_UTILITY_KNOWN: "known",
    spb.MEDIATOR_UTILITY_TRUE: "true",
}
_UTILITIES_BACK = {"known": spb.MEDIATOR_UTILITY_KNOWN, "true": spb.MEDIATOR_UTILITY_TRUE}


def _to_proto(argument: str, value: Any, table: dict[str, Any]) -> Any:
    """Client side: a solver name to its enum number (unknown names rejected before sending)."""
    if isinstance(value, str) and value in table:
        return table[value]
    listed = ", ".join(repr(k) for k in table)
    raise MechsolveInputError("client", argument, f"must be one of {listed}; got {value!r}")


def structured_mediator_to_proto(name: str) -> Any:
    return _to_proto("mediator", name, _MEDIATORS_BACK)


def restaurant_method_to_proto(name: str | None) -> Any:
    if name is None:
        return spb.RESTAURANT_METHOD_UNSPECIFIED
    return _to_proto("method", name, _METHODS_BACK)


def mediator_utility_to_proto(name: str) -> Any:
    return _to_proto("mediator_utility", name, _UTILITIES_BACK)


# -- requests -------------------------------------------------------------------------------


def _matrix(
    function: str, msg: Any, field: str, what: str, limits: Limits, *, square: bool = False
) -> NDArray[np.float64]:
    """A required 2-d tensor field; its declared shape is checked against the size limits
    before the values are converted (RESOURCE_EXHAUSTED instead of a large allocation)."""
    if not msg.HasField(field) or not getattr(msg, field).shape:
        raise MechsolveInputError(function, field, f"is required (shape {what})")
    t = getattr(msg, field)
    shape = tuple(int(s) for s in t.shape)
    if len(shape) == 2:
        limits.check(function, field, shape[0], "max_agents")
        if square:
            limits.check(function, f"{field} cells", math.prod(shape), "max_candidates")
        else:
            limits.check(function, f"{field} restaurants", shape[1], "max_restaurants")
    return tensor_to_numpy(t, field, np.float64, function)


def restaurant_request_from_proto(
    function: str, msg: spb.MediateRestaurantRequest, limits: Limits | None = None
) -> dict[str, Any]:
    """Keyword arguments for :func:`mediate_restaurant` (without ``limits``/``time_limit``)."""
    lim = resolve(limits)
    known = _matrix(function, msg, "known_utilities", "(n_agents, n_restaurants)", lim)
    private = None
    if msg.HasField("private_utilities"):
        private = tensor_to_numpy(msg.private_utilities, "private_utilities", np.float64, function)
    return {
        "known": known,
        "capacities": np.asarray(msg.capacities, dtype=np.int64),
        "choices": np.asarray(msg.choices, dtype=np.int64),
        "delegate": np.asarray(msg.delegate, dtype=np.bool_),
        "mediator": enum_value(
            function, "mediator", msg.mediator, _MEDIATORS, "STRUCTURED_MEDIATOR"
        ),
        "method": enum_value(function, "method", msg.method, _METHODS, "RESTAURANT_METHOD"),
        "private": private,
        "alpha": msg.alpha,
        "mediator_utility": enum_value(
            function, "mediator_utility", msg.mediator_utility, _UTILITIES, "MEDIATOR_UTILITY"
        ),
    }


def matching_request_from_proto(
    function: str, msg: spb.MediateMatchingRequest, limits: Limits | None = None
) -> dict[str, Any]:
    """Keyword arguments for :func:`mediate_matching` (without ``limits``/``time_limit``)."""
    lim = resolve(limits)
    return {
        "rewards": _matrix(function, msg, "rewards", "(n, n)", lim, square=True),
        "partners": np.asarray(msg.partners, dtype=np.int64),
        "delegate": np.asarray(msg.delegate, dtype=np.bool_),
        "mediator": enum_value(
            function, "mediator", msg.mediator, _MEDIATORS, "STRUCTURED_MEDIATOR"
        ),
    }


# -- dispatch (the servicer and the in-process client) --------------------------------------


def _planner_delegate(function: str, mediator: str, delegate: Any) -> None:
    """The central planner assigns everyone: ``delegate`` must be absent (or empty);
    every other mediator needs it."""
    if mediator == "central_planner":
        if delegate is not None and np.size(delegate) > 0:
            raise MechsolveInputError(
                function,
                "delegate",
                "must be empty for the central planner (every agent is assigned); "
                f"got {np.size(delegate)} value(s)",
            )
    elif delegate is None:
        raise MechsolveInputError(function, "delegate", f"is required for mediator={mediator!r}")


def mediate_restaurant(
    known: Any,
    capacities: Any,
    choices: Any,
    delegate: Any = None,
    *,
    mediator: str = "pareto",
    private: Any = None,
    alpha: float = 0.0,
    mediator_utility: str = "known",
    method: str | None = None,
    limits: Limits | None = None,
    time_limit: float | None = None,
) -> RestaurantResult:
    """Run one restaurant mediator (:data:`STRUCTURED_MEDIATORS`). ``method`` (default
    ``"min_cost_flow"``) selects the transportation backend and must be ``None`` for
    ``"pareto_exact"`` (a MILP)."""
    fn = "mediate_restaurant"
    kind = v.choice(fn, "mediator", mediator, STRUCTURED_MEDIATORS)
    _planner_delegate(fn, kind, delegate)
    kw: dict[str, Any] = {
        "private": private,
        "alpha": alpha,
        "mediator_utility": mediator_utility,
        "limits": limits,
        "time_limit": time_limit,
    }
    if kind == "pareto_exact":
        if method is not None:
            raise MechsolveInputError(
                fn, "method", f"does not apply to the exact mediator (a MILP); got {method!r}"
            )
        return rs.restaurant_pareto_exact(known, capacities, choices, delegate, **kw)
    kw["method"] = "min_cost_flow" if method is None else method
    if kind == "central_planner":
        return rs.restaurant_central_planner(known, capacities, choices, **kw)
    solve = rs.restaurant_pareto if kind == "pareto" else rs.restaurant_punishing
    return solve(known, capacities, choices, delegate, **kw)


def mediate_matching(
    rewards: Any,
    partners: Any,
    delegate: Any = None,
    *,
    mediator: str = "pareto",
    limits: Limits | None = None,
    time_limit: float | None = None,
) -> MatchingResult:
    """Run one matching mediator (:data:`STRUCTURED_MEDIATORS`)."""
    fn = "mediate_matching"
    kind = v.choice(fn, "mediator", mediator, STRUCTURED_MEDIATORS)
    _planner_delegate(fn, kind, delegate)
    if kind == "central_planner":
        return mt.matching_central_planner(rewards, partners, limits=limits, time_limit=time_limit)
    solve = {
        "pareto": mt.matching_pareto,
        "pareto_exact": mt.matching_pareto_exact,
        "punishing": mt.matching_punishing,
    }[kind]
    return solve(rewards, partners, delegate, limits=limits, time_limit=time_limit)


# -- results --------------------------------------------------------------------------------


def _floats(values: Any) -> NDArray[np.float64]:
    return readonly(np.asarray(values, dtype=np.float64))


def _ints(values: Any) -> NDArray[np.int64]:
    return readonly(np.asarray(values, dtype=np.int64))


def _bools(values: Any) -> NDArray[np.bool_]:
    return readonly(np.asarray(values, dtype=np.bool_))


def restaurant_result_to_proto(res: RestaurantResult) -> spb.RestaurantResult:
    return spb.RestaurantResult(
        choices=res.choices.tolist(),
        delegate=res.delegate.tolist(),
        seated=res.seated.tolist(),
        payoff_before=res.payoff_before.tolist(),
        payoff_after=res.payoff_after.tolist(),
        true_payoff_before=res.true_payoff_before.tolist(),
        true_payoff_after=res.true_payoff_after.tolist(),
        welfare_before=res.welfare_before,
        welfare_after=res.welfare_after,
        delegator_welfare_before=res.delegator_welfare_before,
        delegator_welfare_after=res.delegator_welfare_after,
        true_welfare_before=res.true_welfare_before,
        true_welfare_after=res.true_welfare_after,
        gain_over_paper=res.gain_over_paper,
        mediator_utility=_UTILITIES_BACK[res.mediator_utility],
        build_time_seconds=res.build_time_s,
        solve_time_seconds=res.solve_time_s,
        info=info_to_proto(res.info),
    )


def restaurant_result_from_proto(msg: spb.RestaurantResult) -> RestaurantResult:
    return RestaurantResult(
        choices=_ints(msg.choices),
        delegate=_bools(msg.delegate),
        seated=_bools(msg.seated),
        payoff_before=_floats(msg.payoff_before),
        payoff_after=_floats(msg.payoff_after),
        true_payoff_before=_floats(msg.true_payoff_before),
        true_payoff_after=_floats(msg.true_payoff_after),
        welfare_before=msg.welfare_before,
        welfare_after=msg.welfare_after,
        delegator_welfare_before=msg.delegator_welfare_before,
        delegator_welfare_after=msg.delegator_welfare_after,
        true_welfare_before=msg.true_welfare_before,
        true_welfare_after=msg.true_welfare_after,
        gain_over_paper=msg.gain_over_paper,
        mediator_utility=_UTILITIES.get(msg.mediator_utility, "known"),
        build_time_s=msg.build_time_seconds,
        solve_time_s=msg.solve_time_seconds,
        info=info_from_proto(msg.info),
    )


def matching_result_to_proto(res: MatchingResult) -> spb.MatchingResult:
    return spb.MatchingResult(
        partners=res.partners.tolist(),
        mates=res.mates.tolist(),
        delegate=res.delegate.tolist(),
        payoff_before=res.payoff_before.tolist(),
        payoff_after=res.payoff_after.tolist(),
        welfare_before=res.welfare_before,
        welfare_after=res.welfare_after,
        delegator_welfare_before=res.delegator_welfare_before,
        delegator_welfare_after=res.delegator_welfare_after,
        gain_over_paper=res.gain_over_paper,
        build_time_seconds=res.build_time_s,
        solve_time_seconds=res.solve_time_s,
        info=info_to_proto(res.info),
    )


def matching_result_from_proto(msg: spb.MatchingResult) -> MatchingResult:
    return MatchingResult(
        partners=_ints(msg.partners),
        mates=_ints(msg.mates),
        delegate=_bools(msg.delegate),
        payoff_before=_floats(msg.payoff_before),
        payoff_after=_floats(msg.payoff_after),
        welfare_before=msg.welfare_before,
        welfare_after=msg.welfare_after,
        delegator_welfare_before=msg.delegator_welfare_before,
        delegator_welfare_after=msg.delegator_welfare_after,
        gain_over_paper=msg.gain_over_paper,
        build_time_s=msg.build_time_seconds,
        solve_time_s=msg.solve_time_seconds,
        info=info_from_proto(msg.info),
    )
