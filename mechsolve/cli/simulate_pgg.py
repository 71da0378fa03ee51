"""``mechsolve simulate pgg``: mediated multi-agent RL in the one-shot Public Goods Game
(seed 004, Table 3; see mechsolve.client.sim.pgg and docs/mediated_marl.md)."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from mechsolve.cli.simulate import finish, output_folder, output_options


def add_parser(games: argparse._SubParsersAction[Any]) -> None:
    """Add ``pgg`` to the sub-commands of ``mechsolve simulate``."""
    from mechsolve.client.sim.pgg import ARMS

    p = games.add_parser(
        "pgg",
        help="Table 3 of seed 004: mediated actor-critic agents in the Public Goods Game",
        description="Train actor-critic agents with no mediator, a naive mediator (coalition "
        "welfare) and a constrained mediator (Encouragement constraint by dual ascent) in the "
        "one-shot Public Goods Game; settings from the authors' public code. Writes summary.md "
        "(Table 3 beside the paper), pgg.json and PNG plots.",
    )
    p.add_argument("--players", type=int, nargs="+", default=[3, 10, 25], help="N values")
    p.add_argument("--arms", nargs="+", choices=ARMS, default=list(ARMS), help="arms to train")
    p.add_argument("--ic", action="store_true", help="add the IC constraint (mediated arms)")
    p.add_argument("--updates", type=int, default=20_000, help="updates (default 20000)")
    p.add_argument("--batch", type=int, default=128, help="one-shot games per update")
    p.add_argument("--seeds", type=int, default=10, help="seeds trained together (default 10)")
    p.add_argument("--seed", type=int, default=0, help="base seed (default 0)")
    p.add_argument(
        "--multiplier",
        type=float,
        help="amplification factor n (default: the authors' code, 5 if N > 10 else 2)",
    )
    output_options(p, "pgg")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from mechsolve.client.sim import pgg_report as report
    from mechsolve.client.sim.pgg import PGGConfig, train
    from mechsolve.solver.core import validation as v

    fn = "simulate pgg"
    for name in ("updates", "batch", "seeds"):
        v.positive_int(fn, f"--{name}", getattr(args, name))
    for n in args.players:
        v.positive_int(fn, "--players", n, minimum=2)
    configs = [
        PGGConfig(
            players=n,
            arm=arm,
            multiplier=args.multiplier,
            ic=bool(args.ic and arm != "none"),
            updates=args.updates,
            batch=args.batch,
            seeds=args.seeds,
            seed=args.seed,
        ).validated()
        for n in args.players
        for arm in args.arms
    ]
    out = output_folder(args, "pgg")
    start = time.perf_counter()
    runs = []
    with tqdm(total=len(configs) * args.updates, disable=args.no_progress, unit="upd") as bar:
        for cfg in configs:
            bar.set_description(f"N={cfg.players} {cfg.arm}")
            runs.append(train(cfg, progress=bar.update))
    wall = time.perf_counter() - start
    rows = report.table3(runs)
    ic = ", IC constraint on" if args.ic else ""
    title = f"Public Goods Game (seed 004, Table 3){ic}"
    summary = report.markdown(rows, title)
    summary += "\n" + report.policy_table(runs)
    summary += (
        f"\n{args.seeds} seeds x {args.updates} updates x {args.batch} games per update; "
        f"multiplier {args.multiplier or 'from the code (5 if N > 10 else 2)'}; "
        f"{wall:.1f} s wall.\n"
    )
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "summary.md", out / "pgg.json"]
    written[0].write_text(summary)
    record = report.to_json(runs, rows)
    record["wall_seconds"] = round(wall, 2)
    written[1].write_text(json.dumps(record, indent=1))
    if not args.no_plot:
        written.append(report.plot_curves(runs, out / "curves.png", title))
        written.append(report.plot_policy(runs, out / "policy.png", title))
    return finish(summary, written)
