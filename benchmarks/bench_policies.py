"""A budget of policies (seed 004 r-MDPs, issue 15): time of ``select_policies`` at 100 users
x 1,000 candidates for k in (1, 2, 3, 4, 5, 10, 20, 50), exact and alternating, against the
baseline a user would write: the same facility-location MILP passed as-is to HiGHS (highspy, one thread,
the project's tolerances) and, with ``--scipy``, to ``scipy.optimize.milp``::

    max sum_{u,p} V[u,p] x_up  s.t.  sum_p x_up = 1,  x_up <= y_p,  sum_p y_p <= k,
    y binary, 0 <= x <= 1

Instances (``--instances``):

- ``rmdp``: the values of ``mechsolve simulate policy-budget`` (1-D point mass, users with
  uniform target velocities, 1,000 random-search candidates, seed 0): what the demo solves;
- ``latent``: users and candidates as points of ``[0, 1)^5`` (uniform), ``V = -||a_u - b_p||^2``
  (a user values a policy by how close its behaviour is to the user's target);
- ``lowrank``: ``V = A B^T / sqrt(20) + 0.1 N(0, 1)``, ``A``, ``B`` standard normal with 20
  columns (a few latent tastes plus noise, the usual model of users' values);
- ``clustered``: ``latent`` with users drawn around 8 centres (standard deviation 0.05);
- ``uniform``: ``V ~ U[0, 1)`` i.i.d., no structure: the hard case for any k-median method
  (like the large-duality-gap p-median instances of Kochetov's benchmark library).

Answers are checked: when both sides prove optimality the welfare must agree (relative
``1e-6``); otherwise every proven bound must be at least every side's welfare.

Run: ``python benchmarks/bench_policies.py`` (``--help``). Prints one table per instance.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

if __package__ in (None, ""):  # run as a script: make the package importable like the others
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mechsolve.solver.core import highs_backend as hb
from mechsolve.solver.structured.policies import select_policies

BUDGETS = (1, 2, 3, 4, 5, 10, 20, 50)
INSTANCES = ("rmdp", "latent", "lowrank", "clustered", "uniform")


def instance(kind: str, users: int, candidates: int, seed: int) -> NDArray[np.float64]:
    rng = np.random.default_rng(seed)
    if kind == "uniform":
        return rng.random((users, candidates))
    if kind == "lowrank":
        a, b = rng.normal(size=(users, 20)), rng.normal(size=(candidates, 20))
        return a @ b.T / math.sqrt(20) + 0.1 * rng.normal(size=(users, candidates))
    if kind in ("latent", "clustered"):
        if kind == "latent":
            pts = rng.random((users, 5))
        else:
            centres = rng.random((8, 5))
            pts = centres[rng.integers(8, size=users)] + 0.05 * rng.normal(size=(users, 5))
        targets = rng.random((candidates, 5))
        return -((pts[:, None, :] - targets[None, :, :]) ** 2).sum(axis=-1)
    from mechsolve.client.sim import rmdp

    cfg = rmdp.RMDPConfig(users=users, candidates=candidates)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0, 4]))
    targets = rng.uniform(0.0, cfg.target_max, users)
    pool, _ = rmdp.candidate_pool(cfg, rng)
    return rmdp.evaluate(cfg, pool, targets, rng)


def assignment_milp(values: NDArray[np.float64], k: int) -> tuple[Any, ...]:
    """The textbook strong formulation: columns ``x`` (n m, row-major) then ``y`` (m)."""
    n, m = values.shape
    nx = n * m
    u = np.repeat(np.arange(n), m)
    p = np.tile(np.arange(m), n)
    rows = np.concatenate([u, n + np.arange(nx), n + np.arange(nx), np.full(m, n + nx)])
    cols = np.concatenate([np.arange(nx), np.arange(nx), nx + p, nx + np.arange(m)])
    vals = np.concatenate([np.ones(nx), np.ones(nx), -np.ones(nx), np.ones(m)])
    a = sp.csc_array((vals, (rows, cols)), shape=(n + nx + 1, nx + m))
    lo = np.concatenate([np.ones(n), np.full(nx, -np.inf), [-np.inf]])
    hi = np.concatenate([np.ones(n), np.zeros(nx), [float(k)]])
    c = np.concatenate([values.ravel(), np.zeros(m)])
    integrality = np.concatenate([np.zeros(nx, np.int32), np.ones(m, np.int32)])
    return c, a, lo, hi, integrality


def baseline_highs(values: NDArray[np.float64], k: int, tl: float) -> dict[str, Any]:
    c, a, lo, hi, integ = assignment_milp(values, k)
    t = time.perf_counter()
    h = hb.new_highs(tl)
    lo_h = np.where(np.isfinite(lo), lo, -hb.INF)
    ones = np.ones(len(c))
    hb.pass_model(h, c, a, lo_h, hi, np.zeros(len(c)), ones, integrality=integ, maximize=True)
    sol = hb.run(h)
    dt = time.perf_counter() - t
    welfare = _welfare(values, sol.x[values.size :]) if sol.termination.has_solution else math.nan
    bound = float(h.getInfo().mip_dual_bound)
    return {"s": dt, "optimal": sol.termination.is_optimal, "welfare": welfare, "bound": bound}


def baseline_scipy(values: NDArray[np.float64], k: int, tl: float) -> dict[str, Any]:
    from scipy.optimize import Bounds, LinearConstraint, milp

    c, a, lo, hi, integ = assignment_milp(values, k)
    t = time.perf_counter()
    res = milp(-c, constraints=LinearConstraint(a, lo, hi), integrality=integ,
               bounds=Bounds(0, 1), options={"time_limit": tl})  # fmt: skip
    dt = time.perf_counter() - t
    has = res.x is not None
    welfare = _welfare(values, res.x[values.size :]) if has else math.nan
    bound = -float(getattr(res, "mip_dual_bound", math.nan) or math.nan)
    return {"s": dt, "optimal": res.status == 0, "welfare": welfare, "bound": bound}


def _welfare(values: NDArray[np.float64], y: NDArray[np.float64]) -> float:
    chosen = np.flatnonzero(y > 0.5)
    return float(values[:, chosen].max(axis=1).sum()) if len(chosen) else math.nan


def check(ours: Any, others: list[dict[str, Any]]) -> str:
    """Raise when answers contradict each other; return a note."""
    scale = max(1.0, abs(ours.welfare))
    for o in others:
        both = ours.termination.is_optimal and o["optimal"]
        if both and abs(o["welfare"] - ours.welfare) > 1e-6 * scale:
            raise AssertionError(f"answers differ: ours {ours.welfare}, baseline {o}")
        if math.isfinite(o["welfare"]) and o["welfare"] > ours.bound + 1e-6 * scale:
            raise AssertionError(f"baseline beats our proven bound: {ours.bound} < {o}")
        if o["optimal"] and ours.welfare > o["welfare"] + 1e-6 * scale:
            raise AssertionError(f"ours beats a proven baseline optimum: {ours.welfare}, {o}")
    return "ok"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--users", type=int, default=100)
    ap.add_argument("--candidates", type=int, default=1000)
    ap.add_argument("--budgets", type=int, nargs="+", default=list(BUDGETS))
    ap.add_argument("--instances", nargs="+", default=list(INSTANCES),
                    choices=INSTANCES)  # fmt: skip
    ap.add_argument("--time-limit", type=float, default=60.0, help="seconds per solve")
    ap.add_argument("--no-baseline", action="store_true", help="skip the plain HiGHS MILP")
    ap.add_argument("--scipy", action="store_true", help="also scipy.optimize.milp")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    for kind in args.instances:
        v = instance(kind, args.users, args.candidates, args.seed)
        print(f"\n[{kind}] {v.shape[0]} users x {v.shape[1]} candidates, "
              f"time limit {args.time_limit:g} s per solve")  # fmt: skip
        head = ("k | exact s | method | status | welfare | bound | rel. gap | heuristic s | "
                "heuristic welfare | heuristic gap | kept")  # fmt: skip
        if not args.no_baseline:
            head += " | plain HiGHS s (status, welfare)"
        if args.scipy:
            head += " | scipy s (status)"
        print(head)
        for k in args.budgets:
            ex = select_policies(v, k, time_limit=args.time_limit)
            alt = select_policies(v, k, method="alternating")
            others = []
            line = (
                f"{k} | {ex.wall_time_s:.2f} | {ex.method} | {ex.termination.reason.value} | "
                f"{ex.welfare:.6f} | {ex.bound:.6f} | {ex.relative_gap:.2e} | "
                f"{alt.wall_time_s:.3f} | {alt.welfare:.6f} | "
                f"{(ex.bound - alt.welfare) / max(abs(ex.bound), 1e-12):.2e} | "
                f"{ex.candidates_kept}"
            )
            if not args.no_baseline:
                b = baseline_highs(v, k, args.time_limit)
                others.append(b)
                status = "optimal" if b["optimal"] else "limit"
                line += f" | {b['s']:.2f} ({status}, {b['welfare']:.6f})"
            if args.scipy:
                s = baseline_scipy(v, k, args.time_limit)
                others.append(s)
                line += f" | {s['s']:.2f} ({'optimal' if s['optimal'] else 'limit'})"
            print(line + f" | check {check(ex, others)}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
