"""``mechsolve simulate amd``: adaptive mechanism design, seed 001 chapter 4 (Tables 4.2, 4.3,
Figure 4.1); see mechsolve.client.sim.amd and docs/adaptive_mechanism_design.md."""

from __future__ import annotations

import argparse
import json
import re
import time
from typing import Any

from mechsolve.cli.simulate import finish, output_folder, output_options


def add_parser(games: argparse._SubParsersAction[Any]) -> None:
    p = games.add_parser(
        "amd",
        help="adaptive mechanism design: a planning agent learns additional rewards (seed 001 ch. 4)",
        description="Learners with one logit each play PD / Chicken / Stag Hunt while a planning "
        "agent learns additional rewards by looking ahead one learning step (eq. 4.3). The "
        "defaults run every arm of Table 4.2 (no mechanism, mechanism, turning off) and write it "
        "beside the paper's numbers; --table 4.3 runs the learning-rule variants of Table 4.3.",
    )
    p.add_argument("--game", choices=("pd", "chicken", "staghunt", "all"), default="all")
    p.add_argument(
        "--players", type=int, default=2, help="N-player PD of footnote 4 when > 2 (default 2)"
    )
    p.add_argument("--episodes", type=int, default=4000, help="episodes (default 4000)")
    p.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1 (default 10)")
    p.add_argument(
        "--table",
        choices=("4.2", "4.3", "none"),
        default="4.2",
        help="4.2 (default): no mechanism / mechanism / turning off; 4.3: exact V, revenue-"
        "neutral, estimated V; none: only the configured arm",
    )
    p.add_argument(
        "--planner",
        choices=("exact", "code", "estimated"),
        default="exact",
        help="exact: eq. 4.3 + 4.7 with exact expectations (default); code: the authors' "
        "linearised look-ahead and norm cost; estimated: eq. 4.5 from sampled actions",
    )
    p.add_argument(
        "--revenue-neutral",
        action="store_true",
        help="additional rewards sum to 0 (centred); --table 4.2/none (4.3 sets its own arms)",
    )
    p.add_argument(
        "--turn-off",
        action="store_true",
        help="(--table none) run as many episodes again with the planner off",
    )
    p.add_argument("--optimizer", choices=("adam", "sgd"), default="adam")
    p.add_argument("--learners", choices=("sampled", "exact"), default="sampled")
    p.add_argument(
        "--init", choices=("paper", "code"), default="paper", help="P(C)=0.25 or theta~N(-2,0.5)"
    )
    p.add_argument("--cost", type=float, default=0.0002, help="cost parameter alpha (0.0002)")
    p.add_argument("--max-reward", type=float, default=3.0, help="c: |r^p_i| <= c (3)")
    p.add_argument("--lr", type=float, default=0.01, help="step size of learners and planner")
    output_options(p, "amd")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from mechsolve.client.sim import amd_report as rep
    from mechsolve.client.sim.amd import GAME_TITLES, GAMES, AmdSettings
    from mechsolve.solver.core import validation as v
    from mechsolve.solver.core.errors import MechsolveInputError

    fn = "simulate amd"
    seeds = v.positive_int(fn, "--seeds", args.seeds)
    players = v.positive_int(fn, "--players", args.players, minimum=2)
    games = list(GAMES) if args.game == "all" else [args.game]
    if players > 2:  # footnote 4: the N-player PD
        if args.game not in ("pd", "all"):
            raise MechsolveInputError(
                fn, "--game", f"must be pd with --players > 2; got {args.game}"
            )
        games = ["pd"]
    base = AmdSettings(
        players=players,
        episodes=v.positive_int(fn, "--episodes", args.episodes),
        planner=args.planner,
        revenue_neutral=args.revenue_neutral,
        turn_off=args.turn_off,
        optimizer=args.optimizer,
        learners=args.learners,
        lr=v.real(fn, "--lr", args.lr, min_value=0.0, min_exclusive=True),
        planner_lr=args.lr,
        cost=v.real(fn, "--cost", args.cost, min_value=0.0),
        max_reward=v.real(fn, "--max-reward", args.max_reward, min_value=0.0, min_exclusive=True),
        init=args.init,
    )
    out = output_folder(args, "amd")
    bar = tqdm(
        total=rep.total_episodes(args.table, base, len(games)),
        unit="episode",
        desc=f"amd table {args.table}",
        disable=args.no_progress,
    )
    start = time.perf_counter()
    with bar:
        arms = rep.run_table(args.table, base, games, seeds, on_episodes=bar.update)
    wall = time.perf_counter() - start
    title = "Table " + args.table if args.table != "none" else "configured arm"
    summary = "\n".join(
        [
            f"# Adaptive mechanism design (seed 001 chapter 4): {title}",
            "",
            f"Settings: {rep.settings_text(base)}; {seeds} seeds.",
            "Cells: paper · **measured** (mean ± std over seeds, ddof 0). P(C,C) and V after the "
            "last planner-on episode (turning off: after the continuation); AAR = mean over the "
            "planner's episodes of sum_i |r^p_i| (expected for the exact planner, realised "
            "otherwise).",
            "",
            rep.table_markdown(args.table, arms),
            f"{wall:.1f} s wall.",
            "",
        ]
    )
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "summary.md", out / "amd.json"]
    written[0].write_text(summary)
    record: dict[str, Any] = rep.to_json(args.table, arms)
    record["wall_seconds"] = wall
    written[1].write_text(json.dumps(record, indent=2))
    if not args.no_plot:
        for a in arms:
            if a.run.planner_episodes and a.arm != "turning off":
                slug = re.sub(r"[^a-z0-9]+", "_", a.arm.lower()).strip("_")
                path = out / f"figure_4_1_{a.game}_{slug}.png"
                what = f"{GAME_TITLES[a.game]}: {a.arm}, {rep.settings_text(a.run.settings)}"
                written.append(rep.plot_figure_4_1(a.run, path, what))
    return finish(summary, written)
