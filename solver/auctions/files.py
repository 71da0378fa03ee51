"""File formats for valuation samples and mechanism tables (``mechsolve auction``).

Samples (``--samples FILE``): a ``.npy`` array, a ``.npz`` with the array under ``samples``,
or a ``.csv``/``.txt`` table (comma- or whitespace-separated, ``#`` comments), of shape
``(N, m)`` (every bidder's prior is the empirical distribution of the rows) or, for ``.npy`` /
``.npz`` only, ``(N, n, m)`` (bidder ``i``'s prior from ``samples[:, i, :]``).

Mechanism (``--audit FILE``, written by ``--output FILE``): a ``.npz`` or ``.json`` object with

- ``allocation``: ``(T_1, ..., T_n, n, m)``, ``payment``: ``(T_1, ..., T_n, n)``
  (see :mod:`.results`);
- the type sets, either ``values`` (``(T, m)`` shared or ``(n, T, m)`` per bidder) with
  optional ``probs`` (``(T,)`` or ``(n, T)``; default uniform), or a uniform grid ``lo``, ``hi``,
  ``points`` (``"midpoint"``/``"corner"``; ``K`` from the table's shape);
- optional ``unit_demand`` (bool).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..core import validation as v
from ..core.array_files import read_arrays
from ..core.errors import MechsolveInputError
from ..core.limits import Limits
from .audit import result_tables
from .priors import GRID_POINTS, PriorKind, TypePrior, discrete_marginals, uniform_grid
from .results import AuctionResult, MenuResult

SAMPLE_CELLS = Limits().max_types * Limits().max_players
"""The most values a samples file may declare (the default limits' samples x bidders)."""

TABLE_CELLS = Limits().max_lp_rows
"""The most values one table of a mechanism file may declare."""


@dataclass(frozen=True, eq=False)
class MechanismTables:
    """A mechanism read from a file: tables, one type set per bidder, unit-demand flag."""

    allocation: NDArray[np.float64]
    payment: NDArray[np.float64]
    priors: tuple[TypePrior, ...]
    unit_demand: bool


def load_samples(path: Any) -> NDArray[np.float64]:
    """Valuation samples ``(N, m)`` or ``(N, n, m)`` from a file (format in the module doc)."""
    fn = "load_samples"
    data = read_arrays(fn, path, "samples", SAMPLE_CELLS)
    if "samples" not in data:
        raise MechsolveInputError(
            fn, "path", f"must hold an array named 'samples'; got keys {sorted(data)}"
        )
    x = v.float_array(fn, "samples", data["samples"], min_value=0.0)
    if x.ndim not in (2, 3):
        raise MechsolveInputError(
            fn, "samples", f"must have shape (N, m) or (N, n, m); got {x.shape}"
        )
    return x


def save_mechanism(path: Any, result: MenuResult | AuctionResult) -> None:
    """Write a solved ex-post mechanism (menu or auction) as ``.npz`` or ``.json``."""
    fn = "save_mechanism"
    alloc, pay, priors, unit_demand = result_tables(fn, result)
    if any(p.n_types != priors[0].n_types for p in priors):
        raise MechsolveInputError(
            fn, "result", "must have bidders with equally many types to be saved"
        )
    obj: dict[str, Any] = {
        "allocation": alloc,
        "payment": pay,
        "values": np.stack([p.values for p in priors]),
        "probs": np.stack([p.probs for p in priors]),
        "unit_demand": np.bool_(unit_demand),
    }
    p = Path(path)
    if p.suffix.lower() == ".npz":
        np.savez_compressed(p, **obj)
    elif p.suffix.lower() == ".json":
        p.write_text(json.dumps({k: np.asarray(x).tolist() for k, x in obj.items()}))
    else:
        raise MechsolveInputError(fn, "path", f"must end in .npz or .json; got {str(p)!r}")


def load_mechanism(
    path: Any, *, lo: float = 0.0, hi: float = 1.0, points: str = "midpoint"
) -> MechanismTables:
    """Mechanism tables and type sets from a file (format in the module doc); ``lo``, ``hi``,
    ``points`` are the grid used when the file has neither ``values`` nor its own grid keys."""
    fn = "load_mechanism"
    data = read_arrays(fn, path, "samples", TABLE_CELLS)
    for key in ("allocation", "payment"):
        if key not in data:
            raise MechsolveInputError(fn, "path", f"must hold '{key}'; got keys {sorted(data)}")
    alloc = v.float_array(fn, "allocation", data["allocation"])
    pay = v.float_array(fn, "payment", data["payment"])
    if alloc.ndim < 3 or pay.shape != alloc.shape[:-1]:
        raise MechsolveInputError(
            fn,
            "payment",
            f"must have shape allocation.shape[:-1]={alloc.shape[:-1]}; got {pay.shape}",
        )
    n, m = alloc.shape[-2], alloc.shape[-1]
    if alloc.ndim != n + 2:
        raise MechsolveInputError(
            fn, "allocation", f"must have shape (T_1, ..., T_n, n, m) with n={n}; got {alloc.shape}"
        )
    if "values" in data and data["values"] is not None:
        priors = _priors_from_values(fn, data, n, m)
    else:
        k = alloc.shape[0]
        pts = str(np.asarray(data.get("points", points)))
        pts = v.choice(fn, "points", pts, GRID_POINTS)
        grid = uniform_grid(
            m,
            k,
            lo=float(np.asarray(data.get("lo", lo))),
            hi=float(np.asarray(data.get("hi", hi))),
            points=pts,
        )
        priors = (grid,) * n
    unit = bool(np.asarray(data.get("unit_demand", False)))
    return MechanismTables(alloc, pay, priors, unit)


def _priors_from_values(fn: str, data: dict[str, Any], n: int, m: int) -> tuple[TypePrior, ...]:
    vals = v.float_array(fn, "values", data["values"], min_value=0.0)
    if vals.ndim == 2:
        vals = np.broadcast_to(vals, (n, *vals.shape))
    if vals.ndim != 3 or vals.shape[0] != n or vals.shape[2] != m:
        raise MechsolveInputError(
            fn, "values", f"must have shape (T, {m}) or ({n}, T, {m}); got {vals.shape}"
        )
    t = vals.shape[1]
    if data.get("probs") is None:
        probs = np.full((n, t), 1.0 / t)
    else:
        probs = v.float_array(fn, "probs", data["probs"], min_value=0.0)
        probs = np.broadcast_to(probs, (n, t)) if probs.shape == (t,) else probs
        if probs.shape != (n, t):
            raise MechsolveInputError(
                fn, "probs", f"must have shape ({t},) or ({n}, {t}); got {probs.shape}"
            )
        sums = probs.sum(axis=1)
        if not np.allclose(sums, 1.0, atol=1e-9):
            raise MechsolveInputError(
                fn, "probs", f"must sum to 1 per bidder; got sums {sums.tolist()}"
            )
    out = []
    for i in range(n):
        grid_shape = _grid_shape(vals[i])
        out.append(
            TypePrior(
                vals[i],
                probs[i],
                PriorKind.DISCRETE if grid_shape else PriorKind.EMPIRICAL,
                grid_shape,
            )
        )
    return tuple(out)


def _grid_shape(values: NDArray[np.float64]) -> tuple[int, ...]:
    """The product-grid shape when ``values`` is a full C-order grid, else ``()``."""
    axes = [np.unique(values[:, j]) for j in range(values.shape[1])]
    shape = tuple(len(a) for a in axes)
    if math.prod(shape) != len(values):
        return ()
    grid = discrete_marginals(axes).values
    return shape if np.array_equal(grid, values) else ()
