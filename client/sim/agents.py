"""Learning agents (seed 000 section 4): independent epsilon-greedy learners with
``epsilon_t = 1/t`` and sample-average value estimates.

Vectorized over ``P`` independent populations of ``n`` agents, each choosing among ``A`` arms.
In a mediated game an agent's arm is its mediated strategy ``action + k * delegate`` (the
Table 1 layout), so ``A = 2k``; in the original game ``A = k``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from mechsolve.solver.core import validation as v


class EpsilonGreedy:
    """``P x n`` epsilon-greedy agents over ``A`` arms.

    At round ``t >= 1`` each agent explores (a uniformly random arm) with probability ``1/t``,
    otherwise plays an arm with the highest sample-average reward (ties broken at random).
    Arms never played are valued ``initial_value`` (0, as in Sutton and Barto's simple bandit
    algorithm; set it high for optimistic exploration).
    """

    def __init__(
        self,
        populations: int,
        n_agents: int,
        n_arms: int,
        seed: int | np.random.Generator | None = None,
        *,
        initial_value: float = 0.0,
    ) -> None:
        fn = "EpsilonGreedy"
        self.populations = v.positive_int(fn, "populations", populations)
        self.n_agents = v.positive_int(fn, "n_agents", n_agents)
        self.n_arms = v.positive_int(fn, "n_arms", n_arms)
        self.rng = v.rng(fn, seed)
        shape = (self.populations, self.n_agents, self.n_arms)
        self.sums = np.zeros(shape)
        self.counts = np.zeros(shape, dtype=np.int64)
        self.t = 0
        self.initial_value = v.real(fn, "initial_value", initial_value)

    @property
    def values(self) -> NDArray[np.float64]:
        """Sample-average reward per arm (``initial_value`` for arms never played)."""
        played = self.counts > 0
        return np.where(played, self.sums / np.maximum(self.counts, 1), self.initial_value)

    def act(self) -> NDArray[np.int64]:
        """Arms for this round, shape ``(P, n)``; advances ``t``."""
        self.t += 1
        vals = self.values
        noise = self.rng.random(vals.shape)  # random tie-breaking among the best arms
        best = vals == vals.max(axis=2, keepdims=True)
        greedy = np.argmax(np.where(best, noise, -1.0), axis=2)
        explore = self.rng.random((self.populations, self.n_agents)) < 1.0 / self.t
        random_arm = self.rng.integers(0, self.n_arms, (self.populations, self.n_agents))
        return np.where(explore, random_arm, greedy).astype(np.int64)

    def update(self, arms: NDArray[np.int64], rewards: NDArray[np.float64]) -> None:
        """Record ``rewards`` (shape ``(P, n)``) for the ``arms`` just played."""
        p, i = np.indices(arms.shape)
        np.add.at(self.sums, (p, i, arms), rewards)
        np.add.at(self.counts, (p, i, arms), 1)
