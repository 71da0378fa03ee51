"""``StructuredMediatorService`` in-process: the restaurant and matching mediators with the
same methods as :class:`~.structured_ops.StructuredOperations`, calling the solver directly."""

from __future__ import annotations

from typing import Any

from mechsolve import convert_structured as cs
from mechsolve.solver.core.limits import Limits
from mechsolve.solver.structured import matching as mt
from mechsolve.solver.structured import restaurant as rs


class LocalStructured:
    """Restaurant and matching mediators in-process (``self.limits``; ``timeout`` is the
    solver's time limit)."""

    limits: Limits | None

    # -- restaurant game ----------------------------------------------------------------
    def mediate_restaurant(
        self,
        known: Any,
        capacities: Any,
        choices: Any,
        delegate: Any = None,
        *,
        timeout: float | None = None,
        **kw: Any,
    ) -> Any:
        return cs.mediate_restaurant(
            known, capacities, choices, delegate, time_limit=timeout, limits=self.limits, **kw
        )

    def restaurant_pareto(
        self,
        known: Any,
        capacities: Any,
        choices: Any,
        delegate: Any,
        *,
        timeout: float | None = None,
        **kw: Any,
    ) -> Any:
        return rs.restaurant_pareto(
            known, capacities, choices, delegate, time_limit=timeout, limits=self.limits, **kw
        )

    def restaurant_pareto_exact(
        self,
        known: Any,
        capacities: Any,
        choices: Any,
        delegate: Any,
        *,
        timeout: float | None = None,
        **kw: Any,
    ) -> Any:
        return rs.restaurant_pareto_exact(
            known, capacities, choices, delegate, time_limit=timeout, limits=self.limits, **kw
        )

    def restaurant_punishing(
        self,
        known: Any,
        capacities: Any,
        choices: Any,
        delegate: Any,
        *,
        timeout: float | None = None,
        **kw: Any,
    ) -> Any:
        return rs.restaurant_punishing(
            known, capacities, choices, delegate, time_limit=timeout, limits=self.limits, **kw
        )

    def restaurant_central_planner(
        self, known: Any, capacities: Any, choices: Any, *, timeout: float | None = None, **kw: Any
    ) -> Any:
        return rs.restaurant_central_planner(
            known, capacities, choices, time_limit=timeout, limits=self.limits, **kw
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
        return cs.mediate_matching(
            rewards, partners, delegate, mediator=mediator, time_limit=timeout, limits=self.limits
        )

    def matching_pareto(
        self, rewards: Any, partners: Any, delegate: Any, *, timeout: float | None = None
    ) -> Any:
        return mt.matching_pareto(
            rewards, partners, delegate, time_limit=timeout, limits=self.limits
        )

    def matching_pareto_exact(
        self, rewards: Any, partners: Any, delegate: Any, *, timeout: float | None = None
    ) -> Any:
        return mt.matching_pareto_exact(
            rewards, partners, delegate, time_limit=timeout, limits=self.limits
        )

    def matching_punishing(
        self, rewards: Any, partners: Any, delegate: Any, *, timeout: float | None = None
    ) -> Any:
        return mt.matching_punishing(
            rewards, partners, delegate, time_limit=timeout, limits=self.limits
        )

    def matching_central_planner(
        self, rewards: Any, partners: Any, *, timeout: float | None = None
    ) -> Any:
        return mt.matching_central_planner(
            rewards, partners, time_limit=timeout, limits=self.limits
        )
