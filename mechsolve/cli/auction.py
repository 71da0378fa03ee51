"""``mechsolve auction``: revenue-optimal auction LPs and exact incentive audits.

Solve (default)::

    mechsolve auction --bidders 1 --items 2 --grid 30            # optimal menu, U[0,1]^2
    mechsolve auction --bidders 2 --items 2 --grid 10            # DSIC auction
    mechsolve auction --bidders 2 --items 2 --grid 20 --bic      # BIC (reduced form)
    mechsolve auction --bidders 2 --items 2 --grid 8 --regret-budget 1e-3
    mechsolve auction --bidders 1 --samples values.csv --json    # empirical prior

Audit::

    mechsolve auction --audit mechanism.npz [--json]

The learned-auction comparison (seed 004, Table 1; in-process)::

    mechsolve auction --compare-table --bidders 2 --items 2 --grid 10 [--eval-samples N]

With ``--address HOST:PORT`` the same commands solve, evaluate and audit on a running
``mechsolve serve`` (``mechsolve.v1.AuctionService``) through the Python client; priors and
files are read here and the output is the same.

File formats (``--samples``, ``--audit``, ``--output``): see
:mod:`mechsolve.solver.auctions.files` and ``docs/auctions.md``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

EPILOG = """\
--samples FILE: .npy / .npz (array 'samples') / .csv / .txt of shape (N, m): every bidder's
  prior is the empirical distribution of the rows; .npy/.npz may also be (N, n, m), one prior
  per bidder. --audit FILE / --output FILE: .npz or .json with 'allocation'
  (T_1..T_n, n, m), 'payment' (T_1..T_n, n) and either 'values' ((T, m) or (n, T, m)) with
  optional 'probs', or a grid ('lo', 'hi', 'points'; K from the table shape).
"""


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "auction",
        help="revenue-optimal auctions as LPs (menus, DSIC, BIC, regret budgets) and audits",
        description=(
            "Solve a revenue-maximizing auction LP on a grid or sampled prior "
            "(additive bidders, lotteries allowed), or audit a mechanism given as tables."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--bidders", type=int, default=1, help="number of bidders (default 1)")
    p.add_argument("--items", type=int, default=None, help="number of items (default 2)")
    p.add_argument("--grid", type=int, default=10, help="grid points per item K (default 10)")
    p.add_argument("--points", default="midpoint", help="grid points: midpoint | corner")
    p.add_argument(
        "--lo",
        type=float,
        nargs="+",
        default=[0.0],
        help="lowest value (default 0), or one per item (a box prior)",
    )
    p.add_argument(
        "--hi",
        type=float,
        nargs="+",
        default=[1.0],
        help="highest value (default 1), or one per item (a box prior)",
    )
    p.add_argument("--bic", action="store_true", help="Bayesian IC with interim IR (reduced form)")
    p.add_argument("--unit-demand", action="store_true", help="each bidder wants at most one item")
    p.add_argument(
        "--regret-budget",
        type=float,
        default=None,
        metavar="EPS",
        help="maximize revenue s.t. mean ex-post regret <= EPS instead of DSIC",
    )
    p.add_argument("--samples", metavar="FILE", help="empirical prior from valuation samples")
    p.add_argument(
        "--constraints", default="generation", help="generation (default) | full (every IC row)"
    )
    p.add_argument(
        "--no-symmetry", action="store_true", help="do not merge identical items/bidders"
    )
    p.add_argument("--time-limit", type=float, default=None, metavar="S", help="seconds")
    p.add_argument(
        "--continuous",
        action="store_true",
        help="also evaluate on the continuous prior U[lo,hi]^m (menu: integrated; n > 1: bids "
        "rounded to the grid, Monte Carlo regret)",
    )
    p.add_argument("--eval-samples", type=int, default=100_000, help="Monte Carlo samples")
    p.add_argument("--seed", type=int, help="Monte Carlo seed (default: fresh, printed)")
    p.add_argument("--show", type=int, default=12, help="menu entries / rows to print")
    p.add_argument("--output", metavar="FILE", help="write the mechanism (.npz or .json)")
    p.add_argument("--audit", metavar="FILE", help="audit the mechanism in FILE instead of solving")
    p.add_argument(
        "--compare-table",
        action="store_true",
        help="the grid LP exactly DSIC and at regret budgets 1e-4, 1e-3, measured like the "
        "learned auctions (revenue and regret on --eval-samples U[0,1] profiles, bids rounded "
        "to the grid), beside seed 004 Table 1 (in-process)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--address",
        metavar="HOST:PORT",
        help="solve, evaluate and audit on a running server instead of in-process",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .output import solver_api

    args.lo, args.hi = (x[0] if len(x) == 1 else x for x in (args.lo, args.hi))
    if args.compare_table:
        return _compare_table(args)
    with solver_api(args.address, args.time_limit) as api:  # (an RPC error: mechsolve.cli.main)
        out = _audit(args, api) if args.audit else _solve(args, api)
    if args.address:
        out["server"] = args.address
    if args.json:
        json.dump(out, sys.stdout, indent=2, default=_jsonable)
        sys.stdout.write("\n")
    else:
        _print_text(out, args.show)
    status = out.get("status", "OPTIMAL")
    return 0 if status in ("OPTIMAL", "FEASIBLE", "IMPRECISE") else 1


COMPARE_EPSILONS = (0.0, 1e-4, 1e-3)
"""Budgets of ``--compare-table``: exactly DSIC on the grid, then the seed's R_max values."""


