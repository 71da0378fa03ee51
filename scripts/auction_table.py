"""Generate the comparison tables of ``docs/auctions.md`` (issue 5).

    python scripts/auction_table.py [--seed-file SEED_TEXT] [--doc docs/auctions.md] [--quick]

For 1x2, 2x2 and 2x3 with i.i.d. U[0, 1] values: the LP optimum on a midpoint grid, its revenue
on the continuous prior (the menu integrated exactly for one bidder; bids rounded to the grid
for n > 1, which earns exactly the grid revenue), the measured ex-post regret on the continuous
prior (0 for a menu; Monte Carlo with bids rounded to the grid otherwise), the solve time, a
Richardson estimate of the continuous optimum, and the regret-budget curve for epsilon in
{0, 1e-4, 1e-3}, beside the seed's Table 1 (RegretNet, EquivariantNet, RegretFormer),
transcribed below (or re-read from the seed text with --seed-file). The tables replace the block between the markers in the doc.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

from mechsolve.solver.auctions import (
    continuous_menu_revenue,
    optimal_dsic_auction,
    optimal_menu,
    regret_budget_auction,
    richardson,
    rounded_evaluation,
    uniform_grid,
)
from mechsolve.solver.auctions.audit import audit_result

ROOT = Path(__file__).resolve().parents[1]
SEED_TABLE1: dict[tuple[str, str], dict[str, tuple[float, float]]] = {
    ("1e-3", "1x2"): {
        "RegretNet": (0.572, 0.00070),
        "EquivariantNet": (0.586, 0.00065),
        "RegretFormer": (0.571, 0.00075),
    },
    ("1e-3", "2x2"): {
        "RegretNet": (0.889, 0.00055),
        "EquivariantNet": (0.878, 0.00080),
        "RegretFormer": (0.908, 0.00054),
    },
    ("1e-3", "2x3"): {
        "RegretNet": (1.317, 0.00102),
        "EquivariantNet": (1.365, 0.00084),
        "RegretFormer": (1.416, 0.00089),
    },
    ("1e-3", "2x5"): {
        "RegretNet": (2.339, 0.00142),
        "EquivariantNet": (2.437, 0.00146),
        "RegretFormer": (2.453, 0.00102),
    },
    ("1e-3", "3x10"): {
        "RegretNet": (5.590, 0.00204),
        "EquivariantNet": (5.744, 0.00167),
        "RegretFormer": (6.121, 0.00179),
    },
    ("1e-4", "1x2"): {
        "RegretNet": (0.551, 0.00007),
        "EquivariantNet": (0.548, 0.00013),
        "RegretFormer": (0.556, 0.00014),
    },
    ("1e-4", "2x2"): {
        "RegretNet": (0.825, 0.00005),
        "EquivariantNet": (0.750, 0.00005),
        "RegretFormer": (0.861, 0.00006),
    },
    ("1e-4", "2x3"): {
        "RegretNet": (1.249, 0.00007),
        "EquivariantNet": (1.226, 0.00010),
        "RegretFormer": (1.327, 0.00011),
    },
    ("1e-4", "2x5"): {
        "RegretNet": (2.121, 0.00013),
        "EquivariantNet": (2.168, 0.00017),
        "RegretFormer": (2.339, 0.00015),
    },
    ("1e-4", "3x10"): {
        "RegretNet": (5.020, 0.00062),
        "EquivariantNet": (5.120, 0.00025),
        "RegretFormer": (5.745, 0.00022),
    },
}
"""Seed 004 (004_12b8a0182d8bd540.txt) Table 1: ``{(R_max, setting): {model: (revenue, regret)}}``,
transcribed; ``--seed-file`` re-reads it from the seed text instead."""
START, END = "<!-- auction-table:start -->", "<!-- auction-table:end -->"
MODELS = ("RegretNet", "EquivariantNet", "RegretFormer")
SETTINGS = {"1x2": (1, 2, 30, (20, 40)), "2x2": (2, 2, 10, (5, 10)), "2x3": (2, 3, 5, (3, 6))}
"""setting -> (bidders, items, grid K, Richardson grids)."""
QUICK = {"1x2": (1, 2, 10, (5, 10)), "2x2": (2, 2, 4, (2, 4)), "2x3": (2, 3, 3, (2, 3))}
EPSILONS = (0.0, 1e-4, 1e-3)
MC_SAMPLES = 100_000


def seed_table(path: Path) -> dict[tuple[str, str], dict[str, tuple[float, float]]]:
    """``{(R_max, setting): {model: (revenue, regret)}}`` from the seed's Table 1."""
    text = path.read_text()
    start = text.index("Table 1: Architecture comparison")
    out: dict[tuple[str, str], dict[str, tuple[float, float]]] = {}
    r_max = ""
    for line in text[start:].splitlines()[1:]:
        cells = [c.strip() for c in line.split("\t")]
        if len(cells) < 8:
            if out and line.strip():
                break
            continue
        if cells[0].startswith("10^"):
            r_max = "1e" + re.sub(r"[^\d-]", "", cells[0][3:])
        if not re.fullmatch(r"\d+x\d+", cells[1]):
            continue
        nums = [float(c) for c in cells[2:8]]
        out[(r_max, cells[1])] = {m: (nums[2 * k], nums[2 * k + 1]) for k, m in enumerate(MODELS)}
    return out


def _progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _solve(n: int, m: int, k: int, points: str = "midpoint"):  # type: ignore[no-untyped-def]
    prior = uniform_grid(m, k, points=points)
    return optimal_menu(prior) if n == 1 else optimal_dsic_auction(prior, n)


