"""``mechsolve solve``: one mediator query on a game from a .nfg or JSON file (or a fixture)."""

from __future__ import annotations

import argparse
import json
import math
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser(
        "solve",
        help="what does a mediator do at one profile?",
        description="Solve one mediator query. GAME is a Gambit .nfg file, a JSON file "
        '({"payoffs": [...], "players": [...], "actions": [[...]], "title": "..."}) or '
        "fixture:NAME (prisoners_dilemma, stag_hunt, chicken, seed000_prisoners_dilemma, "
        "battle_of_the_sexes, asymmetric_bos).",
    )
    p.add_argument("game", help="path to .nfg / .json / .npz, or fixture:NAME")
    p.add_argument(
        "--actions", type=int, nargs="+", required=True, help="the submitted joint action"
    )
    p.add_argument(
        "--delegate", type=int, nargs="+", help="delegate bits, 0/1 per player (default: all 1)"
    )
    p.add_argument(
        "--mediator",
        default="pareto",
        choices=("pareto", "punishing", "central_planner", "lottery"),
    )
    p.add_argument(
        "--welfare",
        default="utilitarian",
        choices=("utilitarian", "egalitarian", "nash", "kalai_smorodinsky", "inequity_averse"),
    )
    p.add_argument("--method", default="enumeration", choices=("enumeration", "milp", "pyomo"))
    p.add_argument(
        "--seed",
        type=int,
        default=None,
        help="seed of the lottery's sampled outcome (default: fresh)",
    )
    p.add_argument("--time-limit", type=float, help="solver time limit (seconds)")
    p.add_argument("--address", help="solve on a running server (host:port) instead of in-process")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=run)


def load_game(spec: str) -> Any:
    """A game from ``fixture:NAME``, a ``.nfg``, ``.json`` or ``.npz`` file."""
    from mechsolve.solver.games.files import read_game

    return read_game(spec, function="solve")


def _jsonable(x: Any) -> Any:
    import numpy as np

    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    if isinstance(x, list | tuple):
        return [_jsonable(y) for y in x]
    return x


def run(args: argparse.Namespace) -> int:
    game = load_game(args.game)
    delegate = args.delegate if args.delegate is not None else [1] * game.n_players
    from .output import solver_api

    with solver_api(args.address, args.time_limit) as api:
        if args.mediator == "lottery":
            res = api.lottery_pareto_mediator(
                game,
                args.actions,
                delegate,
                welfare=args.welfare,
                seed=args.seed,
                time_limit=args.time_limit,
            )
            out = {
                "mediator": "lottery_pareto",
                "support": res.support,
                "probabilities": res.probabilities,
                "sampled_actions": res.sampled_actions,
                "seed": res.seed,
            }
        else:
            res = api.mediate(
                game,
                args.actions,
                delegate,
                mediator=args.mediator,
                welfare=args.welfare,
                method=args.method,
                time_limit=args.time_limit,
            )
            out = {
                "mediator": res.mediator.value,
                "actions_after": res.actions_after,
                "action_labels_after": [
                    game.actions[i][a] for i, a in enumerate(res.actions_after)
                ],
            }
    out.update(
        {
            "actions_before": res.actions_before,
            "delegate": res.delegate,
            "utilities_before": res.utilities_before,
            "utilities_after": res.utilities_after,
            "beneficiaries": res.beneficiaries,
            "welfare_function": res.welfare_function,
            "welfare_before": res.welfare_before,
            "welfare_after": res.welfare_after,
            "termination": res.termination.reason.value,
            "limit": None if res.termination.limit is None else res.termination.limit.value,
            "detail": res.termination.detail,
            "objective": res.objective,
            "method": res.method,
            "backend": res.backend,
            "wall_time_s": res.wall_time_s,
        }
    )
    if args.json:
        print(json.dumps({k: _jsonable(v) for k, v in out.items()}, indent=2))
    else:
        width = max(len(k) for k in out)
        for k, v in out.items():
            print(f"{k:<{width}}  {_jsonable(v)}")
    return 0
