"""``mechsolve simulate NAME``: the learning-agent experiments of the seeds. This module holds
seed 000 section 4 (docs/simulations.md); every other experiment has its own module
``simulate_<name>.py`` whose ``add_parser`` adds its sub-command (:data:`EXPERIMENTS`)."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import time
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

NAMES = ("random-normal-form", "matching", "restaurant")
EXPERIMENTS = (
    "simulate_amd",
    "simulate_pgg",
    "simulate_fair_leaders",
    "simulate_normative",
    "simulate_policy_budget",
)
"""The modules of the other seeds' experiments (seeds 001-004), one sub-command each."""


def output_options(p: argparse._ActionsContainer, name: str, plots: str = "the PNG plots") -> None:
    """``--out``, ``--no-plot``, ``--no-progress``: where every experiment writes, and what it
    shows while it runs."""
    p.add_argument("--out", type=Path, help=f"output folder (default out/simulate/{name})")
    p.add_argument("--no-plot", action="store_true", help=f"skip {plots}")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def output_folder(args: argparse.Namespace, name: str) -> Path:
    """``--out``, or ``out/simulate/NAME``."""
    return Path(args.out) if args.out else Path("out") / "simulate" / name


def finish(summary: str, written: list[Path]) -> int:
    """Print the summary and the files written; the exit status 0."""
    print(summary)
    for path in written:
        print(f"wrote {path}")
    return 0


def _common(p: argparse.ArgumentParser, rounds: int, seeds: int, populations: int) -> None:
    g = p.add_argument_group("run")
    g.add_argument("--rounds", type=int, default=rounds, help=f"rounds per run (default {rounds})")
    g.add_argument("--seeds", type=int, default=seeds, help=f"seeds 0..N-1 (default {seeds})")
    g.add_argument(
        "--populations",
        type=int,
        default=populations,
        help=f"independent populations per instance (default {populations})",
    )
    g.add_argument(
        "--processes",
        type=int,
        default=os.cpu_count() or 1,
        help="seeds run in this many processes (default: the cores)",
    )
    g.add_argument(
        "--backend",
        choices=("in-process", "grpc", "stream"),
        default="in-process",
        help="where the mediator runs (grpc/stream: --address, or a server started here)",
    )
    g.add_argument("--address", help="a running mechsolve server (implies --backend grpc)")
    output_options(g, "NAME")
    a = p.add_argument_group("learners (what the paper leaves open)")
    a.add_argument(
        "--regime",
        choices=("paper", "undelegated-start"),
        default="paper",
        help="paper: epsilon 1/t from round 1, values 0, random ties; undelegated-start: "
        "first-index ties and epsilon 1/t from t0=100 (the flags below override parts)",
    )
    a.add_argument("--learner", choices=("epsilon-greedy", "q-learning", "policy-gradient"))
    a.add_argument("--epsilon", choices=("1/t", "c/t", "1/sqrt(t)", "constant"))
    a.add_argument("--epsilon-c", type=float, help="the c of c/t, or the constant epsilon")
    a.add_argument("--t0", type=int, help="the schedule's t in round 1 (epsilon_1 = 1/t0)")
    a.add_argument("--initial-value", type=float, help="value of arms never played")
    a.add_argument("--tie-break", choices=("random", "first"))
    a.add_argument("--step-size", type=float, help="constant step size (default: sample averages)")
    a.add_argument("--gamma", type=float, help="Q-learning discount")
    a.add_argument("--learning-rate", type=float, help="policy-gradient learning rate")
    a.add_argument(
        "--warm-start",
        type=int,
        default=0,
        metavar="W",
        help="offer delegation from round W on (the original game before it)",
    )


