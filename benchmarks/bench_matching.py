"""Matching game benchmarks (issue 4), measured side by side in one run.

1. One round at 2,000 agents (rewards ``U[0, 1)``, uniform random pointing, each agent
   delegating with probability 1/2; almost nobody is matched, so ~1,000 delegators form the
   pool): the paper's Pareto Mediator, the exact (eq. 3) variant, the Punishing Mediator and the
   central planner's matching of all 2,000 agents.
2. The matching solver (HiGHS LP + column generation + odd-set cuts) against networkx's
   ``max_weight_matching`` (pure-Python blossom) on the same pool, at a size networkx finishes
   in reasonable time (``--networkx-agents``; networkx needs minutes at 2,000 agents, use
   ``--networkx-agents 2000`` to measure it there), same weight required.

Run: ``python benchmarks/bench_matching.py`` (``--help`` for sizes). Prints ratios.

In the suite (``python -m benchmarks matching``): the matching solver against networkx and
rustworkx ``max_weight_matching`` (peers, skipped with a message when absent) on the pool of
unmatched delegators, same weight required; and the scaling curve in the number of agents.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

if __package__ in (None, ""):  # run as a script: make the `benchmarks` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import Case, CaseOutput, Context, Side
from mechsolve.solver.structured.matching import (
    matching_central_planner,
    matching_pareto,
    matching_pareto_exact,
    matching_punishing,
    max_weight_matching,
    mutual_mates,
    random_matching_instance,
    random_matching_profile,
)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def round_at(n: int, seed: int) -> None:
    r = random_matching_instance(n, seed=seed)
    partners, delegate = random_matching_profile(n, seed=seed + 1)
    pool = int((delegate & (mutual_mates(partners) < 0)).sum())
    print(
        f"\n[one round] {n} agents, {int(delegate.sum())} delegators, {pool} unmatched delegators"
    )
    for name, solve in (
        ("Pareto (paper)", lambda: matching_pareto(r, partners, delegate)),
        ("Pareto exact (eq. 3)", lambda: matching_pareto_exact(r, partners, delegate)),
        ("Punishing", lambda: matching_punishing(r, partners, delegate)),
        ("central planner", lambda: matching_central_planner(r, partners)),
    ):
        t, res = timed(solve)
        extra = (
            f"  gain over paper {res.gain_over_paper:+.3f}"
            if name.startswith("Pareto exact")
            else ""
        )
        print(
            f"  {name:22s} {t:7.3f} s  {res.termination.reason.value:8s} "
            f"total utility {res.total_utility_before:9.3f} -> {res.total_utility_after:9.3f}  "
            f"delegators {res.welfare_before:8.3f} -> {res.welfare_after:8.3f}{extra}"
        )


def versus_networkx(n: int, seed: int) -> None:
    r = random_matching_instance(n, seed=seed)
    partners, delegate = random_matching_profile(n, seed=seed + 1)
    pool = np.flatnonzero(delegate & (mutual_mates(partners) < 0))
    w = (r + r.T)[np.ix_(pool, pool)]
    t_ours, ours = timed(lambda: max_weight_matching(w))
    g = nx.Graph()
    iu = np.triu_indices(len(pool), 1)
    g.add_weighted_edges_from(zip(iu[0].tolist(), iu[1].tolist(), w[iu].tolist(), strict=True))
    t_nx, m = timed(lambda: nx.max_weight_matching(g))
    nx_weight = sum(w[a, b] for a, b in m)
    print(
        f"\n[solver vs networkx] pool of {len(pool)} unmatched delegators ({n} agents), complete graph"
    )
    print(
        f"  HiGHS LP + columns + cuts  {t_ours:8.3f} s  weight {ours.objective:.9f}  "
        f"({ours.lp_rounds} LP rounds, {ours.cuts} cuts, {ours.columns} of {len(iu[0])} edges)"
    )
    print(f"  networkx max_weight_matching {t_nx:6.3f} s  weight {nx_weight:.9f}")
    print(
        f"  same weight: {abs(ours.objective - nx_weight) <= 1e-7}   ratio networkx / ours: {t_nx / t_ours:6.1f}x"
    )


# --------------------------------------------------------------------------------------------
# The suite: peers networkx and rustworkx
# --------------------------------------------------------------------------------------------
RUSTWORKX_SCALE = 2**30
"""rustworkx wants integer weights: ``round(w * 2^30)`` (the matching found is optimal for
the rounded weights, within ``n / 2^30`` of the exact optimum)."""


def _pool_weights(n: int, seed: int) -> np.ndarray:
    r = random_matching_instance(n, seed=seed)
    partners, delegate = random_matching_profile(n, seed=seed + 1)
    pool = np.flatnonzero(delegate & (mutual_mates(partners) < 0))
    return (r + r.T)[np.ix_(pool, pool)]


def _networkx_weight(w: np.ndarray) -> float:
    g = nx.Graph()
    iu = np.triu_indices(len(w), 1)
    g.add_weighted_edges_from(zip(iu[0].tolist(), iu[1].tolist(), w[iu].tolist(), strict=True))
    return float(sum(w[a, b] for a, b in nx.max_weight_matching(g)))


def _rustworkx_weight(w: np.ndarray) -> float:
    import rustworkx as rx

    g = rx.PyGraph()
    g.add_nodes_from(range(len(w)))
    iu = np.triu_indices(len(w), 1)
    ints = np.rint(w[iu] * RUSTWORKX_SCALE).astype(np.int64).tolist()
    g.add_edges_from(list(zip(iu[0].tolist(), iu[1].tolist(), ints, strict=True)))
    m = rx.max_weight_matching(g, weight_fn=lambda x: x)
    return float(sum(w[a, b] for a, b in m))


def _weight_close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(1.0, abs(a))


def matching_sides(n: int, ctx: Context, networkx_max: int) -> list[Side]:
    w = _pool_weights(n, 0)
    sides = [
        Side(
            "HiGHS LP + columns + cuts (ours)",
            lambda: max_weight_matching(w),
            "ours",
            lambda r: float(r.objective),
        )
    ]
    if n <= networkx_max:
        sides.append(Side("networkx max_weight_matching (peer)", lambda: _networkx_weight(w)))
    if _has(ctx, "rustworkx"):
        sides.append(Side("rustworkx max_weight_matching (peer)", lambda: _rustworkx_weight(w)))
    return sides


def _has(ctx: Context, module: str) -> bool:
    key = f"_has_{module}"
    if not hasattr(ctx, key):
        setattr(ctx, key, ctx.optional(module, "matching peer") is not None)
    return bool(getattr(ctx, key))


def _pool_case(ctx: Context) -> CaseOutput:
    n = 60 if ctx.quick else 400
    max_weight_matching(np.ones((3, 3)))
    return [
        ctx.measure(
            f"max-weight matching, pool of {n:,} agents' unmatched delegators",
            matching_sides(n, ctx, n),
            agree=_weight_close,
            size={"agents": n},
        )
    ]


def _scaling(ctx: Context) -> CaseOutput:
    sizes = [30, 60] if ctx.quick else [100, 200, 400, 800]
    max_weight_matching(np.ones((3, 3)))
    curve, rows = ctx.scaling(
        "max-weight matching",
        "agents",
        [(n, partial(matching_sides, n, ctx, 200)) for n in sizes],
        agree=_weight_close,
    )
    return [curve, *rows]


SUITE_CASES = [
    Case(
        "matching.pool",
        "max-weight matching of the unmatched delegators (400 agents): "
        "mechsolve vs networkx and rustworkx",
        _pool_case,
    ),
    Case("matching.scaling", "matching time against agents (networkx up to 200)", _scaling),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--agents", type=int, default=2000)
    ap.add_argument("--networkx-agents", type=int, default=800)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    max_weight_matching(np.ones((3, 3)))  # warm-up
    round_at(a.agents, a.seed)
    versus_networkx(a.networkx_agents, a.seed)


if __name__ == "__main__":
    main()
