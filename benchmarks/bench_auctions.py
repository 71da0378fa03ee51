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

In the suite (``python -m benchmarks auctions``): constraint generation against the full LP
(every IC row up front) solved by the better of HiGHS simplex and HiGHS interior point, with
and without the item symmetry, revenues checked equal; and the scaling curve in the grid size K.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the `benchmarks` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import mechsolve.solver.auctions.rochet_lp as rochet_lp
from benchmarks.harness import Case, CaseOutput, Context, Side
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


# --------------------------------------------------------------------------------------------
# The suite: the full LP by the better of HiGHS simplex and interior point (issue 16)
# --------------------------------------------------------------------------------------------
@contextlib.contextmanager
def highs_solver(solver: str) -> Iterator[None]:
    """Make the Rochet LP's HiGHS model use ``solver`` ("simplex", "ipm") for this block."""
    make = rochet_lp.new_highs

    def forced(*args: Any, **kw: Any) -> Any:
        h = make(*args, **kw)
        h.setOptionValue("solver", solver)
        return h

    rochet_lp.new_highs = forced
    try:
        yield
    finally:
        rochet_lp.new_highs = make


def full_lp(prior: Any, solver: str, symmetry: bool) -> Any:
    with highs_solver(solver):
        return optimal_menu(prior, constraints="full", symmetry=symmetry)


def _revenue(res: Any) -> float:
    if not res.termination.is_optimal:
        raise RuntimeError(f"not solved to optimality: {res.termination}")
    return float(res.revenue)


def _revenue_close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-7 * max(1.0, abs(a))


def menu_sides(k: int, full: bool, secondary: bool = True) -> list[Side]:
    """Ours (constraint generation + symmetry) and the full LPs on the 1x2 grid of size K."""
    prior = uniform_grid(2, k)
    sides = [Side("constraint generation (ours)", lambda: optimal_menu(prior), "ours", _revenue)]
    if full:
        for solver, name in (("simplex", "simplex"), ("ipm", "interior point")):
            sides.append(
                Side(
                    f"full LP, HiGHS {name}",
                    partial(full_lp, prior, solver, True),
                    "strong",
                    _revenue,
                )
            )
    if full and secondary:  # (simplex without symmetry, the slowest, is left out: ~30 s at K=20)
        sides.append(
            Side(
                "full LP, HiGHS interior point, no symmetry",
                lambda: full_lp(prior, "ipm", False),
                "secondary",
                _revenue,
            )
        )
    return sides


def _cg_case(ctx: Context) -> CaseOutput:
    k = 6 if ctx.quick else 20
    optimal_menu(uniform_grid(2, 3))  # HiGHS loaded outside the timing
    return [
        ctx.measure(
            f"1 bidder x 2 items, K={k} ({k * k} types)",
            menu_sides(k, True),
            agree=_revenue_close,
            size={"K": k},
        )
    ]


def _scaling(ctx: Context) -> CaseOutput:
    ks = [3, 6, 12] if ctx.quick else [5, 10, 20, 40, 80]
    limit = 6 if ctx.quick else 20
    optimal_menu(uniform_grid(2, 3))
    curve, rows = ctx.scaling(
        "auction menu 1x2",
        "K",
        [(k, partial(menu_sides, k, k <= limit, secondary=False)) for k in ks],
        agree=_revenue_close,
    )
    return [curve, *rows]


SUITE_CASES = [
    Case(
        "auctions.cg_vs_full",
        "1x2 menu, K=20: constraint generation vs the full LP by the "
        "better of HiGHS simplex and interior point (and interior point without symmetry)",
        _cg_case,
    ),
    Case(
        "auctions.scaling", "1x2 menu time against the grid size K (full LP up to K=20)", _scaling
    ),
]


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
