"""Restaurant game benchmarks (issue 4), measured side by side in one run.

1. One Pareto Mediator round at platform scale: 10,000 agents x 300 restaurants (capacities
   uniform on 1..10, ``U_k ~ U[0, 1)``), each agent delegating with probability 1/2. The
   min-cost flow (OR-Tools, restaurants as capacitated nodes) against the paper's seat-expanded
   assignment (scipy ``linear_sum_assignment`` over one column per table) and the HiGHS LP;
   all three must reach the same welfare. Two profiles: choices crowded on popular restaurants
   (Zipf exponent 1.5, seats left free elsewhere: the assignment is large) and uniform choices
   (10,000 diners for ~1,650 seats: almost every restaurant is full).
2. The central planner at the same size (min-cost flow on the pruned arcs).
3. The exact MILP: the largest instance (n agents x n/8 restaurants, half delegating) solved
   to proven optimality within the time limit (60 s): doubling n until it is not, then a few
   sizes in between; each line shows the gain over the paper's method.

Run: ``python benchmarks/bench_restaurant.py`` (``--help`` for sizes). Prints ratios.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from mechsolve.solver.core.limits import Limits
from mechsolve.solver.structured.restaurant import (
    random_restaurant_instance,
    random_restaurant_profile,
    restaurant_central_planner,
    restaurant_pareto,
    restaurant_pareto_exact,
)

BIG = Limits().with_(max_candidates=1 << 30)  # the seat-expanded matrix is ~30M cells


def best_of(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def pareto_round(n: int, n_rest: int, popularity: float, repeat: int, seed: int) -> None:
    inst = random_restaurant_instance(n, n_rest, seed=seed)
    choices, delegate = random_restaurant_profile(
        n, n_rest, delegate_share=0.5, popularity=popularity, seed=seed + 1
    )
    args = (inst.known, inst.capacities, choices, delegate)
    restaurant_pareto(inst.known[:50], inst.capacities, choices[:50], delegate[:50])  # warm-up
    t_flow, flow = best_of(lambda: restaurant_pareto(*args), repeat)
    t_seat, seat = best_of(
        lambda: restaurant_pareto(*args, method="seat_assignment", limits=BIG), 1
    )
    t_lp, lp = best_of(lambda: restaurant_pareto(*args, method="highs_lp"), 1)
    seats = int(
        np.maximum(inst.capacities - np.bincount(choices[~delegate], minlength=n_rest), 0).sum()
    )
    print(
        f"\n[Pareto round] {n} agents x {n_rest} restaurants, {int(delegate.sum())} delegators, "
        f"choices {'Zipf ' + str(popularity) if popularity else 'uniform'}: "
        f"{seats} free seats, {int(flow.seated.sum())} delegators seated"
    )
    print(f"  min-cost flow (OR-Tools)      {t_flow:8.3f} s   welfare {flow.objective:.9f}")
    print(f"    of which build / solve      {flow.build_time_s:8.3f} / {flow.solve_time_s:.3f} s")
    print(
        f"  seat-expanded assignment      {t_seat:8.3f} s   welfare {seat.objective:.9f}  ({seat.termination.detail})"
    )
    print(f"  HiGHS LP (simplex)            {t_lp:8.3f} s   welfare {lp.objective:.9f}")
    same = (
        abs(flow.objective - seat.objective) <= 1e-7 and abs(flow.objective - lp.objective) <= 1e-7
    )
    print(f"  same welfare: {same}   flow precision: {flow.termination.detail}")
    print(
        f"  ratio seat-expanded / flow: {t_seat / t_flow:6.1f}x   LP / flow: {t_lp / t_flow:6.1f}x"
    )
    print(
        f"  delegators' congested welfare {flow.welfare_before:.2f} -> "
        f"{flow.welfare_after:.2f}; everyone {flow.total_utility_before:.2f} -> "
        f"{flow.total_utility_after:.2f}"
    )


def planner(n: int, n_rest: int, seed: int) -> None:
    inst = random_restaurant_instance(n, n_rest, seed=seed)
    choices, _ = random_restaurant_profile(n, n_rest, seed=seed + 1)
    t, res = best_of(lambda: restaurant_central_planner(inst.known, inst.capacities, choices), 3)
    print(
        f"\n[central planner] {n} agents x {n_rest} restaurants: {t:.3f} s, seated {int(res.seated.sum())}, objective {res.objective:.3f}"
    )


def exact_once(n: int, time_limit: float, seed: int) -> tuple[bool, float]:
    n_rest = max(3, n // 8)
    inst = random_restaurant_instance(n, n_rest, seed=seed + n)
    choices, delegate = random_restaurant_profile(n, n_rest, popularity=1.0, seed=seed + n + 1)
    t = time.perf_counter()
    res = restaurant_pareto_exact(
        inst.known, inst.capacities, choices, delegate, time_limit=time_limit, limits=BIG
    )
    dt = time.perf_counter() - t
    paper = res.welfare_after - res.gain_over_paper
    print(
        f"  {n:6d} x {n_rest:4d} ({int(delegate.sum()):5d} delegators): {res.termination.reason.value:8s} "
        f"{dt:7.2f} s  delegators' welfare: paper {paper:9.3f}, exact {res.welfare_after:9.3f} "
        f"(gain {res.gain_over_paper:+.3f}, {100 * res.gain_over_paper / max(paper, 1e-12):+.1f}%)"
    )
    return res.termination.is_optimal and dt <= time_limit, dt


def exact_search(start: int, time_limit: float, seed: int, refine: int) -> None:
    """Double the size until the MILP is not proven optimal in time, then try ``refine`` sizes
    evenly between the last success and the first failure."""
    print(
        f"\n[exact MILP] n agents x n/8 restaurants (capacities 1..10, Zipf 1.0 choices), "
        f"half delegating, time limit {time_limit:.0f} s"
    )
    n, best, fail = start, None, None
    while fail is None:
        ok, dt = exact_once(n, time_limit, seed)
        if ok:
            best, n = (n, dt), 2 * n
        else:
            fail = n
    lo = best[0] if best else 0
    for n in np.linspace(lo, fail, refine + 2)[1:-1].astype(int):
        ok, dt = exact_once(int(n), time_limit, seed)
        if not ok:
            break
        best = (int(n), dt)
    if best:
        print(
            f"  largest solved to optimality: {best[0]} agents x {max(3, best[0] // 8)} restaurants in {best[1]:.1f} s"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--agents", type=int, default=10_000)
    ap.add_argument("--restaurants", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=3, help="best-of repeats for the flow")
    ap.add_argument("--exact-start", type=int, default=20, help="first exact MILP size (agents)")
    ap.add_argument("--exact-time-limit", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--exact-refine", type=int, default=2, help="sizes tried after doubling fails")
    ap.add_argument("--skip-exact", action="store_true")
    a = ap.parse_args()
    pareto_round(a.agents, a.restaurants, 1.5, a.repeat, a.seed)
    pareto_round(a.agents, a.restaurants, 0.0, a.repeat, a.seed)
    planner(a.agents, a.restaurants, a.seed)
    if not a.skip_exact:
        exact_search(a.exact_start, a.exact_time_limit, a.seed, a.exact_refine)


if __name__ == "__main__":
    main()
