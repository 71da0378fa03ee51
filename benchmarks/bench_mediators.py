"""Mediator benchmarks (issue: solver core; baselines per issue 16), side by side in one run.

1. Pareto Mediator batch, 10,000 profiles of a 3-player 8-action U[0,1) game (delegate bits
   Bernoulli(1/2)): ``mediate_batch`` against the strongest baseline, a numpy pass over the
   same profiles (those with at least two delegators) with the same Pareto feasibility check
   (:func:`numpy_pareto_pass`), welfare checked equal per profile; and the per-profile MILPs
   (HiGHS, Pyomo) timed on a sample and scaled.
2. Full Pareto-mediated game, 4 players x 6 actions (12^4 = 20,736 mediated profiles):
   ``mediated_game`` against a per-profile loop over Python lists
   (:func:`list_loop_mediated_game`) and the single-profile API called per profile, outcomes
   checked equal profile by profile.

Both through :mod:`benchmarks.harness` (interleaved, the same repetitions, medians). In the
suite (``python -m benchmarks mediators``) also the scaling curves in profiles per batch and
in mediated-game size.

Run: ``python benchmarks/bench_mediators.py [--quick] [--repeat 3]``. Prints ratios.
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

if __package__ in (None, ""):  # run as a script: make the `benchmarks` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import Case, CaseOutput, Context, Row, Side, format_row, measure
from mechsolve.solver.games.normal_form import NormalFormGame, random_game
from mechsolve.solver.mediators.candidates import candidate_utilities, chunks
from mechsolve.solver.mediators.deterministic import mediate_batch, pareto_mediator
from mechsolve.solver.mediators.mediated_games import mediated_game


# --------------------------------------------------------------------------------------------
# The suite: strongest baselines (issue 16)
# --------------------------------------------------------------------------------------------
def numpy_pareto_pass(g: NormalFormGame, acts: np.ndarray, dele: np.ndarray) -> np.ndarray:
    """The Pareto Mediator's utilitarian welfare after, per profile, by a plain numpy pass:
    profiles with fewer than two delegators are skipped (``nan``), as ``mediate_batch`` skips
    them; the others are grouped by delegate mask, their candidates gathered (in chunks), the
    candidates that leave a delegator worse off masked out, and the delegators' sum maxed."""
    out = np.full(len(acts), np.nan)
    masks, inv = np.unique(dele, axis=0, return_inverse=True)
    for gi, mask in enumerate(masks):
        free = np.flatnonzero(mask)
        if len(free) < 2:
            continue
        rows = np.flatnonzero(inv.reshape(-1) == gi)
        per_row = g.n_players * math.prod(g.num_actions[i] for i in free)
        for sl in chunks(len(rows), per_row):
            r = rows[sl]
            u = candidate_utilities(g.payoffs, acts[r], free)[free]  # (|D|, m, C)
            before = g.payoffs[(free[:, None], *acts[r].T)]  # (|D|, m)
            ok = (u >= before[:, :, None]).all(axis=0)
            out[r] = np.where(ok, u.sum(axis=0), -np.inf).max(axis=1)
    return out


def _batch_answer(dele: np.ndarray) -> Callable[[Any], np.ndarray]:
    two = dele.sum(axis=1) >= 2
    return lambda res: np.where(two, np.asarray(res.welfare_after), np.nan)


def _close_or_both_nan(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.allclose(a, b, rtol=1e-12, atol=1e-12, equal_nan=True))


def batch_sides(profiles: int, seed: int = 0) -> list[Side]:
    """Ours (``mediate_batch``) and the numpy pass on a 3-player 8-action U[0,1) game."""
    g = random_game([8, 8, 8], seed=seed)
    rng = np.random.default_rng(seed + 1)
    acts = rng.integers(0, 8, (profiles, 3))
    dele = rng.random((profiles, 3)) < 0.5
    return [
        Side(
            "mediate_batch (ours)",
            lambda: mediate_batch(g, acts, dele),
            "ours",
            _batch_answer(dele),
        ),
        Side("numpy pass, same profiles + Pareto check", lambda: numpy_pareto_pass(g, acts, dele)),
    ]


def list_loop_mediated_game(g: NormalFormGame) -> np.ndarray:
    """Every mediated profile's outcome ``(2k_1, ..., 2k_n, n)`` by a plain-Python loop over
    Python lists (utilitarian Pareto Mediator, eq. 3), written to be fast: each player's
    payoffs as one flat list, per delegate mask the flat offsets of the delegators' joint
    actions computed once, per profile a scan of those candidates that stops at the first
    delegator who would lose, keeping the best sum (ties: the submitted profile, then the
    first in C order, as ``mediated_game`` with distinct welfare values)."""
    n, ks = g.n_players, [int(k) for k in g.num_actions]
    flat = [g.payoffs[i].ravel().tolist() for i in range(n)]
    strides = [math.prod(ks[j + 1 :]) for j in range(n)]
    best_flat = np.empty([2 * k for k in ks], dtype=np.int64)
    for d in itertools.product([False, True], repeat=n):
        dele = [i for i in range(n) if d[i]]
        offsets = [
            sum(c * strides[i] for c, i in zip(choice, dele, strict=True))
            for choice in itertools.product(*[range(ks[i]) for i in dele])
        ]
        cols = [flat[i] for i in dele]
        for a in itertools.product(*[range(k) for k in ks]):
            idx = sum(x * st for x, st in zip(a, strides, strict=True))
            best = idx
            if len(dele) >= 2:
                base = idx - sum(a[i] * strides[i] for i in dele)
                before = [col[idx] for col in cols]
                best_w = sum(before)
                for off in offsets:
                    k = base + off
                    w = 0.0
                    for col, b in zip(cols, before, strict=True):
                        x = col[k]
                        if x < b:
                            break
                        w += x
                    else:
                        if w > best_w:
                            best, best_w = k, w
            best_flat[tuple(a[i] + ks[i] * d[i] for i in range(n))] = best
    return np.stack(np.unravel_index(best_flat, ks), axis=-1)


