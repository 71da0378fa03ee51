"""Yelp loader on the committed Yelp-format sample (tests/data/yelp_sample) and the
matrix-factorization recommender that predicts the restaurant game's known utilities."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from mechsolve.solver.core.errors import MechsolveInputError
from mechsolve.solver.structured.recommender import fit_matrix_factorization, known_utilities
from mechsolve.solver.structured.restaurant import restaurant_pareto
from mechsolve.solver.structured.yelp import (
    BUSINESS_FILE,
    REVIEW_FILE,
    load_yelp,
    yelp_restaurant_instance,
)

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "yelp_sample"
BUSINESS, REVIEW = SAMPLE / BUSINESS_FILE, SAMPLE / REVIEW_FILE


def test_sample_selection_matches_the_seed_rules():
    """MA restaurants only (not the salon, the coffee shop without "Restaurants", the null
    categories or "Restaurant Supplies"); users with >= 5 such reviews; businesses reviewed by
    a kept user (b-ma-11 was only reviewed by u-dave, who has 4)."""
    data = load_yelp(BUSINESS, REVIEW, state="MA", min_reviews=5)
    assert data.user_ids == ("u-alice", "u-bob", "u-carol")
    assert data.business_ids == tuple(f"b-ma-0{k}" for k in range(1, 7))
    assert data.business_names[0] == "Harbor Oyster Bar"
    assert data.shape == (3, 6) == data.ratings.shape
    dense = data.ratings.toarray()
    assert dense[1, 1] == 3.0  # u-bob reviewed b-ma-02 twice: 2 and 4 stars
    assert dense[2, 0] == 4.0  # u-carol reviewed b-ma-01 twice: 3 and 5 stars
    assert data.ratings.nnz == 5 + 4 + 6


def test_other_state_and_threshold():
    data = load_yelp(BUSINESS, REVIEW, state="PA", min_reviews=2)
    assert data.user_ids == ("u-erin",)
    assert data.shape == (1, 3)


def test_gzip_files(tmp_path):
    for src in (BUSINESS, REVIEW):
        with src.open("rb") as f, gzip.open(tmp_path / (src.name + ".gz"), "wb") as g:
            shutil.copyfileobj(f, g)
    data = load_yelp(tmp_path / (BUSINESS_FILE + ".gz"), tmp_path / (REVIEW_FILE + ".gz"))
    assert data.shape == (3, 6)


def test_utilities_matrix_from_the_sample():
    data = load_yelp(BUSINESS, REVIEW)
    inst = yelp_restaurant_instance(data, rank=2, alpha=2.0, seed=0)
    assert inst.known.shape == inst.private.shape == (3, 6)
    assert not np.isnan(inst.known).any()
    assert inst.known.min() >= 0.0 and inst.known.max() <= 1.0
    assert inst.capacities.shape == (6,) and inst.capacities.min() >= 1
    assert inst.capacities.max() <= 10
    res = restaurant_pareto(inst.known, inst.capacities, [0, 0, 0], [True, True, True])
    assert np.all(res.utilities_after >= res.utilities_before - 1e-12)


def write_lines(path, records):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    return path


@pytest.mark.parametrize(
    ("business", "review", "kwargs", "message"),
    [
        ("missing.json", None, {}, r"load_yelp\(\): `business_path` must be an existing file"),
        (None, "missing.json", {}, r"`review_path` must be an existing file"),
        (
            [{"business_id": "x", "state": "MA"}],
            None,
            {},
            r"`business_path` line 1 lacks field\(s\) categories",
        ),
        (
            None,
            [
                '{"user_id": "u"',
            ],
            {},
            r"`review_path` line 1 is not valid JSON",
        ),
        (
            None,
            [{"user_id": "u", "business_id": "b-ma-01", "stars": "five"}],
            {},
            r"`review_path` line 1: `stars` must be a finite number; got 'five'",
        ),
        (
            None,
            None,
            {"state": "ZZ"},
            r"`state` selects no business with category 'Restaurants'; got 'ZZ'",
        ),
        (
            None,
            None,
            {"min_reviews": 50},
            r"`min_reviews` keeps no user in MA \(most reviews: 7\); got 50",
        ),
        (None, None, {"min_reviews": 0}, r"`min_reviews` must be an integer >= 1; got 0"),
    ],
)
def test_loader_errors_name_the_argument(tmp_path, business, review, kwargs, message):
    def path(spec, default, name):
        if spec is None:
            return default
        if isinstance(spec, str):
            return tmp_path / spec
        return write_lines(tmp_path / name, spec)

    with pytest.raises(MechsolveInputError, match=message):
        load_yelp(path(business, BUSINESS, "b.json"), path(review, REVIEW, "r.json"), **kwargs)


# ---------------------------------------------------------------------------------------------
# Recommender
# ---------------------------------------------------------------------------------------------
def low_rank_ratings(seed=0, n_users=150, n_items=60, rank=3, density=0.3):
    rng = np.random.default_rng(seed)
    full = 3.0 + 0.5 * rng.normal(size=(n_users, rank)) @ rng.normal(size=(n_items, rank)).T
    mask = rng.random(full.shape) < density
    return full, mask


def test_als_recovers_held_out_ratings():
    full, mask = low_rank_ratings()
    model = fit_matrix_factorization(np.where(mask, full, np.nan), rank=3, reg=0.05, seed=0)
    held_out = np.sqrt(np.mean((model.predict() - full)[~mask] ** 2))
    assert held_out < 0.1 * full.std()
    assert model.train_rmse < 0.1 * full.std()


def test_svd_and_sparse_input():
    full, mask = low_rank_ratings(seed=1)
    rows, cols = np.nonzero(mask)
    ratings = sp.csr_array((full[rows, cols], (rows, cols)), shape=full.shape)
    model = fit_matrix_factorization(ratings, rank=3, method="svd", seed=0)
    baseline = np.sqrt(np.mean((full[~mask] - full[mask].mean()) ** 2))
    assert np.sqrt(np.mean((model.predict() - full)[~mask] ** 2)) < baseline
    assert model.predict().shape == full.shape


def test_known_utilities_scale():
    np.testing.assert_allclose(known_utilities([[0.0, 1.0, 3.0, 5.0, 7.0]]), [[0, 0, 0.5, 1, 1]])


@pytest.mark.parametrize(
    ("ratings", "kwargs", "message"),
    [
        (
            [[1.0, np.inf]],
            {},
            r"fit_matrix_factorization\(\): `ratings\[0\]\[1\]` must be finite; got inf",
        ),
        ([[np.nan, np.nan]], {}, r"`ratings` must contain observed ratings"),
        ([1.0, 2.0], {}, r"`ratings` must have 2 dimensions"),
        ([[1.0, 2.0]], {"rank": 0}, r"`rank` must be an integer >= 1; got 0"),
        ([[1.0, 2.0]], {"method": "nmf"}, r"`method` must be one of 'als', 'svd'; got 'nmf'"),
        ([[1.0, 2.0]], {"reg": 0.0}, r"`reg` must be > 0.0; got 0.0"),
    ],
)
def test_recommender_errors(ratings, kwargs, message):
    with pytest.raises(MechsolveInputError, match=message):
        fit_matrix_factorization(ratings, **kwargs)
