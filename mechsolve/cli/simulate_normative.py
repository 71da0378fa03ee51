"""``mechsolve simulate normative-disagreement``: amTFT(w) and amTFT(𝒲) cross-play in the
iterated asymmetric BoS and Prisoner's Dilemma (seed 003, Figs. 3 and 5; see
mechsolve.client.sim.normative and docs/normative_disagreement.md).

The parser imports nothing heavy (``mechsolve --help`` stays fast): unset options take the
defaults of :class:`~mechsolve.client.sim.normative.NormativeConfig` and
:func:`~mechsolve.client.sim.normative.run_normative`, which also validate every value (errors
name the option's field)."""

from __future__ import annotations

import argparse
import time
from typing import Any

from mechsolve.cli.simulate import finish, output_folder, output_options

NAME = "normative-disagreement"
CONFIG_OPTIONS = (
    "steps", "episodes", "gamma", "epsilon", "debit_threshold", "punishment_multiplier",
    "rollout_length", "rollout_discount", "ia_beta", "ia_lambda", "pd_disagreement", "score",
)  # fmt: skip
"""The options that are :class:`NormativeConfig` fields (``--debit-threshold`` etc.)."""


def add_parser(games: Any) -> None:
    """Add ``normative-disagreement`` to the ``mechsolve simulate`` sub-commands."""
    p = games.add_parser(
        NAME,
        help="seed 003: amTFT(w) / amTFT(W) cross-play, normative disagreement",
        description="Cross-play of amTFT(w) agents built on different welfare functions and of "
        "norm-adaptive amTFT(W) agents in the iterated asymmetric BoS and Prisoner's Dilemma. "
        "Writes summary.md, results.json and normative_disagreement.png. Unset options take "
        "the model's defaults (docs/normative_disagreement.md).",
    )
    p.add_argument("--games", nargs="+", metavar="GAME", help="bos, pd (default: both)")
    p.add_argument(
        "--welfare",
        nargs="+",
        metavar="W",
        help="amTFT(w) welfare functions (util ia egal nash ks), also the score set "
        "(default: util ia egal nash)",
    )
    p.add_argument(
        "--sets",
        nargs="*",
        metavar="SET",
        help="amTFT(W) welfare-function sets, members joined by '+' (default: util ia util+ia "
        "nash util+nash ia+egal); none skips the amTFT(W) table",
    )
    p.add_argument("--episodes", type=int, help="episodes per pair and seed (default 20)")
    p.add_argument("--steps", type=int, help="steps per episode (default 20)")
    p.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1 (default 10)")
    a = p.add_argument_group("dynamics (what the seed leaves open; docs/normative_disagreement.md)")
    a.add_argument("--gamma", type=float, help="discount (default 0.96)")
    a.add_argument("--epsilon", type=float, help="trembling-hand probability (default 0.02)")
    a.add_argument("--debit-threshold", type=float, help="default 2")
    a.add_argument("--punishment-multiplier", type=float, help="default 3")
    a.add_argument("--rollout-length", type=int, help="default 20")
    a.add_argument("--rollout-discount", type=float, help="default: gamma")
    a.add_argument("--ia-beta", type=float, help="default 1")
    a.add_argument("--ia-lambda", type=float, help="default 0.96")
    a.add_argument(
        "--pd-disagreement",
        choices=("dd", "seed-b2"),
        help="dd (default): the DD payoffs (-2,-2); seed-b2: App. B.2's printed (-3,-3)",
    )
    a.add_argument(
        "--score",
        choices=("profile", "episode"),
        help="profile (default): NormalizedScore of the mean payoff profile (the seed's "
        "w(pi)); episode: the mean of the episodes' scores",
    )
    output_options(p, NAME, "the PNG heat maps")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from mechsolve.client.sim import normative as nd
    from mechsolve.client.sim import normative_report as report
    from mechsolve.solver.core import validation as v

    fn = "simulate normative-disagreement"
    seeds = v.positive_int(fn, "--seeds", args.seeds)
    given = {k: getattr(args, k) for k in CONFIG_OPTIONS if getattr(args, k) is not None}
    config = nd.NormativeConfig(**given).checked(fn)
    games = list(args.games or nd.GAMES)
    welfare = list(args.welfare or nd.DEFAULT_WELFARE)
    sets = list(nd.DEFAULT_SETS if args.sets is None else args.sets)
    out = output_folder(args, NAME)
    total = nd.pair_count(len(games), len(welfare), len(sets), seeds)
    start = time.perf_counter()
    bars: list[Any] = []  # the bar starts with the first pair run, after the arguments' checks

    def advance(n: int) -> None:
        if not bars:
            bars.append(tqdm(total=total, desc=NAME, unit="run", disable=args.no_progress))
        bars[0].update(n)

    try:
        results = nd.run_normative(
            games=games,
            welfare_functions=welfare,
            sets=sets,
            seeds=range(seeds),
            config=config,
            progress=advance,
        )
    finally:
        for bar in bars:
            bar.close()
    wall = time.perf_counter() - start
    summary = report.markdown(results, config, seeds) + f"\n{total} pair runs; {wall:.1f} s wall.\n"
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.md").write_text(summary)
    written = [out / "summary.md", report.write_json(results, config, seeds, out / "results.json")]
    if not args.no_plot:
        written.append(report.plot(results, out / "normative_disagreement.png"))
    return finish(summary, written)
