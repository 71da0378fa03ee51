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
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import networkx as nx
import numpy as np

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
