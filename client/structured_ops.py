"""Remote operations of ``mechsolve.v1.StructuredMediatorService``: the restaurant and matching
mediators. numpy in, the solver's :class:`~mechsolve.solver.structured.restaurant.RestaurantResult` and
:class:`~mechsolve.solver.structured.matching.MatchingResult` out."""

from __future__ import annotations

from typing import Any

from mechsolve import convert as cv
from mechsolve import convert_structured as cs
from mechsolve.solver.core import validation as v
from mechsolve.v1 import common_pb2 as cpb
from mechsolve.v1 import structured_pb2 as spb

from .operations import OperationsBase

_FN = "client"


def _floats(argument: str, value: Any) -> cpb.Tensor:
    """A float tensor; finite values checked on the client (the server checks the rest)."""
    return cv.tensor(v.float_array(_FN, argument, value, allow_empty=True))


def _vector(argument: str, value: Any) -> list[int]:
    """A 1-d integer field: ``0.5`` or ``True`` is an error, not a silent cast."""
    return v.int_array(_FN, argument, value, ndim=1, allow_empty=True).tolist()


def _delegate(value: Any) -> list[bool]:
    """Delegate bits (bools or 0/1; ``2`` is an error, not ``True``); ``None``: empty."""
    return [] if value is None else v.bool_array(_FN, "delegate", value, ndim=1).tolist()


def restaurant_request(
    known: Any,
    capacities: Any,
    choices: Any,
    delegate: Any,
    *,
    mediator: str,
    private: Any = None,
    alpha: float = 0.0,
    mediator_utility: str = "known",
    method: str | None = None,
) -> spb.MediateRestaurantRequest:
    """The MediateRestaurant request for :func:`mechsolve.convert_structured.mediate_restaurant`'s
    arguments."""
    req = spb.MediateRestaurantRequest(
        known_utilities=_floats("known", known),
        capacities=_vector("capacities", capacities),
        choices=_vector("choices", choices),
        delegate=_delegate(delegate),
        mediator=cs.structured_mediator_to_proto(mediator),
        method=cs.restaurant_method_to_proto(method),
        alpha=v.real(_FN, "alpha", alpha),
        mediator_utility=cs.mediator_utility_to_proto(mediator_utility),
    )
    if private is not None:
        req.private_utilities.CopyFrom(_floats("private", private))
    return req


def matching_request(
    rewards: Any, partners: Any, delegate: Any, *, mediator: str
) -> spb.MediateMatchingRequest:
    """The MediateMatching request for :func:`mechsolve.convert_structured.mediate_matching`'s
    arguments."""
    return spb.MediateMatchingRequest(
        rewards=_floats("rewards", rewards),
        partners=_vector("partners", partners),
        delegate=_delegate(delegate),
        mediator=cs.structured_mediator_to_proto(mediator),
    )


class StructuredOperations(OperationsBase):
    """``mechsolve.v1.StructuredMediatorService``: restaurant reservations and matching
    (seed 000 sections 4.2-4.3; docs/restaurant_matching.md). Mediators: ``"pareto"`` (the
    paper's method), ``"pareto_exact"`` (MILP), ``"punishing"``, ``"central_planner"``."""

    # -- restaurant game ----------------------------------------------------------------
    def mediate_restaurant(
        self,
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
        timeout: float | None = None,
    ) -> Any:
        """One restaurant profile -> RestaurantResult. ``delegate`` is required except for the
        central planner (which takes none); ``method`` (``"min_cost_flow"`` when ``None``,
        ``"highs_lp"``, ``"seat_assignment"``) must be ``None`` for ``"pareto_exact"``."""
        req = restaurant_request(
            known,
            capacities,
            choices,
            delegate,
            mediator=mediator,
            private=private,
            alpha=alpha,
            mediator_utility=mediator_utility,
            method=method,
        )
        return self._invoke(
            "MediateRestaurant",
            req,
            lambda r: cs.restaurant_result_from_proto(r.result),
            timeout,
        )

    def restaurant_pareto(
        self,
        known: Any,
        capacities: Any,
        choices: Any,
        delegate: Any,
        *,
        method: str = "min_cost_flow",
        **kw: Any,
    ) -> Any:
        """The paper's Pareto Mediator (eq. 4, a transportation problem) -> RestaurantResult."""
        return self.mediate_restaurant(
            known, capacities, choices, delegate, mediator="pareto", method=method, **kw
        )

    def restaurant_pareto_exact(
        self, known: Any, capacities: Any, choices: Any, delegate: Any, **kw: Any
    ) -> Any:
        """The exact Pareto Mediator (eq. 3 with congestion, MILP) -> RestaurantResult."""
        return self.mediate_restaurant(
            known, capacities, choices, delegate, mediator="pareto_exact", **kw
        )

    def restaurant_punishing(
        self,
        known: Any,
        capacities: Any,
        choices: Any,
        delegate: Any,
        *,
        method: str = "min_cost_flow",
        **kw: Any,
    ) -> Any:
        """The Punishing Mediator -> RestaurantResult."""
        return self.mediate_restaurant(
            known, capacities, choices, delegate, mediator="punishing", method=method, **kw
        )

    def restaurant_central_planner(
        self, known: Any, capacities: Any, choices: Any, *, method: str = "min_cost_flow", **kw: Any
    ) -> Any:
        """The central planner (everyone assigned) -> RestaurantResult."""
        return self.mediate_restaurant(
            known, capacities, choices, None, mediator="central_planner", method=method, **kw
        )

    # -- matching game ------------------------------------------------------------------
    def mediate_matching(
        self,
        rewards: Any,
        partners: Any,
        delegate: Any = None,
        *,
        mediator: str = "pareto",
        timeout: float | None = None,
    ) -> Any:
        """One matching profile -> MatchingResult (``delegate``: none for the central
        planner)."""
        req = matching_request(rewards, partners, delegate, mediator=mediator)
        return self._invoke(
            "MediateMatching", req, lambda r: cs.matching_result_from_proto(r.result), timeout
        )

    def matching_pareto(self, rewards: Any, partners: Any, delegate: Any, **kw: Any) -> Any:
        """The paper's Pareto Mediator (max-weight matching of unmatched delegators)."""
        return self.mediate_matching(rewards, partners, delegate, mediator="pareto", **kw)

    def matching_pareto_exact(self, rewards: Any, partners: Any, delegate: Any, **kw: Any) -> Any:
        """The exact Pareto Mediator (eq. 3, may re-match delegators) -> MatchingResult."""
        return self.mediate_matching(rewards, partners, delegate, mediator="pareto_exact", **kw)

    def matching_punishing(self, rewards: Any, partners: Any, delegate: Any, **kw: Any) -> Any:
        """The Punishing Mediator -> MatchingResult."""
        return self.mediate_matching(rewards, partners, delegate, mediator="punishing", **kw)

    def matching_central_planner(self, rewards: Any, partners: Any, **kw: Any) -> Any:
        """The central planner (max-weight matching of everyone) -> MatchingResult."""
        return self.mediate_matching(rewards, partners, None, mediator="central_planner", **kw)
