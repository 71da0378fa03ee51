"""Playing scenarios round after round with learning agents and a mediator backend.

:func:`play` runs one arm of one scenario: each round the learners pick arms, the scenario
pays them (one backend call per round for every population of a normal-form game), and the
round's total reward, mean reward, the worst-off agent's reward and the share delegating are
recorded (means over populations). ``warm_start = W`` offers delegation from round W on: before
it the delegate arms are unavailable and the original game is played.

:func:`run` runs an :class:`Experiment` (settings x instances x arms, per seed), seeds in
parallel processes, with a progress bar, and returns :class:`Trace` records; :mod:`.report`
writes them to Parquet and summarizes them.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from mechsolve.solver.core import validation as v

from .agents import LearnerSpec
from .backends import open_backend
from .scenarios import ORIGINAL, Scenario


@dataclass(frozen=True, eq=False)
class Trace:
    """Per-round metrics of one arm on one instance for one seed (means over populations).

    Attributes:
        scenario, setting: the scenario's name and setting (``"3x5"``, ``"n=20"``,
            ``"alpha=2"``).
        instance: which instance of the setting (games per seed).
        arm: ``"original"``, a mediator, or ``"central_planner"``.
        seed: the seed.
        total_reward: the agents' total reward per round, shape ``(rounds,)``.
        mean_reward: mean reward per agent.
        min_reward: the worst-off agent's reward.
        share_delegating: fraction of agents delegating (0 in the original game, 1 for the
            central planner, who assigns everyone).
    """

    scenario: str
    setting: str
    instance: int
    arm: str
    seed: int
    total_reward: NDArray[np.float64]
    mean_reward: NDArray[np.float64]
    min_reward: NDArray[np.float64]
    share_delegating: NDArray[np.float64]


def play(
    scenario: Scenario,
    arm: str,
    learner: LearnerSpec,
    *,
    backend: Any,
    rounds: int,
    populations: int = 1,
    seed: int = 0,
    warm_start: int = 0,
    instance: int = 0,
    on_round: Callable[[], None] | None = None,
) -> Trace:
    """Play ``rounds`` rounds of ``scenario`` under ``arm`` (module docstring)."""
    fn = "play"
    rounds = v.positive_int(fn, "rounds", rounds)
    populations = v.positive_int(fn, "populations", populations)
    warm_start = v.positive_int(fn, "warm_start", warm_start, minimum=0)
    n, k = scenario.n_agents, scenario.n_actions
    seed = v.positive_int(fn, "seed", seed, minimum=0)
    metrics = np.empty((4, rounds))
    fixed = scenario.fixed_rewards(backend, arm)
    if fixed is not None:
        metrics[:] = np.array([[fixed.sum()], [fixed.mean()], [fixed.min()], [1.0]])
        for _ in range(rounds):
            if on_round is not None:
                on_round()
        return Trace(scenario.name, scenario.setting, instance, arm, seed, *metrics)
    mediated = arm != ORIGINAL
    # the same learner randomness in every arm of an instance (common random numbers)
    agents = learner.make(populations, n, 2 * k if mediated else k, _stream(seed, instance))
    undelegated = np.arange(2 * k if mediated else k) < k
    for t in range(rounds):
        offered = mediated and t + 1 >= warm_start
        arms = agents.act(None if offered or not mediated else undelegated)
        actions, delegate = arms % k, arms >= k
        rewards = scenario.rewards(backend, arm if offered else ORIGINAL, actions, delegate)
        agents.update(arms, rewards)
        metrics[:, t] = (
            rewards.sum(axis=1).mean(),
            rewards.mean(),
            rewards.min(axis=1).mean(),
            delegate.mean(),
        )
        if on_round is not None:
            on_round()
    return Trace(scenario.name, scenario.setting, instance, arm, seed, *metrics)


def _stream(seed: int, instance: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, instance]))


class Experiment(Protocol):
    """A set of runs: what to play for each seed (picklable: seeds run in other processes)."""

    @property
    def name(self) -> str: ...

    def scenarios(self, seed: int) -> list[tuple[int, Scenario]]:
        """``(instance, scenario)`` pairs of this seed, every setting."""
        ...

    def arms(self, scenario: Scenario) -> Sequence[str]: ...


@dataclass(frozen=True)
class RunConfig:
    """How to run an experiment: rounds, populations per instance, learners, warm start, the
    backend (``kind`` and ``address``; remote kinds without an address start a local server),
    and how many processes run seeds in parallel."""

    rounds: int = 300
    populations: int = 8
    learner: LearnerSpec = field(default_factory=LearnerSpec)
    warm_start: int = 0
    backend: str = "in-process"
    address: str | None = None
    processes: int = 1
    progress: bool = True


def _seed_runs(
    experiment: Experiment, config: RunConfig, seed: int, tick: Callable[[int], None]
) -> list[Trace]:
    settings: dict[str, Any] = {
        "rounds": config.rounds,
        "populations": config.populations,
        "warm_start": config.warm_start,
        "seed": seed,
        "on_round": lambda: tick(1),
    }
    out = []
    with open_backend(config.backend, config.address) as backend:
        for instance, scenario in experiment.scenarios(seed):
            for arm in experiment.arms(scenario):
                out.append(
                    play(
                        scenario,
                        arm,
                        config.learner,
                        backend=backend,
                        instance=instance,
                        **settings,
                    )
                )
    return out


def _worker(experiment: Experiment, config: RunConfig, seed: int, queue: Any) -> list[Trace]:
    pending = [0]

    def tick(n: int) -> None:
        pending[0] += n
        if pending[0] >= 10:
            queue.put(pending[0])
            pending[0] = 0

    try:
        return _seed_runs(experiment, config, seed, tick)
    finally:
        queue.put(pending[0])


def total_rounds(experiment: Experiment, config: RunConfig, seeds: Sequence[int]) -> int:
    per_seed = sum(len(experiment.arms(s)) for _, s in experiment.scenarios(seeds[0]))
    return per_seed * config.rounds * len(seeds)


def run(experiment: Experiment, config: RunConfig, seeds: Sequence[int]) -> list[Trace]:
    """Every seed of ``experiment`` (in ``config.processes`` processes), with a progress bar of
    rounds played; traces in seed order."""
    from tqdm import tqdm

    seeds = [int(s) for s in seeds]
    bar = tqdm(
        total=total_rounds(experiment, config, seeds),
        unit="round",
        desc=f"{experiment.name} ({config.backend})",
        disable=not config.progress,
        smoothing=0.05,
    )
    with bar, _server_for(config) as config:
        if config.processes <= 1 or len(seeds) == 1:
            return [t for s in seeds for t in _seed_runs(experiment, config, s, bar.update)]
        ctx = mp.get_context("spawn")
        with (
            ctx.Manager() as manager,
            cf.ProcessPoolExecutor(min(config.processes, len(seeds)), mp_context=ctx) as pool,
        ):
            queue = manager.Queue()
            drain = threading.Thread(target=_drain, args=(queue, bar), daemon=True)
            drain.start()
            futures = [pool.submit(_worker, experiment, config, s, queue) for s in seeds]
            traces = [t for f in futures for t in f.result()]
            queue.put(None)
            drain.join()
            return traces


def _drain(queue: Any, bar: Any) -> None:
    while (n := queue.get()) is not None:
        bar.update(n)


class _server_for:
    """A remote backend without an address gets one server for every seed process."""

    def __init__(self, config: RunConfig) -> None:
        self.config = config
        self._ctx: Any = None

    def __enter__(self) -> RunConfig:
        if self.config.backend == "in-process" or self.config.address is not None:
            return self.config
        from dataclasses import replace

        from .backends import local_server

        self._ctx = local_server()
        return replace(self.config, address=self._ctx.__enter__())

    def __exit__(self, *exc: Any) -> None:
        if self._ctx is not None:
            self._ctx.__exit__(*exc)
