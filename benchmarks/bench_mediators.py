"""Mediator benchmarks (issue: solver core), measured side by side in one run.

1. Pareto Mediator batch, 10,000 profiles of a 3-player 8-action U[0,1) game (delegate bits
   Bernoulli(1/2)): ``mediate_batch`` vs a bare numpy pass over the same payoff entries
   (gather each profile's candidates, sum, argmax: no feasibility, no ties), and vs one Pyomo
   MILP per profile (timed on a sample, scaled to all profiles).
2. Full Pareto-mediated game, 4 players x 6 actions (12^4 = 20,736 mediated profiles):
   ``mediated_game`` vs a per-profile plain-Python loop over the candidates (timed on a sample,
   scaled), and vs calling the single-profile API per profile (also sampled).

Run: ``python benchmarks/bench_mediators.py`` (``--help`` for sizes). Prints ratios.
"""

from __future__ import annotations

import argparse
import itertools
import time
from collections.abc import Callable

import numpy as np

from mechsolve.solver.games.normal_form import NormalFormGame, random_game
from mechsolve.solver.mediators.candidates import candidate_utilities
from mechsolve.solver.mediators.deterministic import mediate_batch, pareto_mediator
from mechsolve.solver.mediators.mediated_games import mediated_game


def best_of(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def bare_numpy_pass(g: NormalFormGame, acts: np.ndarray, dele: np.ndarray) -> np.ndarray:
    """Read each profile's candidate payoffs once (grouped by delegate mask), sum over the
    delegators, argmax. The floor any exact enumeration has to pay."""
    out = np.empty(len(acts), dtype=np.int64)
    masks, inv = np.unique(dele, axis=0, return_inverse=True)
    for gi, mask in enumerate(masks):
        rows = np.flatnonzero(inv.reshape(-1) == gi)
        free = np.flatnonzero(mask)
        u = candidate_utilities(g.payoffs, acts[rows], free)
        out[rows] = np.broadcast_to(u[free].sum(axis=0), (len(rows), u.shape[2])).argmax(axis=1)
    return out


def python_loop_pareto(
    g: NormalFormGame, a: tuple[int, ...], d: tuple[bool, ...]
) -> tuple[int, ...]:
    """The paper's method: search all outcomes in plain Python (utilitarian, eq. 3)."""
    n = g.n_players
    dele = [i for i in range(n) if d[i]]
    if len(dele) < 2:
        return a
    p = g.payoffs
    before = [p[(i, *a)] for i in range(n)]
    best, best_w = a, sum(before[i] for i in dele)
    for choice in itertools.product(*[range(g.num_actions[i]) for i in dele]):
        prof = list(a)
        for i, x in zip(dele, choice, strict=True):
            prof[i] = x
        u = [p[(i, *prof)] for i in dele]
        if all(u[j] >= before[i] for j, i in enumerate(dele)):
            w = sum(u)
            if w > best_w:
                best, best_w = tuple(prof), w
    return best


def bench_batch(profiles: int, pyomo_sample: int) -> None:
    g = random_game([8, 8, 8], seed=0)
    rng = np.random.default_rng(1)
    acts = rng.integers(0, 8, (profiles, 3))
    dele = rng.random((profiles, 3)) < 0.5
    mediate_batch(g, acts[:100], dele[:100])  # warm up
    t_ours = best_of(lambda: mediate_batch(g, acts, dele), 5)
    t_bare = best_of(lambda: bare_numpy_pass(g, acts, dele), 5)
    sample = rng.choice(profiles, pyomo_sample, replace=False)
    mediate_batch(g, acts[:1], np.ones((1, 3), bool), method="pyomo")  # import + first solve
    t0 = time.perf_counter()
    mediate_batch(g, acts[sample], dele[sample], method="pyomo")
    t_pyomo = (time.perf_counter() - t0) / pyomo_sample * profiles
    t0 = time.perf_counter()
    mediate_batch(g, acts[sample], dele[sample], method="milp")
    t_milp = (time.perf_counter() - t0) / pyomo_sample * profiles
    print(f"== Pareto batch: {profiles} profiles, 3 players x 8 actions ==")
    print(
        f"mediate_batch (enumeration)   {t_ours * 1e3:9.1f} ms  ({profiles / t_ours:,.0f} profiles/s)"
    )
    print(f"bare numpy pass               {t_bare * 1e3:9.1f} ms")
    print(f"HiGHS MILP per profile        {t_milp:9.2f} s   (sampled {pyomo_sample}, scaled)")
    print(f"Pyomo MILP per profile        {t_pyomo:9.2f} s   (sampled {pyomo_sample}, scaled)")
    print(f"ratio ours / bare numpy       {t_ours / t_bare:9.2f}x   (goal <= 3)")
    print(f"ratio Pyomo / ours            {t_pyomo / t_ours:9.0f}x   (goal >= 100)")
    print(f"ratio HiGHS MILP / ours       {t_milp / t_ours:9.0f}x")


def bench_mediated_game(loop_sample: int) -> None:
    g = random_game([6, 6, 6, 6], seed=0)
    mediated_game(g)  # warm up
    t_ours = best_of(lambda: mediated_game(g), 3)
    ks = np.array(g.num_actions)
    total = int(np.prod(2 * ks))
    rng = np.random.default_rng(2)
    # The per-profile cost depends on the delegate mask (how many candidates), so sample each
    # of the 2^n masks equally and scale by its count (prod k_i profiles per mask).
    per_mask = max(1, loop_sample // 2**g.n_players)
    t_loop = t_calls = 0.0
    for mask in itertools.product([False, True], repeat=g.n_players):
        d = np.array(mask)
        acts = np.stack([rng.integers(0, k, per_mask) for k in ks], axis=1)
        t0 = time.perf_counter()
        for a in acts:
            python_loop_pareto(g, tuple(int(x) for x in a), mask)
        t_loop += (time.perf_counter() - t0) / per_mask * int(np.prod(ks))
        t0 = time.perf_counter()
        for a in acts:
            pareto_mediator(g, a, d)
        t_calls += (time.perf_counter() - t0) / per_mask * int(np.prod(ks))
    sampled = per_mask * 2**g.n_players
    print(f"== Pareto-mediated game: 4 players x 6 actions ({total:,} mediated profiles) ==")
    print(f"mediated_game                 {t_ours:9.3f} s   (goal < 1 s)")
    print(
        f"per-profile Python loop       {t_loop:9.2f} s   (sampled {sampled}, every mask, scaled)"
    )
    print(
        f"per-profile pareto_mediator   {t_calls:9.2f} s   (sampled {sampled}, every mask, scaled)"
    )
    print(f"ratio Python loop / ours      {t_loop / t_ours:9.0f}x   (goal >= 100)")
    print(f"ratio single calls / ours     {t_calls / t_ours:9.0f}x")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--profiles", type=int, default=10_000)
    ap.add_argument("--pyomo-sample", type=int, default=40)
    ap.add_argument("--loop-sample", type=int, default=600)
    args = ap.parse_args()
    bench_batch(args.profiles, args.pyomo_sample)
    print()
    bench_mediated_game(args.loop_sample)


if __name__ == "__main__":
    main()
