"""``mechsolve simulate fair-leaders``: fair leaders via a mediator, JAM-QL (seed 002; see
mechsolve.client.sim.fair_leaders and docs/fair_leaders.md)."""

from __future__ import annotations

import argparse
import time
from typing import Any

from mechsolve.cli.simulate import finish, output_folder, output_options

NAME = "fair-leaders"


def add_parser(games: argparse._SubParsersAction[Any]) -> None:
    """Add ``fair-leaders`` to ``mechsolve simulate``."""
    from mechsolve.client.sim.agents import SCHEDULES
    from mechsolve.client.sim.fair_leaders import ARMS, GAMES, ORACLES, PENALTIES, SELECTIONS

    p = games.add_parser(
        NAME,
        help="seed 002 (JAM-QL): a mediator picks Stackelberg leaders for fairness",
        description="Q-learning agents in iterated Stackelberg games (Prisoner's Dilemma, "
        "Chicken, resource collection; 2 and 4 players), leaders chosen by a fixed rule, in "
        "turn, by vote or by the JAM-QL mediator (and its ablations). Writes summary.md, "
        "summary.json and PNG plots (docs/fair_leaders.md).",
    )
    p.add_argument("--games", nargs="+", choices=GAMES, default=list(GAMES))
    p.add_argument("--players", nargs="+", type=int, default=[2, 4], help="(default 2 4)")
    p.add_argument("--arms", nargs="+", choices=ARMS, default=list(ARMS), help="(default all)")
    p.add_argument("--episodes", type=int, default=300, help="episodes per run (default 300)")
    p.add_argument("--steps", type=int, default=20, help="Stackelberg steps per episode (20)")
    p.add_argument("--seeds", type=int, default=64, help="independent populations (default 64)")
    p.add_argument("--seed", type=int, default=0, help="base seed (default 0)")
    output_options(p, NAME)
    m = p.add_argument_group("mediator and learners (what the seed leaves open)")
    m.add_argument("--oracle", choices=ORACLES, default="greedy",
                   help="predicted step utilities: the agents' greedy play (default) or the "
                   "stage game's sequential Stackelberg outcome")  # fmt: skip
    m.add_argument("--penalty", choices=PENALTIES, default="order-gain",
                   help="stage 2's mark of a leader: the advantage its order is predicted to "
                   "give the agents that gained unfairly in the past (default), the leader's own "
                   "such advantage (leader-gain), or the leader's past unfair gain (history; "
                   "the earlier rule: --penalty history --history-weight 0.35 --temperature 0.35 "
                   "--temperature-end 0.35)")  # fmt: skip
    m.add_argument("--selection", choices=SELECTIONS, default="softmax",
                   help="stage 2: draw the leader from a softmax over the scores (default) or "
                   "take their argmax")  # fmt: skip
    m.add_argument("--temperature", type=float, default=0.6,
                   help="stage 2 softmax temperature at the first episode (0.6)")  # fmt: skip
    m.add_argument("--temperature-end", type=float, default=0.24,
                   help="... falling geometrically to this after the last (0.24)")  # fmt: skip
    m.add_argument("--history-weight", type=float, default=3.0, help="stage 2 weight (3)")
    m.add_argument("--history-rate", type=float, default=0.1, help="stage 2 averaging (0.1)")
    m.add_argument("--transfer-rate", type=float, default=0.5, help="stage 3 transfer (0.5)")
    m.add_argument("--step-size", type=float, default=0.1, help="Q-learning step (0.1)")
    m.add_argument("--gamma", type=float, default=0.9, help="Q-learning discount (0.9)")
    m.add_argument("--epsilon", choices=SCHEDULES, default="1/sqrt(t)", help="(1/sqrt(t))")
    m.add_argument("--epsilon-c", type=float, default=1.0, help="c of c/t or the constant")
    m.add_argument("--t0", type=int, default=1, help="the schedule's t at step 1 (1)")
    m.add_argument("--rich", type=float, default=4.0, help="resource game: rich value (4)")
    p.set_defaults(func=run)


