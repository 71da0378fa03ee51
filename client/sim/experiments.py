"""The three simulations of seed 000 section 4, as experiments :func:`.runner.run` plays.

Every instance is drawn from the seed and the instance's index, so every arm and every
backend sees the same games, and a seed replays exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mechsolve.solver.core import validation as v
from mechsolve.solver.core.errors import MechsolveInputError
from mechsolve.solver.games.normal_form import random_game
from mechsolve.solver.structured.matching import random_matching_instance
from mechsolve.solver.structured.restaurant import random_restaurant_instance

from .scenarios import MatchingScenario, NormalFormScenario, RestaurantScenario, Scenario


def _gen(*key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(list(key)))


def parse_size(text: str) -> tuple[int, int]:
    """``"3x5"`` -> ``(3, 5)`` (players x actions)."""
    players, sep, actions = text.partition("x")
    try:
        size = (int(players), int(actions))
    except ValueError:
        size = (0, 0)
    if not sep or size[0] < 2 or size[1] < 2:
        raise MechsolveInputError(
            "simulate", "--sizes", f"must be PLAYERSxACTIONS, both >= 2 (e.g. 3x5); got {text!r}"
        )
    return size


@dataclass(frozen=True)
class RandomNormalForm:
    """Figure 3: ``games`` random U[0, 1) games per size (players x actions) and seed; arms
    original, Pareto, Punishing."""

    sizes: tuple[tuple[int, int], ...] = ((2, 2), (3, 5), (4, 5))
    games: int = 4
    name: str = "random-normal-form"

    def scenarios(self, seed: int) -> list[tuple[int, Scenario]]:
        out: list[tuple[int, Scenario]] = []
        for s, (n, k) in enumerate(self.sizes):
            for g in range(v.positive_int(self.name, "games", self.games)):
                game = random_game([k] * n, seed=_gen(seed, 3, s, g))
                out.append((g, NormalFormScenario(game)))
        return out

    def arms(self, scenario: Scenario) -> tuple[str, ...]:
        return scenario.arms


@dataclass(frozen=True)
class Matching:
    """Figure 4: the matching game with each number of agents (rewards U[0, 1)); arms
    original, Pareto, Punishing."""

    agents: tuple[int, ...] = (10, 20, 40, 80)
    instances: int = 1
    name: str = "matching"

    def scenarios(self, seed: int) -> list[tuple[int, Scenario]]:
        return [
            (i, MatchingScenario(random_matching_instance(n, seed=_gen(seed, 4, n, i))))
            for n in self.agents
            for i in range(v.positive_int(self.name, "instances", self.instances))
        ]

    def arms(self, scenario: Scenario) -> tuple[str, ...]:
        return scenario.arms


@dataclass(frozen=True)
class Restaurant:
    """Figure 5 (left): ``restaurants`` restaurants with capacities uniform on
    ``1..max_capacity``, one instance per ``alpha`` (synthetic ``U_k, U_u ~ U[0, 1)``, or the
    Yelp selection when ``yelp`` names the business and review files); arms original, Pareto,
    Punishing, central planner."""

    agents: int = 1000
    restaurants: int = 300
    max_capacity: int = 10
    alphas: tuple[float, ...] = (0.0, 2.0)
    yelp: tuple[Path, Path] | None = None
    instances: int = 1
    name: str = "restaurant"
    _yelp_data: list[Any] = field(default_factory=list, compare=False, repr=False)

    def scenarios(self, seed: int) -> list[tuple[int, Scenario]]:
        out: list[tuple[int, Scenario]] = []
        for a, alpha in enumerate(self.alphas):
            for i in range(v.positive_int(self.name, "instances", self.instances)):
                gen = _gen(seed, 5, a, i)
                if self.yelp is None:
                    inst = random_restaurant_instance(
                        self.agents, self.restaurants, max_capacity=self.max_capacity,
                        alpha=alpha, seed=gen,
                    )  # fmt: skip
                else:
                    inst = self._yelp_instance(alpha, gen)
                out.append((i, RestaurantScenario(inst)))
        return out

    def _yelp_instance(self, alpha: float, gen: np.random.Generator) -> Any:
        from mechsolve.solver.structured.yelp import load_yelp, yelp_restaurant_instance

        assert self.yelp is not None
        if not self._yelp_data:
            self._yelp_data.append(load_yelp(*self.yelp))
        return yelp_restaurant_instance(
            self._yelp_data[0], alpha=alpha, max_capacity=self.max_capacity, seed=gen
        )

    def arms(self, scenario: Scenario) -> tuple[str, ...]:
        return scenario.arms


EXPERIMENTS = {
    "random-normal-form": RandomNormalForm,
    "matching": Matching,
    "restaurant": Restaurant,
}
