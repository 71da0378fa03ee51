"""Loader for the Yelp Open Dataset (seed 000 section 4.3 and appendix B.1).

The dataset ships JSON-lines files; this module reads two of them, streaming line by line
(the review file is several GB), plain or gzip-compressed (``.gz``):

- business (``yelp_academic_dataset_business.json``): ``business_id``, ``name``, ``state``,
  ``categories`` (a comma-separated string or null), ``stars``, ``review_count``, ...
- review (``yelp_academic_dataset_review.json``): ``review_id``, ``user_id``, ``business_id``,
  ``stars``, ``date``, ...

As the seed does for Massachusetts: keep businesses in ``state`` whose categories include
``category`` ("Restaurants"), the reviews of those businesses, and the users with at least
``min_reviews`` of them (counted within that selection). Businesses left without a review by a
kept user are dropped (the recommender has nothing to say about them). Several reviews of one
business by one user are averaged.

:func:`yelp_restaurant_instance` turns the ratings into a restaurant game: ``U_k`` from the
matrix-factorization recommender (:mod:`mechsolve.solver.structured.recommender`) scaled to [0, 1],
``U_u ~ U[0, 1)`` and capacities uniform on ``1..max_capacity`` (the paper's setup).
"""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from ..core import validation as v
from ..core.errors import MechsolveInputError
from .recommender import RECOMMENDER_METHODS, fit_matrix_factorization, known_utilities
from .restaurant import RestaurantInstance

BUSINESS_FILE = "yelp_academic_dataset_business.json"
REVIEW_FILE = "yelp_academic_dataset_review.json"


@dataclass(frozen=True, eq=False)
class YelpRatings:
    """Star ratings of the kept users for the kept businesses.

    Attributes:
        user_ids: Yelp ``user_id`` of each row.
        business_ids: Yelp ``business_id`` of each column.
        business_names: ``name`` of each column.
        ratings: CSR matrix ``(n_users, n_businesses)``; stored entries are mean stars (1..5).
        state: the state filtered on.
    """

    user_ids: tuple[str, ...]
    business_ids: tuple[str, ...]
    business_names: tuple[str, ...]
    ratings: sp.csr_array
    state: str

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.user_ids), len(self.business_ids))


def _open(fn: str, argument: str, path: Any) -> IO[str]:
    p = Path(path)
    if not p.is_file():
        raise MechsolveInputError(fn, argument, f"must be an existing file; got {str(path)!r}")
    if p.suffix == ".gz":
        return gzip.open(p, "rt", encoding="utf-8")
    return p.open("r", encoding="utf-8")