def config_from(args: argparse.Namespace) -> object:
    """The :class:`FairLeadersConfig` the flags describe (errors name the flag)."""
    from mechsolve.client.sim.agents import EpsilonSchedule
    from mechsolve.client.sim.fair_leaders import FairLeadersConfig, MediatorConfig
    from mechsolve.solver.core import validation as v
    from mechsolve.solver.core.errors import MechsolveInputError

    fn = "simulate fair-leaders"
    try:
        mediator = MediatorConfig(oracle=args.oracle, history_weight=args.history_weight,
                                  history_rate=args.history_rate,
                                  transfer_rate=args.transfer_rate, selection=args.selection,
                                  temperature=args.temperature,
                                  temperature_end=args.temperature_end,
                                  penalty=args.penalty)  # fmt: skip
        epsilon = EpsilonSchedule(args.epsilon, args.epsilon_c, args.t0)
        return FairLeadersConfig(
            episodes=v.positive_int(fn, "--episodes", args.episodes),
            steps=v.positive_int(fn, "--steps", args.steps),
            step_size=args.step_size, gamma=args.gamma, epsilon=epsilon, mediator=mediator,
            rich=args.rich, seed=args.seed,
        )  # fmt: skip
    except MechsolveInputError as exc:
        if exc.function == fn:
            raise
        flag = "--" + exc.argument.replace("_", "-")
        if exc.function == "EpsilonSchedule":
            flag = {"kind": "--epsilon", "c": "--epsilon-c", "t0": "--t0"}.get(exc.argument, flag)
        raise MechsolveInputError(fn, flag, exc.detail) from exc


def _stage2(m: Any) -> str:
    """Stage 2's rule in words, for the summary's title."""
    mark = {
        "order-gain": "the order's advantage to past unfair gainers",
        "leader-gain": "past unfair gain x advantage as leader",
        "history": "past unfair gain",
    }[m.penalty]
    if m.selection == "softmax":
        tau = (
            f"{m.temperature:g}"
            if m.temperature_end is None
            else f"{m.temperature:g} -> {m.temperature_end:g}"
        )
        return f"softmax (temperature {tau}, weight {m.history_weight:g}, mark: {mark})"
    return f"argmax (weight {m.history_weight:g}, mark: {mark})"


def run(args: argparse.Namespace) -> int:
    from mechsolve.client.sim import fair_leaders as fl
    from mechsolve.client.sim import fair_leaders_report as rep
    from mechsolve.solver.core import validation as v
    from mechsolve.solver.core.errors import MechsolveInputError

    fn = "simulate fair-leaders"
    cfg = config_from(args)
    assert isinstance(cfg, fl.FairLeadersConfig)
    seeds = v.positive_int(fn, "--seeds", args.seeds)
    for n in args.players:
        if not isinstance(n, int) or not 2 <= n <= fl.MAX_PLAYERS:
            raise MechsolveInputError(fn, "--players", f"must be in 2..{fl.MAX_PLAYERS}; got {n}")
    out = output_folder(args, NAME)
    start = time.perf_counter()
    runs = fl.run_experiment(args.games, args.players, args.arms, seeds, cfg,
                             progress=not args.no_progress)  # fmt: skip
    wall = time.perf_counter() - start
    rows = rep.summarize(runs)
    title = (
        f"fair-leaders (seed 002, JAM-QL): {cfg.episodes} episodes x {cfg.steps} steps, "
        f"{seeds} seeds, oracle {cfg.mediator.oracle}, stage 2 {_stage2(cfg.mediator)}"
    )
    summary = rep.markdown(rows, title)
    summary += f"\n{wall:.1f} s wall.\n"
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "summary.md"]
    written[0].write_text(summary)
    extra = {"games": list(args.games), "players": list(args.players), "arms": list(args.arms),
             "seeds": seeds, "wall_seconds": wall}  # fmt: skip
    written.append(rep.write_json(rep.to_json(runs, rows, cfg, extra), out / "summary.json"))
    if not args.no_plot:
        written.append(rep.plot_fairness(runs, out / "fairness.png", title))
        written.append(rep.plot_tradeoff(rows, out / "tradeoff.png", title))
    return finish(summary, written)
