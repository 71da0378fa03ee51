"""Equilibria as optimization: solve times against game size, beside the peers.

1. The welfare-maximizing correlated equilibrium (LP, HiGHS, sparse constraints built with
   numpy) of random games from 2 players x 10 actions to 4 players x 10 actions, against the
   same LP given to ``scipy.optimize.linprog`` (HiGHS too), once with its constraint rows built
   the plain way (one row per player and action pair, a loop over the opponents' profiles),
   which is what a user without a CE solver writes, and once with mechsolve's own sparse rows
   (the solver call alone). No peer library has a CE solver (pygambit and nashpy find Nash
   equilibria only).
2. The welfare-maximizing Nash equilibrium of random bimatrix games (MILP, Sandholm-Gilpin-
   Conitzer) against enumerating every extreme equilibrium with pygambit (``enummixed``,
   lrs-style vertex enumeration) or nashpy (vertex enumeration) and taking the best; the best
   welfare over all equilibria is attained at an extreme one, so the answers must agree.

Each pair runs side by side, interleaved, the same number of repetitions, medians; answers
checked equal. Peers are optional (``pip install pygambit nashpy``); a missing one is skipped
with a message.

Run: ``python benchmarks/bench_equilibria.py [--repeat 3] [--quick]``.
"""

from __future__ import annotations

import argparse
import itertools
import math
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

if __package__ in (None, ""):  # run as a script: make the `benchmarks` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import Case, CaseOutput, Context, Side, Skip, measure
from mechsolve.solver.equilibria import correlated_equilibrium, optimal_nash_equilibrium
from mechsolve.solver.games import random_game
from mechsolve.solver.mediators.mediated_games import mediated_game, pure_nash_equilibria


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def side_by_side(
    a: Callable[[], Any], b: Callable[[], Any], repeat: int
) -> tuple[float, float, Any, Any]:
    """Medians of ``a`` and ``b`` run interleaved (the harness), and their last results."""
    row = measure("", [Side("a", a, "ours"), Side("b", b)], repeat=repeat, agree=lambda x, y: True)
    return row.ours.median, row.others[0].median, row.answers["a"], row.answers["b"]


def ce_linprog(payoffs: np.ndarray) -> float:
    """The utilitarian CE value by scipy's linprog, rows built one by one."""
    n = payoffs.shape[0]
    ks = payoffs.shape[1:]
    m = int(np.prod(ks))
    index = np.arange(m).reshape(ks)
    rows, cols, vals = [], [], []
    r = 0
    for i in range(n):
        others = [range(k) for j, k in enumerate(ks) if j != i]
        for a in range(ks[i]):
            for b in range(ks[i]):
                if a == b:
                    continue
                for rest in itertools.product(*others):
                    s = list(rest)
                    s.insert(i, a)
                    t = list(rest)
                    t.insert(i, b)
                    rows.append(r)
                    cols.append(index[tuple(s)])
                    vals.append(payoffs[(i, *t)] - payoffs[(i, *s)])
                r += 1
    a_ub = sp.csr_array((vals, (rows, cols)), shape=(r, m))
    res = linprog(
        -payoffs.reshape(n, -1).sum(axis=0),
        A_ub=a_ub,
        b_ub=np.zeros(r),
        A_eq=np.ones((1, m)),
        b_eq=[1.0],
        bounds=(0, None),
        method="highs",
    )
    return float(-res.fun)


def ce_linprog_vectorized(payoffs: np.ndarray) -> float:
    """The same LP with the rows built as mechsolve builds them (vectorized, sparse), solved by
    scipy's linprog: the solver call alone, no construction cost."""
    from mechsolve.solver.equilibria.correlated import _incentive_matrix

    n = payoffs.shape[0]
    a_ub = _incentive_matrix(payoffs, "ce")
    m = a_ub.shape[1]
    res = linprog(
        -payoffs.reshape(n, -1).sum(axis=0),
        A_ub=a_ub,
        b_ub=np.zeros(a_ub.shape[0]),
        A_eq=np.ones((1, m)),
        b_eq=[1.0],
        bounds=(0, None),
        method="highs",
    )
    return float(-res.fun)


