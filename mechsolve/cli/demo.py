"""``mechsolve demo``: learning agents against a live server (see mechsolve.client.sim.demo)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser(
        "demo",
        help="learning agents against a live server: original vs Pareto vs Punishing",
        description="Start a server on a free loopback port, let epsilon-greedy agents play random "
        "normal-form games over gRPC (original game, Pareto Mediator, Punishing Mediator), print "
        "the comparison table and write a plot.",
    )
    p.add_argument("--players", type=int, default=3)
    p.add_argument("--actions", type=int, default=5)
    p.add_argument("--games", type=int, default=8, help="random U[0,1) games")
    p.add_argument("--populations", type=int, default=32, help="independent populations per game")
    p.add_argument("--rounds", type=int, default=300)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--regime",
        choices=("paper", "undelegated-start"),
        default="paper",
        help="learner settings (see mechsolve simulate --help and docs/simulations.md)",
    )
    p.add_argument("--plot", type=Path, default=Path("mechsolve-demo.png"), help="PNG to write")
    p.add_argument("--address", help="use a running server instead of starting one")
    p.add_argument("--in-process", action="store_true", help="call the solver directly (no gRPC)")
    p.add_argument("--json", type=Path, help="also write the table as JSON here")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import time

    from mechsolve.client.sim.demo import DemoConfig, format_table, run_demo
    from mechsolve.solver.core import validation as v

    for name in ("players", "actions", "games", "populations", "rounds"):
        v.positive_int(
            "demo", f"--{name}", getattr(args, name), minimum=2 if name == "actions" else 1
        )
    config = DemoConfig(
        players=args.players,
        actions=args.actions,
        games=args.games,
        populations=args.populations,
        rounds=args.rounds,
        seed=args.seed,
        regime=args.regime,
        plot=args.plot,
        address=args.address,
        in_process=args.in_process,
        progress=not args.no_progress,
    )
    start = time.perf_counter()
    res = run_demo(config)
    print(
        f"mechsolve demo: {args.games} random games, {args.players} players x {args.actions} actions, "
        f"{args.populations} populations, {args.rounds} rounds, server {res.address}"
    )
    print(format_table(res.table))
    print(f"plot: {res.plot}")
    if args.json:
        args.json.write_text(json.dumps(res.table, indent=2))
        print(f"table: {args.json}")
    print(f"done in {time.perf_counter() - start:.1f} s")
    return 0