def per_profile_calls(g: NormalFormGame) -> np.ndarray:
    """Every mediated profile through the single-profile API (``pareto_mediator``)."""
    ks = np.asarray(g.num_actions)
    out = np.empty([*(2 * ks), g.n_players], dtype=np.int64)
    for idx in itertools.product(*[range(2 * k) for k in ks]):
        i = np.asarray(idx)
        out[idx] = pareto_mediator(g, i % ks, i >= ks).actions_after
    return out


def mediated_game_sides(ks: list[int], calls: bool = False, seed: int = 0) -> list[Side]:
    g = random_game(ks, seed=seed)
    sides = [
        Side("mediated_game (ours)", lambda: mediated_game(g), "ours", lambda r: r.outcomes),
        Side("list-based loop (Python lists)", lambda: list_loop_mediated_game(g)),
    ]
    if calls:
        sides.append(Side("per-profile pareto_mediator", lambda: per_profile_calls(g), "secondary"))
    return sides


def _batch_case(ctx: Context) -> CaseOutput:
    m = 1_000 if ctx.quick else 10_000
    return [
        ctx.measure(
            f"Pareto batch, {m:,} profiles, 3 players x 8 actions",
            batch_sides(m),
            agree=_close_or_both_nan,
            size={"profiles": m},
        )
    ]


def _batch_scaling(ctx: Context) -> CaseOutput:
    sizes = [100, 1_000, 10_000] if ctx.quick else [1_000, 10_000, 100_000, 1_000_000]
    curve, rows = ctx.scaling(
        "mediator batch",
        "profiles",
        [(m, partial(batch_sides, m)) for m in sizes],
        agree=_close_or_both_nan,
    )
    return [curve, *rows]


def _game_case(ctx: Context) -> CaseOutput:
    ks = [3, 3, 3] if ctx.quick else [6, 6, 6, 6]
    label = " x ".join(map(str, ks))
    return [
        ctx.measure(
            f"Pareto-mediated game {label}",
            mediated_game_sides(ks, calls=True),
            size={
                "players": len(ks),
                "actions": ks[0],
                "mediated profiles": math.prod(2 * k for k in ks),
            },
        )
    ]


def _game_scaling(ctx: Context) -> CaseOutput:
    shapes = (
        [[2, 2], [3, 3], [2, 2, 2], [3, 3, 3]]
        if ctx.quick
        else [
            [2, 2],
            [3, 3],
            [2, 2, 2],
            [3, 3, 3],
            [3, 3, 3, 3],
            [6, 6, 6],
            [4, 4, 4, 4],
            [5, 5, 5, 5],
        ]
    )
    points = [
        (math.prod(2 * k for k in ks), lambda ks=ks: mediated_game_sides(ks)) for ks in shapes
    ]
    curve, rows = ctx.scaling("mediated game", "mediated profiles", points)
    return [curve, *rows]


SUITE_CASES = [
    Case(
        "mediators.batch",
        "Pareto batch, 10,000 profiles of a 3x8 game: mediate_batch vs "
        "the numpy pass over the same profiles with the same Pareto check",
        _batch_case,
    ),
    Case(
        "mediators.batch_scaling", "mediator batch time against profiles per batch", _batch_scaling
    ),
    Case(
        "mediators.game",
        "Pareto-mediated game 4 players x 6 actions: mediated_game vs the "
        "list-based loop and per-profile calls, outcomes checked",
        _game_case,
    ),
    Case(
        "mediators.game_scaling",
        "mediated-game build against mediated profiles (players and actions)",
        _game_scaling,
    ),
]


def milp_sample(profiles: int, sample: int) -> None:
    """The per-profile MILPs (HiGHS, Pyomo) on a sample of the batch, scaled to all profiles
    (they take seconds per thousand profiles), beside ``mediate_batch``."""
    g = random_game([8, 8, 8], seed=0)
    rng = np.random.default_rng(1)
    acts = rng.integers(0, 8, (profiles, 3))
    dele = rng.random((profiles, 3)) < 0.5
    rows = rng.choice(profiles, sample, replace=False)
    mediate_batch(g, acts[:1], np.ones((1, 3), bool), method="pyomo")  # import + first solve
    row = measure(
        "MILPs",
        [
            Side("mediate_batch (ours)", lambda: mediate_batch(g, acts, dele), "ours"),
            Side("HiGHS MILP", lambda: mediate_batch(g, acts[rows], dele[rows], method="milp")),
            Side("Pyomo MILP", lambda: mediate_batch(g, acts[rows], dele[rows], method="pyomo")),
        ],
        repeat=1,
        agree=lambda x, y: True,  # different profiles (a sample): checked by the solver tests
    )
    print(f"== per-profile MILPs, sampled {sample} of {profiles:,} profiles, scaled ==")
    for t in row.others:
        scaled = t.median / sample * profiles
        print(f"{t.name:28s} {scaled:9.2f} s   ratio / ours {scaled / row.ours.median:9.0f}x")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--profiles", type=int, default=10_000)
    ap.add_argument("--pyomo-sample", type=int, default=40)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="small sizes")
    args = ap.parse_args()
    ctx = Context(args.quick, args.repeat, Path("out/benchmarks"), verbose=False)
    for case in (_batch_case, _game_case):
        for row in case(ctx):
            if isinstance(row, Row):
                print(format_row(row))
    milp_sample(args.profiles, args.pyomo_sample)


if __name__ == "__main__":
    main()
