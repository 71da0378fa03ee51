"""Run time of the learned-auction comparison (issue 12; docs/auctions.md, Table B), per
setting and budget, and the two slow cases of the issue.

    python benchmarks/bench_auction_table.py                  # every setting of Table B
    python benchmarks/bench_auction_table.py --only 1x2 2x2   # some settings
    python benchmarks/bench_auction_table.py --quick          # Table B's quick grids
    python benchmarks/bench_auction_table.py --speed          # + BIC non-identical K=20 and
                                                              #   the regret-budget LP at K=50

Per row: the LP's solve time (HiGHS, constraint generation) and the time to measure it on
100,000 profiles with bids rounded to the grid (exact best misreport), with its revenue and
regret. No timing is asserted: the numbers are printed for the reader (and the closing note).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `scripts` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mechsolve.solver.auctions import optimal_bic_auction, regret_budget_auction, uniform_grid
from mechsolve.solver.auctions.comparison import learned_auction_comparison
from scripts.auction_table import COMPARE, COMPARE_QUICK, EPSILONS, MC_SAMPLES


def table(settings: dict[str, tuple[int, int, int]], names: list[str]) -> None:
    print(f"{'setting':8s} {'K':>3s} {'budget':>7s} {'solve s':>8s} {'measure s':>9s}  result")
    for name in names:
        n, m, k = settings[name]
        for eps in EPSILONS:
            row = learned_auction_comparison(n, m, k, epsilon=eps, n_samples=MC_SAMPLES)
            print(
                f"{name:8s} {k:3d} {eps:7g} {row.solve_time_s:8.2f} {row.eval_time_s:9.2f}  "
                f"revenue {row.revenue:.4f} regret {row.regret:.5f} ({row.status})",
                flush=True,
            )


def speed(time_limit: float) -> None:
    """The issue's slow cases: BIC with non-identical bidders at K=20 and the regret-budget
    LP on a fine one-bidder grid (time-limited)."""
    cases = [
        (
            "2x2 BIC K=20, U[0,1]^2 and U[0,2]^2",
            lambda: optimal_bic_auction([uniform_grid(2, 20), uniform_grid(2, 20, hi=2.0)]),
        ),
        (
            "2x2 BIC K=20, identical U[0,1]^2",
            lambda: optimal_bic_auction(uniform_grid(2, 20), 2),
        ),
        (
            f"1x2 regret budget 1e-3 K=50 (limit {time_limit:g} s)",
            lambda: regret_budget_auction(
                uniform_grid(2, 50), 1, epsilon=1e-3, time_limit=time_limit
            ),
        ),
    ]
    for label, solve in cases:
        t0 = time.perf_counter()
        res = solve()
        dt = time.perf_counter() - t0
        st = res.stats
        print(
            f"{label:46s} {dt:7.2f} s  {res.termination.reason.value}  revenue {res.revenue:.6f}"
            f"  rounds {st.rounds}  LP {st.lp_rows:,} x {st.lp_cols:,}  HiGHS {st.lp_time_s:.1f} s"
            f"  separation {st.separation_time_s:.1f} s",
            flush=True,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", nargs="+", choices=sorted(COMPARE), help="these settings")
    parser.add_argument("--quick", action="store_true", help="the quick grids of Table B")
    parser.add_argument("--speed", action="store_true", help="also the issue's slow cases")
    parser.add_argument("--time-limit", type=float, default=120.0, help="for --speed (s)")
    args = parser.parse_args(argv)
    settings = COMPARE_QUICK if args.quick else COMPARE
    table(settings, args.only or list(settings))
    if args.speed:
        speed(args.time_limit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