def register(sub: Any) -> None:
    p = sub.add_parser(
        "simulate",
        help="learning agents with and without mediators (the seeds' experiments)",
        description="Play the seeds' games with learning agents. Seed 000: one mediator call "
        "per round, original game vs Pareto vs Punishing (and the central planner for the "
        "restaurant); seeds 001-004: the planning agent (amd), mediated MARL in the public "
        "goods game (pgg), fair leaders, normative disagreement and a budget of policies. "
        "Each writes a Markdown summary, JSON or Parquet, and PNG plots.",
    )
    games = p.add_subparsers(dest="name", metavar="NAME", required=True)
    rnf = games.add_parser("random-normal-form", help="Figure 3: random U[0,1) normal-form games")
    rnf.add_argument(
        "--sizes", nargs="+", default=["2x2", "3x5", "4x5", "2x10"], help="PLAYERSxACTIONS"
    )
    rnf.add_argument("--games", type=int, default=8, help="games per size and seed (default 8)")
    _common(rnf, rounds=300, seeds=5, populations=32)
    m = games.add_parser("matching", help="Figure 4: the matching game, growing numbers of agents")
    m.add_argument("--agents", type=int, nargs="+", default=[10, 20, 40, 80])
    m.add_argument("--instances", type=int, default=1, help="reward matrices per size and seed")
    _common(m, rounds=300, seeds=5, populations=4)
    r = games.add_parser("restaurant", help="Figure 5 (left): the restaurant game, alpha 0 and 2")
    r.add_argument("--agents", type=int, default=1000)
    r.add_argument("--restaurants", type=int, default=300)
    r.add_argument("--max-capacity", type=int, default=10, help="capacities uniform on 1..this")
    r.add_argument("--alphas", type=float, nargs="+", default=[0.0, 2.0])
    r.add_argument(
        "--yelp",
        nargs=2,
        type=Path,
        metavar=("BUSINESS_JSON", "REVIEW_JSON"),
        help="the Yelp Open Dataset files (Massachusetts restaurants, users with >= 5 reviews)",
    )
    r.add_argument("--instances", type=int, default=1)
    _common(r, rounds=300, seeds=5, populations=2)
    for q in (rnf, m, r):
        q.set_defaults(func=run)
    for module in EXPERIMENTS:
        importlib.import_module(f"mechsolve.cli.{module}").add_parser(games)


def _learner(args: argparse.Namespace) -> Any:
    from dataclasses import replace

    from mechsolve.client.sim.agents import REGIMES, EpsilonSchedule

    spec = REGIMES[args.regime]
    eps = spec.epsilon
    eps = EpsilonSchedule(
        args.epsilon or eps.kind,
        eps.c if args.epsilon_c is None else args.epsilon_c,
        eps.t0 if args.t0 is None else args.t0,
    )
    changes: dict[str, Any] = {"epsilon": eps}
    for name in ("learner", "initial_value", "tie_break", "step_size", "gamma", "learning_rate"):
        value = getattr(args, name)
        if value is not None:
            changes["kind" if name == "learner" else name] = value
    return replace(spec, **changes)


def _experiment(args: argparse.Namespace) -> Any:
    from mechsolve.client.sim import experiments as ex

    if args.name == "random-normal-form":
        return ex.RandomNormalForm(tuple(ex.parse_size(s) for s in args.sizes), args.games)
    if args.name == "matching":
        return ex.Matching(tuple(args.agents), args.instances)
    yelp = tuple(args.yelp) if args.yelp else None
    return ex.Restaurant(
        args.agents, args.restaurants, args.max_capacity, tuple(args.alphas), yelp, args.instances
    )


def run(args: argparse.Namespace) -> int:
    from mechsolve.client.sim import report
    from mechsolve.client.sim.runner import RunConfig
    from mechsolve.client.sim.runner import run as run_experiment
    from mechsolve.solver.core import validation as v

    fn = "simulate"
    for name in ("rounds", "seeds", "populations", "processes"):
        v.positive_int(fn, f"--{name}", getattr(args, name))
    learner = _learner(args)
    experiment = _experiment(args)
    backend = "grpc" if args.address and args.backend == "in-process" else args.backend
    config = RunConfig(
        rounds=args.rounds,
        populations=args.populations,
        learner=learner,
        warm_start=v.positive_int(fn, "--warm-start", args.warm_start, minimum=0),
        backend=backend,
        address=args.address,
        processes=args.processes,
        progress=not args.no_progress,
    )
    out = output_folder(args, args.name)
    start = time.perf_counter()
    traces = run_experiment(experiment, config, range(args.seeds))
    wall = time.perf_counter() - start
    rows = report.summarize(traces)
    title = f"{args.name}: {learner.describe()}"
    if config.warm_start:
        title += f", mediator offered from round {config.warm_start}"
    summary = report.markdown(rows, title)
    calls = sum(len(t.total_reward) for t in traces if t.arm not in ("original", "central_planner"))
    summary += (
        f"\n{args.seeds} seeds x {config.rounds} rounds, {config.populations} populations, "
        f"backend {backend}; {wall:.1f} s wall, {calls:,} mediated rounds.\n"
    )
    written = [report.write_parquet(traces, out / "rounds.parquet")]
    (out / "summary.md").parent.mkdir(parents=True, exist_ok=True)
    (out / "summary.md").write_text(summary)
    written.append(out / "summary.md")
    settings = {f.name: getattr(experiment, f.name) for f in fields(experiment) if f.repr}
    record = {"name": args.name, "experiment": settings, "run": asdict(config)}
    (out / "run.json").write_text(json.dumps(record, indent=2, default=str))
    written.append(out / "run.json")
    if not args.no_plot:
        reward = "mean_reward" if args.name == "random-normal-form" else "total_reward"
        written.append(report.plot_rounds(traces, out / "rounds.png", title, reward))
        if args.name == "matching":
            written.append(report.plot_relative(rows, out / "relative.png", title))
    return finish(summary, written)
