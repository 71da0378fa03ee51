"""``mechsolve simulate policy-budget``: personalized RL with a budget of policies (seed 004,
r-MDPs) on a 1-D point mass; see mechsolve.client.sim.rmdp and docs/policy_budget.md."""

from __future__ import annotations

import argparse
import json
from typing import Any

from mechsolve.cli.simulate import finish, output_folder, output_options


def add_parser(games: argparse._SubParsersAction[Any]) -> None:
    """Add ``policy-budget`` to the sub-commands of ``mechsolve simulate``."""
    from mechsolve.client.sim.rmdp import PAPER_BUDGETS

    p = games.add_parser(
        "policy-budget",
        help="seed 004 r-MDPs: k policies for 100 users with different target velocities",
        description="Users with uniformly drawn target velocities share at most k policies of a "
        "1-D point mass (the seed's MuJoCo experiment without MuJoCo). Candidate policies from "
        "a random-search learner; k of them chosen by the exact MILP and by the alternating "
        "(EM-like) heuristic; the seed's full EM-like loop (policies trained for their "
        "clusters) beside them. Writes summary.md, policy_budget.json and welfare_vs_k.png.",
    )
    p.add_argument("--users", type=int, default=100, help="users (default 100, the seed's n)")
    p.add_argument("--candidates", type=int, default=1000, help="candidate policies (default 1000)")
    p.add_argument(
        "--budgets",
        type=int,
        nargs="+",
        default=list(PAPER_BUDGETS),
        help="budgets k (default 1 2 5 10 50, the seed's)",
    )
    p.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 (default 3)")
    p.add_argument("--seed", type=int, default=0, help="base seed (default 0)")
    p.add_argument(
        "--learner-steps", type=int, default=10, help="random-search steps per candidate"
    )
    p.add_argument("--em-rounds", type=int, default=10, help="E/M rounds of the EM-like loop")
    p.add_argument("--em-steps", type=int, default=5, help="random-search steps per M-step")
    p.add_argument(
        "--em-plain",
        action="store_true",
        help="keep every M-step update (default: only those that raise the cluster's reward)",
    )
    p.add_argument("--time-limit", type=float, default=60.0, help="seconds per exact MILP solve")
    output_options(p, "policy-budget", "the PNG plot")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from mechsolve.client.sim import rmdp

    cfg = rmdp.RMDPConfig(
        users=args.users,
        candidates=args.candidates,
        budgets=tuple(args.budgets),
        seeds=args.seeds,
        seed=args.seed,
        learner_steps=args.learner_steps,
        em_rounds=args.em_rounds,
        em_steps=args.em_steps,
        em_accept=not args.em_plain,
        time_limit=args.time_limit,
    ).validated()
    out = output_folder(args, "policy-budget")
    total = cfg.seeds * len(cfg.budgets)
    with tqdm(total=total, disable=args.no_progress, unit="budget") as bar:
        runs, wall = rmdp.timed_run(cfg, progress=bar.update)
    summary = rmdp.markdown(runs, cfg, wall)
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "summary.md", out / "policy_budget.json"]
    written[0].write_text(summary)
    record = rmdp.to_json(runs, cfg)
    record["wall_seconds"] = round(wall, 2)
    written[1].write_text(json.dumps(record, indent=1))
    if not args.no_plot:
        written.append(rmdp.plot(runs, cfg, out / "welfare_vs_k.png"))
    return finish(summary, written)
