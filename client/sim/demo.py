"""``mechsolve demo``: learning agents against a live mechsolve server.

Starts the server in this process on a free loopback port (unless ``address`` names a running
one), then for each of ``games`` random U[0,1) games lets ``populations`` populations of
epsilon-greedy agents play ``rounds`` rounds in three arms: the original game, the Pareto-
mediated game and the Punishing-mediated game, asking the server for the mediated outcomes
over gRPC every round. Prints a comparison table and writes a PNG plot (seed 000 Figure 3).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mechsolve.solver.games.normal_form import random_game

from .simulation import SimulationTrace, simulate

DEMO_ARMS = ("original", "pareto", "punishing")


@dataclass(frozen=True)
class DemoConfig:
    players: int = 3
    actions: int = 5
    games: int = 8
    populations: int = 32
    rounds: int = 300
    seed: int = 0
    plot: Path = Path("mechsolve-demo.png")
    address: str | None = None
    in_process: bool = False
    progress: bool = True


@dataclass(frozen=True, eq=False)
class DemoResult:
    """Per-arm traces averaged over games, and the summary table rows."""

    traces: dict[str, SimulationTrace]
    table: list[dict[str, Any]]
    plot: Path | None
    address: str


@contextlib.contextmanager
def _api(config: DemoConfig) -> Iterator[tuple[Any, str]]:
    if config.in_process:
        from ..local import LocalMechsolve

        yield LocalMechsolve(), "in-process"
        return
    from ..grpc_client import MechsolveClient

    if config.address is not None:
        with MechsolveClient(config.address) as client:
            client.wait_until_serving()
            yield client, config.address
        return
    from mechsolve.server.app import build_server
    from mechsolve.server.config import ServerConfig
    from mechsolve.server.logs import configure

    configure("text", "WARNING")  # keep the demo's output to the table
    running = build_server(ServerConfig(port=0))
    try:
        with MechsolveClient(running.address) as client:
            client.wait_until_serving()
            yield client, running.address
    finally:
        running.stop(grace=1.0)


def _mean_trace(arm: str, traces: list[SimulationTrace]) -> SimulationTrace:
    stack = lambda name: np.mean([getattr(t, name) for t in traces], axis=0)  # noqa: E731
    return SimulationTrace(
        arm, stack("mean_reward"), stack("min_reward"), stack("share_delegating")
    )


def run_demo(config: DemoConfig) -> DemoResult:
    """Run the demo (see the module docstring)."""
    from tqdm import tqdm

    ks = [config.actions] * config.players
    games = [random_game(ks, seed=config.seed + g) for g in range(config.games)]
    total = config.games * len(DEMO_ARMS) * config.rounds
    per_arm: dict[str, list[SimulationTrace]] = {arm: [] for arm in DEMO_ARMS}
    with (
        _api(config) as (api, address),
        tqdm(
            total=total, desc="rounds", unit="round", disable=not config.progress, leave=False
        ) as bar,
    ):
        for g, game in enumerate(games):
            for arm in DEMO_ARMS:
                per_arm[arm].append(
                    simulate(
                        api,
                        game,
                        arm,
                        rounds=config.rounds,
                        populations=config.populations,
                        seed=config.seed * 1000 + g,
                        on_round=lambda: bar.update(1),
                    )
                )
    traces = {arm: _mean_trace(arm, ts) for arm, ts in per_arm.items()}
    table = [_row(traces[arm]) for arm in DEMO_ARMS]
    plot = _plot(traces, config) if config.plot else None
    return DemoResult(traces, table, plot, address)


def _row(trace: SimulationTrace) -> dict[str, Any]:
    last = max(1, len(trace.mean_reward) // 5)  # the final fifth of the rounds
    return {
        "arm": trace.arm,
        "mean_reward": float(trace.mean_reward.mean()),
        "final_mean_reward": float(trace.mean_reward[-last:].mean()),
        "min_reward": float(trace.min_reward.mean()),
        "share_delegating": float(trace.share_delegating.mean()),
        "final_share_delegating": float(trace.share_delegating[-last:].mean()),
    }


def format_table(table: list[dict[str, Any]]) -> str:
    head = f"{'arm':<10} {'mean reward':>12} {'final reward':>13} {'min reward':>11} {'delegating':>11} {'final deleg.':>13}"
    lines = [head, "-" * len(head)]
    for r in table:
        lines.append(
            f"{r['arm']:<10} {r['mean_reward']:>12.4f} {r['final_mean_reward']:>13.4f} "
            f"{r['min_reward']:>11.4f} {r['share_delegating']:>10.1%} {r['final_share_delegating']:>12.1%}"
        )
    return "\n".join(lines)


def _smooth(x: NDArray[np.float64], window: int = 10) -> NDArray[np.float64]:
    w = max(1, min(window, len(x)))
    return np.convolve(x, np.ones(w) / w, mode="valid")


def _plot(traces: dict[str, SimulationTrace], config: DemoConfig) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 6), sharex=True)
    for k, (arm, tr) in enumerate(traces.items()):
        color = f"C{k}"  # one colour per arm in both panels
        top.plot(_smooth(tr.mean_reward), label=arm, color=color)
        if arm != "original":
            bottom.plot(_smooth(tr.share_delegating), label=arm, color=color)
    top.set_ylabel("mean reward per agent")
    top.set_title(
        f"epsilon-greedy agents, {config.games} random games, "
        f"{config.players} players x {config.actions} actions"
    )
    top.legend()
    bottom.set_ylabel("share delegating")
    bottom.set_xlabel("round")
    bottom.set_ylim(0, 1)
    bottom.legend()
    fig.tight_layout()
    config.plot.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(config.plot, dpi=110)
    plt.close(fig)
    return config.plot