def _records(
    fn: str, argument: str, path: Any, fields: tuple[str, ...]
) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for each JSON object of a JSON-lines file, checked for
    ``fields``."""
    with _open(fn, argument, path) as f:
        for line_no, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise MechsolveInputError(
                    fn, argument, f"line {line_no} is not valid JSON ({exc.msg}); got {line[:60]!r}"
                ) from exc
            missing = [k for k in fields if not isinstance(rec, dict) or k not in rec]
            if missing:
                raise MechsolveInputError(
                    fn, argument, f"line {line_no} lacks field(s) {', '.join(missing)}"
                )
            yield line_no, rec


def _has_category(categories: Any, category: str) -> bool:
    if not isinstance(categories, str):
        return False
    return category.lower() in (c.strip().lower() for c in categories.split(","))


def load_yelp(
    business_path: Any,
    review_path: Any,
    *,
    state: str = "MA",
    min_reviews: int = 5,
    category: str = "Restaurants",
) -> YelpRatings:
    """Read the business and review JSON-lines files and keep the seed's selection (module doc).

    Raises :class:`MechsolveInputError` naming the argument for a missing file, a malformed
    line, or a selection that keeps no user.
    """
    fn = "load_yelp"
    if not isinstance(state, str) or not state:
        raise MechsolveInputError(fn, "state", f"must be a non-empty string; got {state!r}")
    if not isinstance(category, str) or not category:
        raise MechsolveInputError(fn, "category", f"must be a non-empty string; got {category!r}")
    k_min = v.positive_int(fn, "min_reviews", min_reviews)
    names: dict[str, str] = {}
    fields = ("business_id", "state", "categories")
    for _, rec in _records(fn, "business_path", business_path, fields):
        if rec["state"] == state and _has_category(rec["categories"], category):
            names[str(rec["business_id"])] = str(rec.get("name", ""))
    if not names:
        raise MechsolveInputError(
            fn, "state", f"selects no business with category {category!r}; got {state!r}"
        )
    users: list[str] = []
    items: list[str] = []
    stars: list[float] = []
    for line_no, rec in _records(
        fn, "review_path", review_path, ("user_id", "business_id", "stars")
    ):
        if rec["business_id"] in names:
            users.append(str(rec["user_id"]))
            items.append(str(rec["business_id"]))
            stars.append(_stars(fn, line_no, rec["stars"]))
    return _ratings(fn, names, np.array(users), np.array(items), np.array(stars), state, k_min)


def _stars(fn: str, line_no: int, value: Any) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        x = math.nan
    if isinstance(value, bool) or not math.isfinite(x):
        raise MechsolveInputError(
            fn, "review_path", f"line {line_no}: `stars` must be a finite number; got {value!r}"
        )
    return x


def _ratings(
    fn: str,
    names: dict[str, str],
    users: NDArray[np.str_],
    items: NDArray[np.str_],
    stars: NDArray[np.float64],
    state: str,
    k_min: int,
) -> YelpRatings:
    user_ids, user_idx, n_reviews = np.unique(users, return_inverse=True, return_counts=True)
    keep = n_reviews[user_idx] >= k_min
    if not keep.any():
        raise MechsolveInputError(
            fn,
            "min_reviews",
            f"keeps no user in {state} (most reviews: {n_reviews.max(initial=0)}); got {k_min}",
        )
    kept_users, rows = np.unique(user_idx[keep], return_inverse=True)
    item_ids, cols = np.unique(items[keep], return_inverse=True)
    shape = (len(kept_users), len(item_ids))
    total = sp.coo_array((stars[keep], (rows, cols)), shape=shape).tocsr()
    count = sp.coo_array((np.ones(int(keep.sum())), (rows, cols)), shape=shape).tocsr()
    total.sum_duplicates()
    count.sum_duplicates()
    mean = sp.csr_array((total.data / count.data, total.indices, total.indptr), shape=shape)
    return YelpRatings(
        tuple(str(u) for u in user_ids[kept_users]),
        tuple(str(b) for b in item_ids),
        tuple(names[str(b)] for b in item_ids),
        mean,
        state,
    )


def yelp_restaurant_instance(
    data: YelpRatings,
    *,
    rank: int = 10,
    method: str = "als",
    reg: float = 0.1,
    alpha: float = 0.0,
    max_capacity: int = 10,
    seed: Any = None,
) -> RestaurantInstance:
    """A restaurant game on the Yelp selection: ``U_k`` = recommender predictions (stars 1..5
    scaled to [0, 1]), ``U_u ~ U[0, 1)``, capacities uniform on ``1..max_capacity``."""
    fn = "yelp_restaurant_instance"
    if not isinstance(data, YelpRatings):
        raise MechsolveInputError(fn, "data", f"must be a YelpRatings; got {type(data).__name__}")
    v.choice(fn, "method", method, RECOMMENDER_METHODS)
    a = v.real(fn, "alpha", alpha, min_value=0.0)
    cmax = v.positive_int(fn, "max_capacity", max_capacity)
    gen = v.rng(fn, seed)
    model = fit_matrix_factorization(data.ratings, rank=rank, method=method, reg=reg, seed=gen)
    known = known_utilities(model.predict())
    n_users, n_items = data.shape
    capacities = gen.integers(1, cmax + 1, size=n_items).astype(np.int64)
    return RestaurantInstance(known, capacities, gen.random((n_users, n_items)), a)
