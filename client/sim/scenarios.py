"""The repeated games of seed 000 section 4, as scenarios a runner (or a PettingZoo
environment) plays round after round with a mediator backend.

A scenario has ``n_agents`` agents with ``n_actions`` actions each. In a mediated arm an
agent's arm is ``action + n_actions * delegate``; :meth:`Scenario.rewards` turns every
population's ``(actions, delegate)`` into the rewards the agents are paid this round, asking
the backend for the mediator's outcome. Arms in which the agents do not choose (the central
planner) have :meth:`Scenario.fixed_rewards` instead.

- :class:`NormalFormScenario` (section 4.1, Figure 3): a game with equal action counts; the
  Pareto and Punishing Mediators of eqs. (1)-(3); rewards are the mediated outcome's payoffs.
- :class:`MatchingScenario` (section 4.2, Figure 4): each agent points at one other agent
  (``n - 1`` actions: the others in index order); a mutual pair is paid ``R[i, j]``.
- :class:`RestaurantScenario` (section 4.3, Figure 5 left): each agent reserves one of the
  restaurants; the mediators see the known utilities ``U_k`` and the agents are paid their
  true congested utility ``U_k + alpha U_u``; the central planner assigns everyone on ``U_k``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from mechsolve.solver.core import validation as v
from mechsolve.solver.core.errors import MechsolveInputError
from mechsolve.solver.games.normal_form import NormalFormGame
from mechsolve.solver.structured.matching import matching_payoffs
from mechsolve.solver.structured.restaurant import RestaurantInstance, congested_payoffs

ORIGINAL = "original"
CENTRAL_PLANNER = "central_planner"


class Scenario(Protocol):
    """A repeated game played by ``n_agents`` agents with ``n_actions`` actions each."""

    name: str
    setting: str
    n_agents: int
    n_actions: int
    arms: tuple[str, ...]

    def rewards(
        self,
        backend: Any,
        arm: str,
        actions: NDArray[np.int64],
        delegate: NDArray[np.bool_],
    ) -> NDArray[np.float64]:
        """Rewards ``(P, n)`` of every population's profile under ``arm``."""
        ...

    def fixed_rewards(self, backend: Any, arm: str) -> NDArray[np.float64] | None:
        """``(n,)`` rewards of an arm in which nobody chooses, else ``None``."""
        ...


def _check_arm(scenario: Any, arm: str) -> None:
    if arm not in scenario.arms:
        raise MechsolveInputError(
            type(scenario).__name__, "arm", f"must be one of {scenario.arms}; got {arm!r}"
        )


@dataclass(eq=False)
class NormalFormScenario:
    """A normal-form game with the same number of actions ``k`` for every player; one batch
    call per round answers every population."""

    game: NormalFormGame
    setting: str = ""
    name: str = "random-normal-form"
    arms: tuple[str, ...] = (ORIGINAL, "pareto", "punishing")

    def __post_init__(self) -> None:
        ks = set(self.game.num_actions)
        if len(ks) != 1:
            raise MechsolveInputError(
                "NormalFormScenario",
                "game",
                f"needs equal action counts; got {self.game.num_actions}",
            )
        self.n_agents = self.game.n_players
        self.n_actions = ks.pop()
        if not self.setting:
            self.setting = f"{self.n_agents}x{self.n_actions}"

    def rewards(
        self, backend: Any, arm: str, actions: NDArray[np.int64], delegate: NDArray[np.bool_]
    ) -> NDArray[np.float64]:
        _check_arm(self, arm)
        if arm == ORIGINAL:
            return np.asarray(self.game.payoffs[(slice(None), *actions.T)].T)
        res = backend.mediate_batch(self.game, actions, delegate, mediator=arm)
        return np.asarray(res.utilities_after)

    def fixed_rewards(self, backend: Any, arm: str) -> NDArray[np.float64] | None:
        return None