def _compare_table(args: argparse.Namespace) -> int:
    """``--compare-table``: one setting at every budget, beside seed 004 Table 1."""
    from mechsolve.solver.auctions.comparison import (
        MODELS,
        SEED_TABLE1,
        learned_auction_comparison,
    )

    if args.address:
        print("mechsolve auction: error: --compare-table runs in-process only", file=sys.stderr)
        return 2
    m = 2 if args.items is None else args.items
    seed = 0 if args.seed is None else args.seed
    rows = [
        learned_auction_comparison(
            args.bidders, m, args.grid, epsilon=eps, points=args.points,
            n_samples=args.eval_samples, seed=seed, time_limit=args.time_limit,
        )
        for eps in COMPARE_EPSILONS
    ]  # fmt: skip
    if args.json:
        json.dump([r.__dict__ for r in rows], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    print(
        f"{args.bidders}x{m}, grid K={args.grid} ({args.points}), {args.eval_samples:,} profiles "
        f"from U[0,1], seed {seed}; bids rounded to the grid, best misreport exact"
    )
    print(
        f"{'budget':>7s}  {'revenue':>17s}  {'regret':>19s}  {'solve':>7s}  "
        + "  ".join(f"{mdl:>16s}" for mdl in MODELS)
    )
    for r in rows:
        key = {1e-4: "1e-4", 1e-3: "1e-3"}.get(r.epsilon)
        paper = SEED_TABLE1.get((key, r.setting)) if key else None
        cells = "  ".join(
            f"{paper[mdl][0]:.3f} / {paper[mdl][1]:.5f}" if paper else f"{'-':>16s}"
            for mdl in MODELS
        )
        budget = "DSIC" if r.epsilon == 0.0 else f"{r.epsilon:g}"
        if r.status != "optimal":
            print(f"{budget:>7s}  {r.status}")
            continue
        print(
            f"{budget:>7s}  {r.revenue:.4f} ± {r.revenue_se:.4f}  {r.regret:.5f} ± {r.regret_se:.1e}"
            f"  {r.solve_time_s:6.1f}s  {cells}"
        )
    return 0 if all(r.status == "optimal" for r in rows) else 1


def _jsonable(x: Any) -> Any:
    import numpy as np

    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, np.generic):
        return x.item()
    raise TypeError(f"not JSON serializable: {type(x).__name__}")


def _priors(args: argparse.Namespace) -> Any:
    from mechsolve.solver.auctions.files import load_samples
    from mechsolve.solver.auctions.priors import empirical_prior, uniform_grid
    from mechsolve.solver.core.errors import MechsolveInputError

    if args.samples:
        x = load_samples(args.samples)
        m = x.shape[-1]
        if args.items is not None and args.items != m:
            raise MechsolveInputError(
                "auction",
                "--items",
                f"must match the {m} item columns of --samples; got {args.items}",
            )
        if x.ndim == 3:
            if x.shape[1] != args.bidders:
                raise MechsolveInputError(
                    "auction",
                    "--bidders",
                    f"must match the samples' {x.shape[1]} bidders; got {args.bidders}",
                )
            return [empirical_prior(x[:, i, :]) for i in range(x.shape[1])]
        return empirical_prior(x)
    return uniform_grid(
        2 if args.items is None else args.items,
        args.grid,
        lo=args.lo,
        hi=args.hi,
        points=args.points,
    )


