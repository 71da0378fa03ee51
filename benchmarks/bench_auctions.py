"""Auction LP benchmarks (issue 5), measured side by side in one run and printed as ratios.

    python benchmarks/bench_auctions.py                 # every case
    python benchmarks/bench_auctions.py --only cg_vs_full menu_1x2_k100
    python benchmarks/bench_auctions.py --quick         # skip the symmetry-off baselines

Cases:
- cg_vs_full:      1x2, K=20: constraint generation vs every IC row up front (same revenue).
- menu_1x2_k100:   1x2, K=100 (10,000 types, ~10^8 IC pairs): solved and verified.
- dsic_2x2_k10:    2x2 DSIC, K=10 (10,000 profiles).
- bic_2x2_k20:     2x2 BIC, K=20 through reduced forms and Border cuts (beside DSIC at K=10).
- menu_1x3_k16:    1x3, K=16 (4,096 types).

No timing is asserted: the numbers are printed for the reader (and the closing note).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

from mechsolve.solver.auctions import (
    optimal_bic_auction,
    optimal_dsic_auction,
    optimal_menu,
    uniform_grid,
)


def _timed(label: str, solve: Callable[[], Any]) -> tuple[Any, float]:
    print(f"  ... {label}", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    res = solve()
    dt = time.perf_counter() - t0
    st, ver = res.stats, res.verification
    print(
        f"  {label:42s} {dt:8.2f} s  revenue {res.revenue:.6f}  {res.termination.reason.value}"
        f"  verified={ver.passed}  rounds {st.rounds}  IC rows {st.ic_rows:,} of {st.ic_rows_full:,}"
        f"  LP {st.lp_rows:,} x {st.lp_cols:,}  |G|={st.symmetry_order}",
        flush=True,
    )
    return res, dt


def cg_vs_full(quick: bool) -> None:
    prior = uniform_grid(2, 20)
    full, t_full = _timed(
        "full LP (no symmetry)", lambda: optimal_menu(prior, constraints="full", symmetry=False)
    )
    gen, t_gen = _timed("generation (no symmetry)", lambda: optimal_menu(prior, symmetry=False))
    _, t_sym = _timed("generation + item symmetry", lambda: optimal_menu(prior))
    print(
        f"  speed-up generation vs full: {t_full / t_gen:.0f}x (with symmetry {t_full / t_sym:.0f}x)"
    )
    print(f"  revenue difference |gen - full| = {abs(gen.revenue - full.revenue):.2e}")


def _with_and_without_symmetry(label: str, solve: Callable[..., Any], quick: bool) -> None:
    """Time ``solve(symmetry=True)``, and unless ``quick`` also ``symmetry=False``."""
    _, t_sym = _timed(f"{label} generation + symmetry", lambda: solve(symmetry=True))
    if not quick:
        _, t_plain = _timed(f"{label} generation, no symmetry", lambda: solve(symmetry=False))
        print(f"  symmetry speed-up: {t_plain / t_sym:.1f}x")


def menu_1x2_k100(quick: bool) -> None:
    prior = uniform_grid(2, 100)
    _with_and_without_symmetry("1x2 K=100", lambda **kw: optimal_menu(prior, **kw), quick)


def dsic_2x2_k10(quick: bool) -> None:
    prior = uniform_grid(2, 10)
    _with_and_without_symmetry(
        "2x2 DSIC K=10", lambda **kw: optimal_dsic_auction(prior, 2, **kw), quick
    )


def bic_2x2_k20(quick: bool) -> None:
    _, t_bic10 = _timed(
        "2x2 BIC K=10 reduced form", lambda: optimal_bic_auction(uniform_grid(2, 10), 2)
    )
    _, t_dsic10 = _timed(
        "2x2 DSIC K=10 (ex-post LP)", lambda: optimal_dsic_auction(uniform_grid(2, 10), 2)
    )
    _, t_bic20 = _timed(
        "2x2 BIC K=20 reduced form", lambda: optimal_bic_auction(uniform_grid(2, 20), 2)
    )
    print(
        f"  K=10: BIC {t_dsic10 / t_bic10:.1f}x faster than DSIC; BIC K=20 (160,000 profiles) in {t_bic20:.1f} s"
    )


def menu_1x3_k16(quick: bool) -> None:
    prior = uniform_grid(3, 16)
    _with_and_without_symmetry("1x3 K=16", lambda **kw: optimal_menu(prior, **kw), quick)


CASES: dict[str, Callable[[bool], None]] = {
    "cg_vs_full": cg_vs_full,
    "menu_1x2_k100": menu_1x2_k100,
    "dsic_2x2_k10": dsic_2x2_k10,
    "bic_2x2_k20": bic_2x2_k20,
    "menu_1x3_k16": menu_1x3_k16,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", nargs="+", choices=sorted(CASES), help="run only these cases")
    parser.add_argument("--quick", action="store_true", help="skip the symmetry-off baselines")
    args = parser.parse_args(argv)
    for name in args.only or list(CASES):
        print(f"[{name}]", flush=True)
        CASES[name](args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