@dataclass(eq=False)
class MatchingScenario:
    """The matching game on rewards ``R`` (``(n, n)``, zero diagonal); agent ``i``'s action
    ``a`` points at ``a`` if ``a < i`` else ``a + 1``."""

    rewards_matrix: NDArray[np.float64]
    setting: str = ""
    name: str = "matching"
    arms: tuple[str, ...] = (ORIGINAL, "pareto", "punishing")

    def __post_init__(self) -> None:
        fn = "MatchingScenario"
        self.rewards_matrix = v.float_array(
            fn, "rewards_matrix", self.rewards_matrix, ndim=2, min_value=0.0
        )
        shape = self.rewards_matrix.shape
        if shape[0] != shape[1] or shape[0] < 2:
            raise MechsolveInputError(
                fn, "rewards_matrix", f"must be square (n, n) with n >= 2; got shape {shape}"
            )
        self.n_agents = int(shape[0])
        self.n_actions = self.n_agents - 1
        if not self.setting:
            self.setting = f"n={self.n_agents}"

    def partners(self, actions: NDArray[np.int64]) -> NDArray[np.int64]:
        return actions + (actions >= np.arange(self.n_agents))

    def rewards(
        self, backend: Any, arm: str, actions: NDArray[np.int64], delegate: NDArray[np.bool_]
    ) -> NDArray[np.float64]:
        _check_arm(self, arm)
        partners = self.partners(actions)
        if arm == ORIGINAL:
            return np.stack([matching_payoffs(self.rewards_matrix, p) for p in partners])
        return np.stack(
            [
                np.asarray(
                    backend.mediate_matching(
                        self.rewards_matrix, p, d, mediator=arm
                    ).utilities_after
                )
                for p, d in zip(partners, delegate, strict=True)
            ]
        )

    def fixed_rewards(self, backend: Any, arm: str) -> NDArray[np.float64] | None:
        return None


@dataclass(eq=False)
class RestaurantScenario:
    """The restaurant game of ``instance``; the mediators optimize the known utilities, the
    agents are paid the true ones (``private`` and ``alpha`` of the instance)."""

    instance: RestaurantInstance
    setting: str = ""
    name: str = "restaurant"
    arms: tuple[str, ...] = (ORIGINAL, "pareto", "punishing", CENTRAL_PLANNER)
    _planner: list[tuple[Any, NDArray[np.float64]]] = field(
        default_factory=list, init=False, repr=False
    )

    def __post_init__(self) -> None:
        if not isinstance(self.instance, RestaurantInstance):
            raise MechsolveInputError(
                "RestaurantScenario", "instance",
                f"must be a RestaurantInstance; got {type(self.instance).__name__}",
            )  # fmt: skip
        self.n_agents = self.instance.n_agents
        self.n_actions = self.instance.n_restaurants
        if not self.setting:
            self.setting = f"alpha={self.instance.alpha:g}"

    def rewards(
        self, backend: Any, arm: str, actions: NDArray[np.int64], delegate: NDArray[np.bool_]
    ) -> NDArray[np.float64]:
        _check_arm(self, arm)
        inst = self.instance
        if arm == ORIGINAL:
            true = inst.true_utilities
            return np.stack([congested_payoffs(true, inst.capacities, a) for a in actions])
        if arm == CENTRAL_PLANNER:
            fixed = self.fixed_rewards(backend, arm)
            assert fixed is not None
            return np.broadcast_to(fixed, actions.shape).copy()
        out = []
        for a, d in zip(actions, delegate, strict=True):
            res = backend.mediate_restaurant(
                inst.known, inst.capacities, a, d, mediator=arm,
                private=inst.private, alpha=inst.alpha, mediator_utility="known",
            )  # fmt: skip
            out.append(np.asarray(res.true_utilities_after))
        return np.stack(out)

    def fixed_rewards(self, backend: Any, arm: str) -> NDArray[np.float64] | None:
        """The central planner's assignment of everyone on ``U_k`` (seed 000, "the solution
        to (4) with D = P"), paid in true utilities; computed once."""
        if arm != CENTRAL_PLANNER:
            return None
        for known_backend, rewards in self._planner:
            if known_backend is backend:
                return rewards
        inst = self.instance
        res = backend.restaurant_central_planner(
            inst.known, inst.capacities, np.zeros(inst.n_agents, dtype=np.int64),
            private=inst.private, alpha=inst.alpha, mediator_utility="known",
        )  # fmt: skip
        self._planner.append((backend, np.asarray(res.true_utilities_after)))
        return self._planner[-1][1]