def _solve(args: argparse.Namespace, api: Any) -> dict[str, Any]:
    from mechsolve.solver.auctions.files import save_mechanism
    from mechsolve.solver.auctions.results import AuctionResult, MenuResult
    from mechsolve.solver.core.errors import MechsolveInputError

    priors = _priors(args)
    common = {
        "constraints": args.constraints,
        "symmetry": not args.no_symmetry,
        "time_limit": args.time_limit,
    }
    n = len(priors) if isinstance(priors, list) else args.bidders
    if args.regret_budget is not None:
        if args.bic:
            raise MechsolveInputError("auction", "--regret-budget", "cannot be combined with --bic")
        res: Any = api.regret_budget_auction(
            priors, n, epsilon=args.regret_budget, unit_demand=args.unit_demand, **common
        )
    elif n == 1 and not args.bic and not isinstance(priors, list):
        res = api.optimal_menu(priors, unit_demand=args.unit_demand, **common)
    elif args.bic:
        res = api.optimal_bic_auction(priors, n, **common)
    else:
        res = api.optimal_dsic_auction(priors, n, unit_demand=args.unit_demand, **common)
    out: dict[str, Any] = {
        "mode": res.incentive.value if not isinstance(res, MenuResult) else "menu",
        "bidders": n,
        "items": (priors[0] if isinstance(priors, list) else priors).n_items,
        "types_per_bidder": [p.n_types for p in (priors if isinstance(priors, list) else [priors])],
        "revenue": res.revenue,
        "status": res.termination.reason.name,
        "limit": None if res.termination.limit is None else res.termination.limit.name,
        "detail": res.termination.detail,
        "bound": res.info.bound,
        "solve_time_s": res.wall_time_s,
        "method": res.method,
        "rounds": res.stats.rounds,
        "ic_rows": res.stats.ic_rows,
        "ic_rows_full": res.stats.ic_rows_full,
        "border_rows": res.stats.border_rows,
        "lp_rows": res.stats.lp_rows,
        "lp_cols": res.stats.lp_cols,
        "symmetry_order": res.stats.symmetry_order,
        "verification": res.verification.__dict__,
    }
    if not res.termination.has_solution:
        return out
    if isinstance(res, MenuResult):
        menu = res.menu()
        order = (-menu.mass).argsort()
        out["menu"] = [
            {
                "allocation": menu.allocation[k],
                "price": float(menu.price[k]),
                "mass": float(menu.mass[k]),
            }
            for k in order
        ]
    elif isinstance(res, AuctionResult):
        out["summary"] = _ex_post_summary(res)
        audit = api.audit_mechanism(
            res.allocation,
            res.payment,
            list(res.priors),
            unit_demand=res.unit_demand,
            tolerance=1e-7,
        )
        out["grid_regret_mean"] = audit.regret_mean
        out["grid_regret_max"] = audit.regret_max
    else:
        out["summary"] = [
            {
                "bidder": i,
                "expected_allocation": (p.probs @ a),
                "expected_payment": float(p.probs @ pay),
            }
            for i, (p, a, pay) in enumerate(
                zip(res.priors, res.allocation, res.payment, strict=True)
            )
        ]
    if args.continuous:
        if isinstance(res, MenuResult):
            cont = api.continuous_menu_revenue(res.menu(), lo=args.lo, hi=args.hi)
            out["continuous_revenue"] = cont.revenue
            out["continuous_revenue_error_bound"] = cont.error
        elif isinstance(res, AuctionResult):
            ev = api.rounded_evaluation(
                res.allocation,
                res.payment,
                list(res.priors),
                n_samples=args.eval_samples,
                seed=args.seed,
            )
            out["continuous_seed"] = ev.seed
            out["continuous_revenue"] = ev.revenue
            out["continuous_regret_mean"] = ev.regret_mean
            out["continuous_regret_mean_se"] = ev.regret_mean_se
            out["continuous_regret_max_observed"] = ev.regret_max_observed
        else:
            raise MechsolveInputError("auction", "--continuous", "is not available with --bic")
    if args.output:
        if not isinstance(res, MenuResult | AuctionResult):
            raise MechsolveInputError("auction", "--output", "is not available with --bic")
        save_mechanism(args.output, res)
        out["output"] = args.output
    return out


