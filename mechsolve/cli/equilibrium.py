"""``mechsolve equilibrium KIND GAME``: equilibria and bargaining as optimization
(mechsolve.solver.equilibria, docs/equilibria.md), in-process or on a server."""

from __future__ import annotations

import argparse
from typing import Any

KINDS = {
    "correlated": "the best correlated (or coarse correlated) equilibrium",
    "nash": "the best or worst Nash equilibrium of a bimatrix game (MILP)",
    "minimax": "maximin and minimax strategies of a two-player game",
    "stackelberg": "strong Stackelberg (two players) or sequential (any order) leaders",
    "leader": "the leader order, or lottery over orders, maximizing a welfare function",
    "welfare": "the welfare-optimal outcome or lottery over outcomes",
    "score": "seed 003's normalized score of a payoff profile",
}
WELFARES = ("utilitarian", "egalitarian", "nash", "kalai_smorodinsky", "inequity_averse")


def register(sub: Any) -> None:
    p = sub.add_parser(
        "equilibrium",
        help="which equilibrium, and how good can it get?",
        description="Equilibria and bargaining as optimization. GAME is a .nfg, .json or .npz "
        "file or fixture:NAME (chicken, asymmetric_bos, battle_of_the_sexes, ...).",
    )
    kinds = p.add_subparsers(dest="kind", metavar="KIND", required=True)
    for kind, text in KINDS.items():
        k = kinds.add_parser(kind, help=text, description=text)
        k.add_argument("game", help="path to .nfg / .json / .npz, or fixture:NAME")
        _options(kind, k)
        k.add_argument("--time-limit", type=float, help="solver seconds")
        k.add_argument("--address", help="solve on a running server (host:port)")
        k.add_argument("--json", action="store_true", help="print the whole result as JSON")
        k.set_defaults(func=run)


def _welfare(k: argparse.ArgumentParser, default: str) -> None:
    k.add_argument("--welfare", choices=WELFARES, default=default, help=f"default {default}")
    k.add_argument("--weights", type=float, nargs="+", help="utilitarian weights per player")
    k.add_argument("--disagreement", type=float, nargs="+", help="disagreement point per player")
    k.add_argument("--beta", type=float, help="inequity aversion (default 1)")


def _options(kind: str, k: argparse.ArgumentParser) -> None:
    if kind == "correlated":
        k.add_argument("--kind", dest="cekind", choices=("ce", "cce"), default="ce")
        _welfare(k, "utilitarian")
        k.add_argument("--player", type=int, help="maximize this player's value instead")
        k.add_argument("--epsilon", type=float, default=0.0, help="epsilon-equilibrium")
    elif kind == "nash":
        _welfare(k, "utilitarian")
        k.add_argument("--player", type=int, help="optimize this player's value instead")
        k.add_argument("--worst", action="store_true", help="the worst equilibrium")
        k.add_argument("--at-least", type=float, help="is there one giving --player at least this?")
    elif kind == "stackelberg":
        k.add_argument("--leader", type=int, default=0, help="two players: the leader")
        k.add_argument("--order", type=int, nargs="+", help="pure sequential leaders in this order")
    elif kind == "leader":
        _welfare(k, "egalitarian")
        k.add_argument("--no-lottery", action="store_true", help="one order, no lottery")
        k.add_argument("--orders", choices=("all", "leader"), default="all")
    elif kind == "welfare":
        _welfare(k, "utilitarian")
        k.add_argument("--lottery", action="store_true", help="lotteries over outcomes")
    elif kind == "score":
        k.add_argument("--utilities", type=float, nargs="+", required=True)
        k.add_argument("--disagreement-utilities", type=float, nargs="+", required=True)
        k.add_argument("--welfare-functions", nargs="+", choices=WELFARES, default=["utilitarian"])
        k.add_argument("--pure", action="store_true", help="best achievable over pure outcomes")


def _welfare_spec(args: argparse.Namespace) -> Any:
    from mechsolve.solver.games.welfare import Welfare, WelfareKind

    return Welfare(
        WelfareKind(args.welfare),
        tuple(args.weights) if args.weights else None,
        tuple(args.disagreement) if args.disagreement else None,
        1.0 if args.beta is None else args.beta,
    )


def _call(api: Any, args: argparse.Namespace, game: Any) -> Any:
    t = {"time_limit": args.time_limit}
    kind = args.kind
    if kind == "correlated":
        objective = "welfare" if args.player is None else "player"
        return api.correlated_equilibrium(
            game, kind=args.cekind, objective=objective, welfare=_welfare_spec(args),
            player=args.player, epsilon=args.epsilon, **t,
        )  # fmt: skip
    if kind == "nash":
        if args.at_least is not None:
            player = 0 if args.player is None else args.player
            return api.nash_equilibrium_with_value(game, player, args.at_least, **t)
        objective = "welfare" if args.player is None else "player"
        return api.optimal_nash_equilibrium(
            game, objective=objective, welfare=_welfare_spec(args), player=args.player,
            sense="min" if args.worst else "max", **t,
        )  # fmt: skip
    if kind == "minimax":
        return api.minimax(game, **t)
    if kind == "stackelberg":
        if args.order is not None:
            return api.sequential_stackelberg(game, args.order)
        return api.strong_stackelberg(game, leader=args.leader, **t)
    if kind == "leader":
        return api.select_leader(
            game, welfare=_welfare_spec(args), lottery=not args.no_lottery, orders=args.orders, **t
        )
    if kind == "welfare":
        return api.welfare_optimum(game, welfare=_welfare_spec(args), lottery=args.lottery, **t)
    return api.normalized_score(
        game, args.utilities, args.disagreement_utilities,
        welfare_functions=args.welfare_functions, lottery=not args.pure, **t,
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from .output import print_result, solver_api
    from .solve import load_game

    game = load_game(args.game)
    with solver_api(args.address, args.time_limit) as api:
        result = _call(api, args, game)
    print_result(result, args.json)
    return 0