def correlated(sizes: list[list[int]], repeat: int) -> None:
    print("\n## Welfare-maximizing correlated equilibrium (utilitarian)\n")
    print("| game | outcomes | CE rows | mechsolve | linprog, rows built in a loop | ratio | "
          "linprog, mechsolve's sparse rows | ratio | values equal |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for size in sizes:
        g = random_game(size, seed=1)
        rows = sum(k * (k - 1) for k in size)
        ours, plain, res, value = side_by_side(
            partial(correlated_equilibrium, g), partial(ce_linprog, g.payoffs), repeat
        )
        ours2, vec, res2, value2 = side_by_side(
            partial(correlated_equilibrium, g),
            partial(ce_linprog_vectorized, g.payoffs),
            repeat,
        )
        ours = statistics.median([ours, ours2])
        equal = all(
            abs(r.welfare - x) <= 1e-7 * max(1.0, abs(x)) for r, x in ((res, value), (res2, value2))
        )
        label = "x".join(map(str, size))
        print(f"| {label} | {g.n_outcomes:,} | {rows:,} | {ours * 1000:.1f} ms | "
              f"{plain * 1000:.1f} ms | {plain / ours:.1f}x | {vec * 1000:.1f} ms | "
              f"{vec / ours:.2f}x | {'yes' if equal else 'NO'} |")  # fmt: skip


def _gambit_best(payoffs: np.ndarray) -> float | None:
    try:
        import pygambit as gbt
    except ImportError:
        return None
    g = gbt.Game.from_arrays(payoffs[0], payoffs[1])
    result = gbt.nash.enummixed_solve(g, rational=False)
    players = list(g.players)
    best = -np.inf
    for eq in result.equilibria:
        best = max(best, float(eq.payoff(players[0])) + float(eq.payoff(players[1])))
    return best


def _nashpy_best(payoffs: np.ndarray) -> float | None:
    try:
        import nashpy
    except ImportError:
        return None
    game = nashpy.Game(payoffs[0], payoffs[1])
    best = -np.inf
    for x, y in game.vertex_enumeration():
        best = max(best, float(x @ payoffs[0] @ y + x @ payoffs[1] @ y))
    return best


PEER_MAX = {"nashpy vertex enumeration": 10, "pygambit enummixed": 12}
"""Largest k for a peer: nashpy's enumeration takes 35 s at 10x10, pygambit's 5.8 s at 12x12 and
minutes at 14x14 (both grow exponentially)."""


def nash(sizes: list[int], repeat: int) -> None:
    print("\n## Welfare-maximizing Nash equilibrium of a bimatrix game\n")
    peers = {"pygambit enummixed": _gambit_best, "nashpy vertex enumeration": _nashpy_best}
    probe = random_game([2, 2], seed=0).payoffs
    available = {name: f for name, f in peers.items() if f(probe) is not None}
    for name in peers:
        if name not in available:
            print(f"({name}: not installed, skipped; pip install pygambit nashpy)")
    head = " | ".join(f"{name} | ratio" for name in available)
    print(f"| game | mechsolve MILP | {head} | best welfare equal |")
    print("|---|---|" + "---|---|" * len(available) + "---|")
    for k in sizes:
        g = random_game([k, k], seed=3)
        cells, equal = [], True
        ours_t = None
        for name, f in available.items():
            if k > PEER_MAX.get(name, k):
                cells.append(f"(skipped above {PEER_MAX[name]}x{PEER_MAX[name]}) | -")
                continue
            ours, theirs, res, value = side_by_side(
                partial(optimal_nash_equilibrium, g), partial(f, g.payoffs), repeat
            )
            ours_t = ours if ours_t is None else min(ours_t, ours)
            equal &= abs(res.welfare - value) <= 1e-6 * max(1.0, abs(value))
            cells.append(f"{theirs * 1000:.1f} ms | {theirs / ours:.1f}x")
        if ours_t is None:
            ours_t, _ = timed(partial(optimal_nash_equilibrium, g))
        print(f"| {k}x{k} | {ours_t * 1000:.1f} ms | {' | '.join(cells)} | "
              f"{'yes' if equal else 'NO'} |")  # fmt: skip


# --------------------------------------------------------------------------------------------
# The suite
# --------------------------------------------------------------------------------------------
def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(1.0, abs(b))


def ce_sides(size: list[int], plain: bool) -> list[Side]:
    g = random_game(size, seed=1)
    sides = [
        Side(
            "mechsolve CE LP (ours)",
            lambda: correlated_equilibrium(g),
            "ours",
            lambda r: float(r.welfare),
        ),
        Side("linprog on mechsolve's sparse rows", lambda: ce_linprog_vectorized(g.payoffs)),
    ]
    if plain:
        sides.append(
            Side("linprog, rows built in a loop", lambda: ce_linprog(g.payoffs), "secondary")
        )
    return sides


def _ce_case(ctx: Context) -> CaseOutput:
    sizes = [[5, 5]] if ctx.quick else [[10, 10], [20, 20], [10, 10, 10], [5, 5, 5, 5]]
    return [
        ctx.measure(
            f"welfare-maximizing CE, {'x'.join(map(str, s))}",
            ce_sides(s, True),
            agree=_close,
            size={"outcomes": math.prod(s)},
        )
        for s in sizes
    ]


def _ce_scaling(ctx: Context) -> CaseOutput:
    shapes = [[3, 3], [6, 6]] if ctx.quick else [[5, 5], [10, 10], [20, 20], [40, 40], [70, 70]]
    curve, rows = ctx.scaling(
        "correlated equilibrium LP",
        "outcomes",
        [(math.prod(s), partial(ce_sides, s, False)) for s in shapes],
        agree=_close,
    )
    return [curve, *rows]


def gambit_pure(payoffs: np.ndarray) -> list[tuple[int, ...]]:
    """Every pure Nash equilibrium by pygambit (``enumpure_solve``), the game built from
    the payoff arrays (part of the peer's time), as sorted action tuples."""
    import pygambit as gbt

    g = gbt.Game.from_arrays(*payoffs)
    out = []
    for eq in gbt.nash.enumpure_solve(g).equilibria:
        out.append(tuple(int(np.argmax([float(eq[s]) for s in p.strategies])) for p in g.players))
    return sorted(out)


def _pure_answer(ne: np.ndarray) -> list[tuple[int, ...]]:
    return sorted(map(tuple, ne.tolist()))


def pure_sides(payoffs: np.ndarray) -> list[Side]:
    return [
        Side(
            "pure_nash_equilibria (ours)",
            lambda: pure_nash_equilibria(payoffs),
            "ours",
            _pure_answer,
        ),
        Side("pygambit enumpure (peer)", lambda: gambit_pure(payoffs)),
    ]


def _need_gambit(ctx: Context) -> None:
    if ctx.optional("pygambit", "pure-equilibrium peer") is None:
        raise Skip("pygambit not installed (pip install pygambit): no peer to compare with")


def _pure_case(ctx: Context) -> CaseOutput:
    _need_gambit(ctx)
    ks = [3, 3, 3] if ctx.quick else [6, 6, 6, 6]
    mg = mediated_game(random_game(ks, seed=0))
    label = "x".join(map(str, ks))
    return [
        ctx.measure(
            f"pure equilibria of the Pareto-mediated {label} game",
            pure_sides(mg.game.payoffs),
            size={"outcomes": int(np.prod(mg.game.payoffs.shape[1:]))},
        )
    ]


def _pure_scaling(ctx: Context) -> CaseOutput:
    _need_gambit(ctx)
    shapes = (
        [[3, 3], [3, 3, 3], [4, 4, 4]]
        if ctx.quick
        else [[4, 4], [4, 4, 4], [6, 6, 6], [5, 5, 5, 5], [8, 8, 8, 8]]
    )
    points = [
        (math.prod(s), lambda s=s: pure_sides(random_game(s, seed=2).payoffs)) for s in shapes
    ]
    curve, rows = ctx.scaling("pure Nash enumeration", "outcomes", points)
    return [curve, *rows]


def nash_sides(k: int, peers: dict[str, Callable[[np.ndarray], float | None]]) -> list[Side]:
    g = random_game([k, k], seed=3)
    sides = [
        Side(
            "MIP Nash (ours)",
            lambda: optimal_nash_equilibrium(g),
            "ours",
            lambda r: float(r.welfare),
        )
    ]
    for name, f in peers.items():
        if k <= PEER_MAX.get(name, k):
            sides.append(Side(f"{name} (peer)", partial(f, g.payoffs)))
    return sides


def _nash_case(ctx: Context) -> CaseOutput:
    peers: dict[str, Callable[[np.ndarray], float | None]] = {}
    if ctx.optional("pygambit", "Nash peer") is not None:
        peers["pygambit enummixed"] = _gambit_best
    if ctx.optional("nashpy", "Nash peer") is not None:
        peers["nashpy vertex enumeration"] = _nashpy_best
    if not peers:
        raise Skip("neither pygambit nor nashpy installed")
    sizes = [4] if ctx.quick else [4, 8, 12]
    return [
        ctx.measure(
            f"welfare-maximizing Nash, {k}x{k}",
            nash_sides(k, peers),
            agree=_close,
            size={"actions": k},
        )
        for k in sizes
    ]


SUITE_CASES = [
    Case(
        "equilibria.ce",
        "welfare-maximizing CE: mechsolve LP vs scipy linprog (rows built "
        "by mechsolve, and in a loop)",
        _ce_case,
    ),
    Case("equilibria.ce_scaling", "CE LP time against outcomes", _ce_scaling),
    Case(
        "equilibria.pure_nash",
        "pure equilibria of the Pareto-mediated 4x6 game: numpy vs pygambit enumpure",
        _pure_case,
    ),
    Case("equilibria.pure_scaling", "pure-equilibrium enumeration against outcomes", _pure_scaling),
    Case(
        "equilibria.nash",
        "welfare-maximizing Nash (MILP) vs enumerating every equilibrium with pygambit / nashpy",
        _nash_case,
    ),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="the small sizes only")
    args = parser.parse_args()
    ce_sizes = [[10, 10], [20, 20], [5, 5, 5], [10, 10, 10], [5, 5, 5, 5], [10, 10, 10, 10]]
    nash_sizes = [4, 6, 8, 10, 12, 14]
    if args.quick:
        ce_sizes, nash_sizes = ce_sizes[:3], nash_sizes[:3]
    correlated(ce_sizes, args.repeat)
    nash(nash_sizes, args.repeat)


if __name__ == "__main__":
    main()