def _ex_post_summary(res: Any) -> list[dict[str, Any]]:

    from mechsolve.solver.auctions.priors import profile_probs

    prob = profile_probs(res.priors)
    n = res.n_bidders
    return [
        {
            "bidder": i,
            "expected_allocation": (res.allocation[..., i, :] * prob[..., None])
            .reshape(-1, res.n_items)
            .sum(axis=0),
            "expected_payment": float((res.payment[..., i] * prob).sum()),
        }
        for i in range(n)
    ]


def _audit(args: argparse.Namespace, api: Any) -> dict[str, Any]:
    from mechsolve.solver.auctions.files import load_mechanism

    mech = load_mechanism(args.audit, lo=args.lo, hi=args.hi, points=args.points)
    rep = api.audit_mechanism(
        mech.allocation, mech.payment, list(mech.priors), unit_demand=mech.unit_demand
    )
    out = {"mode": "audit", "file": args.audit, **rep.__dict__}
    return out


def _print_text(out: dict[str, Any], show: int) -> None:
    import numpy as np

    def fmt(x: Any) -> str:
        if isinstance(x, float):
            return f"{x:.6g}"
        if isinstance(x, np.ndarray):
            return np.array2string(x, precision=4, suppress_small=True)
        return str(x)

    if out["mode"] == "audit":
        for key in (
            "revenue",
            "regret_mean",
            "regret_per_bidder",
            "regret_max",
            "witness_bidder",
            "witness_profile",
            "witness_report",
            "ir_violation_max",
            "ir_violation_mass",
            "supply_violation_max",
        ):
            print(f"{key:22s} {fmt(out[key])}")
        print(f"convention: {out['convention']}")
        if "server" in out:
            print(f"audited on server      {out['server']}")
        return
    print(
        f"mode                   {out['mode']} ({out['bidders']} bidder(s), {out['items']} item(s), types {out['types_per_bidder']})"
    )
    print(
        f"status                 {out['status']}"
        + (f" (limit {out['limit']})" if out["limit"] else "")
        + (f" ({out['detail']})" if out["detail"] else "")
    )
    print(f"revenue                {fmt(out['revenue'])}")
    if not math.isnan(out["bound"]) and out["status"] != "OPTIMAL":
        print(f"bound                  {fmt(out['bound'])} (a relaxation's value, not a revenue)")
    print(f"solve time             {out['solve_time_s']:.3f} s ({out['method']})")
    print(
        f"rounds                 {out['rounds']} (IC rows {out['ic_rows']} of {out['ic_rows_full']}, LP {out['lp_rows']} x {out['lp_cols']}, symmetry order {out['symmetry_order']})"
    )
    if out["border_rows"]:
        print(f"border rows            {out['border_rows']}")
    ver = out["verification"]
    print(
        f"verification           {'passed' if ver['passed'] else 'FAILED'} (max IC {ver['max_ic_violation']:.2g}, IR {ver['max_ir_violation']:.2g}, feasibility {ver['max_feasibility_violation']:.2g}; {ver['ic_constraints_checked']} IC pairs checked)"
    )
    for key, label in (
        ("grid_regret_mean", "grid regret mean"),
        ("grid_regret_max", "grid regret max"),
        ("continuous_revenue", "continuous revenue"),
        ("continuous_revenue_error_bound", "  error bound"),
        ("continuous_regret_mean", "continuous regret mean"),
        ("continuous_regret_mean_se", "  standard error"),
        ("continuous_regret_max_observed", "  max observed"),
        ("continuous_seed", "  Monte Carlo seed"),
    ):
        if key in out:
            print(f"{label:22s} {fmt(out[key])}")
    if "menu" in out:
        print(f"menu ({len(out['menu'])} entries, by probability):")
        for e in out["menu"][:show]:
            print(
                f"  allocation {fmt(e['allocation'])}  price {e['price']:.6g}  mass {e['mass']:.4g}"
            )
    if "summary" in out:
        print("per bidder (expected allocation per item, expected payment):")
        for e in out["summary"][:show]:
            print(
                f"  bidder {e['bidder']}: {fmt(e['expected_allocation'])}  {e['expected_payment']:.6g}"
            )
    if "output" in out:
        print(f"mechanism written to   {out['output']}")
    if "server" in out:
        print(f"solved on server       {out['server']}")
