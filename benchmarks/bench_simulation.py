"""One simulated round through each mediator backend, side by side in one run.

A round is what the runner does per round: every population's profile to the Pareto
Mediator, rewards back (``Scenario.rewards``). Scenarios: a 3-player 5-action game with 32
populations (one batch call), the matching game with 80 agents and the restaurant game with
1,000 agents and 300 restaurants (one call each). Backends: in-process, gRPC unary calls and
the gRPC stream, against a server started here on loopback. The same random profiles go to
every backend and the rewards are checked equal.

Run: ``python benchmarks/bench_simulation.py [--rounds 200]``.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from mechsolve.client.sim.backends import local_server, open_backend
from mechsolve.client.sim.scenarios import MatchingScenario, NormalFormScenario, RestaurantScenario
from mechsolve.solver.games.normal_form import random_game
from mechsolve.solver.structured.matching import random_matching_instance
from mechsolve.solver.structured.restaurant import random_restaurant_instance


def scenarios() -> list[tuple[str, Any, int]]:
    return [
        ("3x5 game, 32 populations", NormalFormScenario(random_game([5, 5, 5], seed=0)), 32),
        ("matching, 80 agents", MatchingScenario(random_matching_instance(80, seed=0)), 1),
        (
            "restaurant, 1000 agents x 300",
            RestaurantScenario(random_restaurant_instance(1000, 300, alpha=2.0, seed=0)),
            1,
        ),
    ]


def profiles(scenario: Any, populations: int, rounds: int) -> list[tuple[Any, Any]]:
    rng = np.random.default_rng(1)
    shape = (populations, scenario.n_agents)
    return [
        (rng.integers(0, scenario.n_actions, shape), rng.random(shape) < 0.5) for _ in range(rounds)
    ]


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rounds", type=int, default=200)
    args = ap.parse_args()
    with local_server() as address:
        for name, scenario, populations in scenarios():
            rounds = args.rounds if populations > 1 else max(10, args.rounds // 10)
            work = profiles(scenario, populations, rounds)
            times, answers = {}, {}
            for kind in ("in-process", "grpc", "stream"):
                with open_backend(kind, None if kind == "in-process" else address) as backend:
                    scenario.rewards(backend, "pareto", *work[0])  # warm up
                    start = time.perf_counter()
                    answers[kind] = [scenario.rewards(backend, "pareto", a, d) for a, d in work]
                    times[kind] = (time.perf_counter() - start) / rounds
            for kind in ("grpc", "stream"):
                assert all(
                    np.array_equal(x, y)
                    for x, y in zip(answers[kind], answers["in-process"], strict=True)
                ), f"{kind} differs"
            base = times["in-process"]
            print(
                f"{name:32s} in-process {base * 1e3:8.2f} ms/round   "
                f"grpc {times['grpc'] * 1e3:8.2f} ms ({times['grpc'] / base:4.2f}x)   "
                f"stream {times['stream'] * 1e3:8.2f} ms ({times['stream'] / base:4.2f}x)"
            )


if __name__ == "__main__":
    main()
