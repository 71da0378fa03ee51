"""Repeated play of a normal-form game by epsilon-greedy populations, with or without a mediator
(seed 000 section 4.1, Figure 3).

Each round every population of ``n`` agents picks a profile; in a mediated arm the simulation
asks the mediator (any object with ``mediate_batch``: the gRPC client or the in-process
:class:`~.local.LocalMechsolve`) for all populations in one batch call, and pays the true
utilities of the mediated outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from mechsolve.solver.core import validation as v
from mechsolve.solver.core.errors import MechsolveInputError
from mechsolve.solver.games.normal_form import NormalFormGame

from .agents import EpsilonGreedy

ARMS = ("original", "pareto", "punishing", "central_planner")


class BatchMediator(Protocol):
    def mediate_batch(self, game: Any, actions: Any, delegate: Any, **kw: Any) -> Any: ...


@dataclass(frozen=True, eq=False)
class SimulationTrace:
    """Per-round metrics of one arm (averaged over populations).

    Attributes:
        arm: ``"original"``, ``"pareto"``, ``"punishing"`` or ``"central_planner"``.
        mean_reward: mean reward per agent, shape ``(rounds,)``.
        min_reward: the worst-off agent's reward (mean over populations).
        share_delegating: fraction of agents delegating (0 in the original game).
    """

    arm: str
    mean_reward: NDArray[np.float64]
    min_reward: NDArray[np.float64]
    share_delegating: NDArray[np.float64]


def simulate(
    api: BatchMediator,
    game: NormalFormGame,
    arm: str,
    *,
    rounds: int,
    populations: int,
    seed: int | None = None,
    on_round: Callable[[], None] | None = None,
    welfare: str = "utilitarian",
) -> SimulationTrace:
    """Play ``rounds`` rounds of ``game`` under ``arm`` with ``populations`` populations."""
    fn = "simulate"
    arm = v.choice(fn, "arm", arm, ARMS)
    rounds = v.positive_int(fn, "rounds", rounds)
    populations = v.positive_int(fn, "populations", populations)
    n = game.n_players
    ks = np.asarray(game.num_actions, dtype=np.int64)
    if arm != "original" and len(set(ks.tolist())) != 1:
        raise MechsolveInputError(
            fn, "game", f"mediated arms need equal action counts; got {tuple(ks)}"
        )
    k = int(ks[0])
    mediated = arm != "original"
    agents = EpsilonGreedy(populations, n, 2 * k if mediated else k, seed)
    mean = np.empty(rounds)
    low = np.empty(rounds)
    share = np.empty(rounds)
    for t in range(rounds):
        arms = agents.act()
        actions = arms % k
        delegate = arms >= k
        if mediated:
            res = api.mediate_batch(game, actions, delegate, mediator=arm, welfare=welfare)
            rewards = np.asarray(res.utilities_after)
        else:
            rewards = game.payoffs[(slice(None), *actions.T)].T
        agents.update(arms, rewards)
        mean[t] = rewards.mean()
        low[t] = rewards.min(axis=1).mean()
        share[t] = delegate.mean()
        if on_round is not None:
            on_round()
    return SimulationTrace(arm, mean, low, share)
