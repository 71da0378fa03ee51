"""``mechsolve demo``: learning agents against a live mechsolve server.

Starts the server in this process on a free loopback port (unless ``address`` names a running
one), then for each of ``games`` random U[0, 1) games lets ``populations`` populations of
learners play ``rounds`` rounds in three arms: the original game, the Pareto-mediated game and
the Punishing-mediated game, asking the server for the mediated outcomes over gRPC every
round. Prints a comparison table and writes a PNG plot (seed 000 Figure 3). The full
experiments are ``mechsolve simulate`` (docs/simulations.md).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from .agents import REGIMES
from .backends import local_server
from .experiments import RandomNormalForm
from .report import plot_rounds, summarize
from .runner import RunConfig, Trace, run

DEMO_ARMS = ("original", "pareto", "punishing")


@dataclass(frozen=True)
class DemoConfig:
    players: int = 3
    actions: int = 5
    games: int = 8
    populations: int = 32
    rounds: int = 300
    seed: int = 0
    regime: str = "paper"
    plot: Path | None = Path("mechsolve-demo.png")
    address: str | None = None
    in_process: bool = False
    progress: bool = True


@dataclass(frozen=True, eq=False)
class DemoResult:
    """The traces (one per game and arm), the summary table rows and the plot."""

    traces: list[Trace]
    table: list[dict[str, Any]]
    plot: Path | None
    address: str


def run_demo(config: DemoConfig) -> DemoResult:
    """Run the demo (see the module docstring)."""
    experiment = RandomNormalForm(sizes=((config.players, config.actions),), games=config.games)
    run_config = RunConfig(
        rounds=config.rounds,
        populations=config.populations,
        learner=REGIMES[config.regime],
        backend="in-process" if config.in_process else "grpc",
        address=config.address,
        progress=config.progress,
    )
    with contextlib.ExitStack() as stack:
        if not config.in_process and config.address is None:
            run_config = replace(run_config, address=stack.enter_context(local_server()))
        traces = run(experiment, run_config, [config.seed])
    table = [_row(r, traces) for r in summarize(traces)]
    title = (
        f"{config.regime} learners, {config.games} random games, "
        f"{config.players} players x {config.actions} actions"
    )
    plot = plot_rounds(traces, config.plot, title) if config.plot else None
    where = "in-process" if config.in_process else str(run_config.address)
    return DemoResult(traces, table, plot, where)


def _row(summary: Any, traces: list[Trace]) -> dict[str, Any]:
    mine = [t for t in traces if t.arm == summary.arm]
    return {
        "arm": summary.arm,
        "mean_reward": float(np.mean([t.mean_reward.mean() for t in mine])),
        "final_mean_reward": summary.mean_reward,
        "min_reward": float(np.mean([t.min_reward.mean() for t in mine])),
        "share_delegating": float(np.mean([t.share_delegating.mean() for t in mine])),
        "final_share_delegating": summary.share_delegating,
    }


def format_table(table: list[dict[str, Any]]) -> str:
    head = (
        f"{'arm':<10} {'mean reward':>12} {'final reward':>13} {'min reward':>11} "
        f"{'delegating':>11} {'final deleg.':>13}"
    )
    lines = [head, "-" * len(head)]
    for r in table:
        lines.append(
            f"{r['arm']:<10} {r['mean_reward']:>12.4f} {r['final_mean_reward']:>13.4f} "
            f"{r['min_reward']:>11.4f} {r['share_delegating']:>10.1%} "
            f"{r['final_share_delegating']:>12.1%}"
        )
    return "\n".join(lines)