def solve_setting(name: str, n: int, m: int, k: int, grids: tuple[int, int]) -> dict[str, object]:
    _progress(f"[{name}] grid K={k} ...")
    t0 = time.perf_counter()
    res = _solve(n, m, k)
    t = time.perf_counter() - t0
    if n == 1:
        cont = continuous_menu_revenue(res.menu())
        cont_rev, cont_note, regret = cont.revenue, f"± {cont.error:.0e} bound", "0 (menu is IC)"
    else:
        ev = rounded_evaluation(
            res.allocation, res.payment, list(res.priors), n_samples=MC_SAMPLES, seed=0
        )
        cont_rev, cont_note = ev.revenue, "exact"
        regret = f"{ev.regret_mean:.5f} ± {ev.regret_mean_se:.0e}"
    assert res.verification.passed and audit_result(res).regret_max == 0.0
    corner = _solve(n, m, k, "corner").revenue
    _progress(f"[{name}] Richardson grids {grids} ...")
    revs = [_solve(n, m, kk).revenue for kk in grids]
    est = richardson(grids[0], revs[0], grids[1], revs[1])
    curve = []
    for eps in EPSILONS:
        _progress(f"[{name}] regret budget {eps:g} ...")
        t1 = time.perf_counter()
        rb = regret_budget_auction(uniform_grid(m, k), n, epsilon=eps)
        dt = time.perf_counter() - t1
        assert rb.verification.passed
        grid_regret = audit_result(rb).regret_mean
        cont_regret = rounded_evaluation(
            rb.allocation, rb.payment, list(rb.priors), n_samples=MC_SAMPLES, seed=0
        ).regret_mean
        curve.append((eps, rb.revenue, grid_regret, cont_regret, dt))
    return {
        "k": k,
        "grid_revenue": res.revenue,
        "corner_revenue": corner,
        "cont_revenue": cont_rev,
        "cont_note": cont_note,
        "regret": regret,
        "time": t,
        "richardson": (grids, est),
        "curve": curve,
    }


def render(results: dict[str, dict[str, object]], seed: dict) -> str:  # type: ignore[type-arg]
    lines = [
        START,
        "",
        "Generated by `python scripts/auction_table.py` (i.i.d. U[0,1] values, additive bidders,",
        "DSIC for n > 1, midpoint grids unless stated; continuous-prior regret: bids rounded to",
        f"the grid, Monte Carlo with {MC_SAMPLES:,} samples, seed 0, ± one standard error).",
        "",
        "| setting | grid K | LP revenue, midpoint grid | LP revenue, corner grid | revenue, continuous prior | ex-post regret, continuous prior | solve time | Richardson estimate (grids) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        grids, est = r["richardson"]  # type: ignore[misc]
        lines.append(
            f"| {name} | {r['k']} | {r['grid_revenue']:.4f} | {r['corner_revenue']:.4f} "
            f"| {r['cont_revenue']:.4f} ({r['cont_note']}) "
            f"| {r['regret']} | {r['time']:.2f} s | {est:.4f} ({grids[0]}, {grids[1]}) |"
        )
    lines += [
        "",
        "Seed 004, Table 1 (learned auctions, revenue / regret at regret budget R_max):",
        "",
        "| setting | R_max | RegretNet | EquivariantNet | RegretFormer |",
        "|---|---|---|---|---|",
    ]
    for name in results:
        for r_max in ("1e-3", "1e-4"):
            row = seed.get((r_max, name))
            if row:
                cells = " | ".join(f"{row[mdl][0]:.3f} / {row[mdl][1]:.5f}" for mdl in MODELS)
                lines.append(f"| {name} | {r_max} | {cells} |")
    lines += [
        "",
        "Regret-budget LP on the same grids (maximize grid revenue s.t. mean ex-post grid regret",
        "<= epsilon; the grid regret is audited, the continuous regret is that of the same",
        "mechanism with bids rounded to the grid, Monte Carlo):",
        "",
        "| setting | epsilon | LP revenue (grid) | audited grid regret | continuous regret (rounded bids) | solve time |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        for eps, rev, g_reg, c_reg, dt in r["curve"]:  # type: ignore[attr-defined]
            lines.append(
                f"| {name} | {eps:g} | {rev:.4f} | {g_reg:.2e} | {c_reg:.5f} | {dt:.2f} s |"
            )
    lines += ["", END]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--seed-file",
        type=Path,
        default=None,
        help="re-read Table 1 from the seed text (default: transcribed)",
    )
    parser.add_argument("--doc", type=Path, default=ROOT / "docs" / "auctions.md")
    parser.add_argument("--quick", action="store_true", help="small grids (a smoke run)")
    parser.add_argument("--print-only", action="store_true", help="print, do not write the doc")
    args = parser.parse_args(argv)
    seed = SEED_TABLE1 if args.seed_file is None else seed_table(args.seed_file)
    settings = QUICK if args.quick else SETTINGS
    results = {name: solve_setting(name, *spec) for name, spec in settings.items()}
    block = render(results, seed)
    print(block)
    if not args.print_only:
        doc = args.doc.read_text()
        if START not in doc or END not in doc:
            raise SystemExit(f"{args.doc}: markers {START} / {END} not found")
        head, rest = doc.split(START, 1)
        _, tail = rest.split(END, 1)
        args.doc.write_text(head + block + tail)
        _progress(f"wrote {args.doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
