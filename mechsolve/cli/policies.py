"""``mechsolve policies VALUES --budget K``: a budget of policies (seed 004, r-MDPs) for a
values matrix from a file, in-process or on a server (docs/policy_budget.md)."""

from __future__ import annotations

import argparse
from typing import Any

VALUES_NAME = "values"
"""The array's name in a ``.npz`` or ``.json`` file (a ``.npy`` or table file is the array)."""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "policies",
        help="which k policies serve a population of users best?",
        description="Choose at most K of the candidate policies (columns of VALUES) and assign "
        "every user (row) to one, maximizing the total value: proved optimal (closed form, set "
        "enumeration or Benders MILP with HiGHS) unless --time-limit stops it, or by the seed's "
        "alternating heuristic. VALUES is a .npy, .npz (array 'values'), .json ({\"values\": "
        "[[...]]}), .csv or .txt file of shape (users, candidates).",
    )
    p.add_argument("values", metavar="VALUES", help="the values file (users x candidates)")
    p.add_argument("--budget", "-k", type=int, required=True, help="at most this many policies")
    p.add_argument(
        "--method",
        choices=("exact", "milp", "alternating"),
        default="exact",
        help="exact (default; the fastest proof), milp (the HiGHS MILP at every budget) or "
        "alternating (the seed's heuristic, no bound)",
    )
    p.add_argument("--time-limit", type=float, help="seconds for the whole call (default: none)")
    p.add_argument(
        "--seed", type=int, default=0, help="seed of the heuristic's random restarts (default 0)"
    )
    p.add_argument("--restarts", type=int, default=10, help="heuristic restarts (default 10)")
    p.add_argument("--address", help="solve on a running server (host:port)")
    p.add_argument("--json", action="store_true", help="print the whole result as JSON")
    p.set_defaults(func=run)


def load_values(path: str) -> Any:
    """The values matrix of a file (see ``mechsolve policies --help``), at most the default
    limits' ``max_candidates`` cells (what ``select_policies`` accepts)."""
    from pathlib import Path

    from mechsolve.solver.core.array_files import read_arrays
    from mechsolve.solver.core.errors import MechsolveInputError
    from mechsolve.solver.core.limits import Limits

    fn = "load_values"
    data = read_arrays(fn, path, VALUES_NAME, Limits().max_candidates)
    if VALUES_NAME in data:
        return data[VALUES_NAME]
    if Path(path).suffix.lower() == ".npz" and len(data) == 1:  # one array, whatever its name
        return next(iter(data.values()))
    raise MechsolveInputError(
        fn, "path", f"must hold an array named {VALUES_NAME!r}; got keys {sorted(data)}"
    )


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from .output import print_result, solver_api

    values = load_values(args.values)
    with solver_api(args.address, args.time_limit) as api:
        result = api.select_policies(
            values, args.budget, method=args.method, time_limit=args.time_limit,
            seed=args.seed, restarts=args.restarts,
        )  # fmt: skip
    print_result(result, args.json)
    if not args.json:
        counts = np.bincount(
            np.searchsorted(result.chosen, result.assignment), minlength=len(result.chosen)
        )
        users = ", ".join(f"{int(p)}: {int(c)}" for p, c in zip(result.chosen, counts, strict=True))
        print(f"users per chosen policy: {users}")
        if result.bound == result.bound:  # a proven bound (not nan)
            print(f"relative gap: {result.relative_gap:.3%}")
    return 0
